r"""Green-Kubo conductivity from a current autocorrelation, with its error budget.

.. math::
    \kappa = 2 \int_0^\infty dt\, C(t),\qquad
    C(t) = \frac1L \langle J(t) J(0)\rangle_\beta \;\; \text{or}\;\;
    \sum_x \langle j_x(t) j_0(0)\rangle_\beta ,

the glassy-dynamics paper's eq. 2 (energy) and rare-events eq. 5 (density), per unit
length; the factor 2 is the paper's (``prefactor``). As in the paper, :math:`\kappa` is
defined by :math:`J = \kappa(\beta)\nabla\beta` (eq. 1), so no power of :math:`\beta`
is included (the conventional :math:`\tilde\kappa(T) = \beta^2\kappa`); at
:math:`\beta = 0` it is finite and is what the quantum purification computes. Quantum
correlations enter through their real part (the symmetrised correlation; at
:math:`\beta > 0` it differs from the Kubo-Mori product at order :math:`\beta\omega`).

**Window**: the integral is cut at times inside an explicit window
``(t_lo, t_hi)``: :math:`\kappa` is the mean of the running integral
:math:`\kappa(t) = 2\int_0^t C` over the output times in the window (a plateau average).

**Tail handling** (``tail``):

* ``"none"``: nothing beyond ``t_hi``; the tail shows only as the window error.
* ``"exponential"``: fit :math:`C(t) = A e^{-t/\tau}` on the window (least squares of
  :math:`\ln C`; needs ``C > 0`` there) and add :math:`2 A \tau e^{-t/\tau}` to every
  :math:`\kappa(t)` before the plateau average. Half of the added tail is booked as the
  ``tail`` error.

**Error budget** (``Conductivity.errors``; ``error`` is their quadrature sum):

* ``window``: half the spread (max - min) of :math:`\kappa(t)` over the window -- how much
  the answer still depends on where the integral is cut;
* ``truncation``: :math:`2\int_0^{t_{hi}} \delta C\,dt` with ``C_error`` the per-time error
  estimate of the correlation (MPS truncation; worst case, errors added linearly);
* ``statistical``: for ensembles, the standard error of :math:`\kappa` over independent
  samples (:func:`green_kubo_ensemble` computes it from per-sample plateaus; with only a
  per-time ``C_stat_error``, the conservative :math:`2\int \sigma_C dt` is used);
* ``tail``: see above.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ObservableError, fail
from ..observables.classical import green_kubo as ensemble_integrand

TAILS = ("none", "exponential")


@dataclass
class Conductivity:
    """Result of :func:`green_kubo`.

    Attributes
    ----------
    kappa, error : float
        The conductivity and its total error (quadrature sum of ``errors``).
    errors : dict[str, float]
        ``window``, ``truncation``, ``statistical``, ``tail``.
    window : (float, float)
    times, running : arrays
        Output times and the running integral :math:`\\kappa(t)` (no tail added).
    tail : str
    tail_fit : dict
        ``A``, ``tau`` of the exponential tail (empty for ``tail="none"``).
    """

    kappa: float
    error: float
    errors: dict
    window: tuple
    times: np.ndarray
    running: np.ndarray
    tail: str = "none"
    tail_fit: dict = field(default_factory=dict)


def _integral(times, values):
    return np.concatenate([[0.0], np.cumsum(0.5 * (values[1:] + values[:-1]) * np.diff(times))])


def _window_mask(times, window):
    try:
        lo, hi = (float(w) for w in window)
    except (TypeError, ValueError):
        fail(ObservableError, "window", window, "must be a pair (t_lo, t_hi)", "e.g. window=(5.0, 10.0)")
    if not 0 <= lo <= hi <= times[-1] + 1e-12:
        fail(ObservableError, "window", window, f"need 0 <= t_lo <= t_hi <= t_max = {times[-1]:g}")
    m = (times >= lo - 1e-12) & (times <= hi + 1e-12)
    if not m.any():
        fail(ObservableError, "window", window, "contains no output time", "widen it")
    return lo, hi, m


def green_kubo(times, C, *, window, C_error=None, C_stat_error=None, tail="none", prefactor=2.0,
               statistical_error=None):
    r"""Green-Kubo conductivity from an autocorrelation sampled at ``times``.

    Parameters
    ----------
    times : array (n,)
        Increasing output times starting at 0.
    C : array (n,)
        The integrand (complex values: the real part is used).
    window : (t_lo, t_hi)
        Plateau window (module docstring). Explicit, never a default.
    C_error : array (n,), optional
        Systematic error estimate per time (e.g. ``Correlation.error_estimate``).
    C_stat_error : array (n,), optional
        Statistical standard error per time (conservative integral, see module docstring).
    tail : {"none", "exponential"}
    prefactor : float
        2 in the papers' convention.
    statistical_error : float, optional
        A statistical error of kappa computed elsewhere (overrides ``C_stat_error``).
    """
    t = np.asarray(times, float)
    c = np.real(np.asarray(C))
    if t.ndim != 1 or c.shape != t.shape or len(t) < 2 or abs(t[0]) > 1e-12 or np.any(np.diff(t) <= 0):
        fail(ObservableError, "times / C", (t.shape, c.shape),
             "need matching 1D arrays, times increasing from 0, at least two points")
    if tail not in TAILS:
        fail(ObservableError, "tail", tail, f"must be one of {TAILS}")
    lo, hi, m = _window_mask(t, window)
    running = prefactor * _integral(t, c)
    with_tail = running.copy()
    fit = {}
    tail_err = 0.0
    if tail == "exponential":
        cw, tw = c[m], t[m]
        if m.sum() < 2 or np.any(cw <= 0):
            fail(ObservableError, "tail", tail, "the exponential tail needs C(t) > 0 at >= 2 times in the window",
                 "use tail='none' or move the window")
        slope, icpt = np.polyfit(tw, np.log(cw), 1)
        if slope >= 0:
            fail(ObservableError, "tail", tail, f"C(t) does not decay in the window (slope {slope:.3g} of ln C)",
                 "use tail='none' or a later window")
        tau, A = -1.0 / slope, float(np.exp(icpt))
        added = prefactor * A * tau * np.exp(-t / tau)
        with_tail = running + added
        fit = {"A": A, "tau": float(tau)}
        tail_err = 0.5 * float(np.mean(added[m]))
    plateau = with_tail[m]
    kappa = float(plateau.mean())
    errors = {"window": 0.5 * float(plateau.max() - plateau.min()), "truncation": 0.0, "statistical": 0.0,
              "tail": tail_err}
    upto = t <= hi + 1e-12
    if C_error is not None:
        errors["truncation"] = prefactor * float(_integral(t[upto], np.abs(np.asarray(C_error, float))[upto])[-1])
    if statistical_error is not None:
        errors["statistical"] = float(statistical_error)
    elif C_stat_error is not None:
        errors["statistical"] = prefactor * float(_integral(t[upto], np.asarray(C_stat_error, float)[upto])[-1])
    total = float(np.sqrt(sum(v**2 for v in errors.values())))
    return Conductivity(kappa, total, errors, (lo, hi), t, running, tail, fit)


def green_kubo_ensemble(times, current_chains, L, *, window, tail="none", prefactor=2.0):
    r"""Green-Kubo from an ensemble of classical trajectories (statistical error exact).

    ``current_chains`` ``(n_times, M)`` is the total current :math:`J_m(t)` of every sample
    (``result.engine.samples["total_current"]`` of :func:`tnmbl.evolve_classical`). The
    integrand is :math:`C(t) = \frac1{LM}\sum_m J_m(t) J_m(0)` (as
    :func:`tnmbl.observables.classical.green_kubo`); the statistical error of
    :math:`\kappa` is the standard error of the per-sample plateau values
    (:math:`\kappa` is linear in the per-sample products, so this is exact for independent
    samples, with all time correlations included).

    Returns
    -------
    (Conductivity, C, C_stat_error)
    """
    J = np.asarray(current_chains, float)
    if J.ndim != 2 or J.shape[0] != len(times) or J.shape[1] < 2:
        fail(ObservableError, "current_chains", J.shape, f"need shape (n_times={len(times)}, M >= 2)")

    t = np.asarray(times, float)
    C, C_err, _ = ensemble_integrand(t, J, L)  # one definition of the classical integrand
    prod = J * J[0][None, :] / L  # per-sample products, for the per-sample plateaus
    _, _, m = _window_mask(t, window)
    per_sample = prefactor * np.array([_integral(t, prod[:, k])[m].mean() for k in range(J.shape[1])])
    stat = float(per_sample.std(ddof=1) / np.sqrt(J.shape[1]))
    res = green_kubo(t, C, window=window, tail=tail, prefactor=prefactor, statistical_error=stat)
    return res, C, C_err
