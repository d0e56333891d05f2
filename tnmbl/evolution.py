"""``tnmbl.evolve``: one function over every engine, and the :class:`Evolution` iterator it
is built on (which the YAML runner uses to write a row per output time).

Everything is validated before any engine is built: a bad option raises a
:class:`~tnmbl.errors.OptionError` naming the key, the value, the rule and the fix.
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass, field

import numpy as np

from .chain import Chain, charge_densities, energy_densities
from .engines import (
    ARRAY_BACKENDS,
    METHODS,
    EngineOptions,
    accepts,
    resolve_backend,
    supports_conservation,
)
from .errors import ConvergenceError, OptionError, StateError, fail
from .observables import get_observable

DEFAULT_OBSERVABLES = ("density", "energy_density")
HEALTH_UNITS = {"truncation_error": "discarded weight (accumulated)", "chi": "bond dimension",
                "norm": "1", "energy": "energy", "energy_drift": "energy", "charge": "charge",
                "charge_drift": "charge", "energy_error": "energy per site (largest over the batch)",
                "charge_error": "charge (largest over the batch)", "phi": "1", "total_current": "energy / time"}


def _number(key, value, *, integer=False, positive=True, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(OptionError, key, value, "must be a number")
    if not math.isfinite(value):
        fail(OptionError, key, value, "must be finite")
    if integer and int(value) != value:
        fail(OptionError, key, value, "must be an integer")
    if positive and (value < 0 or (value == 0 and not allow_zero)):
        fail(OptionError, key, value, "must be >= 0" if allow_zero else "must be > 0")
    return int(value) if integer else float(value)


def _steps(key, t, dt):
    n = t / dt
    if abs(n - round(n)) > 1e-9 * max(1.0, abs(n)):
        fail(OptionError, key, t, f"{key} / dt = {t} / {dt} = {n:.6g} must be an integer",
             f"use {key} = {round(n) * dt:.6g} or a dt that divides it")
    return int(round(n))


def resolve_conserve(chain, state, conserve, engine_cls=None):
    """``True`` / ``False`` from ``"auto"``: conserve when the chain, the state and the engine
    (``engine_cls``, if given) allow it; an explicit ``True`` they cannot honour is an error."""
    if engine_cls is not None and not supports_conservation(engine_cls):
        if conserve is True:
            fail(OptionError, "conserve", True, f"backend {engine_cls.backend!r} has no U(1) charge blocks",
                 "use backend='tenpy', or conserve='auto'")
        if conserve in ("auto", False):
            return False  # this backend runs dense
    if conserve == "auto":
        return bool(chain.conserves_charge and state.charge_definite)
    if conserve is True:
        if not chain.conserves_charge:
            fail(OptionError, "conserve", True, f"the {chain.name} chain does not conserve "
                 f"{chain.site.charge_name} (a term changes it)", "use conserve=False or 'auto'")
        if not state.charge_definite:
            fail(OptionError, "conserve", True, "the initial state has no definite charge",
                 "use conserve=False or 'auto'")
        return True
    if conserve is False:
        return False
    fail(OptionError, "conserve", conserve, "must be 'auto', True or False")


@dataclass
class Row:
    """One output time: observable values and health figures."""

    time: float
    step: int
    values: dict
    health: dict
    per_chain: dict | None = None  # classical batches: per-chain series asked for (name -> (M,) array)


class Evolution:
    """A validated evolution, iterated over its output times.

    Parameters are those of :func:`evolve`. Iterating yields a :class:`Row` at ``t = 0`` and
    at every output time; ``engine`` is the underlying engine (its state is the current one).
    """

    def __init__(self, chain, state, method="tebd2", *, dt=0.05, t_final, chi_max=128,
                 svd_cutoff=1e-10, observables=DEFAULT_OBSERVABLES, output_dt=None,
                 conserve="auto", backend=None, t_start=0.0, array_backend=None):
        if not isinstance(chain, Chain):
            fail(OptionError, "chain", type(chain).__name__, "must be a tnmbl Chain",
                 "build one with tnmbl.models.*")
        if getattr(state, "chain", None) is not chain and not (
                getattr(state, "L", None) == chain.L and chain.site.same_as(state.chain.site)):
            fail(StateError, "state", getattr(state, "label", state), "was built for another chain",
                 "build it with tnmbl.states.*(chain, ...) for this chain")
        if method not in METHODS:
            fail(OptionError, "method", method, f"unknown method; known: {', '.join(METHODS)}")
        if METHODS[method].site_kind == "classical" or getattr(chain.site, "kind", None) == "classical":
            ok, reason = accepts(method, chain)
            fail(OptionError, "method", method, reason if not ok else "classical chains evolve through "
                 "tnmbl.evolve (ClassicalEvolution), not Evolution")
        backends = METHODS[method]
        backend = resolve_backend(method, chain, chi_max, backend, array_backend, conserve)
        if backend not in backends:
            fail(OptionError, "backend", backend, f"method {method!r} runs on: {', '.join(backends)}")
        if array_backend is not None and array_backend not in ARRAY_BACKENDS.get(backend, ("numpy",)):
            fail(OptionError, "array_backend", array_backend,
                 f"backend {backend!r} runs on: {', '.join(ARRAY_BACKENDS.get(backend, ('numpy',)))}",
                 "use backend='quimb' for torch / cupy arrays")
        self.dt = _number("dt", dt)
        self.t_final = _number("t_final", t_final, allow_zero=True)
        chi_max = _number("chi_max", chi_max, integer=True, positive=False)
        if chi_max < 1:
            fail(OptionError, "chi_max", chi_max, "must be >= 1", "e.g. chi_max=128")
        svd_cutoff = _number("svd_cutoff", svd_cutoff, allow_zero=True)
        if svd_cutoff >= 1:
            fail(OptionError, "svd_cutoff", svd_cutoff, "must be < 1 (Schmidt values of a normalized state)")
        if isinstance(observables, str):
            observables = [observables]
        self.observables = [get_observable(name, chain) for name in observables]
        names = [o.name for o in self.observables]
        if len(set(names)) != len(names):
            fail(OptionError, "observables", names, "each observable may be listed once")
        self.n_total = _steps("t_final", self.t_final, self.dt)
        self.step0 = _steps("t_start", _number("t_start", t_start, allow_zero=True), self.dt)
        if output_dt is None:
            self.n_out = max(1, self.n_total // 100)
        else:
            self.n_out = _steps("output_dt", _number("output_dt", output_dt), self.dt)
        self.chain, self.state, self.method, self.backend = chain, state, method, backend
        self.conserve = resolve_conserve(chain, state, conserve, backends[backend])
        self.options = EngineOptions(method=method, dt=self.dt, chi_max=chi_max,
                                     svd_cutoff=svd_cutoff, conserve=self.conserve,
                                     array_backend=array_backend)
        # derive every local operator before building the engine: errors come first
        self._ops = {o.name: (o.local_ops(chain) if o.local_ops else None) for o in self.observables}
        # health figures reuse measured densities; otherwise they need their own operators
        self._measured = {o.name for o in self.observables}
        self._health_ops = {}
        if "density" not in self._measured:
            self._health_ops["__charge"] = charge_densities(chain)
        if "energy_density" not in self._measured and chain.max_range == 1:
            self._health_ops["__energy"] = energy_densities(chain)
        self.engine = backends[backend](chain, state, self.options)
        self.engine.step = self.step0
        self.timing = {"evolve_s": 0.0, "measure_s": 0.0}
        self.reference = None  # (energy, charge) at the start: drifts are relative to it

    @property
    def output_steps(self):
        """Step numbers of the output times (first is the start)."""
        steps = list(range(self.step0, self.n_total + 1, self.n_out))
        if steps[-1] != self.n_total and self.n_total > self.step0:
            steps.append(self.n_total)
        return steps

    def measure(self):
        """A :class:`Row` for the engine's current state."""
        t0 = _time.perf_counter()
        eng = self.engine
        values = {o.name: np.asarray(o.measure(eng, self._ops[o.name]), dtype=float) for o in self.observables}
        health = dict(eng.health())
        # reuse the densities if they were measured anyway (a 2-site sweep costs ~1/4 step)
        if "density" in self._measured:
            charge = values["density"]
        else:
            charge = eng.expect("__charge", self._health_ops["__charge"])
        if "energy_density" in self._measured:
            energy = values["energy_density"].sum()
        elif "__energy" in self._health_ops:
            energy = eng.expect("__energy", self._health_ops["__energy"]).sum()
        else:
            energy = eng.energy()
        health["charge"] = float(charge.sum())
        health["energy"] = float(energy)
        if self.reference is None:
            self.reference = (health["energy"], health["charge"])
        health["energy_drift"] = health["energy"] - self.reference[0]
        health["charge_drift"] = health["charge"] - self.reference[1]
        self.timing["measure_s"] += _time.perf_counter() - t0
        return Row(eng.time, eng.step, values, health)

    def __iter__(self):
        steps = self.output_steps
        yield self.measure()
        for prev, nxt in zip(steps, steps[1:]):
            t0 = _time.perf_counter()
            self.engine.advance(nxt - prev)
            self.timing["evolve_s"] += _time.perf_counter() - t0
            yield self.measure()

    def meta(self):
        """Method, options and versions, for the result's provenance."""
        from . import versions

        return {"method": self.method, "backend": self.backend, "dt": self.dt, "t_final": self.t_final,
                "chi_max": self.options.chi_max, "svd_cutoff": self.options.svd_cutoff,
                "array_backend": self.options.array_backend or "numpy",
                "conserve": self.conserve, "output_every_steps": self.n_out, "model": self.chain.name,
                "model_params": self.chain.params, "state": self.state.label, "versions": versions()}


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


def evolve(chain, state, method=None, *, dt=0.05, t_final, chi_max=128, svd_cutoff=1e-10,
           observables=DEFAULT_OBSERVABLES, output_dt=None, conserve="auto", backend=None,
           callback=None, array_backend=None):
    """Evolve ``state`` under ``chain`` and measure ``observables`` at output times.

    Parameters
    ----------
    chain : Chain
        The model (see :mod:`tnmbl.models`).
    state : ProductState
        The initial state (see :mod:`tnmbl.states`).
    method : {"tebd2", "tebd4", "tdvp1", "tdvp2", "exact"}
        Algorithm. ``exact`` is full-Hilbert-space evolution in the charge sector (L <= 12);
        ``tdvp1`` / ``tdvp2`` take bond terms of any range.
    dt : float
        Time step; ``t_final`` and ``output_dt`` must be integer multiples of it.
    t_final : float
        Final time.
    chi_max : int
        Largest MPS bond dimension.
    svd_cutoff : float
        Discard Schmidt values below this.
    observables : sequence of str
        Names from :mod:`tnmbl.observables` (``density``, ``energy_density``,
        ``energy_current``, ``density_current``, ``entanglement``, ``onsite:OP``).
    output_dt : float, optional
        Interval between output times (default: about 100 outputs over the run).
    conserve : "auto" | bool
        Use U(1) charge conservation; ``"auto"`` does when the chain and state allow it.
    backend : str, optional
        Library running the method (default: ``tnmbl.engines.default_backend``, chosen by
        method and size from the benchmarks).
    array_backend : str, optional
        Array library for backends that run on several (``quimb``: ``numpy`` default,
        ``torch``, ``cupy``; GPU where present).
    callback : callable, optional
        Called with each :class:`Row` as it is measured.

    Returns
    -------
    Result
    """
    if getattr(getattr(chain, "site", None), "kind", None) == "classical":  # issue 4: classical engines
        from .engines.classical import evolve_classical

        return evolve_classical(chain, state, method, dt=dt, t_final=t_final,
                                observables=observables, output_dt=output_dt, callback=callback)
    ev = Evolution(chain, state, "tebd2" if method is None else method, dt=dt, t_final=t_final, chi_max=chi_max,
                   svd_cutoff=svd_cutoff, observables=observables, output_dt=output_dt, conserve=conserve,
                   backend=backend, array_backend=array_backend)
    return collect(ev, callback)


def collect(ev, callback=None, handle=None):
    """Run an :class:`Evolution` (or a subclass, or a classical evolution) to the end and gather
    its rows in a :class:`Result` (``result.engine`` is ``handle``, default ``ev.engine``).

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
