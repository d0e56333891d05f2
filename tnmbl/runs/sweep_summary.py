"""The summary of a sweep: ``summary.h5`` with, per sweep point and observable, the ensemble
mean, standard error and bootstrap interval per output time and position (:func:`aggregate`),
and reading it back (:func:`load_summary`: a :class:`SweepSummary` of one
:class:`~tnmbl.evolution.EnsembleResult` per point, with ``save``, ``to_xarray`` and ``plot``;
:func:`read_summary`: the same as plain dicts).

Layout (``format = "tnmbl-sweep-summary"``, ``format_version = 1``)::

    /points/pNNN/time                               (n,)
    /points/pNNN/observables/<name>/mean|sem|lo|hi  (n, ncol)  attrs: positions, units, dims, description
    /points/pNNN/health_worst/<name>                (n,)       the worst member per time
    /points/pNNN attrs                              params, members, seeds, n, budget_flags (JSON)
    root attrs                                      name, spec, root_seed, n_points, members_per_point,
                                                    n_boot, confidence, created, git_commit, versions

A point read back is an :class:`~tnmbl.evolution.EnsembleResult`: ``data`` the means, ``sem``,
``lo``, ``hi``, ``health`` the worst member, ``meta`` the point's ``params``, ``members``,
``seeds`` and ``budget_flags`` (no members' series: those stay in the members' results files).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from .. import versions
from ..errors import OptionError, fail
from ..evolution import EnsembleResult, resultsio
from ..evolution.figures import TIME_LABEL, finish
from ..evolution.rows import POSITION_UNITS
from .budget import read_budget
from .storage import git_commit, now, read_results

SUMMARY_FORMAT = "tnmbl-sweep-summary"


def _bootstrap(x, n_boot, confidence, rng):
    """Percentile bootstrap interval of the mean over axis 0 of ``x`` (members, ...)."""
    n = x.shape[0]
    if n == 1:
        return x[0].copy(), x[0].copy()
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)]) / n
    flat = x.reshape(n, -1)
    lo, hi = np.empty(flat.shape[1]), np.empty(flat.shape[1])
    q = [(1 - confidence) / 2, (1 + confidence) / 2]
    step = max(1, 2_000_000 // max(1, n_boot))
    for a in range(0, flat.shape[1], step):
        means = counts @ flat[:, a:a + step]
        lo[a:a + step], hi[a:a + step] = np.quantile(means, q, axis=0)
    return lo.reshape(x.shape[1:]), hi.reshape(x.shape[1:])


@dataclass
class SweepSummary:
    """A sweep's summary: ``attrs`` (the root attributes: name, spec, seeds, bootstrap
    settings, provenance) and ``points``, one :class:`~tnmbl.evolution.EnsembleResult` per
    sweep point (its ``meta["params"]`` the point's parameters)."""

    attrs: dict
    points: list = field(default_factory=list)

    def __repr__(self):
        return f"SweepSummary({self.attrs.get('name')!r}, {len(self.points)} points)"

    @classmethod
    def load(cls, path):
        """The summary in ``path`` (a ``summary.h5``); a missing or foreign file is a
        :class:`~tnmbl.evolution.resultsio.ResultsFileError` naming it."""
        with resultsio._open(path, "r") as f:
            if resultsio._text(f.attrs.get("format")) != SUMMARY_FORMAT:
                resultsio._fail(path, f"not a tnmbl sweep summary (format = {f.attrs.get('format')!r})",
                                "give the summary.h5 of a sweep (tnmbl sweep SWEEP.yaml writes it)")
            attrs = {k: resultsio._text(v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
            points = [_read_point(f["points"][key]) for key in sorted(f["points"])]
        return cls(attrs, points)

    def save(self, path, *, overwrite=False):
        """Write ``summary.h5`` (layout in the module docstring); the file appears complete or
        not at all. Refuses to replace a file unless ``overwrite``. Returns the path."""
        path = Path(path)
        if path.exists() and not overwrite:
            resultsio._fail(path, "exists", "give another path, or overwrite=True to replace it")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        try:
            with h5py.File(tmp, "w") as f:
                f.attrs.update(self.attrs)
                for k, point in enumerate(self.points):
                    _write_point(f.create_group(f"points/p{k:03d}"), point)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def as_dict(self):
        """The plain-dict form of :func:`read_summary`."""
        return {"attrs": dict(self.attrs), "points": [
            {"params": p.meta["params"], "members": p.meta["members"], "seeds": p.meta["seeds"], "time": p.times,
             "observables": {n: {"mean": p.data[n], "sem": p.sem[n], "lo": p.lo[n], "hi": p.hi[n],
                                 "positions": p.positions[n], "units": p.units[n]} for n in p.data},
             "health_worst": dict(p.health), "budget_flags": p.meta["budget_flags"]} for p in self.points]}

    def labels(self):
        """One short label per point: the swept parameters that differ between points."""
        params = [p.meta["params"] for p in self.points]
        keys = [k for k in params[0] if len({json.dumps(q.get(k), default=str) for q in params}) > 1] if params else []
        return [", ".join(f"{k.split('.')[-1]}={_short(q.get(k))}" for k in keys) or f"point {i}"
                for i, q in enumerate(params)]

    def to_xarray(self):
        """An ``xarray.Dataset`` over ``point`` and the points' ``to_xarray`` dimensions
        (``mean`` as ``<name>``, ``sem_<name>``, ``lo_<name>``, ``hi_<name>``, ``health_<name>``;
        units on every variable and coordinate), each swept parameter a coordinate along
        ``point``, the summary's provenance in attrs. Needs the same output times and columns
        at every point (else use ``summary.points[k].to_xarray()``)."""
        import xarray as xr

        first = self.points[0]
        for k, p in enumerate(self.points):
            if p.times.shape != first.times.shape or not np.allclose(p.times, first.times) or \
                    any(np.shape(p.positions[n]) != np.shape(first.positions[n]) for n in first.data):
                fail(OptionError, "to_xarray", f"point {k}", "points have other output times or columns than "
                     "point 0", "take one point at a time: summary.points[k].to_xarray()")
        dsets = [p.to_xarray() for p in self.points]
        ds = xr.concat(dsets, dim="point", data_vars="all", coords="minimal", compat="override",
                       combine_attrs="override")
        ds.attrs.clear()  # point 0's; the summary's follow
        ds = ds.assign_coords(point=("point", np.arange(len(self.points)), {"units": "1", "long_name": "sweep point"}))
        for key in self.points[0].meta["params"]:
            vals = [p.meta["params"].get(key) for p in self.points]
            if not all(isinstance(v, (int, float, str, bool)) for v in vals):
                vals = [json.dumps(v, default=str) for v in vals]
            ds = ds.assign_coords({key: ("point", vals, {"long_name": f"sweep parameter {key}"})})
        ds.attrs.update({k: v for k, v in self.attrs.items() if isinstance(v, (str, int, float))},
                        kind="sweep_summary", labels=json.dumps(self.labels()))
        return ds

    def plot(self, name=None, out=None, *, dpi=110, title=None):
        """Observable ``name`` (default: the first) at every point: at the middle column
        against time, and its profile at the last output time, each mean with its bootstrap
        interval as a band; returns the ``Figure``, or writes a PNG to ``out``."""
        import matplotlib.pyplot as plt

        from ..evolution.figures import log_spaced

        name = name or next(iter(self.points[0].data))
        if name not in self.points[0].data:
            fail(OptionError, "name", name, f"not in the summary; there: {sorted(self.points[0].data)}")
        fig, (ax_t, ax_x) = plt.subplots(1, 2, figsize=(9.6, 3.8))
        units = self.points[0].units.get(name, "")
        dim = self.points[0].dims.get(name, "site")
        for k, (p, label) in enumerate(zip(self.points, self.labels())):
            mean, lo, hi, pos = p.data[name], p.lo[name], p.hi[name], np.asarray(p.positions[name])
            i = len(pos) // 2
            ax_t.plot(p.times, mean[:, i], color=f"C{k}", label=label)
            ax_t.fill_between(p.times, lo[:, i], hi[:, i], color=f"C{k}", alpha=0.25, lw=0)
            ax_x.plot(pos, mean[-1], "o-", ms=3, color=f"C{k}", label=f"{label}, t={p.times[-1]:g}")
            ax_x.fill_between(pos, lo[-1], hi[-1], color=f"C{k}", alpha=0.25, lw=0)
            if log_spaced(p.times):
                ax_t.set_xscale("log")
        confidence = self.attrs.get("confidence", "")
        ax_t.set_xlabel(TIME_LABEL)
        ax_t.set_ylabel(f"{name} at the middle {dim} [{units}]")
        ax_t.set_title(f"mean over members, band: {confidence:g} bootstrap interval" if confidence != ""
                       else "mean over members", fontsize=9)
        ax_x.set_xlabel(f"position x of the {dim} [{POSITION_UNITS.split(' (')[0]}]")
        ax_x.set_ylabel(f"{name} [{units}]")
        ax_x.set_title("profile at the last output time", fontsize=9)
        for ax in (ax_t, ax_x):
            ax.legend(fontsize=7)
        n = self.points[0].n_samples
        fig.suptitle(title if title is not None else f"sweep {self.attrs.get('name', '')}: {len(self.points)} points "
                     f"x {n} members", fontsize=9)
        return finish(fig, out, dpi)


def _short(v):
    return f"{v:g}" if isinstance(v, float) else str(v)


def _write_point(g, p):
    g.attrs.update({"params": json.dumps(p.meta["params"], default=str), "members": json.dumps(p.meta["members"]),
                    "seeds": json.dumps(p.meta["seeds"]), "n": p.n_samples,
                    "budget_flags": json.dumps(p.meta["budget_flags"])})
    g.create_dataset("time", data=p.times)
    og = g.create_group("observables")
    for name, mean in p.data.items():
        sub = og.create_group(name)
        sub.attrs.update({"positions": p.positions[name], "units": p.units.get(name, ""),
                          "dims": p.dims.get(name, "x"), "description": p.descriptions.get(name, "")})
        for stat, values in (("mean", mean), ("sem", p.sem[name]), ("lo", p.lo[name]), ("hi", p.hi[name])):
            sub.create_dataset(stat, data=values)
    hg = g.create_group("health_worst")
    for name, values in p.health.items():
        hg.create_dataset(name, data=values)


def _read_point(g):
    text = resultsio._text
    obs = g["observables"]
    data, stats = {}, {s: {} for s in ("sem", "lo", "hi")}
    for n, o in obs.items():
        data[n] = o["mean"][:]
        for s in stats:
            stats[s][n] = o[s][:]
    meta = {k: json.loads(g.attrs[k]) for k in ("params", "members", "seeds", "budget_flags")}
    return EnsembleResult(g["time"][:], data, {n: np.asarray(o.attrs["positions"], float) for n, o in obs.items()},
                          {n: d[:] for n, d in g["health_worst"].items()}, meta,
                          units={n: text(o.attrs["units"]) for n, o in obs.items()},
                          dims={n: text(o.attrs.get("dims", "x")) for n, o in obs.items()},
                          descriptions={n: text(o.attrs.get("description", "")) for n, o in obs.items()},
                          n_samples=int(g.attrs["n"]), **stats)


def aggregate(plan):
    """Write ``summary.h5``: per sweep point, per observable, per output time and position,
    the ensemble ``mean``, standard error ``sem`` and bootstrap interval ``lo`` / ``hi``.

    The bootstrap is seeded from the root seed, so the summary is reproducible bit for bit.
    Health: the worst member per time (max truncation error, chi, ``|drifts|``); the members'
    budget flags are listed per point.
    """
    rng = np.random.default_rng([plan.root_seed, 8])
    attrs = {"format": SUMMARY_FORMAT, "format_version": 1, "name": plan.name,
             "spec": json.dumps(plan.spec, default=str), "root_seed": plan.root_seed,
             "n_points": len(plan.points), "members_per_point": plan.n_members,
             "n_boot": plan.n_boot, "confidence": plan.confidence, "created": now(),
             "git_commit": git_commit() or "unknown", "versions": json.dumps(versions())}
    points = []
    for k, point in enumerate(plan.points):
        ms = [m for m in plan.members if m.point == k]
        data = [read_results(m.path) for m in ms]
        times = data[0]["time"]
        for m, d in zip(ms, data):
            if d["attrs"].get("status") != "finished" or d["time"].shape != times.shape or \
                    not np.allclose(d["time"], times):
                raise ValueError(f"member {m.id}: not finished or other output times than {ms[0].id}")
        mean, stats = {}, {"sem": {}, "lo": {}, "hi": {}}
        for name in data[0]["observables"]:
            x = np.stack([d["observables"][name] for d in data])
            mean[name] = x.mean(axis=0)
            stats["sem"][name] = x.std(axis=0, ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.full(x.shape[1:], np.nan)
            stats["lo"][name], stats["hi"][name] = _bootstrap(x, plan.n_boot, plan.confidence, rng)
        health = {name: np.stack([np.abs(d["health"][name]) for d in data if name in d["health"]]).max(axis=0)
                  for name in data[0]["health"]}
        flags = {}
        for m in ms:
            b = read_budget(m.path)
            if b and b["flags"]:
                flags[m.id] = b["flags"]
        meta = {"params": point, "members": [m.id for m in ms], "seeds": [m.seed for m in ms], "budget_flags": flags}
        d0 = data[0]
        points.append(EnsembleResult(times, mean, d0["positions"], health, json.loads(json.dumps(meta, default=str)),
                                     units=d0["units"], dims=d0["dims"], descriptions=d0["descriptions"],
                                     n_samples=len(ms), **stats))
    return SweepSummary(attrs, points).save(plan.summary_path, overwrite=True)


def load_summary(path):
    """The :class:`SweepSummary` stored in ``path``."""
    return SweepSummary.load(path)


def read_summary(path):
    """``summary.h5`` as nested dicts: ``{"attrs", "points": [{"params", "time", "observables":
    {name: {"mean", "sem", "lo", "hi", "positions", "units"}}, "health_worst", "budget_flags"}]}``
    (:meth:`SweepSummary.as_dict` of :func:`load_summary`)."""
    return load_summary(path).as_dict()
