"""The results-file format, read and written here for every producer: ``tnmbl run`` (whose
append-only writer, :mod:`tnmbl.runs.storage`, builds its datasets with :func:`row_dataset` and
reads with :func:`read_layout`) and the Python API (:meth:`Result.save <tnmbl.Result.save>`,
:func:`tnmbl.load`).

Layout (``format = "tnmbl-results"``, ``format_version = 1``)::

    /time                       (n,)         output times                  [commit marker]
    /step                       (n,)         step numbers
    /wall_s                     (n,)         wall seconds since the run (or resume) started
    /observables/<name>         (n, ncol)    attrs: dims, units, description, positions
    /health/<name>              (n,)         truncation_error, chi, norm, energy, ..._drift
    /per_chain/<name>           (n, M)       classical batches: per-chain series
    /<group>/...                other kinds' arrays (``kind`` attribute): ``/ensemble/sem/<name>``,
                                ``/ensemble/samples/<name>`` of an ensemble, ``/correlation/...``
    root attrs                  config (resolved YAML; "" for an API result), config_json, versions
                                (JSON), git_commit, seed, started, ended, status, meta (JSON: the
                                evolution's method, options, model and state), history (JSON list),
                                kind (absent: a :class:`~tnmbl.Result`; ``ensemble``, ``correlation``)

The committed rows are ``len(/time)``: a reader ignores entries past it (a run killed between
two datasets of one row). A file written by ``tnmbl run`` and one saved from the
:class:`~tnmbl.Result` the Python API returns for the same config load as the same
:class:`~tnmbl.Result`.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import TnmblError

FORMAT = "tnmbl-results"
FORMAT_VERSION = 1
TIME_UNITS = "hbar / (model energy unit)"
#: root attributes stored as JSON text
JSON_ATTRS = ("versions", "meta", "history", "config_json")
HEALTH_UNITS = {"truncation_error": "discarded weight (accumulated)", "chi": "bond dimension",
                "norm": "1", "energy": "energy", "energy_drift": "energy", "charge": "charge",
                "charge_drift": "charge", "energy_error": "energy per site (largest over the batch)",
                "charge_error": "charge (largest over the batch)", "phi": "1", "total_current": "energy / time"}
"""Units of the health figures (and per-chain series) by name."""
#: the groups of every results file; any other group holds a kind's own arrays (``extra``)
CORE_GROUPS = ("time", "step", "wall_s", "observables", "health", "per_chain", "error_budget")
#: keys of ``Result.meta`` that describe one process rather than the evolution (not compared on load)
PROCESS_META = ("timing", "file")


class ResultsFileError(TnmblError, OSError):
    """A results file cannot be read or written; ``key`` is the file, ``rule`` what is wrong."""


def _fail(path, rule, fix=None):
    raise ResultsFileError.make(str(path), str(path), rule, fix) from None


def now():
    """UTC time stamp of the file attributes."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def row_dataset(group, name, ncol, chunk_rows, **attrs):
    """A chunked float dataset of ``ncol`` columns (``None``: one value per row), resizable along time."""
    shape, maxshape = ((0,), (None,)) if ncol is None else ((0, ncol), (None, ncol))
    if ncol is not None:  # keep chunks near 1 MiB or below for long chains
        chunk_rows = max(1, min(chunk_rows, (1 << 17) // max(1, ncol)))
    chunks = (chunk_rows,) if ncol is None else (chunk_rows, max(1, ncol))
    ds = group.create_dataset(name, shape=shape, maxshape=maxshape, chunks=chunks, dtype="f8")
    for k, v in attrs.items():
        ds.attrs[k] = v
    return ds


def health_units(name):
    return HEALTH_UNITS.get(name, "")


def read_layout(f):
    """Everything in an open results file ``f`` (committed rows only) as plain Python / NumPy
    objects: ``time``, ``step``, ``wall_s``, ``observables``, ``positions``, ``units``, ``dims``,
    ``descriptions``, ``health``, ``per_chain``, ``attrs`` (JSON ones decoded), ``n_rows``, and
    ``extra``: the other groups as nested dicts of arrays (a kind's own data, e.g. an ensemble's)."""
    n = len(f["time"])
    out = {"n_rows": n, "time": f["time"][:n], "step": f["step"][:n].astype(int), "wall_s": f["wall_s"][:n]}
    og = f["observables"]
    out["observables"] = {k: og[k][:n] for k in og}
    out["positions"] = {k: og[k].attrs["positions"] for k in og}
    out["units"] = {k: _text(og[k].attrs["units"]) for k in og}
    out["dims"] = {k: [_text(d) for d in og[k].attrs.get("dims", ["time", "x"])][-1] for k in og}
    out["descriptions"] = {k: _text(og[k].attrs.get("description", "")) for k in og}
    out["health"] = {k: f["health"][k][:n] for k in f["health"]}
    out["per_chain"] = {k: f["per_chain"][k][:n] for k in f.get("per_chain", {})}
    attrs = {}
    for k, v in f.attrs.items():
        if k in JSON_ATTRS:
            v = json.loads(v)
        elif isinstance(v, np.generic):
            v = v.item()
        attrs[k] = _text(v)
    out["attrs"] = attrs
    out["extra"] = {k: _tree(f[k]) for k in f if k not in CORE_GROUPS}
    return out


def _tree(node):
    if hasattr(node, "keys"):
        return {k: _tree(node[k]) for k in node}
    return node[()]


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


def result_fields(raw):
    """The fields of a :class:`~tnmbl.Result` from a :func:`read_layout` dict (``engine`` is
    ``None``; ``meta["file"]`` holds the file's provenance: status, config, history, git commit)."""
    attrs = dict(raw["attrs"])
    meta = dict(attrs.pop("meta", None) or {})
    meta["file"] = {k: v for k, v in attrs.items() if k not in ("format", "format_version")}
    return dict(times=np.asarray(raw["time"], float), data=dict(raw["observables"]),
                positions={k: np.asarray(v, float) for k, v in raw["positions"].items()}, health=dict(raw["health"]),
                meta=meta, engine=None, units=dict(raw["units"]), dims=dict(raw["dims"]),
                descriptions=dict(raw["descriptions"]), per_chain=dict(raw["per_chain"]),
                steps=np.asarray(raw["step"], int))


def _open(path, mode):
    import h5py

    path = Path(path)
    if not path.exists():
        _fail(path, "does not exist (expected a tnmbl results file)", "check the path")
    if path.is_dir():
        _fail(path, "is a directory (expected a tnmbl results file)", "give the .h5 file inside it")
    try:
        return h5py.File(path, mode, locking=False)
    except OSError as exc:
        _fail(path, f"cannot be opened as HDF5 ({' '.join(str(exc).split())[:160]})",
              "give a results file written by `tnmbl run` or Result.save")


def read_file(path):
    """:func:`read_layout` of the results file at ``path`` (no lock: a run may be writing it)."""
    with _open(path, "r") as f:
        if _text(f.attrs.get("format")) != FORMAT:
            summary = _text(f.attrs.get("format")) == "tnmbl-sweep-summary"
            _fail(path, f"not a tnmbl results file (format = {f.attrs.get('format')!r})",
                  "read a sweep summary with tnmbl.runs.sweep.load_summary" if summary else
                  "give a results file written by `tnmbl run` or Result.save")
        if int(f.attrs.get("format_version", 0)) > FORMAT_VERSION:
            _fail(path, f"format_version {int(f.attrs['format_version'])} is newer than this tnmbl reads "
                        f"({FORMAT_VERSION})", "update tnmbl")
        try:
            return read_layout(f)
        except (KeyError, OSError, ValueError) as exc:
            _fail(path, f"the results file is damaged ({' '.join(str(exc).split())[:200]})")


def jsonable(obj):
    """``obj`` as JSON would give it back (tuples as lists, arrays as lists, other objects as text)."""
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def save(result, path, *, overwrite=False, kind=None, extra=None):
    """Write ``result`` to ``path`` in the results-file format (see the module docstring); the
    file appears complete or not at all (written beside it, then renamed). ``kind`` (root
    attribute) and ``extra`` (``{"group/sub": {name: array}}``) store what another kind of
    result has beyond a :class:`~tnmbl.Result`; :func:`read_layout` returns them."""
    import h5py

    path = Path(path)
    if path.exists() and not overwrite:
        _fail(path, "exists", "give another path, or overwrite=True to replace it")
    if path.is_dir():
        _fail(path, "is a directory", "give a file path, e.g. out/result.h5")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    meta = {k: v for k, v in result.meta.items() if k != "file"}
    file_meta = result.meta.get("file", {})
    n = len(result.times)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs.update({"format": FORMAT, "format_version": FORMAT_VERSION,
                            "config": file_meta.get("config", ""),
                            "config_json": json.dumps(file_meta.get("config_json")),
                            "versions": json.dumps(jsonable(meta.get("versions", {}))),
                            "git_commit": file_meta.get("git_commit", "unknown"),
                            "seed": file_meta.get("seed", -1), "started": file_meta.get("started", now()),
                            "ended": file_meta.get("ended", now()), "status": file_meta.get("status", "finished"),
                            "meta": json.dumps(jsonable(meta)), "run_id": file_meta.get("run_id", ""),
                            "history": json.dumps(list(file_meta.get("history", [])) + [{"event": "save",
                                                                                          "at": now()}])})
            rows = max(1, n)
            for name, values, units in (("time", result.times, TIME_UNITS), ("step", result.steps, "1"),
                                        ("wall_s", np.full(n, np.nan), "s")):
                ds = row_dataset(f, name, None, rows, units=units, dims=["time"])
                ds.resize(n, axis=0)
                ds[:] = np.zeros(n) if values is None else values
            og = f.create_group("observables")
            for name, values in result.data.items():
                pos = np.asarray(result.positions[name], float)
                ds = row_dataset(og, name, len(pos), rows, units=result.units.get(name, ""),
                                 dims=["time", result.dims.get(name, "x")], positions=pos,
                                 description=result.descriptions.get(name, ""))
                ds.resize(n, axis=0)
                ds[:] = np.asarray(values, float).reshape(n, len(pos))
            hg = f.create_group("health")
            for name, values in result.health.items():
                ds = row_dataset(hg, name, None, rows, units=health_units(name))
                ds.resize(n, axis=0)
                ds[:] = values
            pg = f.create_group("per_chain")
            for name, values in result.per_chain.items():
                values = np.asarray(values, float)
                ds = row_dataset(pg, name, values.shape[1], rows, dims=["time", "chain"], units=health_units(name))
                ds.resize(n, axis=0)
                ds[:] = values
            if kind is not None:
                f.attrs["kind"] = kind
            for group, arrays in (extra or {}).items():
                g = f.require_group(group)
                for name, values in arrays.items():
                    g.create_dataset(name, data=np.asarray(values))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
