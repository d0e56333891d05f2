r"""Classical integrators for batches of chains, behind tnmbl's ``evolve`` vocabulary.

Methods
-------
The rotor and DNLS integrators are this engine's two strategies; each method's order, site
type and stability factor live in the method table (:mod:`tnmbl.engines.methods`).

=========  =======  ==========================================================
method     model    scheme
=========  =======  ==========================================================
leapfrog   rotor    Stormer-Verlet (kick-drift-kick, merged drifts)
yoshida4   rotor    Yoshida triple-jump composition of leapfrog
split2     dnls     Strang split: exact bond rotations (even, odd) around an
                    exact on-site phase rotation
split4     dnls     Yoshida triple-jump composition of ``split2``
=========  =======  ==========================================================

Every part of the DNLS split is solved exactly (the on-site flow keeps :math:`|\psi_x|`
and rotates its phase by :math:`(w_x + 2U|\psi_x|^2)\tau`; a bond flow is the exact 2x2
propagator :math:`e^{-ig\tau}(\cos g\tau + i\sin g\tau\,\sigma^x)`), so the norm is
conserved to round-off at any ``dt``.

Stability: the leapfrog of the rotor chain is stable for
:math:`dt\,\omega_{\max} < 2` with :math:`\omega_{\max}^2 = 4\max(g)/m` (the linearized
chain); Yoshida's substeps are up to :math:`|w_0| = 1.70` times longer. A larger ``dt`` is
refused (``allow_large_dt=True`` overrides). The DNLS split is unconditionally stable, but
a step that turns a phase by more than :math:`\pi` resolves nothing; it is refused likewise.
"""

from __future__ import annotations

import numpy as np

from ...errors import ObservableError, OptionError, StateError, fail
from ...states.classical import ClassicalState
from ..base import Engine, EngineOptions
from ..methods import METHOD_SPECS
from .correlator import CurrentCorrelator, correlator_grid
from .integrators import INTEGRATORS, _from_blocks, _threads, _ThreadScope, _to_blocks
from .integrators32 import INTEGRATORS32, PRECISIONS


class ClassicalEngine(Engine):
    """A batch of ``M`` chains evolving under one compiled integrator: the engine of the
    classical methods (leapfrog, yoshida4 on rotor chains; split2, split4 on DNLS chains;
    backend ``numba`` in :data:`tnmbl.engines.METHODS`). The rotor and DNLS integrators are
    its two strategies, picked by the chain's site type.

    ``run(segs)`` advances by ``segs[i]`` steps and measures after each segment; the
    per-output ensemble sums and per-chain scalars come back as arrays. :meth:`outputs`
    (the engine protocol) yields them one output at a time, ``chunk_outputs`` outputs per
    compiled call. ``state()`` is the current batch as a
    :class:`~tnmbl.states.classical.ClassicalState`.

    ``options.extra`` holds the batch knobs: ``lanes``, ``threads``, ``noise_rate``,
    ``noise_seed``, ``allow_large_dt``, ``chunk_outputs``, ``precision`` (``"float64"``,
    default, or ``"float32"`` where the method table lists it:
    :mod:`.integrators32`; measurements stay float64), ``green_kubo``
    (``{"lag_max": ..., "sample_dt": ...}``: the on-the-fly all-origin current autocorrelation of
    :class:`~.correlator.CurrentCorrelator`; the engine then steps one step per compiled
    segment and measures after each, feeding it; :meth:`green_kubo` is its result).
    """

    #: steps per compiled call while feeding the correlator (bounds the per-step measurement arrays)
    correlator_chunk = 256

    supports_conservation = False  # no MPS charges: the classical integrators conserve N and E themselves
    backend = "numba"
    probe = "batch"

    @classmethod
    def create(cls, chain, state, method, dt, **extra):
        """The engine from plain arguments (``extra``: the batch knobs of the class docstring)."""
        return cls(chain, state, EngineOptions(method=method, dt=float(dt), extra=extra))

    def __init__(self, chain, state, options):
        site = chain.site
        method, dt, extra = options.method, options.dt, options.extra
        lanes, threads = extra.get("lanes"), extra.get("threads")
        noise_rate, noise_seed = extra.get("noise_rate", 0.0), extra.get("noise_seed", 0)
        allow_large_dt = extra.get("allow_large_dt", False)
        precision = extra.get("precision", "float64")
        self.options = options
        self.chunk_outputs = max(1, int(extra.get("chunk_outputs", 16)))
        if not isinstance(state, ClassicalState):
            fail(StateError, "state", type(state).__name__, "must be a ClassicalState",
                 "build it with tnmbl.states.classical.*")
        spec = METHOD_SPECS[method]
        ok, reason = spec.accepts(chain)
        if not ok:
            fail(OptionError, "method", method, reason)
        if precision not in PRECISIONS:
            fail(OptionError, "precision", precision, f"must be one of {', '.join(PRECISIONS)}",
                 "use precision='float64' (default) or 'float32'")
        if precision not in spec.precisions:
            float32 = ", ".join(m for m, s in METHOD_SPECS.items() if precision in s.precisions)
            fail(OptionError, "precision", precision, f"method {method!r} has no {precision} kernel "
                 f"(it runs in {', '.join(spec.precisions)}); {precision} runs: {float32}",
                 f"use precision='float64' with {method}")
        self.precision = precision
        strategy = (INTEGRATORS if precision == "float64" else INTEGRATORS32)[site.name]
        if lanes is None:  # chains per block: 64 (rotor) or 32 (DNLS), fewer for small batches
            # (a single chain: 1 lane); the rotor's 64: ~5% over 32, although a block then spills L1
            lanes = min(strategy.lane_cap, 1 << max(0, (int(state.M) - 1).bit_length()))
        for term in chain.terms:
            key = term.ops[0] if hasattr(term, "ops") else term.op
            if key not in strategy.terms:
                fail(OptionError, "chain", key, f"no compiled kernel for term {key!r}",
                     f"the {site.name} kernels know {sorted(strategy.terms)}")
        if not isinstance(lanes, (int, np.integer)) or lanes < 1:
            fail(OptionError, "lanes", lanes, "must be an integer >= 1")
        self.chain, self.method, self.dt, self.lanes = chain, method, float(dt), int(lanes)
        self.threads = _threads(threads)
        self.M = state.M
        self.L = L = chain.L
        self.step = 0
        nb = chain.n_bonds
        self.nbonds = nb
        self.ncur = nb if chain.bc == "periodic" else nb - 1
        left, right = chain.onsite_shares()  # the one energy-split convention (quantum and classical)
        self.left = np.zeros(L)
        self.right = np.zeros(L)
        self.left[:nb], self.right[:nb] = left, right
        self.noise_rate = float(noise_rate)
        if not (np.isfinite(self.noise_rate) and self.noise_rate >= 0):
            fail(OptionError, "noise_rate", noise_rate, "must be a finite rate >= 0")
        if self.noise_rate > 0 and not strategy.noise:
            fail(OptionError, "noise_rate", noise_rate, "velocity-flip noise is defined for the rotor chain")
        if precision == "float32" and self.noise_rate > 0:
            fail(OptionError, "precision", precision, f"velocity-flip noise (noise_rate = {noise_rate}) runs in "
                 "float64 only", "use precision='float64', or drop noise_rate")
        self.noise_seed = int(noise_seed) & 0x7FFFFFFFFFFFFFFF
        self.correlator = None
        if extra.get("green_kubo") is not None:
            n_lag, block = correlator_grid(extra["green_kubo"], self.dt)
            self.correlator = CurrentCorrelator(self.M, n_lag, block, self.dt)
        self.integrator = strategy(self, chain, state, spec)
        self.dt_max, rule = self.integrator.dt_max, strategy.rule
        if self.dt > self.dt_max and not allow_large_dt:
            fail(OptionError, "dt", dt, f"above the {rule} (dt_max = {self.dt_max:.4g} for this chain)",
                 f"use dt <= {self.dt_max:.3g}, or allow_large_dt=True if you know why")

    # -- running ------------------------------------------------------------------------
    def run(self, segs):
        """Advance through ``segs`` (steps before each output); measure after each. With the
        ``green_kubo`` accumulator every step is a segment of its own (measured, fed to it): the
        trajectory is then the same however the steps are grouped into outputs and calls."""
        if self.correlator is None:
            return self._run(segs)
        outs = []
        for n in np.asarray(segs, dtype=np.int64):
            out = self._run([0]) if n == 0 else None
            while n > 0:
                k = int(min(n, self.correlator_chunk))
                out = self._run(np.ones(k, dtype=np.int64))
                self.correlator.add(out["chain_current"])
                n -= k
            outs.append({key: v[-1:] for key, v in out.items()})
        return {key: np.concatenate([o[key] for o in outs]) for key in outs[0]}

    def green_kubo(self):
        """The ``green_kubo`` accumulator's result (:meth:`.CurrentCorrelator.result`: per-chain
        sums of products, counts, lag spacing), or ``None`` without one;
        :func:`tnmbl.transport.green_kubo_accumulated` turns it into kappa."""
        return None if self.correlator is None else self.correlator.result()

    def _run(self, segs):
        segs = np.asarray(segs, dtype=np.int64)
        n_out, L, M = len(segs), self.L, self.M
        integ = self.integrator
        # partial-sum chunks; finer ones balance the threads better when other work shares the machine
        n_chunks = max(1, min(integ.n_blocks, integ.chunks_per_thread * self.threads))
        acc_n = np.zeros((n_chunks, n_out, L))
        acc_h = np.zeros((n_chunks, n_out, L))
        acc_j = np.zeros((n_chunks, n_out, L))
        acc_q = np.zeros((n_chunks, n_out, L))
        ch_e = np.zeros((n_out, M))
        ch_q = np.zeros((n_out, M))
        ch_dw2 = np.zeros((n_out, M))
        ch_jt = np.zeros((n_out, M))
        with _ThreadScope(self.threads):
            integ.run(self, segs, n_chunks, acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_dw2, ch_jt)
        self.step += int(segs.sum())
        return {
            "density": acc_n.sum(0)[:, :L] / M,
            "energy_density": acc_h.sum(0)[:, : self.nbonds] / M,
            "energy_current": acc_j.sum(0)[:, : self.ncur] / M,
            "density_current": acc_q.sum(0)[:, : self.nbonds] / M,
            "chain_energy": ch_e, "chain_charge": ch_q, "chain_dw2": ch_dw2, "chain_current": ch_jt,
        }

    def outputs(self, segments):
        """The engine protocol: ``(measurement, index)`` after each segment, ``chunk_outputs``
        segments per compiled call."""
        segs = np.asarray(segments, dtype=np.int64)
        for start in range(0, len(segs), self.chunk_outputs):
            out = self.run(segs[start:start + self.chunk_outputs])
            for i in range(len(out["chain_energy"])):
                yield out, i

    def sample(self):
        """The measurement at the current step (computed once per step), as ``(dict, 0)``."""
        return self.measurement(), 0

    def expect(self, key, local_ops):
        fail(ObservableError, "observable", key, "a classical batch measures inside its compiled loop",
             "use the classical observables of tnmbl.evolve")

    def entanglement(self):
        fail(ObservableError, "observable", "entanglement", "is not defined for classical chains")

    def health(self):
        return {}

    def energy_error_floor(self, n_steps, n_chains=None):
        """Predicted largest per-chain energy error per site from round-off alone after
        ``n_steps`` steps of ``n_chains`` chains (default: the batch's): 0 in float64 (far below
        any time-step error), the float32 walk of
        :meth:`.integrators32.RotorIntegrator32.energy_error_floor` in float32."""
        floor = getattr(self.integrator, "energy_error_floor", None)
        return 0.0 if floor is None else floor(self, int(n_steps), int(n_chains or self.M))

    def thermalize(self, beta, n_steps, *, gamma, dt, seed):
        """``n_steps`` of Langevin dynamics of the batch at ``beta`` (BAOAB, compiled; friction
        ``gamma``, step ``dt``, counter-based noise from the int ``seed``), in place, rotor chains only."""
        with _ThreadScope(self.threads):
            self.integrator.langevin(self, beta, n_steps, gamma, dt, seed)

    def state(self):
        return ClassicalState(self.chain, self.integrator.state_fields(self.M), f"evolved(t={self.step * self.dt:g})")

    @property
    def time(self):
        return self.step * self.dt

    # -- what the run machinery drives (tnmbl.runs.runner), as for the quantum engines ----
    def advance(self, n_steps):
        """Advance by ``n_steps`` and keep the measurement taken at the new time."""
        out = self.run([int(n_steps)])
        self._last = (self.step, out)

    def measurement(self):
        """The measurement (``run``'s dict, one output) at the current step."""
        last = getattr(self, "_last", None)
        if last is None or last[0] != self.step:
            self._last = last = (self.step, self.run([0]))
        return last[1]

    def _fields(self):
        return self.integrator.fields()

    def get_resume_data(self):
        """The batch (block layout) and the step, for a checkpoint."""
        data = {k: v.copy() for k, v in self._fields().items()}
        data.update(step=int(self.step), M=int(self.M), lanes=int(self.lanes), method=self.method,
                    precision=self.precision)
        if self.correlator is not None:
            data["green_kubo"] = self.correlator.state()
        return data

    def set_resume_data(self, data):
        """Continue from :meth:`get_resume_data` of an engine built from the same run config.
        A checkpoint of the same batch in another block width (the rotor default was 32 lanes
        before it became 64) is re-blocked; chains do not depend on the layout."""
        lanes = int(data.get("lanes", self.lanes))
        saved_precision = str(data.get("precision", "float64"))
        if saved_precision != self.precision:
            fail(StateError, "checkpoint", saved_precision, f"holds a {saved_precision} batch, this run is "
                 f"{self.precision}", "resume with the run's own config")
        for key, arr in self._fields().items():
            saved = np.asarray(data[key])
            if (lanes != self.lanes and int(data.get("M", -1)) == self.M and saved.ndim == 3
                    and saved.shape[2] == lanes):
                saved = _to_blocks(_from_blocks(saved, self.M), self.lanes)
            if saved.shape != arr.shape:
                fail(StateError, "checkpoint", key, f"holds a batch of shape {saved.shape}, this run has "
                     f"{arr.shape} (M = {self.M}, lanes = {self.lanes})", "resume with the run's own config")
            arr[...] = saved
        if (self.correlator is None) != ("green_kubo" not in data):
            fail(StateError, "checkpoint", "green_kubo", "the checkpoint and this run differ in having the green_kubo "
                 "accumulator", "resume with the run's own config")
        if self.correlator is not None:
            self.correlator.set_state(data["green_kubo"])
        self.step = int(data["step"])
        self._last = None
