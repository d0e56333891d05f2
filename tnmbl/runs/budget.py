"""Error budget of a run: truncation, time step, conservation drifts, with flags.

:func:`error_budget` reads a results file and returns a dict with one entry per error
source; :func:`write_budget` stores it in the file's ``/error_budget`` group (attributes
``budget`` (JSON) and ``flags`` (JSON list), ``rows`` (rows it was computed on)). The
group is the only thing written: committed rows are never touched. ``tnmbl info`` shows it
(computing the cheap part on the fly when none is stored) and ``tnmbl budget RESULTS
[--chi-check] [--dt-check]`` computes and stores it.

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


def error_budget(path, *, chi_check=False, dt_check=False, thresholds=None):
    """The error budget of the results file ``path`` (see the module docstring).

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
    if chi_check and not exact and trunc is not None:
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

    order = METHOD_ORDER.get(ev["method"], ev.get("order"))
    step = {"method": ev["method"], "order": order, "dt": float(ev["dt"]), "dt_effect": None}
    if dt_check and order is not None:
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
    chi = f", O(chi) - O(chi/2) = {t['chi_effect']:.2e}" if t and t.get("chi_effect") is not None else ""
    dt = f", dt vs dt/2 estimate = {s['dt_effect']:.2e}" if s.get("dt_effect") is not None else \
        " (no dt/2 comparison: tnmbl budget --dt-check)"
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
