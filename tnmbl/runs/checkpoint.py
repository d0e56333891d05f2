"""Checkpoints: the evolving state, apart from the results, written atomically.

A checkpoint is an HDF5 file written with TeNPy's own I/O
(:func:`tenpy.tools.hdf5_io.save_to_hdf5`, which stores MPS, NumPy arrays, dicts and
scalars) to ``<path>.tmp``, flushed to disk, and renamed over ``<path>``
(:func:`os.replace` is atomic on POSIX), so a kill at any moment leaves either the old or
the new checkpoint, never a torn one.

Contents: ``engine`` (the engine's ``get_resume_data()``: the MPS or state vector, the step,
the accumulated truncation error), ``rows`` (results rows committed when it was written),
``step``, ``time``, ``reference`` (energy and charge at t = 0, for the drifts),
``method`` and ``written``.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py

FORMAT = "tnmbl-checkpoint"


def write_checkpoint(path, data):
    """Atomically write ``data`` (a dict TeNPy's ``hdf5_io`` can store) to ``path``."""
    from tenpy.tools.hdf5_io import save_to_hdf5

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        save_to_hdf5(f, data)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def read_checkpoint(path):
    """The dict written by :func:`write_checkpoint`."""
    from tenpy.tools.hdf5_io import load_from_hdf5

    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != FORMAT:
            raise ValueError(f"{path}: not a tnmbl checkpoint (format = {f.attrs.get('format')!r})")
        return load_from_hdf5(f)


def checkpoint_summary(path):
    """``{"step", "time", "rows"}`` of a checkpoint without loading the state, or ``None``."""
    from tenpy.tools.hdf5_io import load_from_hdf5

    path = Path(path)
    if not path.exists():
        return None
    with h5py.File(path, "r") as f:
        return {k: load_from_hdf5(f, "/" + k) for k in ("step", "time", "rows", "written") if k in f}
