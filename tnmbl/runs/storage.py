"""Append-only HDF5 results: one file per run, one row per output time.

The layout (``format = "tnmbl-results"``) is defined, and read, in
:mod:`tnmbl.evolution.resultsio` (the one reader for files of runs and of ``Result.save``);
this module is the run's append-only writer over it.

Every dataset is chunked and resizable along time. A row is appended to the observables and
health datasets first and to ``/time`` last, then the file is flushed: the number of
committed rows is ``len(/time)``, and a reader ignores anything past it (a kill between two
datasets of one row leaves a few uncommitted entries that a resume trims away). Committed
rows are never rewritten. Checkpoints live in a separate file (:mod:`tnmbl.runs.checkpoint`).

A full disk never reaches HDF5: before each row and each attribute update the writer reserves
(``posix_fallocate``) the bytes it can need past HDF5's end of allocation (a new chunk of every
row dataset plus metadata slack), so a failure happens before anything of the row is written
and leaves the file as after the last flush; see :mod:`tnmbl.runs.diskio`. Unused reserved
bytes are cut off on close. Errors are :class:`~tnmbl.runs.diskio.RunFileError` naming the file.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import h5py
import numpy as np

from ..evolution.resultsio import FORMAT, FORMAT_VERSION, TIME_UNITS, health_units, read_layout, row_dataset
from .diskio import (
    METADATA_SLACK,
    RunFileError,
    RunIOError,
    describe_os_error,
    is_disk_full,
    now,
    open_h5,
    reserve,
)
from .locks import RunLock

__all__ = ["FORMAT", "FORMAT_VERSION", "TIME_UNITS", "ResultsWriter", "git_commit", "now", "read_results",
           "results_for_update", "trim"]


def git_commit():
    """The commit of the tnmbl source tree (``+dirty`` if modified), or ``None``."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=5).stdout.strip()
        if not sha:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


_row_dataset = row_dataset


class ResultsWriter:
    """Writes rows to a results file (create with :meth:`create`, reopen with :meth:`append`)."""

    def __init__(self, f, path=None):
        self.f = f
        self.path = Path(path if path is not None else f.filename)
        self.broken = None  # the HDF5-level error after which this file is not written again
        self._row_bytes = None

    @classmethod
    def create(cls, path, *, config_yaml, config_json, observables, chain, seed, versions, meta,
               chunk_rows=64, per_chain=None, run_id=""):
        """Create (or replace) the results file; on failure nothing of it is left."""
        path = Path(path)
        f = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            f = h5py.File(path, "w")
            reserve(f.id.get_vfd_handle(), f.id.get_filesize(), METADATA_SLACK + _create_bytes(observables, chain,
                                                                                                 chunk_rows, per_chain))
            cls._fill(f, config_yaml=config_yaml, config_json=config_json, observables=observables, chain=chain,
                      seed=seed, versions=versions, meta=meta, chunk_rows=chunk_rows, per_chain=per_chain,
                      run_id=run_id)
            f.flush()
        except BaseException as exc:  # a full disk, or Ctrl-C while creating: no half-made file is left
            if f is not None:
                try:
                    f.close()
                except Exception:  # noqa: BLE001,S110 -- the file is removed next
                    pass
            try:
                path.unlink()
            except OSError:
                pass
            if not isinstance(exc, OSError):
                raise
            raise RunIOError(f"{path}: the results file cannot be created ({describe_os_error(exc)}); nothing "
                             "was written" + ("; free some space and run again" if is_disk_full(exc) else ""),
                             key=str(path), rule=describe_os_error(exc), cause=exc) from None
        return cls(f, path)

    @staticmethod
    def _fill(f, *, config_yaml, config_json, observables, chain, seed, versions, meta, chunk_rows, per_chain,
              run_id):
        f.attrs.update({"format": FORMAT, "format_version": FORMAT_VERSION, "config": config_yaml,
                        "config_json": config_json, "versions": json.dumps(versions),
                        "git_commit": git_commit() or "unknown", "seed": -1 if seed is None else seed,
                        "started": now(), "ended": "", "status": "running", "meta": json.dumps(meta),
                        "history": json.dumps([{"event": "run", "at": now()}]), "run_id": run_id})
        _row_dataset(f, "time", None, chunk_rows, units=TIME_UNITS, dims=["time"])
        _row_dataset(f, "step", None, chunk_rows, units="1", dims=["time"])
        _row_dataset(f, "wall_s", None, chunk_rows, units="s", dims=["time"],
                     description="wall seconds since the run or the last resume started")
        og = f.create_group("observables")
        for obs in observables:
            pos = np.asarray(obs.positions(chain), dtype=float)
            _row_dataset(og, obs.name, len(pos), chunk_rows, units=obs.units, dims=["time", obs.dim],
                         description=obs.description, positions=pos)
        f.create_group("health")
        pg = f.create_group("per_chain")
        for name, M in (per_chain or {}).items():
            _row_dataset(pg, name, M, chunk_rows, dims=["time", "chain"], units=_health_units(name),
                         description=f"{name} of each chain of the batch")

    @classmethod
    def append(cls, path):
        """Reopen for appending; trims entries past the last committed row."""
        f = open_h5(path, "r+", expected="a tnmbl results file")
        w = cls(f, path)
        try:
            if f.attrs.get("format") != FORMAT or "time" not in f:
                raise RunFileError(f"{path}: not a tnmbl results file (format = {f.attrs.get('format')!r})",
                                   key=str(path), rule="not a tnmbl results file")
            n = len(f["time"])
            w._guard("reopening", lambda: [ds.resize(n, axis=0) for ds in _row_datasets(f) if ds.shape[0] > n])
        except BaseException:
            w.close()
            raise
        return w

    @property
    def n_rows(self):
        return len(self.f["time"])

    def _reserve(self, nbytes):
        """Reserve ``nbytes`` past HDF5's end of allocation (raises ``OSError``; nothing written yet)."""
        reserve(self.f.id.get_vfd_handle(), self.f.id.get_filesize(), nbytes)

    def row_bytes(self):
        """The most bytes one row can add: a new chunk of every row dataset, missing health ones, slack."""
        if self._row_bytes is None:
            total = sum(int(np.prod(ds.chunks)) * ds.dtype.itemsize for ds in _row_datasets(self.f) + [self.f["time"]])
            self._row_bytes = total + METADATA_SLACK
        return self._row_bytes

    def _guard(self, what, fn, nbytes=METADATA_SLACK):
        """Reserve ``nbytes``, then ``fn()``; errors become :class:`RunIOError` naming the file. A failed
        reservation leaves the file untouched; an error inside HDF5 marks the writer ``broken``."""
        if self.broken is not None:
            raise RunIOError(f"{self.path}: not written after an earlier error ({self.broken})", key=str(self.path))
        try:
            self._reserve(nbytes)
        except OSError as exc:
            raise RunIOError(f"{self.path}: {what} needs space that cannot be reserved ({describe_os_error(exc)}); "
                             f"nothing of it was written, the {self.n_rows} committed rows are intact",
                             key=str(self.path), rule=describe_os_error(exc), cause=exc) from None
        try:
            return fn()
        except (OSError, RuntimeError) as exc:
            self.broken = describe_os_error(exc)
            raise RunIOError(f"{self.path}: {what} failed ({describe_os_error(exc)})", key=str(self.path),
                             rule=describe_os_error(exc), cause=exc) from None

    def write_row(self, row, wall_s):
        """Append one :class:`~tnmbl.evolution.Row`; ``/time`` last, then flush."""
        health_new = [k for k in row.health if k not in self.f["health"]]
        nbytes = self.row_bytes() + len(health_new) * self.f["time"].chunks[0] * 8
        self._guard(f"writing row {self.n_rows}", lambda: self._write_row(row, wall_s), nbytes)

    def _write_row(self, row, wall_s):
        n = self.n_rows
        for name, value in row.values.items():
            _put(self.f["observables"][name], n, value)
        hg = self.f["health"]
        for name, value in row.health.items():
            if name not in hg:
                _row_dataset(hg, name, None, self.f["time"].chunks[0], units=_health_units(name))
                self._row_bytes = None
            _put(hg[name], n, value)
        for name, value in (getattr(row, "per_chain", None) or {}).items():
            _put(self.f["per_chain"][name], n, value)
        _put(self.f["step"], n, row.step)
        _put(self.f["wall_s"], n, wall_s)
        _put(self.f["time"], n, row.time)
        self.f.flush()

    def write_snapshot(self, group, arrays):
        """Replace group ``group`` by ``arrays`` (``{name: array or scalar}``): a run's accumulated
        result that is not a row (e.g. the ``green_kubo`` sums), rewritten at each checkpoint."""
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        old = self.f.get(group, {})
        in_place = {k for k, v in arrays.items() if k in old and old[k].shape == v.shape and old[k].dtype == v.dtype}
        nbytes = METADATA_SLACK + sum(v.nbytes for k, v in arrays.items() if k not in in_place)

        def write():  # in place where the shapes stand: no new space to reserve
            g = self.f.require_group(group)
            for name, values in arrays.items():
                if name in in_place:
                    g[name][...] = values
                else:
                    if name in g:
                        del g[name]
                    g.create_dataset(name, data=values)
            self.f.flush()

        self._guard(f"writing /{group}", write, nbytes)

    def read_row(self, i):
        """The committed row ``i`` as ``(time, step, values, health)``."""
        f = self.f
        return (float(f["time"][i]), int(f["step"][i]),
                {k: f["observables"][k][i] for k in f["observables"]},
                {k: float(f["health"][k][i]) for k in f["health"]})

    def set_attrs(self, **attrs):
        nbytes = METADATA_SLACK + 2 * sum(len(str(v)) for v in attrs.values())

        def update():
            self.f.attrs.update(attrs)
            self.f.flush()

        self._guard("updating the run's attributes", update, nbytes)

    def add_history(self, **event):
        hist = json.loads(self.f.attrs.get("history", "[]"))
        hist.append(dict(event, at=now()))
        self.set_attrs(history=json.dumps(hist))

    def close(self):
        """Close; cut off bytes reserved past HDF5's end of allocation (not after an HDF5 error)."""
        if not self.f.id.valid:
            return
        end = size = None
        if self.broken is None:
            try:
                self.f.flush()
                end, size = self.f.id.get_filesize(), os.fstat(self.f.id.get_vfd_handle()).st_size
            except (OSError, RuntimeError, ValueError):
                end = None
        self.f.close()
        if end is not None and 0 < end < size:
            trim(self.path, end, size)


def trim(path, end, size):
    """Cut ``path`` from ``size`` bytes back to ``end`` (HDF5's end of allocation before closing), only if
    the bytes cut are zeros (reserved, never written); restored if HDF5 then cannot open the file."""
    try:
        with open(path, "rb") as fh:
            fh.seek(end)
            while chunk := fh.read(1 << 20):
                if chunk.count(0) != len(chunk):
                    return
        os.truncate(path, end)
        try:
            h5py.File(path, "r", locking=False).close()
        except OSError:
            os.truncate(path, size)  # zeros back: the file is exactly as before
    except OSError:
        pass


def _create_bytes(observables, chain, chunk_rows, per_chain):
    """Bytes a new results file can need before its first row (attributes are metadata slack)."""
    return 8 * chunk_rows * (3 + sum(max(1, len(o.positions(chain))) for o in observables)
                             + sum((per_chain or {}).values()))


_health_units = health_units


def _put(ds, n, value):
    ds.resize(n + 1, axis=0)
    ds[n] = value


def _row_datasets(f):
    out = [f["step"], f["wall_s"]]
    for g in ("observables", "health", "per_chain"):
        out += [f[g][k] for k in f.get(g, {})]
    return out


def read_results(path):
    """Everything in a results file, committed rows only, as plain Python / NumPy objects.

    Returns a dict with ``time``, ``step``, ``wall_s``, ``observables`` ({name: array}),
    ``positions`` ({name: array}), ``units``, ``dims``, ``descriptions``, ``health`` ({name:
    array}), ``per_chain``, ``attrs`` (root attributes, JSON ones decoded) and ``n_rows``
    (:func:`tnmbl.evolution.resultsio.read_layout`; :func:`tnmbl.load` gives the same file as a
    :class:`~tnmbl.Result`).
    """
    # no file lock: a run may be writing the file right now (info on a running run)
    with open_h5(path, "r", expected="a tnmbl results file", locking=False) as f:
        if f.attrs.get("format") != FORMAT:
            raise RunFileError(f"{path}: not a tnmbl results file (format = {f.attrs.get('format')!r})",
                               key=str(path), rule="not a tnmbl results file")
        try:
            return _read(f)
        except (KeyError, OSError, ValueError) as exc:
            raise RunFileError(f"{path}: the results file is damaged ({' '.join(str(exc).split())[:200]})",
                               key=str(path), rule="damaged", cause=exc) from None


_read = read_layout  # the one reader of the layout (tnmbl.evolution.resultsio)


class results_for_update:  # noqa: N801 -- used as a context manager, like open()
    """``with results_for_update(path, nbytes) as f: f.attrs[...] = ...`` -- change a results file
    outside a run (e.g. store the error budget) the safe way: the run's lock is taken (refused while
    a run writes it), ``nbytes`` (plus metadata slack) are reserved before HDF5 writes anything, the
    file is flushed and trimmed on exit. Errors are :class:`~tnmbl.runs.diskio.RunFileError`."""

    def __init__(self, path, nbytes=0, action="update"):
        self.path = Path(path)
        self.lock = RunLock(self.path, action)
        self.nbytes = nbytes
        self.writer = None

    def __enter__(self):
        self.lock.acquire()
        try:
            f = open_h5(self.path, "r+", expected="a tnmbl results file")
            self.writer = ResultsWriter(f, self.path)
            self.writer._guard("updating the file", lambda: None, METADATA_SLACK + self.nbytes)
        except BaseException:
            if self.writer is not None:
                self.writer.close()
            self.lock.release()
            raise
        return self.writer.f

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.writer._guard("updating the file", self.writer.f.flush, METADATA_SLACK)
        finally:
            self.writer.close()
            self.lock.release()
