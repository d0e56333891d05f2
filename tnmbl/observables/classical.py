r"""Classical measurements: positions of the shared observables, and the analysis of the
rotor chain's relaxation (glassy-dynamics paper, Fig. 2).

* :math:`\varphi(g, \beta, t) = \frac{\beta}{2L}\sum_x \langle (w_x(t) - w_x(0))^2\rangle_\beta`
  is measured per chain inside the compiled loop (``result.engine.samples["phi"]``,
  ``result["phi"]`` its mean).
* :func:`t0` -- :math:`t_0 = \min\{t: \varphi(t) = 0.9\}` from a smoothed curve (running
  mean over a window in :math:`\ln t`, as the paper's footnote 4; the first crossing is
  interpolated linearly in :math:`\ln t`), with a bootstrap over chains for its error.
* :func:`compare_t0_models` -- power law against super-polynomial forms of :math:`t_0(g)`
  (:data:`T0_MODELS`, :func:`fit_t0_model`) by AIC and BIC with a stated rule;
  :func:`local_slopes` -- :math:`-d\ln t_0/d\ln g` between neighbouring points with errors.
* :func:`green_kubo` -- the energy-current autocorrelation
  :math:`C(t) = \frac1L\langle J(t) J(0)\rangle_\beta`, :math:`J = \sum_b j_b`, and its
  running integral :math:`\kappa(t) = 2\int_0^t C` (the Green-Kubo conductivity as
  :math:`t\to\infty`; eq. 2 of the paper, per unit length).
"""

from __future__ import annotations

import numpy as np

from ..errors import ObservableError, fail, warn
from .registry import get_observable


def positions(chain, name):
    """Column positions of a classical observable (those of the registry: the same as quantum)."""
    return get_observable(name, chain).positions(chain)


def smooth_log(times, values, window=0.1):
    """Running mean of ``values`` over ``|ln t - ln t_i| <= window / 2`` (``t > 0`` only)."""
    times = np.asarray(times, float)
    values = np.asarray(values, float)
    out = values.copy()
    pos = times > 0
    lt = np.log(times[pos])
    v = values[..., pos]
    cs = np.concatenate([np.zeros(v.shape[:-1] + (1,)), np.cumsum(v, axis=-1)], axis=-1)
    lo = np.searchsorted(lt, lt - window / 2, side="left")
    hi = np.searchsorted(lt, lt + window / 2, side="right")
    out[..., pos] = (cs[..., hi] - cs[..., lo]) / (hi - lo)
    return out


def crossing_time(times, curve, level=0.9):
    """First time the curve reaches ``level`` (linear interpolation in ln t); NaN if never."""
    curve = np.asarray(curve)
    idx = np.flatnonzero(curve >= level)
    if len(idx) == 0:
        return np.nan
    i = idx[0]
    if i == 0 or times[i - 1] <= 0:
        return float(times[i])
    t1, t2 = np.log(times[i - 1]), np.log(times[i])
    c1, c2 = curve[i - 1], curve[i]
    return float(np.exp(t1 + (level - c1) / (c2 - c1) * (t2 - t1)))


def t0(times, phi_chains, *, level=0.9, window=0.1, n_boot=200, seed=0):
    r"""Relaxation time :math:`t_0` and its bootstrap standard error.

    Parameters
    ----------
    times : array (n_times,)
    phi_chains : array (n_times, M)
        Per-chain :math:`\varphi` (``result.engine.samples["phi"]``).
    level : float
        Crossing level (0.9 in the paper).
    window : float
        Smoothing window in :math:`\ln t`.
    n_boot : int
        Bootstrap resamples of the chains.

    Returns
    -------
    (t0, error, samples)
        ``t0`` is NaN when the smoothed mean never reaches ``level`` and ``error`` is inf when
        some resamples never do; both cases also warn (:class:`~tnmbl.errors.AnalysisWarning`).
    """
    phi_chains = np.asarray(phi_chains, float)
    if phi_chains.ndim != 2 or phi_chains.shape[0] != len(times):
        fail(ObservableError, "phi_chains", phi_chains.shape, f"need shape (n_times, M) with n_times = {len(times)}")
    mean = smooth_log(times, phi_chains.mean(1), window)
    best = crossing_time(times, mean, level)
    rng = np.random.default_rng(seed)
    M = phi_chains.shape[1]
    boots = np.empty(n_boot)
    for k in range(n_boot):
        idx = rng.integers(0, M, M)
        boots[k] = crossing_time(times, smooth_log(times, phi_chains[:, idx].mean(1), window), level)
    ok = np.isfinite(boots)
    err = float(np.std(boots[ok], ddof=1)) if ok.sum() >= 2 else np.nan
    if ok.sum() < n_boot:
        err = np.inf if np.isfinite(best) else np.nan  # some resamples never reach the level
    if not np.isfinite(best):
        top = int(np.nanargmax(mean)) if np.any(np.isfinite(mean)) else 0
        warn("level", level, f"phi never reaches the level within the run (largest smoothed phi "
             f"{float(np.nanmax(mean)) if np.any(np.isfinite(mean)) else float('nan'):.3g} at t = "
             f"{float(times[top]):.4g} of t_final = {float(times[-1]):.4g}); t0 is NaN (a lower bound t0 > "
             f"{float(times[-1]):.4g})", "run longer (larger t_final), or choose a lower level")
    elif not ok.all():
        warn("level", level, f"{int((~ok).sum())} of {n_boot} bootstrap resamples never reach the level; "
             "the error of t0 is inf", "run longer so that every resample crosses, or use more chains")
    return best, err, boots


def fit_power_law(g, t0s, errors):
    r"""Weighted least-squares fit :math:`\ln t_0 = c - \alpha \ln g`; returns
    ``(alpha, alpha_error, c)`` with the error from the fit's covariance (errors of ln t0
    are ``errors / t0``)."""
    g, t0s, errors = (np.asarray(a, float) for a in (g, t0s, errors))
    x = np.log(g)
    y = np.log(t0s)
    sy = errors / t0s
    w = 1 / sy**2
    A = np.vstack([np.ones_like(x), x]).T
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - A @ coef) ** 2))
    dof = max(len(x) - 2, 1)
    scale = max(1.0, chi2 / dof)  # inflate when the points scatter more than their errors
    return float(-coef[1]), float(np.sqrt(cov[1, 1] * scale)), float(coef[0])


#: the t0(g) models compared by :func:`compare_t0_models`: name -> (ln t0 as a function of g and the
#: parameters, parameter names, family). ``stretched``: :math:`\ln t_0 = a + b g^{-c}` with the exponent
#: ``c`` in :data:`STRETCHED_C` (``c -> 0``, ``b -> inf`` would turn it into the power law, so the
#: bound keeps the two families apart); ``exp``: :math:`t_0 = e^a e^{c/g}` (the stretched form at c = 1)
T0_MODELS = {
    "power": (lambda g, a, alpha: a - alpha * np.log(g), ("a", "alpha"), "power law"),
    "stretched": (lambda g, a, b, c: a + b * g ** (-c), ("a", "b", "c"), "super-polynomial"),
    "exp": (lambda g, a, c: a + c / g, ("a", "c"), "super-polynomial"),
}
#: bounds of the stretched form's exponent c: from 0.1 (the local exponent -d ln t0 / d ln g then
#: changes by g^-0.1, 26% over a decade of g) to 3
STRETCHED_C = (0.1, 3.0)


def _t0_data(g, t0s, errors):
    g, t0s, errors = (np.asarray(a, float) for a in (g, t0s, errors))
    ok = np.isfinite(g) & np.isfinite(t0s) & np.isfinite(errors) & (errors > 0) & (t0s > 0) & (g > 0)
    return g[ok], np.log(t0s[ok]), errors[ok] / t0s[ok]


def fit_t0_model(model, g, t0s, errors):
    r"""Weighted least-squares fit of one :data:`T0_MODELS` form to :math:`\ln t_0(g)`, the
    errors of :math:`\ln t_0` being ``errors / t0`` (bootstrap errors of t0; points with a
    non-finite or zero error are left out).

    Returns a dict: ``model``, ``family``, ``params`` and ``errors`` (name -> value; errors from
    the covariance at the given data errors, not rescaled), ``chi2``, ``dof``, ``chi2_dof``,
    ``p_value`` (of ``chi2`` for ``dof``), ``n``, ``k`` (parameters), ``aic``
    (:math:`\chi^2 + 2k`) and ``bic`` (:math:`\chi^2 + k \ln n`): for Gaussian errors of known
    size :math:`-2\ln\mathcal{L} = \chi^2` + const. ``at_bound`` names a parameter that ended on
    its bound (the stretched exponent).
    """
    from scipy import optimize, stats

    if model not in T0_MODELS:
        fail(ObservableError, "model", model, f"unknown t0 model; known: {', '.join(T0_MODELS)}")
    f, names, family = T0_MODELS[model]
    g, y, sy = _t0_data(g, t0s, errors)
    k = len(names)
    if len(g) < k + 1:
        fail(ObservableError, "g", len(g), f"the {model} fit has {k} parameters and needs at least {k + 1} points "
             "with finite errors", "add points or compare fewer models")
    w = 1 / sy**2

    def linear(columns):  # weighted linear least squares: coefficients and chi2
        A = np.vstack(columns).T
        coef = np.linalg.lstsq(A * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
        return coef, float(np.sum(w * (y - A @ coef) ** 2))

    bounds = (-np.inf, np.inf)
    if model == "power":
        p0 = linear([np.ones_like(g), -np.log(g)])[0]
    elif model == "exp":
        p0 = linear([np.ones_like(g), 1 / g])[0]
    else:  # the best c on a grid (linear in a, b for each c), then all three together
        best = min((linear([np.ones_like(g), g ** -c])[1], c) for c in np.geomspace(*STRETCHED_C, 40))
        c = best[1]
        p0 = [*linear([np.ones_like(g), g ** -c])[0], c]
        bounds = ([-np.inf, -np.inf, STRETCHED_C[0]], [np.inf, np.inf, STRETCHED_C[1]])
    popt, pcov = optimize.curve_fit(f, g, y, p0=p0, sigma=sy, absolute_sigma=True, bounds=bounds)
    chi2 = float(np.sum(w * (y - f(g, *popt)) ** 2))
    n, dof = len(g), len(g) - k
    perr = np.sqrt(np.clip(np.diag(pcov), 0, None))
    at_bound = [nm for nm, v in zip(names, popt) if model == "stretched" and nm == "c"
                and min(abs(v - STRETCHED_C[0]), abs(v - STRETCHED_C[1])) < 1e-6]
    return {"model": model, "family": family, "params": dict(zip(names, map(float, popt))),
            "errors": dict(zip(names, map(float, perr))), "chi2": chi2, "dof": dof,
            "chi2_dof": chi2 / dof if dof > 0 else float("nan"),
            "p_value": float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan"), "n": n, "k": k,
            "aic": chi2 + 2 * k, "bic": chi2 + k * float(np.log(n)), "at_bound": at_bound}


def t0_model_curve(fit, g):
    """``t0`` of a :func:`fit_t0_model` result at the couplings ``g``."""
    f = T0_MODELS[fit["model"]][0]
    return np.exp(f(np.asarray(g, float), *fit["params"].values()))


def compare_t0_models(g, t0s, errors, *, threshold=4.0, models=tuple(T0_MODELS)):
    r"""Fit every model of :data:`T0_MODELS` (:func:`fit_t0_model`) and decide between the
    two families, power law and super-polynomial (``stretched``, ``exp``).

    The rule: each family is represented by its model of lowest AIC; a family is *preferred*
    when both its AIC and its BIC are lower than the other family's by more than
    ``threshold`` (4: the other then has "considerably less support", Burnham & Anderson);
    otherwise ``"undecided"``. A preferred family whose best fit is itself poor
    (:math:`\chi^2` p-value < 0.01) is still named, with ``"poor_fit": True``.

    Returns a dict: ``fits`` (model -> :func:`fit_t0_model` result), ``best`` (family -> model
    name), ``delta_aic`` and ``delta_bic`` (super-polynomial minus power law: positive favours
    the power law), ``preferred`` (``"power law"``, ``"super-polynomial"`` or ``"undecided"``),
    ``poor_fit``, ``rule`` (the rule in words).
    """
    fits = {m: fit_t0_model(m, g, t0s, errors) for m in models}
    best = {}
    for fam in ("power law", "super-polynomial"):
        cands = [m for m in fits if fits[m]["family"] == fam]
        if cands:
            best[fam] = min(cands, key=lambda m: fits[m]["aic"])
    out = {"fits": fits, "best": best, "threshold": threshold,
           "rule": f"a family (power law; super-polynomial: stretched ln t0 = a + b g^-c with c in "
                   f"[{STRETCHED_C[0]:g}, {STRETCHED_C[1]:g}], or exp t0 = A e^(c/g)), each represented by its "
                   f"model of lowest AIC, is preferred when its AIC and BIC are both lower than the other's by more "
                   f"than {threshold:g}; else undecided"}
    if len(best) < 2:
        out.update(delta_aic=float("nan"), delta_bic=float("nan"), preferred="undecided", poor_fit=False)
        return out
    p, s = fits[best["power law"]], fits[best["super-polynomial"]]
    d_aic, d_bic = s["aic"] - p["aic"], s["bic"] - p["bic"]
    if d_aic > threshold and d_bic > threshold:
        preferred = "power law"
    elif d_aic < -threshold and d_bic < -threshold:
        preferred = "super-polynomial"
    else:
        preferred = "undecided"
    poor = preferred != "undecided" and fits[best[preferred]]["p_value"] < 0.01
    out.update(delta_aic=float(d_aic), delta_bic=float(d_bic), preferred=preferred, poor_fit=bool(poor))
    return out


def local_slopes(g, t0s, errors):
    r"""Local exponents between neighbouring points (sorted by g):
    :math:`\alpha = -\Delta\ln t_0 / \Delta\ln g` (positive when t0 grows as g falls; a power
    law :math:`t_0 \propto g^{-\alpha}` has it constant), at the geometric mean of the two
    couplings, with the error from the two points' independent errors,
    :math:`\sqrt{\sigma_1^2 + \sigma_2^2} / |\Delta\ln g|` (:math:`\sigma` = error / t0).
    Returns ``(g_mid, alpha, alpha_err)`` arrays."""
    g, y, sy = _t0_data(g, t0s, errors)
    order = np.argsort(g)
    g, y, sy = g[order], y[order], sy[order]
    dx = np.diff(np.log(g))
    return np.sqrt(g[1:] * g[:-1]), -np.diff(y) / dx, np.hypot(sy[1:], sy[:-1]) / np.abs(dx)


def model_local_slope(fit, g):
    r"""The local exponent :math:`-d\ln t_0 / d\ln g` of a :func:`fit_t0_model` result at ``g``:
    :math:`\alpha` (power), :math:`b c g^{-c}` (stretched), :math:`c / g` (exp)."""
    g = np.asarray(g, float)
    p = fit["params"]
    if fit["model"] == "power":
        return np.full_like(g, p["alpha"])
    if fit["model"] == "stretched":
        return p["b"] * p["c"] * g ** (-p["c"])
    return p["c"] / g


def green_kubo(times, current_chains, L):
    r""":math:`C(t) = \langle J(t)J(0)\rangle / L` with its standard error, and
    :math:`\kappa(t) = 2\int_0^t C(s) ds` (trapezoid), from per-chain total currents
    ``(n_times, M)`` (``result.engine.samples["total_current"]``)."""
    J = np.asarray(current_chains, float)
    prod = J * J[0][None, :] / L
    C = prod.mean(1)
    err = prod.std(1, ddof=1) / np.sqrt(J.shape[1])
    kappa = 2 * np.concatenate([[0.0], np.cumsum(0.5 * (C[1:] + C[:-1]) * np.diff(times))])
    return C, err, kappa


def bubble_width(positions, profile, background=0.0):
    r"""Centre :math:`X` and width :math:`\sigma` of the excess of a profile over its
    background: with :math:`w_x = \max(n_x - n_{bg}, 0)`,
    :math:`X = \sum x w_x / \sum w_x`, :math:`\sigma^2 = \sum (x - X)^2 w_x / \sum w_x`.
    ``profile`` is ``(n_times, n_columns)`` (e.g. ``result["density"]``)."""
    x = np.asarray(positions, float)
    w = np.clip(np.asarray(profile, float) - background, 0, None)
    tot = w.sum(-1)
    X = (w * x).sum(-1) / tot
    sigma = np.sqrt((w * (x - X[..., None]) ** 2).sum(-1) / tot)
    return X, sigma
