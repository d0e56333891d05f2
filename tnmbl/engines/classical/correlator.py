r"""On-the-fly Green-Kubo accumulator of a classical batch: per chain, the autocorrelation of
the total current averaged over every time origin, without storing the series.

The current is measured after every step; ``block = sample_dt / dt`` consecutive steps are
averaged into one sample :math:`\bar J_m(s) = \frac{1}{b}\sum_{i=1}^{b} J_m(t_{sb+i})` (with
``block = 1`` the samples are the currents themselves). For lags :math:`k = 0 \ldots n_{lag}-1`
(``n_lag = lag_max / sample_dt + 1``) it keeps

.. math:: S_m(k) = \sum_{s=k}^{n-1} \bar J_m(s)\,\bar J_m(s-k)

over the ``n`` samples so
far, and the counts :math:`n - k`: :math:`S_m(k) / (L(n-k))` is the all-origin estimate of
:func:`tnmbl.transport.green_kubo_ensemble` (``origins="all"``) on the sample series. Block
averaging is a convolution of :math:`C(\tau)` with a triangle of half-width ``sample_dt``,
so the Green-Kubo integral over all lags is unchanged (the running integral at lags far
beyond ``sample_dt`` is that of :math:`C` up to an edge term :math:`\sim` ``sample_dt``
:math:`\cdot C`); only the structure of :math:`C` below ``sample_dt`` is smoothed away.

Memory: a ring buffer of the last ``n_lag`` samples and the sums, :math:`2 n_{lag} M` floats;
work per sample :math:`n_{lag} M` multiply-adds (compiled).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ...errors import OptionError, fail
from ...timegrid import n_steps

#: the keys of the ``green_kubo`` option (config: ``observables.green_kubo``)
KEYS = ("lag_max", "sample_dt")


def correlator_grid(options, dt):
    """``(n_lag, block)`` of the ``green_kubo`` option ``{"lag_max": ..., "sample_dt": ...}`` at
    step ``dt``; every bad value is refused naming its key (``green_kubo.lag_max``, ...)."""
    if not isinstance(options, dict):
        fail(OptionError, "green_kubo", options, "must be a mapping {lag_max: ..., sample_dt: ...}",
             "e.g. green_kubo={'lag_max': 1000.0, 'sample_dt': 1.0}")
    unknown = sorted(set(options) - set(KEYS))
    if unknown:
        fail(OptionError, f"green_kubo.{unknown[0]}", options[unknown[0]], "is not a key of green_kubo",
             f"keys: {', '.join(KEYS)}")
    for key in KEYS:
        value = options.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not np.isfinite(value) or value <= 0:
            fail(OptionError, f"green_kubo.{key}", value, "must be a finite number > 0",
                 "e.g. lag_max = half the run, sample_dt = a multiple of dt")
    block = n_steps("green_kubo.sample_dt", float(options["sample_dt"]), dt, minimum=1)
    lags = n_steps("green_kubo.lag_max", float(options["lag_max"]), float(options["sample_dt"]), minimum=1,
                   dt_key="green_kubo.sample_dt")
    return lags + 1, block


@njit(cache=True)
def _accumulate(buf, sums, pos, n_seen, x):
    """Store sample ``x`` (M,) at ring position ``pos`` and add ``x * x_earlier`` to every lag
    reached so far (lag k: the sample ``k`` before, at ``pos - k`` modulo the ring)."""
    n_lag, M = buf.shape
    for m in range(M):
        buf[pos, m] = x[m]
    kmax = min(n_seen + 1, n_lag)
    for k in range(kmax):
        j = pos - k
        if j < 0:
            j += n_lag
        row = buf[j]
        acc = sums[k]
        for m in range(M):
            acc[m] += x[m] * row[m]


class CurrentCorrelator:
    """Per-chain sums of products of the block-averaged total current over all time origins
    (module docstring). ``add(currents)`` takes the currents after consecutive steps ``(n, M)``;
    :meth:`state` / :meth:`set_state` are its checkpoint (resume is exact); :meth:`result` the
    small result a run writes (``sums`` ``(n_lag, M)``, ``counts`` ``(n_lag,)``, ``lag_dt``)."""

    def __init__(self, M, n_lag, block, dt):
        self.M, self.n_lag, self.block, self.dt = int(M), int(n_lag), int(block), float(dt)
        self.buf = np.zeros((self.n_lag, self.M))
        self.sums = np.zeros((self.n_lag, self.M))
        self.partial = np.zeros(self.M)  # the current block's sum so far
        self.in_block = 0  # steps in it
        self.n_samples = 0

    @property
    def lag_dt(self):
        """The time between samples (``sample_dt``)."""
        return self.block * self.dt

    def add(self, currents):
        """Feed the per-chain currents after each of ``n`` consecutive steps, ``(n, M)``."""
        currents = np.asarray(currents, dtype=float)
        i, n = 0, len(currents)
        while i < n:
            take = min(n - i, self.block - self.in_block)
            self.partial += currents[i:i + take].sum(0) if take > 1 else currents[i]
            self.in_block += take
            i += take
            if self.in_block == self.block:
                _accumulate(self.buf, self.sums, self.n_samples % self.n_lag, self.n_samples,
                            self.partial / self.block)
                self.n_samples += 1
                self.partial[:] = 0.0
                self.in_block = 0

    def counts(self):
        """Products summed per lag: ``max(n_samples - k, 0)``."""
        return np.maximum(self.n_samples - np.arange(self.n_lag), 0)

    def result(self):
        """The accumulated sums, as a run writes them (``/green_kubo`` of the results file)."""
        return {"sums": self.sums.copy(), "counts": self.counts(), "lag_dt": self.lag_dt,
                "n_samples": self.n_samples, "block": self.block, "dt": self.dt}

    def state(self):
        """Everything needed to continue exactly (a checkpoint's ``green_kubo``)."""
        return {"buf": self.buf.copy(), "sums": self.sums.copy(), "partial": self.partial.copy(),
                "in_block": int(self.in_block), "n_samples": int(self.n_samples),
                "n_lag": int(self.n_lag), "block": int(self.block)}

    def set_state(self, data):
        """Continue from :meth:`state` of a correlator with the same ``M``, ``n_lag``, ``block``."""
        saved = (int(data["n_lag"]), int(data["block"]), np.shape(data["sums"])[1])
        if saved != (self.n_lag, self.block, self.M):
            fail(OptionError, "green_kubo", f"n_lag, block, M = {saved}", "the checkpoint's accumulator has another "
                 f"shape than this run's ({self.n_lag}, {self.block}, {self.M})", "resume with the run's own config")
        self.buf[...] = data["buf"]
        self.sums[...] = data["sums"]
        self.partial[...] = data["partial"]
        self.in_block, self.n_samples = int(data["in_block"]), int(data["n_samples"])
