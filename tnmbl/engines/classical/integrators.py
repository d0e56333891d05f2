"""The two integrator strategies behind :class:`~tnmbl.engines.classical.ClassicalEngine`:
:class:`RotorIntegrator` (leapfrog / Yoshida-4 / optimized kick-drift schemes, optional velocity-flip noise,
Langevin) and :class:`DnlsIntegrator` (exact-flow split 2 / 4 and optimized compositions). Each holds its batch in the
``[block][site][lane]`` layout, its stability bound and its call of the compiled kernel
(:mod:`tnmbl.engines.classical.kernels`, unchanged); the engine holds what they share.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import OptionError, fail
from ..methods import W0, W1
from . import kernels
from .schemes import ROTOR_SCHEMES, dnls_sequence


def _drift_kick(method):
    """Drift coefficients ``a`` (len s+1) and kick coefficients ``b`` (len s) of one step
    (the optimized schemes' tables: :data:`.schemes.ROTOR_SCHEMES`)."""
    if method == "leapfrog":
        return np.array([0.5, 0.5]), np.array([1.0])
    if method == "yoshida4":
        w1, w0 = W1, W0
        return np.array([w1 / 2, (w0 + w1) / 2, (w0 + w1) / 2, w1 / 2]), np.array([w1, w0, w1])
    scheme = ROTOR_SCHEMES[method]
    return np.array(scheme.a, dtype=float), np.array(scheme.b, dtype=float)


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


class RotorIntegrator:
    """Rotor chains: angles and angular momenta, leapfrog or its Yoshida composition."""

    lane_cap = 64  # longer lane rows amortize the per-row loop overhead of the fused kick-drift
    chunks_per_thread = 8  # the rotor kernel hands partial-sum chunks out dynamically
    terms = {"kinetic", "cos"}
    noise = True  # energy-conserving velocity flips (paper eq. 7)
    field_names = ("theta", "p", "wref")
    rule = "leapfrog stability bound dt * omega_max < 2, omega_max = sqrt(4 g / m)"

    def __init__(self, eng, chain, state, spec):
        lanes = eng.lanes
        self.gb = _term_strength(chain, "cos", chain.L)
        self.kin = _term_strength(chain, "kinetic", chain.L)
        if np.any(self.kin <= 0):
            fail(OptionError, "chain", chain.name, "the kinetic strength 1/m must be > 0 on every site")
        q, p = state.canonical()
        self.theta = _aligned(_to_blocks(q, lanes))
        self.p = _aligned(_to_blocks(p, lanes))
        self.wref = _to_blocks(p * self.kin, lanes)
        omega = math.sqrt(4.0 * max(np.max(self.gb * self.kin), np.max(np.roll(self.gb, 1) * self.kin)))
        self.dt_max = 2.0 / (spec.max_substep * omega) if omega > 0 else math.inf

    @property
    def n_blocks(self):
        return self.theta.shape[0]

    def run(self, eng, segs, n_chunks, acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_dw2, ch_jt):
        a, b = _drift_kick(eng.method)
        flip_prob = -math.expm1(-eng.noise_rate * eng.dt) if eng.noise_rate > 0 else 0.0
        kernels.rotor_run(self.theta, self.p, self.wref, self.kin, self.gb, a, b, segs, eng.step,
                          eng.dt, eng.M, n_chunks, eng.left, eng.right, eng.nbonds, eng.ncur,
                          flip_prob, eng.noise_seed, 32, acc_n, acc_h, acc_j, acc_q,
                          ch_e, ch_q, ch_dw2, ch_jt, kernels.PSIN_CONSTS, eng.threads)

    def langevin(self, eng, beta, n_steps, gamma, dt, seed):
        kernels.rotor_langevin(self.theta, self.p, self.kin, self.gb, float(dt), n_steps, float(gamma),
                               float(beta), eng.M, seed, 0)

    def state_fields(self, M):
        return {"theta": _from_blocks(self.theta, M), "w": _from_blocks(self.p, M)}

    def fields(self):
        return {"theta": self.theta, "p": self.p, "wref": self.wref}


class DnlsIntegrator:
    """DNLS chains: complex amplitudes, the exact-flow split and its Yoshida composition."""

    lane_cap = 32
    chunks_per_thread = 4
    terms = {"N", "NN", "hop"}
    noise = False
    rule = "a step may turn no phase by more than pi: dt * (4 g + max|w| + 2 U max|psi|^2) * |substep| < pi"

    def __init__(self, eng, chain, state, spec):
        L, lanes = chain.L, eng.lanes
        self.gb = _term_strength(chain, "hop", L)
        self.wx = _term_strength(chain, "N", L)
        self.ux = _term_strength(chain, "NN", L)
        psi = state.fields["psi"]
        self.re = _to_blocks(np.ascontiguousarray(psi.real), lanes)
        self.im = _to_blocks(np.ascontiguousarray(psi.imag), lanes)
        nmax = float(np.max(np.abs(psi) ** 2))
        rate = 4 * np.max(np.abs(self.gb)) + np.max(np.abs(self.wx)) + 2 * np.max(np.abs(self.ux)) * nmax
        self.dt_max = math.pi / (spec.max_substep * rate) if rate > 0 else math.inf
        self.L, self.chain, self.method, self.dt = L, chain, eng.method, eng.dt
        self._build_split()

    def _build_split(self):
        L, chain = self.L, self.chain
        if chain.bc == "open":
            groups = [(0, L - 1, 2), (1, L - 1, 2)]
        elif L % 2 == 0:
            groups = [(0, L, 2), (1, L, 2)]
        else:
            groups = [(0, L - 1, 2), (1, L - 1, 2), (L - 1, L, 1)]
        # one step: Strang steps bonds(c/2) onsite(c) bonds(c/2) for each stage c of the method's
        # composition (split2: one stage; split4: Yoshida's three), adjacent flows of one kind merged
        merged = dnls_sequence(self.method, len(groups))
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

    @property
    def n_blocks(self):
        return self.re.shape[0]

    def run(self, eng, segs, n_chunks, acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_dw2, ch_jt):
        kernels.dnls_run(self.re, self.im, self.wx, self.ux, self.gb, self.op_kind, self.op_tau,
                         self.bc_c, self.bc_s, self.bc_er, self.bc_ei, self.g_start, self.g_stop,
                         self.g_stride, segs, eng.M, n_chunks, eng.left, eng.right, eng.nbonds,
                         eng.ncur, acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_jt)

    def langevin(self, eng, beta, n_steps, gamma, dt, seed):
        fail(OptionError, "chain", eng.chain.name, "Langevin thermalization is implemented for rotor chains")

    def state_fields(self, M):
        return {"psi": _from_blocks(self.re, M) + 1j * _from_blocks(self.im, M)}

    def fields(self):
        return {"re": self.re, "im": self.im}


#: site type -> integrator strategy (the one place the classical engine picks by site type)
INTEGRATORS = {"rotor": RotorIntegrator, "dnls": DnlsIntegrator}
