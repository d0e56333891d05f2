"""Error budget of a run: truncation, time step, conservation drifts, with flags.

:func:`error_budget` reads a results file and returns a dict with one entry per error
source; :func:`write_budget` stores it in the file's ``/error_budget`` group (attributes
``budget`` (JSON) and ``flags`` (JSON list), ``rows`` (rows it was computed on)). The
group is the only thing written: committed rows are never touched. ``tnmbl info`` shows it
(computing the cheap part on the fly when none is stored) and ``tnmbl budget RESULTS
[--chi-check] [--dt-check] [--chi-from FILE] [--dt-from FINE [--dt-base COARSE]]`` computes and
stores it.

Companion runs
--------------
The checks above repeat the run in memory: fine for minutes, not for a run of hours. For long
runs the comparison runs are ordinary runs (checkpointed, resumable, as many threads as they
are given), e.g. ``tnmbl run cfg.yaml --set evolution.chi_max=256 --set output.path=lo.h5``, and
the budget reads them: ``chi_from`` is a results file of the same config at a smaller
``chi_max``; ``dt_from`` one at a smaller ``dt``, compared with ``dt_base`` (default: the run
itself), which may be a pair of runs at a lower ``chi_max`` than the run (the time-step error
then is measured on the cheaper pair: the row says so). Every other key of the resolved
configs must agree (``output`` and ``threads`` excepted), or the file is refused naming the key.
The comparison covers the common output times; a companion that stopped early gives the row
up to its last time (``t_compared``), and the difference at the last common time is kept as
``*_at_end``.

Sources
-------
``truncation``
    the accumulated discarded weight (``health/truncation_error`` of the last row) and the
    largest bond dimension reached. With ``chi_check`` the run is repeated in memory at
    ``chi_max // 2``; ``max |O(chi) - O(chi / 2)|`` over all observables, positions and output
    times is an upper estimate of the truncation error of the observables (skipped when chi
    never reached ``chi_max``: then only ``svd_cutoff`` truncated).
``time_step``
    the method's order ``p`` (tebd2 2, tebd4 4, tdvp 2 for the symmetric sweep, exact: none).
    With ``dt_check`` the run is repeated at ``dt / 2``; Richardson's estimate of the
    time-step error of the run is ``max |O(dt) - O(dt / 2)| * 2^p / (2^p - 1)``.
``conservation``
    ``max |energy_drift| / L`` and ``max |charge_drift| / L`` (per site; the energy and the
    charge are conserved by every model, so a drift is a numerical error).

Classical batches (rotor, DNLS) have no truncation; their conservation figures are the
largest per-chain errors (``energy_error``, ``charge_error / L``). Their ``dt_check``
compares ensemble averages of chaotic trajectories that separate in time, so past the
Lyapunov time it measures the batch's statistical error (about ``1/sqrt(M)``) as much as
the time-step error: read it at early times, or compare energy errors instead.

A source is *flagged* when its figure passes the threshold in :data:`THRESHOLDS`
(absolute, in the observables' own units); pass ``thresholds`` to change them.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np

from ..engines.methods import METHOD_SPECS
from ..errors import ConfigError, Problem
from .diskio import open_h5
from .runner import make_evolution
from .storage import read_results, results_for_update
from .validate import validate_config

#: default flag thresholds
THRESHOLDS = {
    "truncation_error": 1e-5,     # accumulated discarded weight
    "chi_effect": 1e-3,           # max |O(chi) - O(chi/2)|
    "dt_effect": 1e-3,            # Richardson estimate of the time-step error of the observables
    "energy_drift_per_site": 1e-4,
    "charge_drift_per_site": 1e-6,
    "kappa_truncation": 0.1,      # Green-Kubo truncation row over |kappa| (tnmbl.transport.green_kubo)
}

#: order of each method's time-step error (None: no time-step error)
METHOD_ORDER = {name: spec.order for name, spec in METHOD_SPECS.items()}  # read from the method table

GROUP = "error_budget"


def _max_abs(x):
    x = np.asarray(x, dtype=float)
    return float(np.max(np.abs(x))) if x.size else 0.0


def _rerun(config, changes):
    """Observables of ``config`` (a resolved config dict) rerun in memory with ``changes``
    (``{section: {key: value}}``), as ``(times, {name: array})``."""
    raw = copy.deepcopy(config)
    for section, kv in changes.items():
        raw[section].update(kv)
    raw["evolution"]["backend"] = config["evolution"]["backend"]
    cfg = validate_config(raw, name="budget_rerun")
    _, evo = make_evolution(cfg)
    rows = list(evo)
    return np.array([r.time for r in rows]), {k: np.array([r.values[k] for r in rows]) for k in rows[0].values}


def _compare(times, obs, times2, obs2):
    """max |difference| per observable at the common output times."""
    idx_a, idx_b = [], []
    for i, t in enumerate(times):
        j = np.flatnonzero(np.isclose(times2, t, rtol=0, atol=1e-9 * max(1.0, abs(t))))
        if j.size:
            idx_a.append(i)
            idx_b.append(int(j[0]))
    out = {}
    for name, a in obs.items():
        if name in obs2 and idx_a:
            out[name] = _max_abs(a[idx_a] - obs2[name][idx_b])
    return out, len(idx_a)


#: keys of a resolved config that may differ between a run and its companion runs
_FREE_KEYS = {("output",), ("description",), ("evolution", "threads")}


def _config_differences(a, b, prefix=()):
    """Dotted keys (tuples) where the resolved configs ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            key = prefix + (k,)
            if key in _FREE_KEYS:
                continue
            out += _config_differences(a.get(k), b.get(k), key)
        return out
    return [] if a == b else [prefix]


def _companion(path, cfg, allowed, option, rule):
    """The results of the companion file ``path`` of a run with config ``cfg``: refused with
    ``option`` named unless its config differs from ``cfg`` only in the keys ``allowed``."""
    res = read_results(path)
    other = res["attrs"]["config_json"]
    diff = [k for k in _config_differences(cfg, other) if k not in allowed]
    if diff:
        keys = ", ".join(".".join(k) for k in diff)
        raise ConfigError([Problem(option, str(path), f"{rule}, but its config also differs in {keys}",
                                   "run the companion from the same config with only --set "
                                   + " --set ".join(".".join(k) + "=..." for k in allowed))])
    if not res["n_rows"]:
        raise ConfigError([Problem(option, str(path), "the companion run has no rows yet",
                                   "let it run (or resume it) until it has written rows")])
    return res


def _compare_files(res, other):
    """``(max |dO| per observable, max |dO| at the last common time per observable, t_compared)``."""
    diffs, n = _compare(res["time"], res["observables"], other["time"], other["observables"])
    t_common = [t for t in res["time"] if np.any(np.isclose(other["time"], t, rtol=0, atol=1e-9 * max(1.0, abs(t))))]
    t_end = float(t_common[-1]) if t_common else None
    at_end = {}
    if t_end is not None:
        i = int(np.flatnonzero(np.isclose(res["time"], t_end, rtol=0, atol=1e-9 * max(1.0, t_end)))[0])
        j = int(np.flatnonzero(np.isclose(other["time"], t_end, rtol=0, atol=1e-9 * max(1.0, t_end)))[0])
        at_end = {k: _max_abs(res["observables"][k][i] - other["observables"][k][j])
                  for k in res["observables"] if k in other["observables"]}
    return diffs, at_end, t_end


def error_budget(path, *, chi_check=False, dt_check=False, thresholds=None, chi_from=None, dt_from=None,
                 dt_base=None):
    """The error budget of the results file ``path`` (see the module docstring).

    ``chi_from`` / ``dt_from`` (and ``dt_base``) name companion results files that take the
    place of the in-memory reruns of ``chi_check`` / ``dt_check`` (see *Companion runs*).

    Returns ``{"truncation": {...}, "time_step": {...}, "conservation": {...},
    "flags": [str, ...], "thresholds": {...}, "rows": n}``; each flag names the source, its
    figure and the threshold, and says what to change.
    """
    th = dict(THRESHOLDS, **(thresholds or {}))
    res = read_results(path)
    cfg = res["attrs"]["config_json"]
    ev = cfg["evolution"]
    L = int(cfg["model"].get("L") or max(1, res["observables"][next(iter(res["observables"]))].shape[1]))
    h = res["health"]
    n = res["n_rows"]
    flags = []

    batch = METHOD_SPECS[ev["method"]].probe == "batch"  # a classical batch: no truncation; errors are per chain
    trunc = None if batch else {
             "discarded_weight": float(h["truncation_error"][-1]) if n and "truncation_error" in h else 0.0,
             "chi_reached": int(np.max(h["chi"])) if n and "chi" in h else 0,
             "chi_max": int(ev["chi_max"]), "svd_cutoff": float(ev["svd_cutoff"]), "chi_effect": None}
    if trunc is not None and trunc["discarded_weight"] > th["truncation_error"]:
        flags.append(f"truncation: discarded weight {trunc['discarded_weight']:.2e} > {th['truncation_error']:.0e}; "
                     "raise evolution.chi_max")
    exact = ev["method"] == "exact"
    if chi_check and chi_from is None and not exact and trunc is not None:
        if trunc["chi_reached"] < trunc["chi_max"]:
            trunc["chi_effect_note"] = "chi never reached chi_max: only svd_cutoff truncated; no rerun"
        else:
            small = max(1, trunc["chi_max"] // 2)
            t2, o2 = _rerun(cfg, {"evolution": {"chi_max": small}})
            diffs, _ = _compare(res["time"], res["observables"], t2, o2)
            trunc["chi_effect"] = max(diffs.values(), default=0.0)
            trunc["chi_effect_by_observable"] = diffs
            trunc["chi_compared"] = small
            if trunc["chi_effect"] > th["chi_effect"]:
                flags.append(f"truncation: max |O(chi={trunc['chi_max']}) - O(chi={small})| = "
                             f"{trunc['chi_effect']:.2e} > {th['chi_effect']:.0e}; raise evolution.chi_max")

    if chi_from is not None and trunc is not None:
        other = _companion(chi_from, cfg, {("evolution", "chi_max")}, "chi_from",
                           "a chi companion is the same run at a smaller evolution.chi_max")
        small = int(other["attrs"]["config_json"]["evolution"]["chi_max"])
        if small >= trunc["chi_max"]:
            raise ConfigError([Problem("chi_from", str(chi_from), f"its chi_max {small} is not below the run's "
                                       f"{trunc['chi_max']}", "compare with a run at a smaller chi_max")])
        diffs, at_end, t_end = _compare_files(res, other)
        trunc.update(chi_effect=max(diffs.values(), default=0.0), chi_effect_by_observable=diffs,
                     chi_compared=small, chi_from=str(chi_from), t_compared=t_end,
                     chi_effect_at_end=at_end)
        if trunc["chi_effect"] > th["chi_effect"]:
            flags.append(f"truncation: max |O(chi={trunc['chi_max']}) - O(chi={small})| = "
                         f"{trunc['chi_effect']:.2e} > {th['chi_effect']:.0e}; raise evolution.chi_max")

    order = METHOD_ORDER.get(ev["method"], ev.get("order"))
    step = {"method": ev["method"], "order": order, "dt": float(ev["dt"]), "dt_effect": None}
    if dt_from is not None and order is not None:
        base = res if dt_base is None else _companion(
            dt_base, cfg, {("evolution", "chi_max")}, "dt_base",
            "a dt base is the run itself or the same run at another evolution.chi_max")
        bcfg = base["attrs"]["config_json"]
        fine = _companion(dt_from, bcfg, {("evolution", "dt")}, "dt_from",
                          "a dt companion is the same run (or dt base) at a smaller evolution.dt")
        dt0, dt1 = float(bcfg["evolution"]["dt"]), float(fine["attrs"]["config_json"]["evolution"]["dt"])
        if not dt1 < dt0:
            raise ConfigError([Problem("dt_from", str(dt_from), f"its dt {dt1:g} is not below {dt0:g}",
                                       "compare with a run at a smaller dt (dt / 2 is usual)")])
        factor = (dt0 / dt1) ** order / ((dt0 / dt1) ** order - 1)
        diffs, at_end, t_end = _compare_files(base, fine)
        step.update(dt_effect=factor * max(diffs.values(), default=0.0),
                    dt_effect_by_observable={k: factor * v for k, v in diffs.items()},
                    dt_effect_at_end={k: factor * v for k, v in at_end.items()}, dt_from=str(dt_from),
                    dt_compared=dt1, t_compared=t_end,
                    chi_max_compared=int(bcfg["evolution"]["chi_max"]) if "chi_max" in bcfg["evolution"] else None)
        if dt_base is not None:
            step["dt_base"] = str(dt_base)
        if step["dt_effect"] > th["dt_effect"]:
            flags.append(f"time step: Richardson estimate (dt {dt0:g} vs {dt1:g}, order {order}) "
                         f"{step['dt_effect']:.2e} > {th['dt_effect']:.0e}; lower evolution.dt or use a "
                         "higher-order method")
    if dt_check and dt_from is None and order is not None:
        t2, o2 = _rerun(cfg, {"evolution": {"dt": float(ev["dt"]) / 2}})
        diffs, _ = _compare(res["time"], res["observables"], t2, o2)
        factor = 2 ** order / (2 ** order - 1)
        step["dt_effect"] = factor * max(diffs.values(), default=0.0)
        step["dt_effect_by_observable"] = {k: factor * v for k, v in diffs.items()}
        if step["dt_effect"] > th["dt_effect"]:
            flags.append(f"time step: Richardson estimate (dt vs dt/2, order {order}) {step['dt_effect']:.2e} > "
                         f"{th['dt_effect']:.0e}; lower evolution.dt or use a higher-order method")

    if batch:  # the largest per-chain errors (energy_error is per site already)
        cons = {"energy_drift_per_site": _max_abs(h.get("energy_error", [])),
                "charge_drift_per_site": _max_abs(h.get("charge_error", [])) / L}
    else:
        cons = {"energy_drift_per_site": _max_abs(h.get("energy_drift", [])) / L,
                "charge_drift_per_site": _max_abs(h.get("charge_drift", [])) / L}
    for key in cons:
        if not math.isfinite(cons[key]) or cons[key] > th[key]:
            flags.append(f"conservation: max |{key.split('_per')[0]}| / L = {cons[key]:.2e} > {th[key]:.0e}; "
                         + ("lower dt or use a higher-order scheme (rotor: aba864, DNLS: split4)" if batch
                            else "lower dt or raise chi_max"))
    return {"truncation": trunc, "time_step": step, "conservation": cons, "flags": flags, "thresholds": th,
            "rows": n}


def write_budget(path, budget):
    """Store ``budget`` in the ``/error_budget`` group of the results file (replacing an older one),
    through :class:`~tnmbl.runs.storage.results_for_update`: refused while a run writes the file
    (its lock), space reserved before HDF5 writes, errors naming the file."""
    text, flags = json.dumps(budget), json.dumps(budget["flags"])
    with results_for_update(path, len(text) + len(flags), action="budget") as f:
        if GROUP in f:
            del f[GROUP]
        g = f.create_group(GROUP)
        g.attrs["budget"] = text
        g.attrs["flags"] = flags
        g.attrs["rows"] = budget["rows"]


def read_budget(path):
    """The stored budget of ``path``, or ``None``; ``stale`` is set if rows were added since.
    A missing, truncated or foreign file is a :class:`~tnmbl.runs.diskio.RunFileError` naming it."""
    with open_h5(path, "r", expected="a tnmbl results file", locking=False) as f:
        if GROUP not in f:
            return None
        budget = json.loads(f[GROUP].attrs["budget"])
        budget["stale"] = int(f[GROUP].attrs["rows"]) != len(f["time"])
    return budget


def budget_for_info(path):
    """The stored budget, or the cheap part (no reruns) computed now (``stored`` says which)."""
    stored = read_budget(path)
    if stored is not None:
        return dict(stored, stored=True)
    try:
        return dict(error_budget(path), stored=False)
    except (KeyError, IndexError, ValueError):
        return None


def budget_lines(budget):
    """Lines ``tnmbl info`` prints for a budget."""
    if budget is None:
        return ["budget:     -"]
    t, s, c = budget["truncation"], budget["time_step"], budget["conservation"]
    chi = ""
    if t and t.get("chi_effect") is not None:
        chi = f", O(chi) - O(chi = {t.get('chi_compared', 'chi/2')}) = {t['chi_effect']:.2e}"
        if t.get("chi_from"):
            chi += f" (from {t['chi_from']}, to t = {t['t_compared']:g})"
    dt = f", dt vs dt/2 estimate = {s['dt_effect']:.2e}" if s.get("dt_effect") is not None else \
        " (no dt/2 comparison: tnmbl budget --dt-check)"
    if s.get("dt_from"):
        dt = (f", dt vs dt = {s['dt_compared']:g} estimate = {s['dt_effect']:.2e} (from {s['dt_from']}, "
              f"chi_max {s['chi_max_compared']}, to t = {s['t_compared']:g})")
    origin = "stored" if budget.get("stored") else "computed now, not stored"
    lines = [f"budget:     ({origin}{', STALE: rows added since' if budget.get('stale') else ''})",
             "  truncation:   none (classical batch)" if t is None else
             f"  truncation:   discarded weight {t['discarded_weight']:.2e}, chi {t['chi_reached']} of "
             f"{t['chi_max']}{chi}",
             f"  time step:    {s['method']} order {s['order']}, dt = {s['dt']:g}{dt}",
             f"  conservation: max |energy drift| / L = {c['energy_drift_per_site']:.2e}, "
             f"max |charge drift| / L = {c['charge_drift_per_site']:.2e}"]
    lines += [f"  FLAG {f}" for f in budget["flags"]] or ["  no flags"]
    return lines
