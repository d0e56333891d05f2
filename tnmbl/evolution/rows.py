"""What a driver yields and returns: :class:`Row` (one output time), :class:`Result` (the time
series), :func:`collect` (run a driver to the end), and the option checks they share."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConvergenceError, OptionError, fail
from . import resultsio
from .resultsio import HEALTH_UNITS, PROCESS_META, TIME_UNITS

POSITION_UNITS = "lattice spacing (position on the chain, site index units)"


def number(key, value, *, integer=False, positive=True, allow_zero=False):
    """``value`` as a float (int with ``integer``), or an :class:`OptionError` naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(OptionError, key, value, "must be a number")
    if not math.isfinite(value):
        fail(OptionError, key, value, "must be finite")
    if integer and int(value) != value:
        fail(OptionError, key, value, "must be an integer")
    if positive and (value < 0 or (value == 0 and not allow_zero)):
        fail(OptionError, key, value, "must be >= 0" if allow_zero else "must be > 0")
    return int(value) if integer else float(value)


@dataclass
class Row:
    """One output time: observable values and health figures."""

    time: float
    step: int
    values: dict
    health: dict
    per_chain: dict | None = None  # classical batches: per-chain series asked for (name -> (M,) array)


@dataclass
class Result:
    """Time series of an evolution.

    ``result["energy_current"]`` is an array ``(n_times, n_columns)`` at ``result.times``;
    ``result.positions[name]`` gives each column's position on the chain,
    ``result.health[name]`` the health figures per output time (``truncation_error``,
    ``chi``, ``norm``, ``energy``, ``energy_drift``, ``charge``, ``charge_drift``), and
    ``result.meta`` the options, model parameters, versions and timings, ``result.units`` /
    ``result.dims`` / ``result.descriptions`` each observable's units, column kind (``site``,
    ``bond``) and description, ``result.steps`` the step numbers and ``result.per_chain``
    the per-chain series of a classical batch (name -> ``(n_times, M)``).

    :meth:`save` writes the results-file format of ``tnmbl run``; :func:`tnmbl.load` reads
    either kind of file back as a ``Result``; :meth:`to_xarray` and :meth:`plot` give the
    labelled views.
    """

    times: np.ndarray
    data: dict
    positions: dict
    health: dict
    meta: dict = field(default_factory=dict)
    engine: object = None
    units: dict = field(default_factory=dict)
    dims: dict = field(default_factory=dict)
    descriptions: dict = field(default_factory=dict)
    per_chain: dict = field(default_factory=dict)
    steps: np.ndarray | None = None

    def __getitem__(self, name):
        try:
            return self.data[name]
        except KeyError:
            raise KeyError(f"{name!r} was not measured; measured: {sorted(self.data)}") from None

    def __contains__(self, name):
        return name in self.data

    @property
    def observables(self):
        return list(self.data)

    def __repr__(self):
        shapes = ", ".join(f"{k}{np.shape(v)}" for k, v in self.data.items())
        end = f"{self.times[-1]:g}" if len(self.times) else "(no rows)"
        return f"Result(method={self.meta.get('method')}, t=0..{end}, {shapes})"

    # -- files ----------------------------------------------------------------------
    def save(self, path, *, overwrite=False):
        """Write this result to ``path`` (HDF5) in the results-file format of ``tnmbl run``
        (:mod:`tnmbl.evolution.resultsio`); :func:`tnmbl.load` reads it back. Refuses to
        replace an existing file unless ``overwrite``. Returns the path."""
        return resultsio.save(self, path, overwrite=overwrite)

    @classmethod
    def load(cls, path):
        """The result stored at ``path`` (a results file of ``tnmbl run`` or of :meth:`save`);
        the file's provenance (status, config, history, ...) is in ``meta["file"]``."""
        return cls.from_layout(resultsio.read_file(path))

    @classmethod
    def from_layout(cls, raw):
        """The result of a :func:`~tnmbl.evolution.resultsio.read_layout` dict."""
        return cls(**resultsio.result_fields(raw))

    def same_as(self, other, *, rtol=0.0, atol=0.0):
        """``(True, "")`` when ``other`` has the same times, columns, values (within ``rtol`` /
        ``atol``), units and evolution metadata (process entries ``timing`` / ``file`` aside);
        else ``(False, what differs)``."""
        def close(a, b):
            a, b = np.asarray(a, float), np.asarray(b, float)
            return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)

        if not close(self.times, other.times):
            return False, "times"
        for what in ("data", "positions", "health", "per_chain"):
            mine, theirs = getattr(self, what), getattr(other, what)
            if set(mine) != set(theirs):
                return False, f"{what}: {sorted(mine)} vs {sorted(theirs)}"
            for k in mine:
                if not close(mine[k], theirs[k]):
                    return False, f"{what}[{k!r}]"
        for what in ("units", "dims"):
            if getattr(self, what) != getattr(other, what):
                return False, what
        a, b = (resultsio.jsonable({k: v for k, v in r.meta.items() if k not in PROCESS_META}) for r in (self, other))
        if a != b:
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            return False, f"meta: {keys}"
        return True, ""

    # -- views ----------------------------------------------------------------------
    def to_xarray(self):
        """An ``xarray.Dataset``: one variable per observable over ``time`` and its positions
        (dimension ``site`` or ``bond``; ``<dim>_<name>`` when two observables of one kind
        have different columns), health figures as ``health_<name>`` and per-chain series as
        ``per_chain_<name>`` over ``time`` (and ``chain``). Every variable and coordinate
        carries ``units``; the dataset's attrs carry the method, model, state, time step and
        the full provenance (``meta_json``, ``versions``). xarray is optional
        (``pip install tnmbl[xarray]``). :meth:`from_xarray` inverts it."""
        try:
            import xarray as xr
        except ImportError:
            fail(OptionError, "to_xarray", "xarray", "xarray is not installed (an optional dependency)",
                 "pip install 'tnmbl[xarray]'")
        coords = {"time": ("time", np.asarray(self.times, float), {"units": TIME_UNITS, "long_name": "time t"})}
        if self.steps is not None:
            coords["step"] = ("time", np.asarray(self.steps, int), {"units": "1", "long_name": "time step"})
        variables, taken = {}, {}
        for name, values in self.data.items():
            pos = np.asarray(self.positions[name], float)
            dim = self.dims.get(name, "x")
            if dim in taken and not np.array_equal(taken[dim], pos):
                dim = f"{dim}_{name}"
            taken[dim] = pos
            coords[dim] = (dim, pos, {"units": POSITION_UNITS, "long_name": f"position of the {dim}"})
            variables[name] = (("time", dim), np.asarray(values), {
                "units": self.units.get(name, ""), "description": self.descriptions.get(name, ""),
                "kind": "observable", "columns": self.dims.get(name, "x")})
        for name, values in self.health.items():
            variables[f"health_{name}"] = ("time", np.asarray(values), {"units": HEALTH_UNITS.get(name, ""),
                                                                       "kind": "health", "name": name})
        for name, values in self.per_chain.items():
            variables[f"per_chain_{name}"] = (("time", "chain"), np.asarray(values), {
                "units": HEALTH_UNITS.get(name, ""), "kind": "per_chain", "name": name})
        meta = resultsio.jsonable({k: v for k, v in self.meta.items() if k != "timing"})
        attrs = {k: v for k, v in meta.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
        attrs.update(meta_json=json.dumps(meta), versions=json.dumps(meta.get("versions", {})),
                     title=self.title())
        return xr.Dataset(variables, coords=coords, attrs=attrs)

    @classmethod
    def from_xarray(cls, ds):
        """The :class:`Result` of a dataset made by :meth:`to_xarray`."""
        data, positions, units, dims, descriptions, health, per_chain = {}, {}, {}, {}, {}, {}, {}
        for var, da in ds.data_vars.items():
            kind = da.attrs.get("kind")
            if kind == "observable":
                data[var] = da.values
                positions[var] = ds[da.dims[1]].values
                units[var], dims[var] = da.attrs.get("units", ""), da.attrs.get("columns", "x")
                descriptions[var] = da.attrs.get("description", "")
            elif kind == "health":
                health[da.attrs["name"]] = da.values
            elif kind == "per_chain":
                per_chain[da.attrs["name"]] = da.values
        meta = json.loads(ds.attrs.get("meta_json", "{}"))
        steps = ds["step"].values if "step" in ds.coords else None
        return cls(ds["time"].values, data, positions, health, meta, None, units=units, dims=dims,
                   descriptions=descriptions, per_chain=per_chain, steps=steps)

    def title(self):
        """A one-line description for figures: model and parameters, state, method, dt."""
        m = self.meta
        params = ", ".join(f"{k}={_short(v)}" for k, v in (m.get("model_params") or {}).items() if v is not None)
        parts = [f"{m.get('model', 'model')}({params})" if params else str(m.get("model", "")),
                 f"state {m['state']}" if m.get("state") else "",
                 f"{m.get('method')} dt={m.get('dt'):g}" if m.get("method") and m.get("dt") else ""]
        if m.get("chi_max") is not None and m.get("method") not in ("exact", None):
            parts.append(f"chi_max={m['chi_max']}")
        return ", ".join(p for p in parts if p)

    def plot(self, out=None, *, dpi=110, title=None):
        """An overview figure (heat maps of the density and energy-density changes, currents,
        batch averages, health); returns the matplotlib ``Figure``, or writes a PNG to ``out``
        and returns its path. Parameters in the title, units on the axes."""
        from .figures import plot_result

        return plot_result(self, out, dpi=dpi, title=title)


#: the class of each ``kind`` of results file (root attribute; absent: a plain Result)
KINDS = {"result": "tnmbl.evolution.rows:Result", "ensemble": "tnmbl.evolution.ensembles:EnsembleResult",
         "correlation": "tnmbl.evolution.correlations:Correlation"}


def load(path):
    """The result stored in a results file, written by ``tnmbl run`` or by a ``save`` method
    (committed rows only; ``result.engine`` is ``None``): a :class:`Result`, or by the file's
    ``kind`` an :class:`~tnmbl.evolution.EnsembleResult` or a
    :class:`~tnmbl.evolution.correlations.Correlation`."""
    import importlib

    raw = resultsio.read_file(path)
    kind = raw["attrs"].get("kind", "result")
    if kind not in KINDS:
        resultsio._fail(path, f"unknown kind {kind!r} (this tnmbl reads {', '.join(KINDS)})", "update tnmbl")
    module, name = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), name).from_layout(raw)


def _short(v):
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple, np.ndarray)) and len(v) > 4:
        return "[...]"
    return str(v)


def collect(ev, callback=None, handle=None):
    """Run an :class:`~tnmbl.evolution.Evolution` to the end and gather its rows in a
    :class:`Result` (``result.engine`` is ``handle``, default ``ev.engine``).

    A :class:`~tnmbl.errors.ConvergenceError` raised on the way carries the rows measured
    before it as ``error.result``."""
    rows = []

    def build():
        chain = ev.chain
        data = {o.name: np.array([r.values[o.name] for r in rows]) for o in ev.observables}
        positions = {o.name: o.positions(chain) for o in ev.observables}
        health = {k: np.array([r.health[k] for r in rows]) for k in rows[0].health} if rows else {}
        per_chain = {}
        if rows and rows[0].per_chain:
            per_chain = {k: np.array([r.per_chain[k] for r in rows]) for k in rows[0].per_chain}
        meta = ev.meta()
        total = ev.timing["evolve_s"] + ev.timing["measure_s"]
        meta["timing"] = dict(ev.timing, measure_share=ev.timing["measure_s"] / total if total else 0.0)
        return Result(np.array([r.time for r in rows], float), data, positions, health, meta,
                      ev.engine if handle is None else handle, units={o.name: o.units for o in ev.observables},
                      dims={o.name: o.dim for o in ev.observables},
                      descriptions={o.name: o.description for o in ev.observables}, per_chain=per_chain,
                      steps=np.array([r.step for r in rows], np.int64))

    try:
        for row in ev:
            rows.append(row)
            if callback is not None:
                callback(row)
    except ConvergenceError as err:
        err.result = build()
        raise
    return build()
