r"""Transport coefficients from correlation runs (operator evolution with DAOE) and their error
budget over a gamma x chi_max (x l_star) sweep.

Infinite-temperature conventions
--------------------------------
A correlation run (``correlation:`` section; :func:`tnmbl.evolution.operator_correlations.operator_evolution`)
stores :math:`C_A(x, t) = \langle A_x(t) B_y\rangle_{\beta=0} = {\rm Tr}[A_x(t)B_y]/D`
(connected). With :math:`A = B = j` a current (``energy_current`` or ``density_current``),

.. math::
    C(t) = \sum_x \langle j_x(t)\, j_y\rangle_{\beta=0},\qquad
    \kappa_\infty = 2\int_0^\infty C(t)\,dt ,

integrated by :func:`tnmbl.transport.green_kubo` (same window, tail and error rules, and its
``prefactor`` 2, the glassy-dynamics paper's convention :math:`J = \kappa(\beta)\nabla\beta`).
What is reported, ``kappa`` (for ``energy_current``; call it ``sigma`` for ``density_current``),
is the **beta-independent coefficient**: the Kubo formula gives the conventional conductivities
at high temperature as :math:`\kappa_{\rm th} = \beta^2\int_0^\infty C\,dt + O(\beta^3)` and
:math:`\sigma = \beta\int_0^\infty C\,dt + O(\beta^2)`, so

.. math::
    T^2\kappa_{\rm th} \to \kappa_\infty/2,\qquad T\sigma \to \sigma_\infty/2 \qquad (T\to\infty).

The Einstein relation at infinite temperature reads :math:`D\chi = \int_0^\infty C\,dt`, i.e.
:math:`D = \kappa_\infty/(2\chi)`, with :math:`\chi = \sum_x\langle q_x q_0\rangle_c` the static
susceptibility (the conserved sum of the charge or energy profile:
:attr:`tnmbl.transport.Diffusion.total`).

The diffusion constant :math:`D(t)` comes from the spreading of a charge or energy profile
(:func:`tnmbl.transport.diffusion_constant`).

Error budget of a sweep (:func:`daoe_budget`)
---------------------------------------------
One estimate :math:`Q` (``D`` at a time, or ``kappa`` over a window) per sweep point, then rows:

* ``gamma_extrapolation``: :math:`Q(\gamma)` at the largest ``chi_max`` (and ``l_star``) fitted
  by a polynomial in :math:`\gamma` (:func:`gamma_extrapolation`, >= 3 gammas), :math:`Q(0)`
  and its standard error;
* ``chi``: the largest :math:`|Q(\chi_{\max}) - Q(\chi_{\rm next})|` over the gammas;
* ``l_star``: the same between the two largest ``l_star`` (``None`` if not varied);
* ``estimator``: the largest error of :math:`Q` itself over the points used (Green-Kubo window and
  truncation errors; 0 for ``D``);
* ``truncation`` and ``sum_rule``: the worst discarded weight and the worst charge and energy
  sum-rule drifts over all points (health, not added to the total; the energy sum also moves
  by the Trotter error of the step, the charge sum by truncation only).

``value`` is the extrapolated :math:`Q(0)`, ``error`` the quadrature sum of the
``gamma_extrapolation``, ``chi``, ``l_star`` and ``estimator`` errors.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ObservableError, fail
from ..runs.storage import read_results
from ..runs.sweep_summary import read_summary
from .diffusion import diffusion_constant
from .green_kubo import green_kubo

CURRENTS = ("energy_current", "density_current")


def current_autocorrelation(result, name=None):
    r"""``(times, C, C_error)``: :math:`C(t) = \sum_x \langle j_x(t) j_y\rangle_{\beta=0}` of a correlation
    result (:class:`~tnmbl.evolution.Result` of a correlation run or of ``operator_evolution``)
    whose evolved operator ``b`` is the current ``name`` (default: ``b``); ``C_error`` is the
    truncation bound ``overlap_error`` x :math:`\sum_x\|j_x\|_{HS}`."""
    meta = result.meta
    b = meta.get("b")
    name = b if name is None else name
    if name not in CURRENTS or b != name or name not in result.data:
        fail(ObservableError, "current", name, f"needs a correlation result of a current with itself (b = {b!r}, "
             f"measured {sorted(result.data)})", "run correlation.b = energy_current (or density_current) with "
             "that name in observables.names")
    C = np.asarray(result[name], float).sum(axis=1)
    err = np.asarray(result.health.get("overlap_error", np.zeros_like(C)), float) * \
        float((meta.get("a_hs_sum") or {}).get(name, 0.0))
    return np.asarray(result.times, float), C, err


def conductivity(result, *, window, name=None, tail="none"):
    r"""The Green-Kubo coefficient :math:`\kappa_\infty = 2\int_0^\infty C(t)dt` (module docstring) of
    a current correlation result, by :func:`tnmbl.transport.green_kubo` with the truncation bound
    of :func:`current_autocorrelation` as ``C_error``. Returns a :class:`~tnmbl.transport.Conductivity`."""
    t, C, err = current_autocorrelation(result, name)
    return green_kubo(t, C, window=window, C_error=err, tail=tail)


# ---------------------------------------------------------------------------------- gamma -> 0
@dataclass
class Extrapolation:
    """Result of :func:`gamma_extrapolation`: ``value`` (at gamma = 0) with its standard ``error``,
    the polynomial ``coefficients`` (highest power first), ``degree``, the data and the reduced
    ``chi2`` of the fit (``nan`` with no degree of freedom left)."""

    value: float
    error: float
    coefficients: np.ndarray
    degree: int
    gammas: np.ndarray
    values: np.ndarray
    errors: np.ndarray | None = None
    chi2: float = float("nan")
    meta: dict = field(default_factory=dict)


def gamma_extrapolation(gammas, values, errors=None, *, degree=1):
    r"""Fit :math:`Q(\gamma) = \sum_k c_k\gamma^k` (weighted least squares, ``degree`` 1 or 2) and
    return :math:`Q(0) = c_0` with its standard error.

    With ``errors`` (standard errors of ``values``) the error is from the fit's covariance,
    scaled up by :math:`\sqrt{\chi^2_{\rm red}}` when the points scatter more than their errors;
    without, from the residuals (needs more points than coefficients). At least three gammas
    > 0 (distinct) are required: two points always lie on a line, so a fit of two says nothing
    about its own error.
    """
    g = np.asarray(gammas, float)
    q = np.asarray(values, float)
    if g.ndim != 1 or q.shape != g.shape:
        fail(ObservableError, "values", q.shape, f"one value per gamma ({g.shape})")
    if degree not in (1, 2):
        fail(ObservableError, "degree", degree, "must be 1 or 2")
    if len(np.unique(g)) < max(3, degree + 2) or np.any(g <= 0) or not np.all(np.isfinite(q)):
        fail(ObservableError, "gammas", g.tolist(), f"need at least {max(3, degree + 2)} distinct gammas > 0 with "
             "finite values for a degree-{degree} fit with an error", "add gammas to the sweep")
    e = None if errors is None else np.asarray(errors, float)
    if e is not None and (e.shape != g.shape or np.any(~(e > 0))):
        fail(ObservableError, "errors", errors, "one standard error > 0 per gamma", "or pass errors=None")
    w = np.ones_like(g) if e is None else 1.0 / e
    X = np.vander(g, degree + 1)  # highest power first; the last column is the constant
    coef, *_ = np.linalg.lstsq(X * w[:, None], q * w, rcond=None)
    resid = (q - X @ coef) * w
    dof = len(g) - degree - 1
    chi2 = float(resid @ resid / dof) if dof > 0 else float("nan")
    cov = np.linalg.inv((X * w[:, None]).T @ (X * w[:, None]))
    if e is None:
        scale = chi2
    else:
        scale = max(1.0, chi2) if dof > 0 else 1.0
    err = float(np.sqrt(cov[-1, -1] * scale))
    return Extrapolation(float(coef[-1]), err, coef, degree, g, q, e, chi2)


# ---------------------------------------------------------------------------------- the budget
def point_estimate(point, quantity, observable, *, t=None, window=None, tail="none"):
    """``(value, error)`` of one sweep point of :func:`~tnmbl.runs.sweep_summary.read_summary`:
    ``quantity="D"``: :math:`D(t)` of the profile ``observable`` at the output time nearest ``t``
    (error 0: the estimator is exact for the profile); ``"kappa"``: the Green-Kubo coefficient of
    the current ``observable`` over ``window`` (its window + tail error; the truncation error
    comes from the budget's chi row)."""
    times = np.asarray(point["time"], float)
    o = point["observables"].get(observable)
    if o is None:
        fail(ObservableError, "observable", observable, f"not in the sweep; measured: {sorted(point['observables'])}")
    if quantity == "D":
        if t is None:
            fail(ObservableError, "t", t, "D needs the time t at which to read D(t)")
        d = diffusion_constant(times, o["positions"], o["mean"])
        return float(d.D[int(np.argmin(np.abs(times - t)))]), 0.0
    if quantity == "kappa":
        if window is None:
            fail(ObservableError, "window", window, "kappa needs the plateau window (t_lo, t_hi)")
        res = green_kubo(times, np.asarray(o["mean"], float).sum(axis=1), window=window, tail=tail)
        return res.kappa, float(np.hypot(res.errors["window"], res.errors["tail"]))
    fail(ObservableError, "quantity", quantity, "must be 'D' or 'kappa'")


def _param(point, key, default=None):
    p = point["params"]
    return p.get(f"evolution.{key}", p.get(key, default))


def budget_summary(path):
    """:func:`~tnmbl.runs.sweep_summary.read_summary` of a sweep's ``summary.h5`` with ``"base"``, the
    evolution section its members ran with (from the first member's results file beside it): what
    :func:`daoe_budget` reads from a path. Read it once to take several budgets of one sweep."""
    s = read_summary(path)
    member = Path(path).parent / "members" / f"{s['points'][0]['members'][0]}.h5"
    if member.exists():
        s["base"] = read_results(member)["attrs"]["config_json"]["evolution"]
    return s


def daoe_budget(summary, quantity="D", observable="density", *, t=None, window=None, tail="none", degree=1):
    """The error budget (module docstring) of a gamma x chi_max (x l_star) sweep of correlation
    runs, from its ``summary.h5`` (path or :func:`~tnmbl.runs.sweep_summary.read_summary` dict).
    Points without ``evolution.gamma`` / ``evolution.chi_max`` / ``evolution.l_star`` among their
    sweep parameters take the value the members ran with (the evolution section of the first
    member's results file, ``members/<id>.h5`` beside the summary; for a dict, its ``"base"``)."""
    s = budget_summary(summary) if isinstance(summary, (str, Path)) else summary
    base = s.get("base", {})
    rows = []
    for p in s["points"]:
        value, err = point_estimate(p, quantity, observable, t=t, window=window, tail=tail)
        rows.append({"gamma": float(_param(p, "gamma", base.get("gamma", 0.0)) or 0.0),
                     "chi_max": int(_param(p, "chi_max", base.get("chi_max", 128))),
                     "l_star": _param(p, "l_star", base.get("l_star")), "value": value, "error": err,
                     "truncation_error": float(np.max(p["health_worst"].get("truncation_error", [0.0]))),
                     **{f"{k}_drift": float(np.max(p["health_worst"].get(f"{k}_drift", [0.0])))
                        for k in ("charge", "energy")}})
    chis = sorted({r["chi_max"] for r in rows})
    lstars = sorted({r["l_star"] for r in rows if r["l_star"] is not None})
    top = [r for r in rows if r["chi_max"] == chis[-1] and (not lstars or r["l_star"] == lstars[-1])
           and r["gamma"] > 0]
    ex = gamma_extrapolation([r["gamma"] for r in top], [r["value"] for r in top], degree=degree)

    def spread(key, values, fixed):
        if len(values) < 2:
            return None
        diffs = []
        for r in rows:
            if r[key] != values[-1] or not fixed(r):
                continue
            other = [o for o in rows if o[key] == values[-2] and o["gamma"] == r["gamma"]
                     and all(o[k] == r[k] for k in ("chi_max", "l_star") if k != key)]
            diffs += [abs(r["value"] - o["value"]) for o in other]
        return max(diffs) if diffs else None

    chi_row = spread("chi_max", chis, lambda r: not lstars or r["l_star"] == lstars[-1])
    l_row = spread("l_star", lstars, lambda r: r["chi_max"] == chis[-1])
    est = max((r["error"] for r in top), default=0.0)
    total = float(np.sqrt(ex.error ** 2 + (chi_row or 0.0) ** 2 + (l_row or 0.0) ** 2 + est ** 2))
    return {"quantity": quantity, "observable": observable, "t": t, "window": list(window) if window else None,
            "value": ex.value, "error": total,
            "rows": {"gamma_extrapolation": {"value": ex.value, "error": ex.error, "degree": degree,
                                             "coefficients": ex.coefficients.tolist(), "chi2_reduced": ex.chi2,
                                             "gammas": ex.gammas.tolist(), "values": ex.values.tolist(),
                                             "chi_max": chis[-1], "l_star": lstars[-1] if lstars else None},
                     "chi": {"error": chi_row, "compared": chis[-2:] if len(chis) > 1 else None},
                     "l_star": {"error": l_row, "compared": lstars[-2:] if len(lstars) > 1 else None},
                     "estimator": {"error": est},
                     "truncation": {"max_discarded_weight": max(r["truncation_error"] for r in rows)},
                     "sum_rule": {f"max_{k}_drift": max(r[f"{k}_drift"] for r in rows) for k in ("charge", "energy")}},
            "points": rows}


def write_budget(summary_path, budget, name=None):
    """Store ``budget`` as JSON beside the sweep's ``summary.h5`` (``<quantity>_<observable>_budget.json``,
    written atomically); returns the path."""
    summary_path = Path(summary_path)
    path = summary_path.with_name(name or f"{budget['quantity']}_{budget['observable']}_budget.json")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(budget, indent=1, default=float))
    os.replace(tmp, path)
    return path
