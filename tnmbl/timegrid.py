"""The time grid: the ``t / dt`` rule and the output grids, in one place.

Every duration a user gives (``t_final``, ``output_dt``, a correlation's ``t_max``) must be a
whole number of time steps ``dt``; :func:`n_steps` is that rule (relative tolerance
:data:`TOLERANCE`), used by ``tnmbl.evolve``, the config layer and every driver.
:func:`output_grid` gives the step numbers at which a driver measures.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import OptionError, fail

TOLERANCE = 1e-9
"""Relative tolerance of "an integer number of steps"."""

DEFAULT_ROWS = 100
"""The most output rows after the start that a run makes when no output spacing is given."""

MIN_STRIDE = 4
"""The fewest steps between two default output rows (measuring costs as much as a few steps)."""

MAX_STEPS = 100_000_000
"""Most time steps one duration may take (``t / dt``): a bound for every caller (``evolve``,
Langevin thermalization, run configs), so that no value reaches an overflow (``dt = 4.9e-324``,
``t = 1e308``) or days of compute unasked; split longer runs (``tnmbl resume --t-final``)."""


def n_steps(key, t, dt, *, minimum=0, error=OptionError, dt_key="dt", maximum=MAX_STEPS):
    """``t / dt`` as an int, or ``error`` naming ``key`` when it is not an integer (within
    :data:`TOLERANCE`), is below ``minimum`` or above ``maximum`` (not finite included). The fix
    proposes the nearest valid value (printed to 10 digits, so that it is itself valid);
    ``dt_key`` names the step in the message (``dt``, or e.g. ``output_dt``)."""
    n = t / dt
    if not n <= maximum:  # NaN and inf included; checked before any integer is formed
        fix = _proposal(key, maximum, dt, "or less, or a larger " + dt_key) or f"use a larger {dt_key}"
        fail(error, key, t, f"{key} / {dt_key} = {t} / {dt} = {n:.3g} steps is above the limit {maximum}", fix)
    k = round(n)
    if abs(n - k) > TOLERANCE * max(1.0, abs(n)):
        kind = "a positive integer" if minimum >= 1 else "an integer"
        fail(error, key, t, f"{key} / {dt_key} = {t} / {dt} = {n:.6g} must be {kind}",
             _proposal(key, max(k, minimum, 1), dt, f"or a step {dt_key} that divides it")
             or f"use a step {dt_key} that divides it")
    if k < minimum:
        fail(error, key, t, f"{key} / {dt_key} = {t} / {dt} = {n:.6g} must be at least {minimum}",
             f"use {key} = {minimum * dt:.6g} or more")
    return int(k)


def default_every(n_total):
    """The default output stride of a run of ``n_total`` steps (no ``output_dt`` given).

    The rule: ``max(MIN_STRIDE, ceil(n_total / DEFAULT_ROWS))`` steps, i.e. at most
    :data:`DEFAULT_ROWS` rows after the start (101 with it) and never a row more often than
    every :data:`MIN_STRIDE` steps, however small ``dt`` is. The final step is always a row too
    (:func:`output_grid`), so the last interval can be shorter. An explicit ``output_dt`` is
    used exactly.
    """
    return max(MIN_STRIDE, -(-int(n_total) // DEFAULT_ROWS))


def _proposal(key, k, dt, rest):
    """``use key = k * dt rest``, the value printed as it would be read back, or ``None`` when
    that printed value is not itself ``k`` whole steps (a subnormal ``dt``)."""
    text = f"{k * dt:.10g}"
    n = float(text) / dt
    if not (math.isfinite(n) and abs(n - k) <= TOLERANCE * max(1.0, k)):
        return None
    return f"use {key} = {text} {rest}"


def output_grid(n_total, *, every=None, n_log=None, start=0):
    """Step numbers at which to measure, from ``start`` to ``n_total`` (both included).

    ``every`` steps (default: :func:`default_every` of the steps run), or ``n_log``
    log-spaced steps between ``start`` and ``n_total`` (rounded, duplicates removed, the start
    always first; the same for every engine).
    """
    if n_log is not None:
        if isinstance(n_log, bool) or not isinstance(n_log, (int, np.integer)) or n_log < 2:
            fail(OptionError, "n_log", n_log, "must be an integer >= 2")
        if n_total <= start:
            return np.array([start], np.int64)
        steps = start + np.unique(np.round(np.geomspace(1, n_total - start, int(n_log))).astype(np.int64))
        return np.concatenate([[start], steps[steps > start]]).astype(np.int64)
    if every is None:
        every = default_every(n_total - start)
    steps = list(range(start, n_total + 1, every))
    if steps[-1] != n_total and n_total > start:
        steps.append(n_total)
    return np.array(steps, dtype=np.int64)
