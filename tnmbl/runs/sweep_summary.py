"""The summary of a sweep: ``summary.h5`` with, per sweep point and observable, the ensemble
mean, standard error and bootstrap interval per output time and position (:func:`aggregate`),
and reading it back (:func:`read_summary`)."""

from __future__ import annotations

import json
import os

import h5py
import numpy as np

from .. import versions
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


def aggregate(plan):
    """Write ``summary.h5``: per sweep point, per observable, per output time and position,
    the ensemble ``mean``, standard error ``sem`` and bootstrap interval ``lo`` / ``hi``.

    The bootstrap is seeded from the root seed, so the summary is reproducible bit for bit.
    Health: the worst member per time (max truncation error, chi, ``|drifts|``); the members'
    budget flags are listed per point.
    """
    rng = np.random.default_rng([plan.root_seed, 8])
    path = plan.summary_path
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs.update({"format": SUMMARY_FORMAT, "format_version": 1, "name": plan.name,
                        "spec": json.dumps(plan.spec, default=str), "root_seed": plan.root_seed,
                        "n_points": len(plan.points), "members_per_point": plan.n_members,
                        "n_boot": plan.n_boot, "confidence": plan.confidence, "created": now(),
                        "git_commit": git_commit() or "unknown", "versions": json.dumps(versions())})
        for k, point in enumerate(plan.points):
            ms = [m for m in plan.members if m.point == k]
            data = [read_results(m.path) for m in ms]
            times = data[0]["time"]
            for m, d in zip(ms, data):
                if d["attrs"].get("status") != "finished" or d["time"].shape != times.shape or \
                        not np.allclose(d["time"], times):
                    raise ValueError(f"member {m.id}: not finished or other output times than {ms[0].id}")
            g = f.create_group(f"points/p{k:03d}")
            g.attrs.update({"params": json.dumps(point, default=str), "members": json.dumps([m.id for m in ms]),
                            "seeds": json.dumps([m.seed for m in ms]), "n": len(ms)})
            g.create_dataset("time", data=times)
            og = g.create_group("observables")
            for name in data[0]["observables"]:
                x = np.stack([d["observables"][name] for d in data])
                sub = og.create_group(name)
                sub.attrs.update({"positions": data[0]["positions"][name], "units": data[0]["units"][name]})
                sub.create_dataset("mean", data=x.mean(axis=0))
                sem = x.std(axis=0, ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.full(x.shape[1:], np.nan)
                sub.create_dataset("sem", data=sem)
                lo, hi = _bootstrap(x, plan.n_boot, plan.confidence, rng)
                sub.create_dataset("lo", data=lo)
                sub.create_dataset("hi", data=hi)
            hg = g.create_group("health_worst")
            for name in data[0]["health"]:
                hx = np.stack([np.abs(d["health"][name]) for d in data if name in d["health"]])
                hg.create_dataset(name, data=hx.max(axis=0))
            flags = {}
            for m in ms:
                b = read_budget(m.path)
                if b and b["flags"]:
                    flags[m.id] = b["flags"]
            g.attrs["budget_flags"] = json.dumps(flags)
        f.flush()
    os.replace(tmp, path)
    return path


def read_summary(path):
    """``summary.h5`` as nested dicts: ``{"attrs", "points": [{"params", "time", "observables":
    {name: {"mean", "sem", "lo", "hi", "positions"}}, "health_worst", "budget_flags"}]}``."""
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != SUMMARY_FORMAT:
            raise ValueError(f"{path}: not a tnmbl sweep summary (format = {f.attrs.get('format')!r})")
        attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
        points = []
        for key in sorted(f["points"]):
            g = f["points"][key]
            points.append({"params": json.loads(g.attrs["params"]), "members": json.loads(g.attrs["members"]),
                           "seeds": json.loads(g.attrs["seeds"]), "time": g["time"][:],
                           "observables": {n: {**{s: o[s][:] for s in ("mean", "sem", "lo", "hi")},
                                               "positions": o.attrs["positions"]}
                                           for n, o in g["observables"].items()},
                           "health_worst": {n: d[:] for n, d in g["health_worst"].items()},
                           "budget_flags": json.loads(g.attrs["budget_flags"])})
    return {"attrs": attrs, "points": points}
