r"""Compiled (numba) kernels of the classical integrators.

Layout: a batch of ``M`` chains is stored ``[block][site][lane]`` with ``S`` lanes (chains)
per block, so that the innermost loop runs over independent chains and vectorizes; a block
stays in L1 cache while it is advanced through all its time steps, and threads take whole
blocks (no per-step synchronisation). Observables are accumulated inside the compiled loop
at the output steps only; per-thread-chunk partial sums avoid races.

The sine in the force is a polynomial (range reduction to ``[-pi/2, pi/2]`` and a degree-15
odd fit, max error 9e-16) because ``math.sin`` does not vectorize here (measured 20x).

Longer than the ~400 lines a module is kept to: every kernel is one compiled loop with the
specialised formulas of its model written out (splitting it would cost inlining across
modules, and the kernels share the polynomial sine and the FMA intrinsic defined here).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir as _llir
from numba import njit, prange, types
from numba.extending import intrinsic

_C1 = -0.166666666666658
_C2 = 0.00833333333326216
_C3 = -0.00019841269820026878
_C4 = 2.755731607768885e-06
_C5 = -2.5051851917814214e-08
_C6 = 1.6047322794556238e-10
_C7 = -7.364991773015619e-13
_PI = math.pi
_INV_PI = 1.0 / math.pi
_TWO_PI = 2.0 * math.pi
_INV_TWO_PI = 1.0 / (2.0 * math.pi)
_HALF_PI = 0.5 * math.pi

_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xBF58476D1CE4E5B9)
_K3 = np.uint64(0x94D049BB133111EB)
_K4 = np.uint64(0xD1B54A32D192ED03)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)


# psin's constants. rotor_run takes them as an argument (PSIN_CONSTS) and unpacks them once:
# LLVM then keeps them in vector registers in the hot loop instead of re-broadcasting them from
# the constant pool on every iteration (measured ~5% of the leapfrog); the other kernels use
# the compile-time copy.
PSIN_CONSTS = np.array([_C1, _C2, _C3, _C4, _C5, _C6, _C7, _PI, _INV_PI, 0.5, 1.0, 4.0])
_PSIN_CONSTS = tuple(float(v) for v in PSIN_CONSTS)


@njit(inline="always")
def _psin_consts(cf):
    return (cf[0], cf[1], cf[2], cf[3], cf[4], cf[5], cf[6], cf[7], cf[8], cf[9], cf[10], cf[11])


@njit(inline="always", fastmath=True)
def _psin(x, c):
    """sin(x) for any x: reduce to r in [-pi/2, pi/2] with x = r + k pi, sin = (-1)^k sin r.
    ``c`` is ``_PSIN_CONSTS`` (or the same values unpacked at run time)."""
    c1, c2, c3, c4, c5, c6, c7, pi, inv_pi, half, one, four = c
    k = np.floor(x * inv_pi + half)
    r = x - k * pi
    h = half * k
    sign = one - four * (h - np.floor(h))
    r2 = r * r
    q = c7
    q = q * r2 + c6
    q = q * r2 + c5
    q = q * r2 + c4
    q = q * r2 + c3
    q = q * r2 + c2
    q = q * r2 + c1
    return sign * (r + r * r2 * q)


@njit(inline="always", fastmath=True)
def psin(x):
    return _psin(x, _PSIN_CONSTS)


@njit(inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _K2
    z = (z ^ (z >> _S27)) * _K3
    return z ^ (z >> _S31)


@njit(inline="always")
def hash_uniform(seed, chain, site, step):
    """Counter-based uniform in [0, 1): the same number for the same (seed, chain, site, step),
    whatever the thread count or block layout."""
    z = _mix(np.uint64(seed) + np.uint64(chain) * _K1)
    z = _mix(z ^ (np.uint64(site) * _K4))
    z = _mix(z + np.uint64(step) * _K2)
    return np.float64(z >> _S11) * (1.0 / 9007199254740992.0)


# ------------------------------------------------------------------------------------------
# rotor chain


@njit(inline="always", fastmath=True)
def _rotor_kick(th, pp, sb, gb, c):
    L, S = th.shape
    for x in range(L - 1):
        g = gb[x]
        for l in range(S):
            sb[x, l] = g * psin(th[x + 1, l] - th[x, l])
    g = gb[L - 1]
    for l in range(S):
        sb[L - 1, l] = g * psin(th[0, l] - th[L - 1, l])
    for l in range(S):
        pp[0, l] += c * (sb[0, l] - sb[L - 1, l])
    for x in range(1, L):
        for l in range(S):
            pp[x, l] += c * (sb[x, l] - sb[x - 1, l])


@njit(inline="always", fastmath=True)
def _rotor_kick_drift(th, pp, kin, gb, ck, cd, s0, sp, c):
    """A kick by ``ck`` followed by a drift by ``cd``, fused into one pass over the sites
    (the force on x needs bonds x-1 and x, computed from angles not yet drifted); ``c`` are
    psin's constants."""
    L, S = th.shape
    g = gb[L - 1]
    for l in range(S):
        s0[l] = g * _psin(th[0, l] - th[L - 1, l], c)
        sp[l] = s0[l]
    for x in range(L - 1):
        g = gb[x]
        cdk = cd * kin[x]
        for l in range(S):
            s = g * _psin(th[x + 1, l] - th[x, l], c)
            pn = pp[x, l] + ck * (s - sp[l])
            pp[x, l] = pn
            th[x, l] += cdk * pn
            sp[l] = s
    cdk = cd * kin[L - 1]
    for l in range(S):
        pn = pp[L - 1, l] + ck * (s0[l] - sp[l])
        pp[L - 1, l] = pn
        th[L - 1, l] += cdk * pn


@njit(inline="always", fastmath=True)
def _rotor_drift(th, pp, kin, c):
    L, S = th.shape
    for x in range(L):
        ck = c * kin[x]
        for l in range(S):
            th[x, l] += ck * pp[x, l]


@njit(inline="always", fastmath=True)
def _wrap(th):
    L, S = th.shape
    for x in range(L):
        for l in range(S):
            t = th[x, l]
            th[x, l] = t - _TWO_PI * np.floor(t * _INV_TWO_PI + 0.5)


@njit(inline="always")
def _rotor_flip(pp, prob, seed, m0, M, step):
    L, S = pp.shape
    for x in range(L):
        for l in range(S):
            if m0 + l < M and hash_uniform(seed, m0 + l, x, step) < prob:
                pp[x, l] = -pp[x, l]


@njit(inline="always", fastmath=True)
def _rotor_measure(th, pp, wref, kin, gb, left, right, nbonds, ncur, sn, tot, blk, o, c, M,
                   acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_dw2, ch_jt):
    """Add block ``blk``'s chains to the output-``o`` sums of chunk ``c`` and store their
    per-chain totals. Lanes are the inner loops (vectorized, as the dynamics); the sines
    are :func:`psin` and ``1 - cos d = 2 sin^2(d/2)`` (no cancellation at small ``d``): one
    measurement costs about 4 time steps, against ~55 with a libm sin and cos per chain and
    bond (measured). ``sn`` (sites x lanes) and ``tot`` (4 x lanes) are scratch."""
    L, S = th.shape
    nl = min(S, M - blk * S)  # the block's real chains; the rest are padding
    e_tot = tot[0]
    q_tot = tot[1]
    dw2 = tot[2]
    j_tot = tot[3]
    for l in range(nl):
        e_tot[l] = 0.0
        q_tot[l] = 0.0
        dw2[l] = 0.0
        j_tot[l] = 0.0
    for x in range(L):
        k = kin[x]
        sx = 0.0
        for l in range(nl):
            p = pp[x, l]
            sx += p
            q_tot[l] += p
            d = k * p - wref[x, l]
            dw2[l] += d * d
        acc_n[c, o, x] += sx
    for b in range(nbonds):
        y = b + 1 if b + 1 < L else 0
        g = gb[b]
        hl = left[b] * 0.5 * kin[b]
        hr = right[b] * 0.5 * kin[y]
        sh = 0.0
        ss = 0.0
        for l in range(nl):
            dth = th[y, l] - th[b, l]
            sv = g * psin(dth)
            sn[b, l] = sv
            sh2 = psin(0.5 * dth)
            h = g * (2.0 * sh2 * sh2) + hl * pp[b, l] ** 2 + hr * pp[y, l] ** 2
            sh += h
            ss += sv
            e_tot[l] += h
        acc_h[c, o, b] += sh
        acc_q[c, o, b] -= ss
    for b in range(ncur):
        y = b + 1 if b + 1 < L else 0
        nx = b + 1 if b + 1 < nbonds else 0
        ky = kin[y]
        rb = right[b]
        ln = left[nx]
        sj = 0.0
        for l in range(nl):
            kp = ky * pp[y, l]
            j = -sn[nx, l] * rb * kp - ln * kp * sn[b, l]
            sj += j
            j_tot[l] += j
        acc_j[c, o, b] += sj
    m0 = blk * S
    for l in range(nl):
        ch_e[o, m0 + l] = e_tot[l]
        ch_q[o, m0 + l] = q_tot[l]
        ch_dw2[o, m0 + l] = dw2[l]
        ch_jt[o, m0 + l] = j_tot[l]


@njit(inline="always")
def _aligned_empty(n):
    """``n`` doubles starting on a 64-byte boundary (numba's np.empty aligns to 32): the
    lane loops use full-width AVX-512 loads and stores, which are slower across cache lines."""
    buf = np.empty(n + 8)
    k = ((64 - buf.ctypes.data % 64) % 64) // 8
    return buf[k:k + n]


@intrinsic
def _next_chunk(typingctx, counter):
    """``counter[0]++`` (int64 array), atomically; returns the old value."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.atomic_rmw("add", ary.data, _llir.Constant(_llir.IntType(64), 1), "monotonic")

    return types.int64(counter), codegen


@njit(fastmath=True, cache=True)
def _rotor_advance(th, pp, kin, gb, a, b, n, dt, flip_prob, seed, m0, M, step, wrap_every, s0, sp, cf):
    """Advance one block ``th, pp`` (sites x lanes) by ``n`` steps from ``step``; returns the
    new step. One step is the composition ``D(a0) K(b0) D(a1) ... K(b_{s-1}) D(a_s)``;
    consecutive end/start drifts are merged unless velocity flips act in between.

    A function of its own (not inlined into the parallel loop), with one call site of the
    fused kick-drift: its hot loop then gets the vector registers to itself."""
    c = _psin_consts(cf)
    s = b.shape[0]
    a_merged = (a[s] + a[0]) * dt
    _rotor_drift(th, pp, kin, a[0] * dt)
    for k in range(n):
        split = k == n - 1 or flip_prob > 0.0  # the end drift is not merged with the next start
        for i in range(s):
            cd = a[i + 1] * dt
            if i == s - 1 and not split:
                cd = a_merged
            _rotor_kick_drift(th, pp, kin, gb, b[i] * dt, cd, s0, sp, c)
        step += 1
        if k < n - 1 and flip_prob > 0.0:
            _rotor_flip(pp, flip_prob, seed, m0, M, step)
            _rotor_drift(th, pp, kin, a[0] * dt)
        if (step % wrap_every) == 0:
            _wrap(th)
    if flip_prob > 0.0:
        _rotor_flip(pp, flip_prob, seed, m0, M, step)
    _wrap(th)
    return step


@njit(parallel=True, fastmath=True, cache=True)
def rotor_run(theta, p, wref, kin, gb, a, b, segs, step0, dt, M, n_chunks, left, right,
              nbonds, ncur, flip_prob, seed, wrap_every,
              acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_dw2, ch_jt, cf, n_workers):
    """Advance every block through the segments ``segs`` (steps before each output) and
    measure at the end of each segment (see :func:`_rotor_advance`). ``cf`` is
    ``PSIN_CONSTS``.

    The blocks form ``n_chunks`` fixed ranges (each with its own partial sums, so the result
    does not depend on which thread ran it); ``n_workers`` threads take the chunks one at a
    time from an atomic counter, so that a thread slowed by other load on the machine takes
    fewer (a static split waits for the slowest)."""
    nb, L, S = theta.shape
    n_out = segs.shape[0]
    counter = np.zeros(1, np.int64)
    for _w in prange(n_workers):
        s0 = _aligned_empty(S)
        sp = _aligned_empty(S)
        sn = np.empty((L, S))
        tot = np.empty((4, S))
        c = _next_chunk(counter)
        while c < n_chunks:
            for blk in range((c * nb) // n_chunks, ((c + 1) * nb) // n_chunks):
                th = theta[blk]
                pp = p[blk]
                step = step0
                for o in range(n_out):
                    n = segs[o]
                    if n > 0:
                        step = _rotor_advance(th, pp, kin, gb, a, b, n, dt, flip_prob, seed, blk * S, M, step,
                                              wrap_every, s0, sp, cf)
                    _rotor_measure(th, pp, wref[blk], kin, gb, left, right, nbonds, ncur, sn, tot, blk, o, c, M,
                                   acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_dw2, ch_jt)
            c = _next_chunk(counter)


@njit(parallel=True, fastmath=True, cache=True)
def rotor_langevin(theta, p, kin, gb, dt, n_steps, gamma, beta, M, seed, step0):
    """BAOAB Langevin dynamics at inverse temperature ``beta`` and friction ``gamma``
    (``p`` is the momentum; its equilibrium variance is ``m / beta``)."""
    nb, L, S = theta.shape
    c1 = math.exp(-gamma * dt)
    c2 = math.sqrt(1.0 - c1 * c1)
    for blk in prange(nb):
        th = theta[blk]
        pp = p[blk]
        sb = np.empty((L, S))
        for k in range(n_steps):
            step = step0 + k
            _rotor_kick(th, pp, sb, gb, 0.5 * dt)
            _rotor_drift(th, pp, kin, 0.5 * dt)
            for x in range(L):
                sd = c2 * math.sqrt(1.0 / (kin[x] * beta))
                for l in range(S):
                    m = blk * S + l
                    u1 = hash_uniform(seed, m, 2 * x, step)
                    u2 = hash_uniform(seed, m, 2 * x + 1, step)
                    xi = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
                    pp[x, l] = c1 * pp[x, l] + sd * xi
            _rotor_drift(th, pp, kin, 0.5 * dt)
            _rotor_kick(th, pp, sb, gb, 0.5 * dt)
            if (k & 31) == 31:
                _wrap(th)
        _wrap(th)


# ------------------------------------------------------------------------------------------
# DNLS chain: psi = re + i im


# no 'reassoc': the modulus correction below relies on the evaluation order it is written in
_DNLS_FLAGS = {"nnan", "ninf", "nsz", "arcp", "contract", "afn"}


@intrinsic
def _dnls_fma(typingctx, a, b, c):
    """a * b + c with one rounding (``llvm.fma``), whatever the fastmath flags: the exact
    product error ``fma(a, b, -a*b)`` below must not be left to optional contraction."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        d = _llir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], _llir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)

    return sig, codegen


@njit(inline="always", fastmath=_DNLS_FLAGS)
def _dnls_sin(r):
    """sin r for |r| <= pi/2: the polynomial of :func:`psin` without its range reduction.
    Written out again on purpose: sharing one inlined polynomial with ``_psin`` (constants
    from a tuple) gave bitwise-equal results but a 3-13% slower split2 (measured)."""
    r2 = r * r
    q = _C7
    q = q * r2 + _C6
    q = q * r2 + _C5
    q = q * r2 + _C4
    q = q * r2 + _C3
    q = q * r2 + _C2
    q = q * r2 + _C1
    return r + r * r2 * q


@njit(inline="always", fastmath=_DNLS_FLAGS)
def _dnls_onsite(re, im, wx, ux, tau):
    """psi_x <- exp(-i (w_x + 2 U_x |psi_x|^2) tau) psi_x.

    Round-off must not bias the norm: a bias of 1e-17 per site and step is a drift of 1e-12
    over 10^5 steps. Two sources, both removed:

    * the modulus of the rounded rotation (cs, sn) = (1 - c1, sn), c1 = 2 sin^2(r/2) for the
      angle reduced mod pi to r in [-pi/2, pi/2]: its error e = sn^2 - 2 c1 + c1^2 is computed
      to ~1e-32 (sn^2 split exactly with fma, p - 2 c1 exact) and divided out, h = -e/2;
    * the rounding of that correction. Applied to the already rounded rotation, as before, it
      is below half an ulp and mostly rounded away: a residual bias of 1e-17 per call (up to
      2e-16 past |angle| = pi/2), the whole of the split4 drift. Here the output is psi + d,
      d = (1 + h) R psi - psi built by fmas from the exact -c1 psi + sn J psi and the tiny
      correction terms, so that every rounding is of an exact value and unbiased.

    Measured over random inputs, angles up to 3: bias per call < 1e-18, zero within the
    resolution of the measurement (was 1e-17 to 2e-16)."""
    L, S = re.shape
    for x in range(L):
        w = wx[x]
        u2 = 2.0 * ux[x]
        for l in range(S):
            xr = re[x, l]
            xi = im[x, l]
            ang = (w + u2 * (xr * xr + xi * xi)) * tau
            # ang = r + k pi, |r| <= pi/2: rotate by r, then multiply by (-1)^k (exact)
            kq = np.floor(ang * _INV_PI + 0.5)
            r = ang - kq * _PI
            hk = 0.5 * kq
            sg = 1.0 - 4.0 * (hk - np.floor(hk))
            xr *= sg
            xi *= sg
            sn = _dnls_sin(r)
            s2 = _dnls_sin(0.5 * r)
            c1 = 2.0 * s2 * s2  # 1 - cos r
            p = sn * sn
            # p - 2 c1 is exact (Sterbenz: p / 2 c1 = (1 + cos r) / 2); p feeds only fmas, so
            # it cannot be contracted into them
            h = -0.5 * (_dnls_fma(c1, c1, _dnls_fma(-2.0, c1, p)) + _dnls_fma(sn, sn, -p))
            g = h - h * c1  # (1 + h) R psi - psi = (R - 1) psi + g psi + v J psi
            v = h * sn
            re[x, l] = xr + _dnls_fma(sn, xi, _dnls_fma(-c1, xr, g * xr + v * xi))
            im[x, l] = xi + _dnls_fma(-sn, xr, _dnls_fma(-c1, xi, g * xi - v * xr))


@njit(inline="always", fastmath=_DNLS_FLAGS)
def _dnls_bonds(re, im, start, stop, stride, b_ar, b_ai, b_br, b_bi):
    """Exact flow of the bonds ``range(start, stop, stride)`` (disjoint):
    (psi_x, psi_y) <- [[a, b], [b, a]] (psi_x, psi_y), a = e^{-i g tau} cos(g tau),
    b = i e^{-i g tau} sin(g tau)."""
    L, S = re.shape
    for bnd in range(start, stop, stride):
        y = bnd + 1 if bnd + 1 < L else 0
        ar = b_ar[bnd]
        ai = b_ai[bnd]
        br = b_br[bnd]
        bi = b_bi[bnd]
        for l in range(S):
            xr = re[bnd, l]
            xi = im[bnd, l]
            yr = re[y, l]
            yi = im[y, l]
            re[bnd, l] = ar * xr - ai * xi + br * yr - bi * yi
            im[bnd, l] = ar * xi + ai * xr + br * yi + bi * yr
            re[y, l] = br * xr - bi * xi + ar * yr - ai * yi
            im[y, l] = br * xi + bi * xr + ar * yi + ai * yr


@njit(inline="always")
def _dnls_measure(re, im, wx, ux, gb, left, right, nbonds, ncur, blk, o, c, M,
                  acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_jt):
    L, S = re.shape
    for l in range(S):
        m = blk * S + l
        if m >= M:
            continue
        q_tot = 0.0
        for x in range(L):
            n = re[x, l] ** 2 + im[x, l] ** 2
            acc_n[c, o, x] += n
            q_tot += n
        e_tot = 0.0
        for b in range(nbonds):
            y = b + 1 if b + 1 < L else 0
            nx_ = re[b, l] ** 2 + im[b, l] ** 2
            ny_ = re[y, l] ** 2 + im[y, l] ** 2
            dr = re[y, l] - re[b, l]
            di = im[y, l] - im[b, l]
            h = (gb[b] * (dr * dr + di * di) + left[b] * (wx[b] * nx_ + ux[b] * nx_ * nx_)
                 + right[b] * (wx[y] * ny_ + ux[y] * ny_ * ny_))
            acc_h[c, o, b] += h
            e_tot += h
            acc_q[c, o, b] += 2.0 * gb[b] * (re[b, l] * im[y, l] - im[b, l] * re[y, l])
        j_tot = 0.0
        for b in range(ncur):
            y = b + 1 if b + 1 < L else 0
            z = y + 1 if y + 1 < L else 0
            nx = b + 1 if b + 1 < nbonds else 0
            ny_ = re[y, l] ** 2 + im[y, l] ** 2
            f = wx[y] + 2.0 * ux[y] * ny_
            # d h / d conj(psi_y) of bond b (B) and of bond b+1 (A)
            br = gb[b] * (re[y, l] - re[b, l]) + right[b] * f * re[y, l]
            bi = gb[b] * (im[y, l] - im[b, l]) + right[b] * f * im[y, l]
            ar = -gb[nx] * (re[z, l] - re[y, l]) + left[nx] * f * re[y, l]
            ai = -gb[nx] * (im[z, l] - im[y, l]) + left[nx] * f * im[y, l]
            j = 2.0 * (ar * bi - ai * br)
            acc_j[c, o, b] += j
            j_tot += j
        ch_e[o, m] = e_tot
        ch_q[o, m] = q_tot
        ch_jt[o, m] = j_tot


@njit(parallel=True, fastmath=_DNLS_FLAGS, cache=True)
def dnls_run(re, im, wx, ux, gb, op_kind, op_tau, bc_c, bc_s, bc_er, bc_ei, g_start, g_stop, g_stride,
             segs, M, n_chunks, left, right, nbonds, ncur,
             acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_jt):
    """Advance every block through ``segs`` steps per output. One step is the sequence of
    exact flows ``op_kind[i]`` (0: on-site phase rotation for ``op_tau[i]``; k >= 1: the
    bonds ``range(g_start[k], g_stop[k], g_stride[k])`` rotated with the 2x2 propagator
    coefficients ``bc_*[i]``)."""
    nb, L, S = re.shape
    n_ops = op_kind.shape[0]
    n_out = segs.shape[0]
    for c in prange(n_chunks):
        for blk in range((c * nb) // n_chunks, ((c + 1) * nb) // n_chunks):
            r = re[blk]
            i_ = im[blk]
            for o in range(n_out):
                for _k in range(segs[o]):
                    for op in range(n_ops):
                        kind = op_kind[op]
                        if kind == 0:
                            _dnls_onsite(r, i_, wx, ux, op_tau[op])
                        else:
                            _dnls_bonds(r, i_, g_start[kind], g_stop[kind], g_stride[kind],
                                        bc_c[op], bc_s[op], bc_er[op], bc_ei[op])
                _dnls_measure(r, i_, wx, ux, gb, left, right, nbonds, ncur, blk, o, c, M,
                              acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_jt)
