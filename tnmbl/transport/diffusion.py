r"""Diffusion constants from the spreading of a correlation profile.

For a conserved density :math:`q_x` (charge or energy) the infinite-temperature profile
:math:`C(x, t) = \langle q_x(t)\, q_0\rangle_c` (connected) keeps its sum
:math:`\Sigma = \sum_x C(x, t)` (the static susceptibility) and spreads; its variance

.. math::
    \sigma^2(t) = \frac{1}{\Sigma}\sum_x x^2 C(x,t) - \Big(\frac{1}{\Sigma}\sum_x x\, C(x,t)\Big)^2

grows as :math:`2 D t` in a diffusive chain (as :math:`v^2 t^2` in a ballistic one), so

.. math::
    D(t) = \frac12 \frac{d\sigma^2}{dt},

the time-dependent diffusion constant: it converges to :math:`D` when transport is
diffusive. The derivative is taken by second-order finite differences on the output grid
(``numpy.gradient``). Positions ``x`` are the operators' positions relative to ``q_0``
(sites for densities, bond centres for energy densities), as in
:func:`tnmbl.observables.correlations.correlations`.

Near an open edge the profile is reflected, and :math:`\sigma^2` stops growing: use times
at which ``C`` is negligible at the edges (:attr:`Diffusion.edge_weight` reports the
fraction of :math:`\Sigma` on the outermost two positions at each end).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ObservableError, fail


@dataclass
class Diffusion:
    """Result of :func:`diffusion_constant`.

    Attributes
    ----------
    times : array (n_t,)
    D : array (n_t,)
        :math:`D(t) = \\frac12 d\\sigma^2/dt`.
    variance : array (n_t,)
        :math:`\\sigma^2(t)`.
    total : array (n_t,)
        :math:`\\Sigma(t) = \\sum_x C(x,t)` (constant for a conserved density: the sum rule).
    centre : array (n_t,)
    edge_weight : array (n_t,)
        :math:`\\max(|C|` summed over the two outermost positions at either end) / :math:`|\\Sigma|`.
    meta : dict
    """

    times: np.ndarray
    D: np.ndarray
    variance: np.ndarray
    total: np.ndarray
    centre: np.ndarray
    edge_weight: np.ndarray
    meta: dict = field(default_factory=dict)


def profile_moments(distance, values):
    """``(total, centre, variance)`` of profiles ``values[t, x]`` at positions ``distance[x]``
    (real parts)."""
    x = np.asarray(distance, float)
    c = np.real(np.asarray(values))
    if c.ndim == 1:
        c = c[None, :]
    if c.shape[-1] != x.shape[0]:
        fail(ObservableError, "values", f"shape {c.shape}", f"the last axis must have one entry per position "
             f"({x.shape[0]})")
    total = c.sum(axis=-1)
    if np.any(np.abs(total) < 1e-300):
        fail(ObservableError, "values", "sum_x C = 0", "the profile has no weight to normalise by",
             "use the connected correlation of a conserved density")
    centre = (c * x).sum(axis=-1) / total
    variance = (c * x**2).sum(axis=-1) / total - centre**2
    return total, centre, variance


def diffusion_constant(times, distance, values, *, meta=None):
    r""":math:`D(t) = \frac12\, d\sigma^2/dt` of the profiles ``values[t, x]`` (module docstring).

    Parameters
    ----------
    times : array (n_t,), at least 3 increasing times
    distance : array (n_x,)
        Positions relative to the source.
    values : array (n_t, n_x)
        :math:`C(x, t)` (connected; real part used).

    Returns
    -------
    Diffusion
    """
    t = np.asarray(times, float)
    if t.ndim != 1 or len(t) < 3 or np.any(np.diff(t) <= 0):
        fail(ObservableError, "times", f"{len(np.atleast_1d(t))} times", "need at least 3 increasing times")
    c = np.asarray(values)
    if c.shape[0] != len(t):
        fail(ObservableError, "values", f"shape {c.shape}", f"one row per time ({len(t)})")
    total, centre, var = profile_moments(distance, c)
    D = 0.5 * np.gradient(var, t, edge_order=2)
    a = np.abs(np.real(c))
    edge = np.maximum(a[:, :2].sum(axis=1), a[:, -2:].sum(axis=1)) / np.abs(total)
    return Diffusion(t, D, var, total, centre, edge, dict(meta or {}))


def agreement_time(times, value, reference, *, rtol=1e-3):
    r"""The last time up to which ``value`` agrees with ``reference`` to ``rtol``, continuously
    from the start: the largest ``times[k]`` with :math:`|v_j - r_j| \le` ``rtol`` :math:`|r_j|`
    for every ``0 < j <= k`` (``times[0]``, where :math:`D(t)` may be 0/0, is skipped; it is
    returned when the first later time already fails). A convergence time: e.g. ``D(t)`` at
    ``chi`` against ``2 chi``. Values beyond a non-finite entry count as disagreeing.

    Returns
    -------
    (t, complete) : (float, bool)
        ``complete`` is ``True`` when they agree at every time (``t = times[-1]`` is then a
        lower bound of the convergence time).
    """
    t = np.asarray(times, float)
    v, r = np.asarray(value, float), np.asarray(reference, float)
    if t.ndim != 1 or len(t) < 1 or v.shape != t.shape or r.shape != t.shape:
        fail(ObservableError, "times / value / reference", f"shapes {t.shape}, {v.shape}, {r.shape}",
             "need three 1-d arrays of the same length >= 1")
    if not rtol > 0:
        fail(ObservableError, "rtol", rtol, "must be > 0", "e.g. rtol=1e-3")
    with np.errstate(invalid="ignore"):
        ok = np.abs(v[1:] - r[1:]) <= rtol * np.abs(r[1:])
    bad = np.flatnonzero(~ok)
    if len(bad) == 0:
        return float(t[-1]), True
    return float(t[bad[0]]), False
