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

import math

import numpy as np

from ...errors import ObservableError, OptionError, StateError, fail
from ...states.classical import ClassicalState
from ..base import Engine, EngineOptions
from ..methods import METHOD_SPECS, W0, W1
from . import kernels


def _drift_kick(method):
    """Drift coefficients ``a`` (len s+1) and kick coefficients ``b`` (len s) of one step."""
    if method == "leapfrog":
        return np.array([0.5, 0.5]), np.array([1.0])
    w1, w0 = W1, W0
    return np.array([w1 / 2, (w0 + w1) / 2, (w0 + w1) / 2, w1 / 2]), np.array([w1, w0, w1])


def _threads(threads):
    import numba

    if threads is None:
        return numba.get_num_threads()
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        fail(OptionError, "threads", threads, "must be an integer >= 1")
    return int(min(threads, numba.config.NUMBA_NUM_THREADS))


class _ThreadScope:
    def __init__(self, n):
        self.n = n

    def __enter__(self):
        import numba

        self.old = numba.get_num_threads()
        numba.set_num_threads(self.n)

    def __exit__(self, *exc):
        import numba

        numba.set_num_threads(self.old)


def _to_blocks(arr, lanes):
    """(M, L) -> (n_blocks, L, lanes), padded with zeros (a fixed point of both models)."""
    M, L = arr.shape
    nb = -(-M // lanes)
    out = np.zeros((nb * lanes, L), dtype=arr.dtype)
    out[:M] = arr
    return np.ascontiguousarray(out.reshape(nb, lanes, L).transpose(0, 2, 1))


def _aligned(arr, align=64):
    """A copy of ``arr`` whose data start on an ``align``-byte boundary (numpy gives 16): the
    rotor kernel's lane loops load and store whole 64-byte AVX-512 vectors, and a block's rows
    then never straddle cache lines (measured 10-15% on the leapfrog)."""
    buf = np.empty(arr.size * arr.itemsize + align, dtype=np.uint8)
    k = -buf.ctypes.data % align
    out = buf[k:k + arr.size * arr.itemsize].view(arr.dtype).reshape(arr.shape)
    out[...] = arr
    return out


def _from_blocks(arr, M):
    nb, L, lanes = arr.shape
    return arr.transpose(0, 2, 1).reshape(nb * lanes, L)[:M].copy()


def _term_strength(chain, name, n, default=0.0):
    out = np.full(n, default, dtype=float)
    found = False
    for term, s in list(chain.onsite_terms()) + list(chain.bond_terms()):
        key = term.ops[0] if hasattr(term, "ops") else term.op
        if key == name:
            out[: len(s)] = (out[: len(s)] if found else 0.0) + s
            found = True
    return out


def _bond_propagators(phase):
    r"""Entries :math:`a = e^{-i\phi}\cos\phi`, :math:`b = i e^{-i\phi}\sin\phi` of the
    exact bond propagator, as ``(Re a, Im a, Re b, Im b)``, rounded so that the matrix
    ``[[a, b], [b, a]]`` is unitary to ~eps phi^2 (1e-21 at phi = 0.005).

    The same coefficients are applied 10^5 times or more, so their rounding error is a bias,
    not noise: plain rounding drifts the norm by ~5e-11 over 10^5 steps. Writing
    :math:`b = i\mu a` (exactly :math:`\mu = \tan\phi`), ``a`` is rounded first and
    :math:`\mu^2 = (1 - |a|^2)/|a|^2` solved in extended precision, so that only the rounding
    of the small ``b`` remains (it shifts the effective hopping by ~1e-16/phi^2 relative,
    1e-12 at phi = 0.005). :math:`1 - |a|^2` is formed as :math:`(1 - a_r)(1 + a_r) - a_i^2`,
    exact to ~1e-24 in long double for small phi; ``1/|a|^2 - 1`` (as before) kept only the
    long double's 1e-19: a norm bias of ~5e-20 per bond step, 2e-14 over 10^5 ``split2`` steps."""
    ld = np.longdouble
    ph = np.asarray(phase, dtype=ld)
    c, s = np.cos(ph), np.sin(ph)
    ar = (c * c).astype(float)
    ai = (-s * c).astype(float)

    def one_minus_n2(ar, ai):
        a = ar.astype(ld)
        return (1 - a) * (1 + a) - ai.astype(ld) ** 2

    for _ in range(4):  # |a| <= 1 so that mu is real
        ar = np.where(one_minus_n2(ar, ai) < 0, np.nextafter(ar, 0.0), ar)
    n2 = ar.astype(ld) ** 2 + ai.astype(ld) ** 2
    mu = np.sign(s * c) * np.sqrt(np.maximum(one_minus_n2(ar, ai), 0) / n2)
    br = (-mu * ai.astype(ld)).astype(float)
    bi = (mu * ar.astype(ld)).astype(float)
    return ar, ai, br, bi


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
    ``noise_seed``, ``allow_large_dt``, ``chunk_outputs``.
    """

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
        self.options = options
        self.chunk_outputs = max(1, int(extra.get("chunk_outputs", 16)))
        if not isinstance(state, ClassicalState):
            fail(StateError, "state", type(state).__name__, "must be a ClassicalState",
                 "build it with tnmbl.states.classical.*")
        if lanes is None:  # chains per block: 64 (rotor) or 32 (DNLS), fewer for small batches
            # (a single chain: 1 lane); longer lane rows amortize the per-row loop overhead of
            # the rotor's fused kick-drift (64: ~5% over 32, although a block then spills L1)
            cap = 64 if site.name == "rotor" else 32
            lanes = min(cap, 1 << max(0, (int(state.M) - 1).bit_length()))
        spec = METHOD_SPECS[method]
        ok, reason = spec.accepts(chain)
        if not ok:
            fail(OptionError, "method", method, reason)
        known = {"rotor": {"kinetic", "cos"}, "dnls": {"N", "NN", "hop"}}[site.name]
        for term in chain.terms:
            key = term.ops[0] if hasattr(term, "ops") else term.op
            if key not in known:
                fail(OptionError, "chain", key, f"no compiled kernel for term {key!r}",
                     f"the {site.name} kernels know {sorted(known)}")
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
        if self.noise_rate > 0 and site.name != "rotor":
            fail(OptionError, "noise_rate", noise_rate, "velocity-flip noise is defined for the rotor chain")
        self.noise_seed = int(noise_seed) & 0x7FFFFFFFFFFFFFFF
        self.gb = _term_strength(chain, "cos" if site.name == "rotor" else "hop", L)
        if site.name == "rotor":
            self.kin = _term_strength(chain, "kinetic", L)
            if np.any(self.kin <= 0):
                fail(OptionError, "chain", chain.name, "the kinetic strength 1/m must be > 0 on every site")
            q, p = state.canonical()
            self.theta = _aligned(_to_blocks(q, lanes))
            self.p = _aligned(_to_blocks(p, lanes))
            self.wref = _to_blocks(p * self.kin, lanes)
            omega = math.sqrt(4.0 * max(np.max(self.gb * self.kin), np.max(np.roll(self.gb, 1) * self.kin)))
            self.dt_max = 2.0 / (spec.max_substep * omega) if omega > 0 else math.inf
            rule = "leapfrog stability bound dt * omega_max < 2, omega_max = sqrt(4 g / m)"
        else:
            self.wx = _term_strength(chain, "N", L)
            self.ux = _term_strength(chain, "NN", L)
            psi = state.fields["psi"]
            self.re = _to_blocks(np.ascontiguousarray(psi.real), lanes)
            self.im = _to_blocks(np.ascontiguousarray(psi.imag), lanes)
            nmax = float(np.max(np.abs(psi) ** 2))
            rate = 4 * np.max(np.abs(self.gb)) + np.max(np.abs(self.wx)) + 2 * np.max(np.abs(self.ux)) * nmax
            self.dt_max = math.pi / (spec.max_substep * rate) if rate > 0 else math.inf
            rule = "a step may turn no phase by more than pi: dt * (4 g + max|w| + 2 U max|psi|^2) * |substep| < pi"
            self._build_split()
        if self.dt > self.dt_max and not allow_large_dt:
            fail(OptionError, "dt", dt, f"above the {rule} (dt_max = {self.dt_max:.4g} for this chain)",
                 f"use dt <= {self.dt_max:.3g}, or allow_large_dt=True if you know why")

    # -- DNLS split tables --------------------------------------------------------------
    def _build_split(self):
        L, chain = self.L, self.chain
        if chain.bc == "open":
            groups = [(0, L - 1, 2), (1, L - 1, 2)]
        elif L % 2 == 0:
            groups = [(0, L, 2), (1, L, 2)]
        else:
            groups = [(0, L - 1, 2), (1, L - 1, 2), (L - 1, L, 1)]
        # Strang: bonds(tau/2) ... onsite(tau) ... bonds(tau/2); kinds 1.. = bond groups, 0 = onsite
        kinds = list(range(1, len(groups) + 1))

        def strang(c):
            return [(k, c / 2) for k in kinds] + [(0, c)] + [(k, c / 2) for k in reversed(kinds)]

        if self.method == "split2":
            seq = strang(1.0)
        else:
            seq = strang(W1) + strang(W0) + strang(W1)
        merged = []
        for k, c in seq:
            if merged and merged[-1][0] == k:
                merged[-1] = (k, merged[-1][1] + c)
            else:
                merged.append((k, c))
        n = len(merged)
        self.op_kind = np.array([k for k, _ in merged], dtype=np.int64)
        self.op_tau = np.array([c * self.dt for _, c in merged])
        gt = np.outer(self.op_tau, self.gb)  # g_b * tau per op and bond
        self.bc_c, self.bc_s, self.bc_er, self.bc_ei = _bond_propagators(gt)
        self.g_start = np.zeros(4, np.int64)
        self.g_stop = np.zeros(4, np.int64)
        self.g_stride = np.ones(4, np.int64)
        for k, (a, b, s) in enumerate(groups, start=1):
            self.g_start[k], self.g_stop[k], self.g_stride[k] = a, b, s
        self.n_ops = n

    # -- running ------------------------------------------------------------------------
    def run(self, segs):
        """Advance through ``segs`` (steps before each output); measure after each."""
        segs = np.asarray(segs, dtype=np.int64)
        n_out, L, M = len(segs), self.L, self.M
        rotor = self.chain.site.name == "rotor"
        nb = self.theta.shape[0] if rotor else self.re.shape[0]
        # partial-sum chunks; the rotor kernel hands them out dynamically, and finer ones
        # balance the threads better when other work shares the machine
        n_chunks = max(1, min(nb, (8 if rotor else 4) * self.threads))
        acc_n = np.zeros((n_chunks, n_out, L))
        acc_h = np.zeros((n_chunks, n_out, L))
        acc_j = np.zeros((n_chunks, n_out, L))
        acc_q = np.zeros((n_chunks, n_out, L))
        ch_e = np.zeros((n_out, M))
        ch_q = np.zeros((n_out, M))
        ch_dw2 = np.zeros((n_out, M))
        ch_jt = np.zeros((n_out, M))
        with _ThreadScope(self.threads):
            if self.chain.site.name == "rotor":
                a, b = _drift_kick(self.method)
                flip_prob = -math.expm1(-self.noise_rate * self.dt) if self.noise_rate > 0 else 0.0
                kernels.rotor_run(self.theta, self.p, self.wref, self.kin, self.gb, a, b, segs, self.step,
                                  self.dt, M, n_chunks, self.left, self.right, self.nbonds, self.ncur,
                                  flip_prob, self.noise_seed, 32, acc_n, acc_h, acc_j, acc_q,
                                  ch_e, ch_q, ch_dw2, ch_jt, kernels.PSIN_CONSTS, self.threads)
            else:
                kernels.dnls_run(self.re, self.im, self.wx, self.ux, self.gb, self.op_kind, self.op_tau,
                                 self.bc_c, self.bc_s, self.bc_er, self.bc_ei, self.g_start, self.g_stop,
                                 self.g_stride, segs, M, n_chunks, self.left, self.right, self.nbonds,
                                 self.ncur, acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_jt)
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

    def thermalize(self, beta, n_steps, *, gamma, dt, seed):
        """``n_steps`` of Langevin dynamics of the batch at ``beta`` (BAOAB, compiled; friction
        ``gamma``, step ``dt``, counter-based noise from the int ``seed``), in place, rotor chains only."""
        if self.chain.site.name != "rotor":
            fail(OptionError, "chain", self.chain.name, "Langevin thermalization is implemented for rotor chains")
        with _ThreadScope(self.threads):
            kernels.rotor_langevin(self.theta, self.p, self.kin, self.gb, float(dt), n_steps, float(gamma),
                                   float(beta), self.M, seed, 0)

    def state(self):
        if self.chain.site.name == "rotor":
            fields = {"theta": _from_blocks(self.theta, self.M), "w": _from_blocks(self.p, self.M)}
        else:
            fields = {"psi": _from_blocks(self.re, self.M) + 1j * _from_blocks(self.im, self.M)}
        return ClassicalState(self.chain, fields, f"evolved(t={self.step * self.dt:g})")

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
        if self.chain.site.name == "rotor":
            return {"theta": self.theta, "p": self.p, "wref": self.wref}
        return {"re": self.re, "im": self.im}

    def get_resume_data(self):
        """The batch (block layout) and the step, for a checkpoint."""
        data = {k: v.copy() for k, v in self._fields().items()}
        data.update(step=int(self.step), M=int(self.M), lanes=int(self.lanes), method=self.method)
        return data

    def set_resume_data(self, data):
        """Continue from :meth:`get_resume_data` of an engine built from the same run config.
        A checkpoint of the same batch in another block width (the rotor default was 32 lanes
        before it became 64) is re-blocked; chains do not depend on the layout."""
        lanes = int(data.get("lanes", self.lanes))
        for key, arr in self._fields().items():
            saved = np.asarray(data[key])
            if (lanes != self.lanes and int(data.get("M", -1)) == self.M and saved.ndim == 3
                    and saved.shape[2] == lanes):
                saved = _to_blocks(_from_blocks(saved, self.M), self.lanes)
            if saved.shape != arr.shape:
                fail(StateError, "checkpoint", key, f"holds a batch of shape {saved.shape}, this run has "
                     f"{arr.shape} (M = {self.M}, lanes = {self.lanes})", "resume with the run's own config")
            arr[...] = saved
        self.step = int(data["step"])
        self._last = None
