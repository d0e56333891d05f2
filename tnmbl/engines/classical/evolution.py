r"""The evolve vocabulary for classical chains: :class:`ClassicalEvolution` (validated, iterated
over output times like :class:`tnmbl.evolution.Evolution`, and driven by the run machinery of
:mod:`tnmbl.runs`) and :func:`evolve_classical`.
"""

from __future__ import annotations

import time as _time

import numpy as np

from ...errors import ConvergenceError, ObservableError, OptionError, StateError, fail
from ..methods import METHOD_SPECS
from .engine import ClassicalEngine

CLASSICAL_OBSERVABLES = ("density", "energy_density", "energy_current", "density_current", "phi",
                         "current_correlation")
DEFAULT_CLASSICAL_OBSERVABLES = ("density", "energy_density")


def output_grid(t_final, dt, *, output_dt=None, n_log=None):
    """Output steps: every ``output_dt`` (default ~100 outputs) or ``n_log`` log-spaced times."""
    n_total = int(round(t_final / dt))
    if n_log is not None:
        if not isinstance(n_log, (int, np.integer)) or n_log < 2:
            fail(OptionError, "n_log", n_log, "must be an integer >= 2")
        steps = np.unique(np.round(np.geomspace(1, max(n_total, 1), int(n_log))).astype(np.int64))
        return np.concatenate([[0], steps[steps > 0]]) if n_total > 0 else np.array([0], np.int64)
    if output_dt is None:
        n_out = max(1, n_total // 100)
    else:
        n = output_dt / dt
        if abs(n - round(n)) > 1e-9 * max(1.0, n) or round(n) < 1:
            fail(OptionError, "output_dt", output_dt, f"output_dt / dt = {output_dt} / {dt} = {n:.6g} "
                 "must be a positive integer", f"use output_dt = {max(1, round(n)) * dt:.6g}")
        n_out = int(round(n))
    steps = list(range(0, n_total + 1, n_out))
    if steps[-1] != n_total:
        steps.append(n_total)
    return np.array(steps, dtype=np.int64)


#: per-chain series a batch measures at every output (``samples``, ``per_chain``)
PER_CHAIN = ("energy", "charge", "phi", "total_current")


class ClassicalEvolution:
    """A validated classical evolution, iterated over its output times (yields
    :class:`~tnmbl.evolution.Row`), like :class:`~tnmbl.evolution.Evolution`, with the same
    interface for the run machinery (``engine.advance``, ``measure``, ``reference``,
    ``output_steps``, ``meta``), so ``tnmbl run`` drives both.

    Observables are ensemble averages over the batch. The per-chain series (``energy``,
    ``charge``, ``phi``, ``total_current``) are kept in ``self.samples`` (``keep_samples``)
    and those named in ``per_chain`` are attached to each row (``row.per_chain``).
    """

    def __init__(self, chain, state, method=None, *, dt, t_final, observables=DEFAULT_CLASSICAL_OBSERVABLES,
                 output_dt=None, n_log=None, beta=None, energy_tolerance=None, noise_rate=0.0, noise_seed=0,
                 threads=None, lanes=None, chunk_outputs=16, allow_large_dt=False, keep_samples=True,
                 per_chain=()):
        from ...chain import Chain
        from ...evolution import _number, _steps
        from ...observables import get_observable
        from ...states.classical import ClassicalState

        if not isinstance(chain, Chain) or getattr(chain.site, "kind", None) != "classical":
            fail(OptionError, "chain", getattr(chain, "name", chain), "must be a classical tnmbl Chain")
        if not isinstance(state, ClassicalState):
            fail(StateError, "state", type(state).__name__, "must be a ClassicalState",
                 "build it with tnmbl.states.classical.*")
        if state.chain is not chain and not (state.L == chain.L and chain.site.same_as(state.chain.site)):
            fail(StateError, "state", state.label, "was built for another chain")
        if method is None:
            method = "leapfrog" if chain.site.name == "rotor" else "split2"
        if method not in METHOD_SPECS or METHOD_SPECS[method].site_kind != "classical":
            known = [m for m, s in METHOD_SPECS.items() if s.site_kind == "classical"]
            fail(OptionError, "method", method, f"unknown classical method; known: {', '.join(known)}")
        self.dt = _number("dt", dt)
        self.t_final = _number("t_final", t_final, allow_zero=True)
        _steps("t_final", self.t_final, self.dt)
        if isinstance(observables, str):
            observables = [observables]
        self.observables = [get_observable(name, chain) for name in observables]
        self.names = [o.name for o in self.observables]
        if len(set(self.names)) != len(self.names):
            fail(OptionError, "observables", self.names, "each observable may be listed once")
        if "phi" in self.names and chain.site.name != "rotor":
            fail(ObservableError, "observable", "phi", "the relaxation function is defined for the rotor chain")
        if beta is None:
            beta = state.meta.get("beta")
        if "phi" in self.names and (beta is None or not beta > 0):
            fail(OptionError, "beta", beta, "phi needs the inverse temperature beta > 0",
                 "pass beta=..., or start from tnmbl.states.classical.gibbs(chain, M, beta)")
        per_chain = [per_chain] if isinstance(per_chain, str) else list(per_chain)
        for name in per_chain:
            if name not in PER_CHAIN:
                fail(OptionError, "per_chain", name, f"unknown per-chain series; known: {', '.join(PER_CHAIN)}")
        if "phi" in per_chain and not (beta is not None and beta > 0 and chain.site.name == "rotor"):
            fail(OptionError, "per_chain", "phi", "phi is the rotor relaxation function and needs beta > 0")
        if energy_tolerance is not None:
            energy_tolerance = _number("energy_tolerance", energy_tolerance)
        self.steps = output_grid(self.t_final, self.dt, output_dt=output_dt, n_log=n_log)
        # the start is ``initial_state``: ``state()`` is the batch now (an attribute would shadow it)
        self.chain, self.initial_state, self.method, self.beta = chain, state, method, beta
        self.backend = "numba"
        self.energy_tolerance = energy_tolerance
        self.chunk_outputs = max(1, int(chunk_outputs))
        self.engine = ClassicalEngine(chain, state, method, self.dt, lanes=lanes, threads=threads,
                                      noise_rate=noise_rate, noise_seed=noise_seed, allow_large_dt=allow_large_dt)
        self.noise = {"rate": float(noise_rate), "seed": int(noise_seed)}
        self.keep_samples = keep_samples
        self.per_chain = per_chain
        self._samples = {k: [] for k in PER_CHAIN}
        self.timing = {"evolve_s": 0.0, "measure_s": 0.0}
        self.reference = None  # per-chain (energy, charge, total current) at the start

    @property
    def output_steps(self):
        """Step numbers of the output times (first is the start)."""
        return [int(s) for s in self.steps]

    def _row(self, out, i, step):
        from ...evolution import Row

        L = self.chain.L
        e, q, jt = out["chain_energy"][i], out["chain_charge"][i], out["chain_current"][i]
        if self.reference is None:
            self.reference = (e.copy(), q.copy(), jt.copy())
        e0, q0, j0 = (np.asarray(r) for r in self.reference)
        phi = self.beta / (2 * L) * out["chain_dw2"][i] if self.beta and self.chain.site.name == "rotor" else None
        series = {"energy": e, "charge": q, "total_current": jt, "phi": phi}
        if self.keep_samples:
            for k, v in series.items():
                if v is not None:
                    self._samples[k].append(v)
        values = {}
        for name in self.names:
            if name == "phi":
                values[name] = np.array([phi.mean()])
            elif name == "current_correlation":
                values[name] = np.array([np.mean(jt * j0) / L])
            else:
                values[name] = out[name][i]
        health = {"energy": float(e.mean()), "energy_drift": float(np.mean(e - e0)),
                  "energy_error": float(np.max(np.abs(e - e0)) / L),
                  "charge": float(q.mean()), "charge_drift": float(np.mean(q - q0)),
                  "charge_error": float(np.max(np.abs(q - q0)))}
        row = Row(step * self.dt, int(step), values, health,
                  {k: series[k].copy() for k in self.per_chain} if self.per_chain else None)
        if self.energy_tolerance is not None and health["energy_error"] > self.energy_tolerance:
            err = ConvergenceError(
                f"energy_error = {health['energy_error']:.3g} at t = {row.time:g}: above "
                f"energy_tolerance = {self.energy_tolerance:g} (largest |E(t) - E(0)| / L over the "
                f"{self.engine.M} chains). Fix: lower dt or use a higher-order method")
            err.row = row
            raise err
        return row

    def measure(self):
        """A :class:`~tnmbl.evolution.Row` for the batch at the engine's current step."""
        t0 = _time.perf_counter()
        out = self.engine.measurement()
        self.timing["evolve_s"] += _time.perf_counter() - t0
        return self._row(out, 0, self.engine.step)

    def __iter__(self):
        segs = np.diff(np.concatenate([[0], self.steps]))
        for start in range(0, len(segs), self.chunk_outputs):
            t0 = _time.perf_counter()
            out = self.engine.run(segs[start:start + self.chunk_outputs])
            self.timing["evolve_s"] += _time.perf_counter() - t0
            for i in range(len(out["chain_energy"])):
                yield self._row(out, i, int(self.steps[start + i]))

    def state(self):
        """The batch at the current time, as a :class:`~tnmbl.states.classical.ClassicalState`."""
        return self.engine.state()

    @property
    def samples(self):
        """Per-chain series measured so far, each ``(n_times, M)``."""
        return {k: np.array(v) for k, v in self._samples.items() if v}

    def meta(self):
        from ... import versions

        return {"method": self.method, "backend": self.backend, "dt": self.dt, "t_final": self.t_final,
                "M": self.engine.M, "lanes": self.engine.lanes, "threads": self.engine.threads,
                "beta": self.beta, "noise": self.noise, "energy_tolerance": self.energy_tolerance,
                "output_steps": self.steps.tolist(), "model": self.chain.name, "model_params": self.chain.params,
                "state": self.initial_state.label, "state_meta": self.initial_state.meta, "versions": versions()}


def evolve_classical(chain, state, method=None, *, dt, t_final, observables=DEFAULT_CLASSICAL_OBSERVABLES,
                     output_dt=None, n_log=None, beta=None, energy_tolerance=None, noise_rate=0.0, noise_seed=0,
                     threads=None, lanes=None, chunk_outputs=16, allow_large_dt=False, callback=None):
    r"""Evolve a batch of classical chains and return ensemble-averaged observables.

    Parameters
    ----------
    chain : Chain
        A classical chain (:func:`tnmbl.models.rotor`, :func:`tnmbl.models.dnls`).
    state : ClassicalState
        ``M`` initial conditions (:mod:`tnmbl.states.classical`).
    method : {"leapfrog", "yoshida4", "split2", "split4"}
        Default ``leapfrog`` (rotor) or ``split2`` (DNLS).
    dt, t_final : float
        Time step and final time (``t_final / dt`` an integer).
    observables : sequence of str
        ``density`` (``w_x`` / :math:`|\psi_x|^2`), ``energy_density``, ``energy_current``,
        ``density_current`` (same names, conventions and positions as the quantum ones),
        ``phi`` (rotor relaxation function, needs ``beta``), ``current_correlation``
        (:math:`\langle J(t)J(0)\rangle / L` with :math:`J = \sum_b j_b`, the Green-Kubo
        integrand).
    output_dt : float, optional
        Interval between outputs (default about 100 outputs); or ``n_log`` log-spaced outputs.
    beta : float, optional
        Inverse temperature for ``phi`` (default: from the state's sampler).
    energy_tolerance : float, optional
        Stop with :class:`~tnmbl.errors.ConvergenceError` when the largest per-chain energy
        error per site, :math:`\max_m |E_m(t) - E_m(0)| / L`, passes it; the rows before
        are returned through ``callback`` and ``error.result``.
    noise_rate : float
        Rate of energy-conserving velocity flips per rotor (paper eq. 7); ``noise_seed``
        seeds them (counter-based: independent of threads and layout).
    threads, lanes, chunk_outputs :
        Performance knobs: threads (default numba's), chains per block, outputs per
        compiled call.

    Returns
    -------
    Result
        ``result[name]`` of shape ``(n_times, n_columns)``. ``result.engine`` is the
        :class:`ClassicalEvolution`: ``result.engine.samples`` holds the per-chain series
        (``(n_times, M)``: ``energy``, ``charge``, ``phi``, ``total_current``) and
        ``result.engine.state()`` the final batch.
    """
    from ...evolution import collect

    ev = ClassicalEvolution(chain, state, method, dt=dt, t_final=t_final, observables=observables,
                            output_dt=output_dt, n_log=n_log, beta=beta, energy_tolerance=energy_tolerance,
                            noise_rate=noise_rate, noise_seed=noise_seed, threads=threads, lanes=lanes,
                            chunk_outputs=chunk_outputs, allow_large_dt=allow_large_dt)
    return collect(ev, callback, handle=ev)
