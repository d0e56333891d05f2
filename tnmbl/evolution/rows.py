"""What a driver yields and returns: :class:`Row` (one output time), :class:`Result` (the time
series), :func:`collect` (run a driver to the end), and the option checks they share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConvergenceError, OptionError, fail

HEALTH_UNITS = {"truncation_error": "discarded weight (accumulated)", "chi": "bond dimension",
                "norm": "1", "energy": "energy", "energy_drift": "energy", "charge": "charge",
                "charge_drift": "charge", "energy_error": "energy per site (largest over the batch)",
                "charge_error": "charge (largest over the batch)", "phi": "1", "total_current": "energy / time"}


def number(key, value, *, integer=False, positive=True, allow_zero=False):
    """``value`` as a float (int with ``integer``), or an :class:`OptionError` naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(OptionError, key, value, "must be a number")
    if not math.isfinite(value):
        fail(OptionError, key, value, "must be finite")
    if integer and int(value) != value:
        fail(OptionError, key, value, "must be an integer")
    if positive and (value < 0 or (value == 0 and not allow_zero)):
        fail(OptionError, key, value, "must be >= 0" if allow_zero else "must be > 0")
    return int(value) if integer else float(value)


@dataclass
class Row:
    """One output time: observable values and health figures."""

    time: float
    step: int
    values: dict
    health: dict
    per_chain: dict | None = None  # classical batches: per-chain series asked for (name -> (M,) array)


@dataclass
class Result:
    """Time series of an evolution.

    ``result["energy_current"]`` is an array ``(n_times, n_columns)`` at ``result.times``;
    ``result.positions[name]`` gives each column's position on the chain,
    ``result.health[name]`` the health figures per output time (``truncation_error``,
    ``chi``, ``norm``, ``energy``, ``energy_drift``, ``charge``, ``charge_drift``), and
    ``result.meta`` the options, model parameters, versions and timings.
    """

    times: np.ndarray
    data: dict
    positions: dict
    health: dict
    meta: dict = field(default_factory=dict)
    engine: object = None

    def __getitem__(self, name):
        try:
            return self.data[name]
        except KeyError:
            raise KeyError(f"{name!r} was not measured; measured: {sorted(self.data)}") from None

    def __contains__(self, name):
        return name in self.data

    @property
    def observables(self):
        return list(self.data)

    def __repr__(self):
        shapes = ", ".join(f"{k}{v.shape}" for k, v in self.data.items())
        return f"Result(method={self.meta.get('method')}, t=0..{self.times[-1]:g}, {shapes})"


def collect(ev, callback=None, handle=None):
    """Run an :class:`~tnmbl.evolution.Evolution` to the end and gather its rows in a
    :class:`Result` (``result.engine`` is ``handle``, default ``ev.engine``).

    A :class:`~tnmbl.errors.ConvergenceError` raised on the way carries the rows measured
    before it as ``error.result``."""
    rows = []

    def build():
        chain = ev.chain
        data = {o.name: np.array([r.values[o.name] for r in rows]) for o in ev.observables}
        positions = {o.name: o.positions(chain) for o in ev.observables}
        health = {k: np.array([r.health[k] for r in rows]) for k in rows[0].health} if rows else {}
        meta = ev.meta()
        total = ev.timing["evolve_s"] + ev.timing["measure_s"]
        meta["timing"] = dict(ev.timing, measure_share=ev.timing["measure_s"] / total if total else 0.0)
        return Result(np.array([r.time for r in rows]), data, positions, health, meta,
                      ev.engine if handle is None else handle)

    try:
        for row in ev:
            rows.append(row)
            if callback is not None:
                callback(row)
    except ConvergenceError as err:
        err.result = build()
        raise
    return build()
