r"""The optimized splitting schemes of :mod:`.schemes` on the compiled kernels, in float64 or
float32, behind a plain function API (arrays in, arrays out) that the engine can adopt.

Longer than 400 lines for a reason: the float32 step is a copy of the float64 one with its own
constants and compensated updates (numba compiles each variant as its own function, and the
float64 path must stay the engine's kernel bit for bit), and the reasoning behind its round-off
care below belongs next to the code.

* :func:`rotor_evolve` -- a batch of rotor chains through ``n_steps`` of any scheme of
  :data:`.schemes.ROTOR_SCHEMES`, in float64 or float32. The step is the one of
  :func:`.kernels._rotor_advance` (layout ``[block][site][lane]``, fused kick-drift,
  polynomial sine, drifts merged across steps); float64 calls that very function (bitwise the
  engine's trajectories). float32 has its own copy (:func:`_advance32`) in which every
  operand is float32, so the lane loops run 16 wide on AVX-512 instead of 8.

  float32 and the energy. Round-off is not symplectic, and in float32 it was not just noise:
  the first float32 kernel (one-part float32 pi in the sine, one-part 2 pi in the wrap,
  plain angle updates) heated or cooled every chain alike, ~1e-5 per site over 2e4 ABA864
  steps at g = 1, dt = 0.2 (measured; float64: bounded at 4e-8). Two causes, found by
  removing them one at a time: (1) the wrap ``t - 2 pi k`` with a float32 2 pi (off by
  1.7e-7) moves every winding rotor by the same amount at every turn; (2) an angle of size
  ~2 has an ulp of 2.4e-7, and adding a substep's ``c p dt`` (~1e-2) to it rounds with an
  error that stays correlated from step to step (the effective angular velocity is off by
  up to ~1e-5 relative). With exact fixed-point (int32) angles the drift vanished, but the
  kernel ran no faster than float64. Here: a two-part 2 pi and a two-part pi (Cody-Waite)
  in the wrap and the sine, and Kahan-compensated angle updates (``compensated=True``, the
  default): mean drift 1.2e-7 per site over 2e4 steps, the size of the noise of the
  32-chain mean; without the compensation -1.3e-6 (measured). Over long runs the momentum
  updates round the same way: at g = 0.1, ABA864, dt = 0.5, t = 2e4, 64 chains, drift per
  site per time unit (mean over chains +- its standard error from their spread): float64
  +3.0e-12 +- 2e-12, float32 with compensated angles +1.5e-11 +- 2e-11 (the chains' energies
  random-walk 10x faster), with ``compensated="full"`` (momenta too) -1.1e-12 +- 2e-12.
  Speed, one thread, ABA864, site kicks per CPU-second (measured together, shared machine):
  float64 2.44e9, float32 plain 4.33e9, angles 3.53e9, full 2.78e9 (a later run of
  bench_integrators.py: angles 1.10x, full 0.95x float64; the load varies). The compensations live
  in a :class:`RotorBatch` (one call of :func:`rotor_evolve` drops them at its end). The
  angles are wrapped into [-pi, pi] every ``wrap_every`` steps (float32 default: every
  ``0.5 / dt`` steps, at least 1, at most 32).
* :func:`dnls_evolve` -- a batch of DNLS chains through ``n_steps`` of a composition of
  :data:`.schemes.COMPOSITIONS` on :func:`.kernels.dnls_run` (every flow exact, so the norm
  is kept to round-off at any ``dt``).
* :func:`rotor_energy`, :func:`dnls_energy`, :func:`dnls_norm` -- float64 NumPy references.

Chains are ``(M, L)`` arrays; the bond ``b`` joins sites ``b`` and ``b + 1 mod L`` (an open
chain has ``g[L - 1] = 0``).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from . import kernels
from .integrators import _bond_propagators
from .schemes import COMPOSITIONS, ROTOR_SCHEMES, dnls_sequence, linear_stability

PRECISIONS = {"float64": np.float64, "float32": np.float32}


def _dtype(precision):
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(PRECISIONS)}, not {precision!r}")
    return PRECISIONS[precision]


def _to_blocks(arr, lanes, dtype):
    M, L = arr.shape
    nb = -(-M // lanes)
    out = np.zeros((nb * lanes, L), dtype=dtype)
    out[:M] = arr
    return np.ascontiguousarray(out.reshape(nb, lanes, L).transpose(0, 2, 1))


def _from_blocks(arr, M):
    nb, L, lanes = arr.shape
    return arr.transpose(0, 2, 1).reshape(nb * lanes, L)[:M].copy()


def _per_bond(g, L, name):
    g = np.asarray(g, dtype=float)
    if g.ndim == 0:
        g = np.full(L, float(g))
    if g.shape != (L,):
        raise ValueError(f"{name} must be a number or an array of length L = {L}")
    return g


class _Threads:
    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.old = numba.get_num_threads()
        if self.n is not None:
            numba.set_num_threads(int(min(self.n, numba.config.NUMBA_NUM_THREADS)))

    def __exit__(self, *exc):
        numba.set_num_threads(self.old)


@njit(parallel=True, fastmath=True, cache=True)
def rotor_steps(theta, p, kin, gb, a, b, n_steps, dt, wrap_every, cf, n_chunks):
    """Advance every block of ``theta, p`` (``[block][site][lane]``, float32 or float64, all
    operands of one type) by ``n_steps`` steps of the scheme ``(a, b)``; the angles end
    wrapped. The blocks form ``n_chunks`` ranges, one parallel task each."""
    nb = theta.shape[0]
    for c in prange(n_chunks):
        s0 = np.empty_like(theta[0, 0])
        sp = np.empty_like(theta[0, 0])
        for blk in range((c * nb) // n_chunks, ((c + 1) * nb) // n_chunks):
            kernels._rotor_advance(theta[blk], p[blk], kin, gb, a, b, n_steps, dt, 0.0, 0, 0, 0, 0, wrap_every,
                                   s0, sp, cf)


# float32: a sine of its own. Degree 11 (float32 needs no more: max error 2.6e-8 with the
# coefficients rounded to float32, below half an ulp of 1), and a two-part pi in the range
# reduction (Cody-Waite, the reduced argument then exact to ~1e-15 k).
_S32 = (-0.166666666, 0.0083333305, -0.00019840804, 2.75226178e-06, -2.38466793e-08)
_PI_HI = np.float32(math.pi)
_PI_LO = np.float32(math.pi - float(_PI_HI))
PSIN32_CONSTS = np.array(list(_S32) + [_PI_HI, _PI_LO, 1.0 / math.pi, 0.5, 1.0, 4.0], dtype=np.float32)
_TWO_PI_HI = np.float32(2 * math.pi)
#: 2 pi in two parts, 1 / 2 pi, 0.5: the wrap's constants in float32
WRAP32_CONSTS = np.array([_TWO_PI_HI, 2 * math.pi - float(_TWO_PI_HI), 1 / (2 * math.pi), 0.5], dtype=np.float32)
# no reassoc: it would fold the two-part reductions and cancel the compensated sums
_F32_FLAGS = {"nnan", "ninf", "nsz", "arcp", "contract", "afn"}


@njit(inline="always", fastmath=_F32_FLAGS)
def _psin32(x, c):
    c1, c2, c3, c4, c5, pi_hi, pi_lo, inv_pi, half, one, four = c
    k = np.floor(x * inv_pi + half)
    r = (x - k * pi_hi) - k * pi_lo
    h = half * k
    sign = one - four * (h - np.floor(h))
    r2 = r * r
    q = c5
    q = q * r2 + c4
    q = q * r2 + c3
    q = q * r2 + c2
    q = q * r2 + c1
    return sign * (r + r * r2 * q)


@njit(inline="always", fastmath=_F32_FLAGS)
def _add_comp(th, ct, x, l, v):
    """th[x, l] += v with Kahan compensation: ``ct`` carries what the last rounding lost
    (the true angle is th - ct)."""
    t0 = th[x, l]
    y = v - ct[x, l]
    t = t0 + y
    ct[x, l] = (t - t0) - y
    th[x, l] = t


@njit(inline="always", fastmath=_F32_FLAGS)
def _kick_drift32(th, ct, pp, cp, kin, gb, ck, cd, s0, sp, c, comp):
    """:func:`.kernels._rotor_kick_drift` with :func:`_psin32`. ``comp``: 0 plain updates,
    1 the angle updates Kahan-compensated (``ct``), 2 the momentum updates too (``cp``; the
    drift then uses the compensated momentum ``p - cp``). The branches stay outside the lane
    loops (a fused loop per variant: splitting the sine into its own pass was measured 2x
    slower)."""
    L, S = th.shape
    g = gb[L - 1]
    for l in range(S):
        s0[l] = g * _psin32(th[0, l] - th[L - 1, l], c)
        sp[l] = s0[l]
    for x in range(L - 1):
        g = gb[x]
        cdk = cd * kin[x]
        if comp == 2:
            for l in range(S):
                s = g * _psin32(th[x + 1, l] - th[x, l], c)
                _add_comp(pp, cp, x, l, ck * (s - sp[l]))
                _add_comp(th, ct, x, l, cdk * (pp[x, l] - cp[x, l]))
                sp[l] = s
        elif comp == 1:
            for l in range(S):
                s = g * _psin32(th[x + 1, l] - th[x, l], c)
                pn = pp[x, l] + ck * (s - sp[l])
                pp[x, l] = pn
                _add_comp(th, ct, x, l, cdk * pn)
                sp[l] = s
        else:
            for l in range(S):
                s = g * _psin32(th[x + 1, l] - th[x, l], c)
                pn = pp[x, l] + ck * (s - sp[l])
                pp[x, l] = pn
                th[x, l] += cdk * pn
                sp[l] = s
    x = L - 1
    cdk = cd * kin[x]
    for l in range(S):
        if comp == 2:
            _add_comp(pp, cp, x, l, ck * (s0[l] - sp[l]))
            _add_comp(th, ct, x, l, cdk * (pp[x, l] - cp[x, l]))
        else:
            pn = pp[x, l] + ck * (s0[l] - sp[l])
            pp[x, l] = pn
            if comp == 1:
                _add_comp(th, ct, x, l, cdk * pn)
            else:
                th[x, l] += cdk * pn


@njit(inline="always", fastmath=_F32_FLAGS)
def _drift32(th, ct, pp, cp, kin, cd, comp):
    L, S = th.shape
    for x in range(L):
        cdk = cd * kin[x]
        if comp == 2:
            for l in range(S):
                _add_comp(th, ct, x, l, cdk * (pp[x, l] - cp[x, l]))
        elif comp == 1:
            for l in range(S):
                _add_comp(th, ct, x, l, cdk * pp[x, l])
        else:
            for l in range(S):
                th[x, l] += cdk * pp[x, l]


@njit(inline="always", fastmath=_F32_FLAGS)
def _wrap32(th, ct, wc):
    """Angles into [-pi, pi]: t - k 2 pi with a two-part 2 pi (a one-part float32 2 pi is
    off by 1.7e-7, a systematic jump of every rotor that winds); the rounding of the result
    goes into ``ct``."""
    hi, lo, inv, half = wc[0], wc[1], wc[2], wc[3]
    L, S = th.shape
    for x in range(L):
        for l in range(S):
            t = th[x, l]
            k = np.floor(t * inv + half)
            a = t - k * hi  # exact (Sterbenz: t is within pi of k hi)
            y = k * lo + ct[x, l]
            tn = a - y
            ct[x, l] = (tn - a) + y
            th[x, l] = tn


@njit(fastmath=_F32_FLAGS, cache=True)
def _advance32(th, ct, pp, cp, kin, gb, a, b, n, dt, wrap_every, s0, sp, cf, wc, comp):
    """:func:`.kernels._rotor_advance` (no velocity flips) in float32 with :func:`_psin32`;
    ``comp`` as in :func:`_kick_drift32`."""
    c = (cf[0], cf[1], cf[2], cf[3], cf[4], cf[5], cf[6], cf[7], cf[8], cf[9], cf[10])
    s = b.shape[0]
    a_merged = (a[s] + a[0]) * dt
    _drift32(th, ct, pp, cp, kin, a[0] * dt, comp)
    for k in range(n):
        for i in range(s):
            cd = a[i + 1] * dt
            if i == s - 1 and k < n - 1:
                cd = a_merged
            _kick_drift32(th, ct, pp, cp, kin, gb, b[i] * dt, cd, s0, sp, c, comp)
        if ((k + 1) % wrap_every) == 0:
            _wrap32(th, ct, wc)
    _wrap32(th, ct, wc)


@njit(parallel=True, cache=True)
def rotor_steps32(theta, comp_t, p, comp_p, kin, gb, a, b, n_steps, dt, wrap_every, cf, wc, comp, n_chunks):
    """:func:`rotor_steps` on :func:`_advance32` (``comp_t``, ``comp_p``: the compensations
    of the angles and momenta, shaped as ``theta``)."""
    nb = theta.shape[0]
    for c in prange(n_chunks):
        s0 = np.empty_like(theta[0, 0])
        sp = np.empty_like(theta[0, 0])
        for blk in range((c * nb) // n_chunks, ((c + 1) * nb) // n_chunks):
            _advance32(theta[blk], comp_t[blk], p[blk], comp_p[blk], kin, gb, a, b, n_steps, dt, wrap_every, s0, sp,
                       cf, wc, comp)


@njit(parallel=True, cache=True)
def rotor_run32(theta, comp_t, p, comp_p, wref, kin32, gb32, kin, gb, a, b, segs, dt, M, n_chunks, left, right,
                nbonds, ncur, wrap_every, acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_dw2, ch_jt, cf, wc, comp):
    """:func:`.kernels.rotor_run` (no velocity flips) on the float32 step :func:`_advance32`:
    advance every block through the segments ``segs`` and measure after each. The measurement
    is float64: the block's compensated state (``theta - comp_t``, ``p - comp_p``) is copied
    into float64 scratch and measured by :func:`.kernels._rotor_measure`, so the energies,
    currents and their sums carry no float32 rounding of their own (``kin``, ``gb``: float64;
    ``kin32``, ``gb32``: the same in float32 for the step)."""
    nb, L, S = theta.shape
    n_out = segs.shape[0]
    for c in prange(n_chunks):
        s0 = np.empty(S, np.float32)
        sp = np.empty(S, np.float32)
        th64 = np.empty((L, S))
        p64 = np.empty((L, S))
        sn = np.empty((L, S))
        tot = np.empty((4, S))
        for blk in range((c * nb) // n_chunks, ((c + 1) * nb) // n_chunks):
            th, ct, pp, cp = theta[blk], comp_t[blk], p[blk], comp_p[blk]
            for o in range(n_out):
                if segs[o] > 0:
                    _advance32(th, ct, pp, cp, kin32, gb32, a, b, segs[o], dt, wrap_every, s0, sp, cf, wc, comp)
                for x in range(L):
                    for l in range(S):
                        th64[x, l] = np.float64(th[x, l]) - np.float64(ct[x, l])
                        p64[x, l] = np.float64(pp[x, l]) - np.float64(cp[x, l])
                kernels._rotor_measure(th64, p64, wref[blk], kin, gb, left, right, nbonds, ncur, sn, tot, blk, o,
                                       c, M, acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_dw2, ch_jt)


class RotorBatch:
    """``M`` rotor chains in the kernel layout, advanced in place by :meth:`advance`: the
    state between calls stays in the blocks (and, in float32, so does the compensation of
    the angles, which a round trip through :func:`rotor_evolve` would drop). ``q``, ``p``:
    ``(M, L)`` copies in the batch's precision (angles wrapped into [-pi, pi])."""

    def __init__(self, q, p, g, dt, scheme="aba864", *, precision="float64", m=1.0, lanes=None, threads=None,
                 wrap_every=None, compensated=True):
        if scheme not in ROTOR_SCHEMES:
            raise ValueError(f"scheme must be one of {sorted(ROTOR_SCHEMES)}, not {scheme!r}")
        self.dtype = dtype = _dtype(precision)
        q = np.atleast_2d(np.asarray(q, dtype=float))
        p = np.atleast_2d(np.asarray(p, dtype=float))
        if q.shape != p.shape:
            raise ValueError(f"q and p must have one shape, not {q.shape} and {p.shape}")
        self.M, L = q.shape
        if lanes is None:
            lanes = min(64, 1 << max(0, (self.M - 1).bit_length()))
        if wrap_every is None:  # float32: before a typical angle (|p| dt per step) can move by ~0.5
            wrap_every = max(1, min(32, int(0.5 / abs(dt)))) if dtype is np.float32 else 32
        sch = ROTOR_SCHEMES[scheme]
        self.scheme, self.dt, self.threads = scheme, float(dt), threads
        if compensated not in (True, False, "angles", "full"):
            raise ValueError(f"compensated must be True / 'angles', 'full' or False, not {compensated!r}")
        self.wrap_every = int(wrap_every)
        self.comp = {False: 0, True: 1, "angles": 1, "full": 2}[compensated]
        self.gb = _per_bond(g, L, "g").astype(dtype)
        self.kin = (1.0 / _per_bond(m, L, "m")).astype(dtype)
        self.th = _to_blocks(q, lanes, dtype)
        self.pp = _to_blocks(p, lanes, dtype)
        # float32: start the compensations from what rounding the float64 input lost
        if dtype is np.float32:
            self.ct = (self.th.astype(float) - _to_blocks(q, lanes, float)).astype(dtype)
            self.cp = (self.pp.astype(float) - _to_blocks(p, lanes, float)).astype(dtype)
        self.a = np.asarray(sch.a, dtype=dtype)
        self.b = np.asarray(sch.b, dtype=dtype)
        self.step = 0

    def advance(self, n_steps):
        n_steps = int(n_steps)
        if n_steps <= 0:
            return self
        nb = self.th.shape[0]
        with _Threads(self.threads):
            n_chunks = max(1, min(nb, 4 * numba.get_num_threads()))
            if self.dtype is np.float32:
                if self.comp < 1:
                    self.ct[...] = 0
                if self.comp < 2:
                    self.cp[...] = 0
                rotor_steps32(self.th, self.ct, self.pp, self.cp, self.kin, self.gb, self.a, self.b, n_steps,
                              np.float32(self.dt), self.wrap_every, PSIN32_CONSTS, WRAP32_CONSTS, self.comp, n_chunks)
            else:
                rotor_steps(self.th, self.pp, self.kin, self.gb, self.a, self.b, n_steps, self.dt, self.wrap_every,
                            kernels.PSIN_CONSTS, n_chunks)
        self.step += n_steps
        return self

    @property
    def q(self):
        return _from_blocks(self.th, self.M)

    @property
    def p(self):
        return _from_blocks(self.pp, self.M)


def rotor_evolve(q, p, g, dt, n_steps, scheme="aba864", *, precision="float64", m=1.0, lanes=None,
                 threads=None, wrap_every=None, compensated=True):
    """Evolve ``M`` rotor chains ``(q, p)`` (each ``(M, L)``; ``p`` the momenta,
    ``w = p / m``) by ``n_steps`` steps of ``dt`` with ``scheme``; returns ``(q, p)`` in the
    requested precision, angles wrapped into [-pi, pi]. ``g``: bond strengths (number or
    ``L`` values), ``m``: masses (number or ``L`` values). float32: ``compensated``
    (``True`` = ``"angles"``, the default; ``"full"``: the momenta too; ``False``) keeps the
    updates Kahan-compensated (see the module docstring: without it the energy drifts); the
    compensation lives for one call -- sample a long run through a :class:`RotorBatch`
    instead of repeated calls."""
    batch = RotorBatch(q, p, g, dt, scheme, precision=precision, m=m, lanes=lanes, threads=threads,
                       wrap_every=wrap_every, compensated=compensated)
    batch.advance(n_steps)
    return batch.q, batch.p


def rotor_energy(q, p, g, m=1.0):
    """Energy of each chain, ``sum p^2/2m + g (1 - cos(q_{x+1} - q_x))`` (float64)."""
    q = np.asarray(q, dtype=float)
    p = np.asarray(p, dtype=float)
    L = q.shape[-1]
    gb = _per_bond(g, L, "g")
    kin = 1.0 / _per_bond(m, L, "m")
    d = np.roll(q, -1, axis=-1) - q
    return 0.5 * (kin * p * p).sum(-1) + (gb * 2.0 * np.sin(0.5 * d) ** 2).sum(-1)


# ------------------------------------------------------------------------------------------
# DNLS


def _bond_groups(L, bc):
    if bc == "open":
        return [(0, L - 1, 2), (1, L - 1, 2)]
    if L % 2 == 0:
        return [(0, L, 2), (1, L, 2)]
    return [(0, L - 1, 2), (1, L - 1, 2), (L - 1, L, 1)]


def dnls_tables(L, g, dt, scheme, bc="periodic"):
    """The operator tables of one step of composition ``scheme`` for :func:`.kernels.dnls_run`:
    ``(op_kind, op_tau, (c, s, er, ei), g_start, g_stop, g_stride)``."""
    if scheme not in COMPOSITIONS:
        raise ValueError(f"scheme must be one of {sorted(COMPOSITIONS)}, not {scheme!r}")
    groups = _bond_groups(L, bc)
    seq = dnls_sequence(scheme, len(groups))
    op_kind = np.array([k for k, _ in seq], dtype=np.int64)
    op_tau = np.array([c * dt for _, c in seq])
    gb = _per_bond(g, L, "g")
    bc_tabs = _bond_propagators(np.outer(op_tau, gb))
    g_start = np.zeros(4, np.int64)
    g_stop = np.zeros(4, np.int64)
    g_stride = np.ones(4, np.int64)
    for k, (lo, hi, st) in enumerate(groups, start=1):
        g_start[k], g_stop[k], g_stride[k] = lo, hi, st
    return op_kind, op_tau, bc_tabs, g_start, g_stop, g_stride


def dnls_evolve(psi, w, U, g, dt, n_steps, scheme="suzuki5", *, bc="periodic", lanes=32, threads=None):
    """Evolve ``M`` DNLS chains ``psi`` (``(M, L)`` complex) by ``n_steps`` steps of ``dt``
    with the composition ``scheme``: ``i psi' = w psi + 2U|psi|^2 psi - g Lap psi``
    (physics.md model 5; ``w``, ``U`` per site, ``g`` per bond, numbers or arrays)."""
    psi = np.atleast_2d(np.asarray(psi, dtype=complex))
    M, L = psi.shape
    wx = _per_bond(w, L, "w")
    ux = _per_bond(U, L, "U")
    gb = _per_bond(g, L, "g")
    if bc == "open":
        gb = gb.copy()
        gb[L - 1] = 0.0
    op_kind, op_tau, (bcc, bcs, bcr, bci), g_start, g_stop, g_stride = dnls_tables(L, gb, dt, scheme, bc)
    lanes = int(min(lanes, 1 << max(0, (M - 1).bit_length())))
    re = _to_blocks(np.ascontiguousarray(psi.real), lanes, np.float64)
    im = _to_blocks(np.ascontiguousarray(psi.imag), lanes, np.float64)
    nb = re.shape[0]
    with _Threads(threads):
        n_chunks = max(1, min(nb, 4 * numba.get_num_threads()))
        acc = [np.zeros((n_chunks, 1, L)) for _ in range(4)]
        ch = [np.zeros((1, M)) for _ in range(3)]
        zeros = np.zeros(L)
        kernels.dnls_run(re, im, wx, ux, gb, op_kind, op_tau, bcc, bcs, bcr, bci, g_start, g_stop, g_stride,
                         np.array([int(n_steps)], np.int64), M, n_chunks, zeros, zeros, L, L, *acc, *ch)
    return _from_blocks(re, M) + 1j * _from_blocks(im, M)


def dnls_energy(psi, w, U, g, bc="periodic"):
    """``sum w|psi|^2 + U|psi|^4 + g |psi_{x+1} - psi_x|^2`` per chain (float64)."""
    psi = np.asarray(psi)
    L = psi.shape[-1]
    n = np.abs(psi) ** 2
    gb = _per_bond(g, L, "g")
    if bc == "open":
        gb = gb.copy()
        gb[L - 1] = 0.0
    return ((_per_bond(w, L, "w") * n + _per_bond(U, L, "U") * n * n).sum(-1)
            + (gb * np.abs(np.roll(psi, -1, axis=-1) - psi) ** 2).sum(-1))


def dnls_norm(psi):
    return (np.abs(np.asarray(psi)) ** 2).sum(-1)


def rotor_dt_max(scheme, g, m=1.0):
    """Linear stability bound of ``scheme`` on the rotor chain: ``dt * omega_max <= x_s``
    with ``omega_max^2 = 4 max(g / m)`` (the linearized chain's highest mode) and ``x_s``
    the scheme's stability interval on the harmonic oscillator
    (:func:`.schemes.linear_stability`: 2 for leapfrog, 3.14 for ABA864)."""
    omega = math.sqrt(4.0 * float(np.max(g)) / float(np.min(m)))
    return linear_stability(scheme) / omega if omega > 0 else math.inf
