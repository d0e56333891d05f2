r"""Classical measurements: positions of the shared observables, and the analysis of the
rotor chain's relaxation (glassy-dynamics paper, Fig. 2).

* :math:`\varphi(g, \beta, t) = \frac{\beta}{2L}\sum_x \langle (w_x(t) - w_x(0))^2\rangle_\beta`
  is measured per chain inside the compiled loop (``result.engine.samples["phi"]``,
  ``result["phi"]`` its mean).
* :func:`t0` -- :math:`t_0 = \min\{t: \varphi(t) = 0.9\}` from a smoothed curve (running
  mean over a window in :math:`\ln t`, as the paper's footnote 4; the first crossing is
  interpolated linearly in :math:`\ln t`), with a bootstrap over chains for its error.
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
