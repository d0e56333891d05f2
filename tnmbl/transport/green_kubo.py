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
* ``truncation``: with the correlation at a lower bond dimension (``C_low``, or two runs
  given to :func:`green_kubo_chi`), the chi difference :math:`|\kappa(\chi) -
  \kappa(\chi_{low})|` of the two plateau values (same window and tail): how much the answer
  moved when the bond dimension was halved, the estimate that reflects the data. Otherwise
  :math:`2\int_0^{t_{hi}} \delta C\,dt` with ``C_error`` the per-time error estimate of the
  correlation (MPS truncation; worst case, errors added linearly, so usually far larger);
* ``statistical``: for ensembles, the standard error of :math:`\kappa` over independent
  samples (:func:`green_kubo_ensemble` computes it from per-sample plateaus; with only a
  per-time ``C_stat_error``, the conservative :math:`2\int \sigma_C dt` is used);
* ``tail``: see above.

**Plateau**: when the running integral still moves by more than :data:`PLATEAU_REL` of
:math:`\kappa` over the window (``window`` error), no plateau was reached and, for a
positive decaying integrand, :math:`\kappa` is a lower bound (``Conductivity.lower_bound``):
figures draw it as one (:meth:`Conductivity.plot`). A truncation row above
``THRESHOLDS["kappa_truncation"]`` of :math:`|\kappa|` (:mod:`tnmbl.runs.budget`) is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ObservableError, fail
from ..evolution.figures import TIME_LABEL, finish, lower_bounds
from ..observables.classical import green_kubo as ensemble_integrand
from ..runs.budget import THRESHOLDS

TAILS = ("none", "exponential")
#: a plateau is reached when the running integral moves by less than this fraction of kappa over the window
PLATEAU_REL = 0.05


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
    truncation : dict
        How the ``truncation`` row was estimated: ``estimate`` (``"chi difference"``,
        ``"integrated C_error"`` or ``"none"``), and for the chi difference ``kappa_low``,
        ``chi``, ``chi_low``.
    flags : list of str
        Budget rows above their thresholds, each saying what to change.
    """

    kappa: float
    error: float
    errors: dict
    window: tuple
    times: np.ndarray
    running: np.ndarray
    tail: str = "none"
    tail_fit: dict = field(default_factory=dict)
    truncation: dict = field(default_factory=dict)
    flags: list = field(default_factory=list)

    @property
    def plateau(self):
        """Whether the running integral moves by less than :data:`PLATEAU_REL` of kappa over the window."""
        return bool(self.errors["window"] < PLATEAU_REL * abs(self.kappa))

    @property
    def lower_bound(self):
        """No plateau: the value is a lower bound (the integral was still growing), not an estimate."""
        return not self.plateau

    def plot(self, out=None, *, dpi=110, title=None, units="conductivity units"):
        """The running integral against time with the window shaded and kappa +- error (or, with
        no plateau, kappa drawn as a lower bound); returns the ``Figure`` or writes a PNG."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.6, 3.8))
        ax.plot(self.times, self.running, color="C0", label=r"running integral $2\int_0^t C$")
        ax.axvspan(*self.window, color="0.9", label="plateau window")
        t_mid = 0.5 * sum(self.window)
        if self.plateau:
            ax.errorbar([t_mid], [self.kappa], yerr=[self.error], fmt="o", color="C3", capsize=3,
                        label=f"kappa = {self.kappa:.3g} +- {self.error:.2g}")
        else:
            lower_bounds(ax, [t_mid], [self.kappa], color="C3", label=f"lower bound kappa >= {self.kappa:.3g}")
        ax.set_xlabel(TIME_LABEL)
        ax.set_ylabel(f"kappa(t) [{units}]")
        ax.legend(fontsize=7)
        rows = ", ".join(f"{k} {v:.2g}" for k, v in self.errors.items() if v)
        ax.set_title(title if title is not None else f"Green-Kubo; errors: {rows or 'none'}", fontsize=8)
        return finish(fig, out, dpi)


def _integral(times, values):
    """Running trapezoid integral along the first axis (``values`` ``(n,)`` or ``(n, k)``)."""
    v = np.asarray(values)
    d = np.diff(times).reshape((-1,) + (1,) * (v.ndim - 1))
    return np.concatenate([np.zeros((1,) + v.shape[1:]), np.cumsum(0.5 * (v[1:] + v[:-1]) * d, 0)])


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


def _plateau(t, c, m, tail, prefactor):
    """Plateau value, running integral, tail fit and tail error of one integrand."""
    running = prefactor * _integral(t, c)
    with_tail, fit, tail_err = running, {}, 0.0
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
    return with_tail[m], running, fit, tail_err


def _series(times, C, key="times / C"):
    t = np.asarray(times, float)
    c = np.real(np.asarray(C))
    if t.ndim != 1 or c.shape != t.shape or len(t) < 2 or abs(t[0]) > 1e-12 or np.any(np.diff(t) <= 0):
        fail(ObservableError, key, (t.shape, c.shape),
             "need matching 1D arrays, times increasing from 0, at least two points")
    return t, c


def green_kubo(times, C, *, window, C_error=None, C_stat_error=None, tail="none", prefactor=2.0,
               statistical_error=None, C_low=None, chi=None, chi_low=None):
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
    C_low : array (n,), optional
        The same correlation at a lower bond dimension ``chi_low`` (``C`` at ``chi``): the
        truncation row is then :math:`|\kappa(\chi) - \kappa(\chi_{low})|` (instead of
        ``C_error``, which must not be given too).
    """
    t, c = _series(times, C)
    if tail not in TAILS:
        fail(ObservableError, "tail", tail, f"must be one of {TAILS}")
    lo, hi, m = _window_mask(t, window)
    plateau, running, fit, tail_err = _plateau(t, c, m, tail, prefactor)
    kappa = float(plateau.mean())
    errors = {"window": 0.5 * float(plateau.max() - plateau.min()), "truncation": 0.0, "statistical": 0.0,
              "tail": tail_err}
    truncation = {"estimate": "none"}
    upto = t <= hi + 1e-12
    if C_low is not None:
        if C_error is not None:
            fail(ObservableError, "C_error", "given with C_low", "the truncation row is either the chi "
                 "difference (C_low) or the integrated error estimate (C_error)", "give one of them")
        _, c_low = _series(times, C_low, "times / C_low")
        kappa_low = float(_plateau(t, c_low, m, tail, prefactor)[0].mean())
        errors["truncation"] = abs(kappa - kappa_low)
        truncation = {"estimate": "chi difference", "kappa_low": kappa_low, "chi": chi, "chi_low": chi_low}
    elif C_error is not None:
        errors["truncation"] = prefactor * float(_integral(t[upto], np.abs(np.asarray(C_error, float))[upto])[-1])
        truncation = {"estimate": "integrated C_error"}
    if statistical_error is not None:
        errors["statistical"] = float(statistical_error)
    elif C_stat_error is not None:
        errors["statistical"] = prefactor * float(_integral(t[upto], np.asarray(C_stat_error, float)[upto])[-1])
    total = float(np.sqrt(sum(v**2 for v in errors.values())))
    res = Conductivity(kappa, total, errors, (lo, hi), t, running, tail, fit, truncation)
    limit = THRESHOLDS["kappa_truncation"]
    if errors["truncation"] > limit * abs(kappa):
        res.flags.append(f"truncation: {errors['truncation']:.2g} > {limit:g} |kappa| ({truncation['estimate']}); "
                         "raise chi_max")
    if res.lower_bound:
        res.flags.append(f"window: kappa(t) moves by {2 * errors['window']:.2g} over the window (> "
                         f"{2 * PLATEAU_REL:g} |kappa|): no plateau, kappa is a lower bound; evolve longer")
    return res


def green_kubo_chi(runs, *, window, tail="none", prefactor=2.0):
    r"""Green-Kubo of the largest-chi run, its truncation row the chi difference to the next.

    ``runs``: correlations (:class:`~tnmbl.evolution.correlations.Correlation`, e.g. of
    :func:`~tnmbl.evolution.correlations.current_autocorrelation`) of one integrand at two or
    more bond dimensions, as ``{chi: Correlation}`` or a list (chi read from each
    ``meta["chi_max"]``). :math:`\kappa` is that of the largest chi; the truncation row is
    :math:`|\kappa(\chi) - \kappa(\chi_{low})|` with :math:`\chi_{low}` the next largest (e.g.
    ``chi / 2``), over the output times both reached.
    """
    if not isinstance(runs, dict):
        runs = {r.meta.get("chi_max"): r for r in runs}
    if len(runs) < 2 or None in runs:
        fail(ObservableError, "runs", sorted(map(str, runs)), "need correlations at two or more chi_max (each "
             "with meta['chi_max'])", "pass {chi: Correlation} for chi and e.g. chi / 2")
    chi, chi_low = sorted(runs, reverse=True)[:2]
    high, low = runs[chi], runs[chi_low]
    n = min(len(high.times), len(low.times))
    if not np.allclose(high.times[:n], low.times[:n]):
        fail(ObservableError, "runs", f"chi {chi} and {chi_low}", "the correlations have other output times",
             "run both with the same t_max, dt and output_dt")
    return green_kubo(high.times[:n], high.values[:n], C_low=low.values[:n], chi=chi, chi_low=chi_low,
                      window=window, tail=tail, prefactor=prefactor)


def green_kubo_ensemble(times, current_chains, L, *, window, tail="none", prefactor=2.0, origins="first",
                        chunk=64):
    r"""Green-Kubo from an ensemble of classical trajectories (statistical error exact).

    ``current_chains`` ``(n_times, M)`` is the total current :math:`J_m(t)` of every sample
    (``result.engine.samples["total_current"]`` of :func:`tnmbl.evolve_classical`).

    ``origins="first"``: the integrand is :math:`C(t) = \frac1{LM}\sum_m J_m(t) J_m(0)` (as
    :func:`tnmbl.observables.classical.green_kubo`); the statistical error of :math:`\kappa`
    is the standard error of the per-sample plateau values (:math:`\kappa` is linear in the
    per-sample products, so this is exact for independent samples, with all time correlations
    included).

    ``origins="all"``: every output row is a time origin (the Gibbs ensemble is stationary
    under the dynamics): per chain
    :math:`C_m(\tau_k) = \frac1{L(n-k)}\sum_{s=0}^{n-1-k} J_m(t_{s+k}) J_m(t_s)` for lags up
    to the window's end (computed by FFT), needing equally spaced
    ``times``; :math:`C` is its mean over the chains. The statistical error is the standard
    error of the per-chain plateau values: exact for independent chains, the correlations
    between the origins of one chain included. Over a run of length :math:`T` it is
    ~:math:`\sqrt{t_{hi}/T}` times that of one origin, so long correlation times become
    reachable; the first and the last origins share the run, so :math:`T` should be a few times
    the window's end.

    The per-sample work runs ``chunk`` chains at a time (bounded memory for long runs).

    Returns
    -------
    (Conductivity, C, C_stat_error)
        ``C`` and its error at ``times`` (``"all"``: the lags ``times[:n_lag]`` up to the window's end).
    """
    J = np.asarray(current_chains, float)
    if J.ndim != 2 or J.shape[0] != len(times) or J.shape[1] < 2:
        fail(ObservableError, "current_chains", J.shape, f"need shape (n_times={len(times)}, M >= 2)")
    if origins not in ("first", "all"):
        fail(ObservableError, "origins", origins, "must be 'first' (t = 0, the Gibbs draw) or 'all' (every row)")
    t = np.asarray(times, float)
    if origins == "all":
        return _per_chain_green_kubo(*_time_averaged_products(t, J, L, window, chunk), window, tail, prefactor, chunk)
    C, C_err, _ = ensemble_integrand(t, J, L)  # one definition of the classical integrand
    per_sample = _per_sample_plateaus(t, lambda a, b: J[:, a:b] * J[0, a:b] / L, J.shape[1], window, prefactor,
                                      chunk)
    stat = float(per_sample.std(ddof=1) / np.sqrt(J.shape[1]))
    res = green_kubo(t, C, window=window, tail=tail, prefactor=prefactor, statistical_error=stat)
    return res, C, C_err


def green_kubo_accumulated(accumulated, L, *, window, tail="none", prefactor=2.0, chunk=64):
    r"""Green-Kubo from the on-the-fly all-origin accumulator of a classical run (the
    ``green_kubo`` option: :meth:`tnmbl.engines.classical.ClassicalEngine.green_kubo`, or the
    ``/green_kubo`` group of a results file, ``read_results(path)["extra"]["green_kubo"]``).

    ``accumulated`` holds ``sums`` ``(n_lag, M)`` (per chain, the sum over time origins of the
    products of the sampled total currents at lag :math:`k\,` ``lag_dt``), ``counts``
    ``(n_lag,)`` (the origins per lag) and ``lag_dt``. The per-chain integrand
    ``sums / (L counts)`` then goes through the same estimate as
    :func:`green_kubo_ensemble` with ``origins="all"`` (equal to it on the same series).
    Returns ``(Conductivity, C, C_stat_error)`` as that function does.
    """
    sums = np.asarray(accumulated["sums"], float)
    counts = np.asarray(accumulated["counts"], float)
    if sums.ndim != 2 or sums.shape[1] < 2 or counts.shape != (sums.shape[0],):
        fail(ObservableError, "accumulated", f"sums {sums.shape}, counts {counts.shape}",
             "need sums of shape (n_lag, M >= 2) and counts of shape (n_lag,)")
    reached = counts > 0
    if not reached.all():
        fail(ObservableError, "accumulated", f"counts = 0 from lag {int(np.argmin(reached))} on",
             "the run has not yet reached the longest lag (fewer samples than lags)", "evolve longer")
    t = np.arange(len(counts)) * float(accumulated["lag_dt"])
    _window_mask(t, window)  # the window must fit the lags
    return _per_chain_green_kubo(t, sums / (counts[:, None] * float(L)), window, tail, prefactor, chunk)


def _per_chain_green_kubo(t, per_chain_C, window, tail, prefactor, chunk):
    """Green-Kubo of the per-chain all-origin integrands ``(n_lag, M)`` at lags ``t``: their mean,
    its standard error, and the statistical error of kappa from the per-chain plateaus."""
    M = per_chain_C.shape[1]
    C = per_chain_C.mean(1)
    C_err = per_chain_C.std(1, ddof=1) / np.sqrt(M)
    per_sample = _per_sample_plateaus(t, lambda a, b: per_chain_C[:, a:b], M, window, prefactor, chunk)
    stat = float(per_sample.std(ddof=1) / np.sqrt(M))
    res = green_kubo(t, C, window=window, tail=tail, prefactor=prefactor, statistical_error=stat)
    return res, C, C_err


def _per_sample_plateaus(t, columns, M, window, prefactor, chunk):
    """The plateau value of each of ``M`` per-sample integrands, ``columns(a, b)`` giving
    samples ``a:b`` as ``(n_times, b - a)``, ``chunk`` at a time and only up to the window's end
    (bounded memory for long runs)."""
    _, _, m = _window_mask(t, window)
    n = int(np.nonzero(m)[0][-1]) + 1
    chunk = int(chunk)
    return np.concatenate([(prefactor * _integral(t[:n], columns(a, min(a + chunk, M))[:n]))[m[:n]].mean(0)
                           for a in range(0, M, chunk)])


def _time_averaged_products(t, J, L, window, chunk):
    """Lags ``t[:n_lag]`` up to the window's end and the per-chain time-averaged products
    ``(n_lag, M)`` (the ``origins="all"`` integrand of :func:`green_kubo_ensemble`)."""
    h = np.diff(t)
    if len(t) < 2 or not np.allclose(h, h[0], rtol=1e-9, atol=1e-12 * max(1.0, t[-1])):
        fail(ObservableError, "times", f"{len(t)} times from {t[0]:g} to {t[-1]:g}",
             "origins='all' needs equally spaced output times", "run with output_dt (not n_log)")
    _window_mask(t - t[0], window)  # the window must fit the run
    n = len(t)
    n_lag = min(n, int(np.searchsorted(t - t[0], float(window[1]) - 1e-9 * h[0])) + 1)  # lags up to >= t_hi
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    out = np.empty((n_lag, J.shape[1]))
    counts = (n - np.arange(n_lag))[:, None] * float(L)
    for a in range(0, J.shape[1], int(chunk)):
        f = np.fft.rfft(J[:, a:a + int(chunk)], n=nfft, axis=0)
        out[:, a:a + int(chunk)] = np.fft.irfft(f * np.conj(f), n=nfft, axis=0)[:n_lag] / counts
    return t[:n_lag] - t[0], out
