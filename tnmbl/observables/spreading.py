r"""Spreading of a bubble, the same for every engine: quantum (MPS, exact, purification,
ensembles of product states) and classical results.

Everything here is a function of a profile series ``(n_times, n_columns)`` with the
columns' positions; :func:`series` reads one from a :class:`~tnmbl.Result`, a results
file (``tnmbl run`` output) or a ``(times, positions, values)`` triple, so the same code
serves every engine's output.

Conventions
-----------
*Excess profile* (:func:`excess`): :math:`e_x(t) = s\,(O_x(t) - O^{\rm bg}_x)` with the
background :math:`O^{\rm bg}` a number, an array per column, ``"initial"`` (the t = 0
profile: the change since the start) or, by default, the median of the t = 0 profile (a
bubble covers less than half of the chain, so the median is the background value). The
sign ``s`` makes the bubble positive: ``"auto"`` takes the sign of the total t = 0 excess, so
a hot bubble and a *low-density* bubble (a deficit of particles and energy) are treated
alike.

*Centre and width*: :math:`X = \sum_x x\,w_x / \sum_x w_x` and
:math:`\sigma^2 = \sum_x (x - X)^2 w_x / \sum_x w_x` with :math:`w_x = \max(e_x, 0)`:
:func:`tnmbl.observables.classical.bubble_width`, the one implementation.

*Front* (:func:`front`): on each side of the bubble, the outermost position where the excess
reaches ``threshold``, interpolated linearly between that column and the next one outward
(which is below the threshold). ``side="right"`` / ``"left"`` give the position,
``"both"`` the half-distance between the two fronts.

*Thermalization distance from a bath* (:func:`thermalization_distance`): the relaxed
fraction of a local observable :math:`r_x(t) = 1 - |O_x(t) - O^{\rm th}_x| / |O_x(0) -
O^{\rm th}_x|` (optionally averaged over a time window first, to remove local
oscillations), and the distance = number of consecutive sites, counted from the bath's edge
outward, with :math:`r_x \ge` ``level``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ObservableError, fail, warn
from ..runs.storage import read_results
from .classical import bubble_width


@dataclass(frozen=True)
class Series:
    """One observable against time: ``values[i, k]`` at ``times[i]`` and ``positions[k]``."""

    times: np.ndarray
    positions: np.ndarray
    values: np.ndarray
    name: str = ""


def series(source, name):
    """The :class:`Series` of observable ``name`` from a Result, a results file or a dict.

    Parameters
    ----------
    source : Result | str | os.PathLike | dict | Series
        An engine's :class:`~tnmbl.Result` (quantum or classical), the path of a ``tnmbl
        run`` results file, the dict of :func:`tnmbl.runs.storage.read_results`, a point of
        :func:`tnmbl.runs.sweep.read_summary` (its ensemble mean), anything with ``times``,
        ``data`` and ``positions`` (e.g. :class:`~tnmbl.states.bubbles.EnsembleResult`), or
        a :class:`Series` (returned as is).
    name : str
        Observable name (``density``, ``energy_density``, ``entanglement``, ...).
    """
    if isinstance(source, Series):
        return source
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):

        source = read_results(source)
    if isinstance(source, dict):
        obs = source.get("observables", {})
        if name not in obs:
            fail(ObservableError, "observable", name, f"not in the results file; measured: {sorted(obs)}",
                 "add it to observables.names and run again")
        if isinstance(obs[name], dict):  # a point of a sweep summary: the ensemble mean
            return Series(np.asarray(source["time"], float), np.asarray(obs[name]["positions"], float),
                          np.asarray(obs[name]["mean"], float), name)
        return Series(np.asarray(source["time"], float), np.asarray(source["positions"][name], float),
                      np.asarray(obs[name], float), name)
    if not (hasattr(source, "data") and hasattr(source, "positions")):
        fail(ObservableError, "source", type(source).__name__, "must be a Result, a results file or a Series")
    if name not in source.data:
        fail(ObservableError, "observable", name, f"was not measured; measured: {sorted(source.data)}",
             f"add {name!r} to the observables of the run")
    return Series(np.asarray(source.times, float), np.asarray(source.positions[name], float),
                  np.asarray(source.data[name], float), name)


def _background(s, background):
    first = s.values[0]
    if background is None:
        return np.full_like(first, np.median(first))
    if isinstance(background, str):
        if background != "initial":
            fail(ObservableError, "background", background, "must be a number, an array, 'initial' or None")
        return first.copy()
    if hasattr(background, "positions") or isinstance(background, (dict, Series)):  # a reference run
        ref = series(background, s.name)
        if ref.values.shape != s.values.shape or not np.allclose(ref.times, s.times):
            fail(ObservableError, "background", f"run with shape {ref.values.shape}",
                 f"a reference run needs the same output times and columns as the run, {s.values.shape}")
        return ref.values
    bg = np.asarray(background, float)
    if bg.ndim == 0:
        return np.full_like(first, float(bg))
    if bg.shape != first.shape:
        fail(ObservableError, "background", f"array of shape {bg.shape}",
             f"one value per column: need shape {first.shape}")
    return bg


def excess(source, name=None, *, background=None, sign="auto"):
    """Excess profile ``(times, positions, e)`` with ``e[i, k]`` the bubble's excess.

    Parameters
    ----------
    source : Result | path | dict | Series
        See :func:`series`; ``name`` selects the observable (not needed for a Series).
    background : None | float | array | "initial" | Result
        Background (module docstring); a Result is a reference run (e.g. the same chain
        without the bubble) whose profile at each time is subtracted.
    sign : "auto" | 1 | -1
        ``-1`` for a bubble that is a deficit (low density); ``"auto"`` picks the sign of
        the total excess at t = 0 (``+1`` if it is zero).
    """
    s = series(source, name)
    bg = _background(s, background)
    e = s.values - bg
    if sign == "auto":
        sign = -1.0 if e[0].sum() < 0 else 1.0
    elif sign not in (1, -1):
        fail(ObservableError, "sign", sign, "must be 'auto', 1 or -1")
    return s.times, s.positions, float(sign) * e


def centre_width(positions, excess_profile):
    """Centre ``X`` and width ``sigma`` (second moment) of the positive part of an excess
    profile, per row (:func:`~tnmbl.observables.classical.bubble_width`); NaN for a row
    with no positive excess."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return bubble_width(positions, excess_profile, 0.0)


def _one_front(x, e, threshold, side):
    above = np.flatnonzero(e >= threshold)
    if len(above) == 0:
        return np.nan
    k = above[-1] if side == "right" else above[0]
    nxt = k + 1 if side == "right" else k - 1
    if nxt < 0 or nxt >= len(x):
        return float(x[k])
    # linear interpolation to where the excess falls to the threshold, between k and nxt
    frac = (e[k] - threshold) / (e[k] - e[nxt])
    return float(x[k] + frac * (x[nxt] - x[k]))


def front(positions, excess_profile, threshold, side="right", *, warn_edge=True):
    """Front position per row: the outermost point where the excess reaches ``threshold``.

    Parameters
    ----------
    positions : array (n_columns,)
        Increasing column positions.
    excess_profile : array (n_columns,) or (n_times, n_columns)
    threshold : float
        Excess level (> 0) that counts as "reached".
    side : {"right", "left", "both"}
        Right / left front position, or half the distance between them.

    warn_edge : bool
        Warn (:class:`~tnmbl.errors.AnalysisWarning`) when a row's excess reaches the
        threshold at the chain's end (:func:`at_edge`): the front is a lower bound there.

    Returns
    -------
    float or array (n_times,); NaN where no column reaches the threshold.
    """
    if side not in ("right", "left", "both"):
        fail(ObservableError, "side", side, "must be 'right', 'left' or 'both'")
    if not threshold > 0:
        fail(ObservableError, "threshold", threshold, "must be > 0 (a level the excess passes)")
    x = np.asarray(positions, float)
    e = np.asarray(excess_profile, float)
    rows = e[None] if e.ndim == 1 else e
    if rows.shape[-1] != len(x):
        fail(ObservableError, "excess_profile", rows.shape, f"needs {len(x)} columns, one per position")
    if side == "both":
        out = np.array([(_one_front(x, r, threshold, "right") - _one_front(x, r, threshold, "left")) / 2
                        for r in rows])
    else:
        out = np.array([_one_front(x, r, threshold, side) for r in rows])
    edge = at_edge(rows, threshold, side)
    if warn_edge and edge.any():
        first = int(np.argmax(edge))
        warn("front", f"row {first}" if e.ndim > 1 else "profile", f"the excess reaches the threshold {threshold:g} at "
             f"the chain's edge ({int(edge.sum())} of {len(edge)} rows, from row {first}): the front is a lower bound "
             "there and stops growing", "use a longer chain or a shorter run; Spreading.at_edge marks these rows")
    return out[0] if e.ndim == 1 else out


def at_edge(excess_profile, threshold, side="both"):
    """Per row, whether the excess reaches ``threshold`` at the chain's end on the front's side
    (``"both"``: either end): the front stands at the edge and is only a lower bound."""
    rows = np.atleast_2d(np.asarray(excess_profile, float))
    right = rows[:, -1] >= threshold
    left = rows[:, 0] >= threshold
    return right if side == "right" else left if side == "left" else right | left


@dataclass(frozen=True)
class Spreading:
    """Centre, width and front of a bubble against time (see :func:`spreading`).

    ``threshold`` is the excess level the front was measured at (given or the default);
    ``at_edge`` marks the rows where the front stood at the chain's edge (a lower bound).
    For an ensemble, ``*_err`` are bootstrap standard errors over its members (``n_members``
    members, ``n_boot`` resamples); ``None`` for a single run."""

    times: np.ndarray
    positions: np.ndarray
    excess: np.ndarray
    centre: np.ndarray
    width: np.ndarray
    front: np.ndarray
    total: np.ndarray
    threshold: float = np.nan
    at_edge: np.ndarray | None = None
    centre_err: np.ndarray | None = None
    width_err: np.ndarray | None = None
    front_err: np.ndarray | None = None
    total_err: np.ndarray | None = None
    n_members: int = 1
    n_boot: int = 0


def members(source, name):
    """The member profiles ``(n_members, n_times, n_columns)`` of an ensemble (an
    :class:`~tnmbl.evolution.EnsembleResult` with ``samples``, or a list of Results / Series),
    or ``None`` for a single run."""
    if isinstance(source, (list, tuple)):
        ss = [series(m, name) for m in source]
        if not ss:
            fail(ObservableError, "source", "[]", "an ensemble needs at least one member")
        return ss[0], np.array([m.values for m in ss])
    samples = getattr(source, "samples", None)
    if isinstance(samples, dict) and name in samples:
        return series(source, name), np.asarray(samples[name], float)
    return None


def spreading(source, name=None, *, background=None, sign="auto", threshold=None, side="both", n_boot=200,
              seed=0):
    """Excess profile, centre, width, front and total excess of a bubble against time.

    ``threshold`` defaults to 10 % of the largest t = 0 excess; the value used is stored in
    the result. ``source`` may be an ensemble (an :class:`~tnmbl.evolution.EnsembleResult`
    from :func:`~tnmbl.evolution.ensemble_average`, or a list of Results): the observables
    are those of the mean profile, with bootstrap standard errors over the members (``n_boot``
    resamples, ``seed``). A front at the chain's edge warns (:func:`front`). Other arguments
    as in :func:`excess` and :func:`front`.
    """
    ens = members(source, name)
    if ens is not None:
        first, stack = ens
        source = Series(first.times, first.positions, stack.mean(0), first.name)
    t, x, e = excess(source, name, background=background, sign=sign)
    if threshold is None:
        threshold = 0.1 * float(np.max(e[0])) if np.max(e[0]) > 0 else 0.1 * float(np.max(np.abs(e)))
        if not threshold > 0:
            fail(ObservableError, "threshold", threshold, "the excess is zero at every time and column",
                 "check the background, or give a threshold")
    X, sigma = centre_width(x, e)
    fr = front(x, e, threshold, side)
    out = dict(times=t, positions=x, excess=e, centre=X, width=sigma, front=fr, total=np.clip(e, 0, None).sum(-1),
               threshold=float(threshold), at_edge=at_edge(e, threshold, side))
    if ens is None or len(ens[1]) < 2:
        return Spreading(**out, n_members=1 if ens is None else len(ens[1]))
    stack = ens[1]
    if sign == "auto":  # the sign of the ensemble mean, kept for every resample
        sign = -1 if excess(source, name, background=background, sign=1)[2][0].sum() < 0 else 1
    rng = np.random.default_rng(seed)
    boots = {k: np.empty((n_boot, len(t))) for k in ("centre", "width", "front", "total")}
    for b in range(n_boot):  # each resample's mean profile, through the same background rule
        mean = stack[rng.integers(0, len(stack), len(stack))].mean(0)
        eb = excess(Series(t, x, mean, source.name), background=background, sign=sign)[2]
        boots["centre"][b], boots["width"][b] = centre_width(x, eb)
        boots["front"][b] = front(x, eb, threshold, side, warn_edge=False)
        boots["total"][b] = np.clip(eb, 0, None).sum(-1)
    errs = {f"{k}_err": _nanstd(v) for k, v in boots.items()}
    return Spreading(**out, **errs, n_members=len(stack), n_boot=n_boot)


def _nanstd(v):
    """Standard deviation over axis 0 ignoring NaN; NaN where fewer than two values are finite."""
    ok = np.isfinite(v)
    n = ok.sum(0)
    mean = np.where(ok, v, 0.0).sum(0) / np.maximum(n, 1)
    var = np.where(ok, (v - mean) ** 2, 0.0).sum(0) / np.maximum(n - 1, 1)
    return np.where(n >= 2, np.sqrt(var), np.nan)


def relaxed_fraction(source, name=None, *, thermal=0.0, window=1):
    r"""``(times, positions, r)`` with :math:`r_x(t) = 1 - |O_x(t) - O^{th}_x| / |O_x(0) - O^{th}_x|`.

    ``thermal`` is the thermal value (number or one per column); ``window`` averages
    :math:`O_x` over the last ``window`` outputs (including t) before comparing. Columns
    that start at their thermal value get ``r = 1``.
    """
    s = series(source, name)
    th = _background(s, thermal)
    v = s.values
    if window > 1:
        cs = np.cumsum(np.vstack([np.zeros_like(v[:1]), v]), axis=0)
        lo = np.maximum(np.arange(1, len(v) + 1) - window, 0)
        v = (cs[1:] - cs[lo]) / (np.arange(1, len(v) + 1) - lo)[:, None]
    d0 = np.abs(s.values[0] - th)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(d0 > 1e-12, 1.0 - np.abs(v - th) / np.where(d0 > 1e-12, d0, 1.0), 1.0)
    return s.times, s.positions, r


def thermalization_distance(source, name=None, *, bath, thermal=0.0, level=0.5, window=1):
    """Distance from a bath up to which a local observable has relaxed, per output time.

    Parameters
    ----------
    source, name : see :func:`series` (a site observable, e.g. ``density``).
    bath : (int, int)
        The bath's sites ``[a, b)``; it must touch an end of the chain (``a = 0`` or
        ``b = L``) so that "outward" is one direction.
    thermal : float or array
        Thermal value of the observable (0 for :math:`\\sigma^z` at infinite temperature).
    level : float
        Relaxed fraction that counts as thermalized.
    window : int
        Time-window average (outputs) before comparing.

    Returns
    -------
    times, distance (int array): number of consecutive sites next to the bath with
    ``r >= level``.
    """
    t, x, r = relaxed_fraction(source, name, thermal=thermal, window=window)
    a, b = bath
    L = len(x)
    if a == 0 and b < L:
        cols = np.arange(b, L)
    elif b == L and a > 0:
        cols = np.arange(a - 1, -1, -1)
    else:
        fail(ObservableError, "bath", bath, f"must touch one end of the chain of {L} columns",
             "use bath=(0, b) or (a, L)")
    ok = r[:, cols] >= level
    dist = np.where(ok.all(1), len(cols), np.argmin(ok, axis=1))
    return t, dist.astype(int)


def l_c(xi, L_bath):
    r"""Rare-events eq. 19: :math:`l_c = \frac{\frac12\log 2}{1/\xi - \log 2}\,L_{\rm bath}`;
    ``inf`` when :math:`\xi \ge 1/\log 2` (the avalanche runs away)."""
    xi = np.asarray(xi, float)
    den = 1.0 / xi - np.log(2.0)
    with np.errstate(divide="ignore"):
        out = np.where(den > 0, 0.5 * np.log(2.0) / np.where(den > 0, den, 1.0) * L_bath, np.inf)
    return out if out.ndim else float(out)
