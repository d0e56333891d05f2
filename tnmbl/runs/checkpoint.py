"""Checkpoints: the evolving state, apart from the results, written atomically.

A checkpoint is an HDF5 file written with TeNPy's own I/O
(:func:`tenpy.tools.hdf5_io.save_to_hdf5`, which stores MPS, NumPy arrays, dicts and
scalars) to ``<path>.tmp``, flushed to disk (fsync), and renamed over ``<path>``
(:func:`os.replace` is atomic on POSIX), so a kill at any moment leaves either the old or
the new checkpoint, never a torn one. The temp file is written through
:class:`~tnmbl.runs.diskio.GuardedFile`: a full disk or an I/O error is never seen by HDF5
(which finishes normally); the temp file is deleted and :class:`~tnmbl.runs.diskio.RunIOError`
names the checkpoint and the cause.

**Marker.** The file starts with a 512-byte HDF5 user block holding the text
``tnmbl-checkpoint`` and, as JSON, the results file it belongs to and that run's ``run_id``.
It is readable with plain ``read()`` even when the HDF5 part is truncated, so a checkpoint is
recognized by its own marker (:func:`is_checkpoint`, :func:`checkpoint_owner`) and a checkpoint
write never replaces a file that is not a tnmbl checkpoint (:func:`write_checkpoint` refuses).

Contents: ``engine`` (the engine's ``get_resume_data()``: the MPS or state vector, the step,
the accumulated truncation error), ``rows`` (results rows committed when it was written),
``step``, ``time``, ``reference`` (energy and charge at t = 0, for the drifts),
``method`` and ``written``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .diskio import GuardedFile, RunFileError, RunIOError, describe_os_error, fsync_dir, head, open_h5

FORMAT = "tnmbl-checkpoint"
MARKER = FORMAT.encode()
USERBLOCK = 512


def tmp_path_of(path):
    path = Path(path)
    return path.with_name(path.name + ".tmp")


def is_checkpoint(path):
    """Whether ``path`` is a tnmbl checkpoint: its own marker (user block), or the ``format``
    attribute of a checkpoint written before the marker existed."""
    start = head(path, USERBLOCK)
    if start.startswith(MARKER):
        return True
    if not start.startswith(b"\x89HDF"):
        return False
    try:
        import h5py

        with h5py.File(path, "r", locking=False) as f:
            return f.attrs.get("format") == FORMAT
    except OSError:
        return False


def checkpoint_owner(path):
    """``{"results": path, "run_id": id}`` from the marker of a checkpoint (``{}`` if it has none)."""
    start = head(path, USERBLOCK)
    if not start.startswith(MARKER):
        return {}
    try:
        return json.loads(start[len(MARKER):].split(b"\0", 1)[0].strip() or b"{}")
    except ValueError:
        return {}


def _marker(owner):
    text = MARKER + b" " + json.dumps(owner or {}).encode() + b"\n"
    if len(text) > USERBLOCK:  # a very long path: keep the run id, drop the path
        text = MARKER + b" " + json.dumps({"run_id": (owner or {}).get("run_id")}).encode() + b"\n"
    return text + b"\0" * (USERBLOCK - len(text))


def write_checkpoint(path, data, *, owner=None):
    """Atomically write ``data`` (a dict TeNPy's ``hdf5_io`` can store) to ``path``.

    ``owner`` (``{"results": ..., "run_id": ...}``) goes into the marker. An existing ``path``
    is replaced only if it is a tnmbl checkpoint (or empty). Raises :class:`RunIOError` naming
    the checkpoint and the cause if the disk is full or a write fails; the previous checkpoint
    is then untouched.
    """
    import h5py
    from tenpy.tools.hdf5_io import save_to_hdf5

    path = Path(path)
    if path.exists() and (path.is_dir() or (path.stat().st_size and not is_checkpoint(path))):
        raise RunFileError(f"{path}: exists and is not a tnmbl checkpoint; a checkpoint never replaces another "
                           "file (choose another output.checkpoint_path)", key=str(path),
                           rule="exists and is not a tnmbl checkpoint")
    tmp = tmp_path_of(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = GuardedFile(tmp)
    except OSError as exc:
        raise RunIOError(f"{path}: the checkpoint cannot be written ({describe_os_error(exc)})", key=str(path),
                         rule=describe_os_error(exc), cause=exc) from None
    failure = None
    try:
        try:
            with h5py.File(fh, "w", userblock_size=USERBLOCK) as f:
                f.attrs["format"] = FORMAT
                save_to_hdf5(f, data)
        except Exception as exc:  # noqa: BLE001 -- reported below, with the file named
            failure = exc
        if fh.error is None and failure is None:
            fh.seek(0)
            fh.write(_marker(owner))
            fh.fsync()
        error = fh.error or failure
    finally:
        fh.close()
    if error is not None:
        try:
            tmp.unlink()
        except OSError:
            pass
        if fh.error is None and not isinstance(error, OSError):
            raise error
        raise RunIOError(f"{path}: writing the checkpoint failed ({describe_os_error(error)}); the previous "
                         "checkpoint, if any, is unchanged", key=str(path), rule=describe_os_error(error),
                         cause=error) from None
    try:
        os.replace(tmp, path)
    except OSError as exc:
        raise RunIOError(f"{path}: the checkpoint could not be renamed into place ({describe_os_error(exc)})",
                         key=str(path), rule=describe_os_error(exc), cause=exc) from None
    fsync_dir(path.parent)


def read_checkpoint(path):
    """The dict written by :func:`write_checkpoint`; a :class:`RunFileError` naming the file if it
    is missing, not HDF5, truncated, damaged or not a checkpoint."""
    from tenpy.tools.hdf5_io import load_from_hdf5

    expected = "a tnmbl checkpoint"
    with open_h5(path, "r", expected=expected, locking=False) as f:
        if f.attrs.get("format") != FORMAT:
            raise RunFileError(f"{path}: not a tnmbl checkpoint (format = {f.attrs.get('format')!r})",
                               key=str(path), rule="not a tnmbl checkpoint")
        try:
            return load_from_hdf5(f)
        except Exception as exc:  # noqa: BLE001 -- a damaged dataset inside an openable file
            raise RunFileError(f"{path}: the checkpoint is damaged ({type(exc).__name__}: "
                               f"{' '.join(str(exc).split())[:200]})", key=str(path), rule="damaged",
                               cause=exc) from None


def checkpoint_summary(path):
    """``{"step", "time", "rows", "written"}`` of a checkpoint without loading the state, ``None``
    if there is none, or ``{"missing": True, "unusable": reason}`` if it cannot be read."""
    from tenpy.tools.hdf5_io import load_from_hdf5

    path = Path(path)
    if not path.exists():
        return None
    try:
        with open_h5(path, "r", expected="a tnmbl checkpoint", locking=False) as f:
            if f.attrs.get("format") != FORMAT:
                return {"missing": True, "unusable": f"{path}: not a tnmbl checkpoint"}
            return {k: load_from_hdf5(f, "/" + k) for k in ("step", "time", "rows", "written") if k in f}
    except Exception as exc:  # noqa: BLE001 -- info of intact results must work beside a broken checkpoint
        return {"missing": True, "unusable": str(exc)}
