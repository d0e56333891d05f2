r"""Rotor and DNLS batches on a GPU, one chain per thread (numba.cuda).

Why numba.cuda (and not CuPy or JAX): the CPU kernels are numba already, and so is this
one -- the same loop over sites with the fused kick-drift, the same coefficient tables of
:mod:`.schemes`, the same conventions, in one language; and numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``) runs this very kernel source on the CPU, so the default test
suite checks it against the CPU kernel on a machine without a GPU. CuPy would need the
kernel as CUDA C in a string (``RawKernel``; its array expressions launch one kernel per
site and substep), and JAX expresses the step as whole-array operations under
``lax.scan``: the per-chain sequential sweep over sites (the fused kick-drift) does not map
to either without a rewrite, and neither has a simulator that runs the same kernel code on
a CPU.

Layout: ``[site][chain]`` (the chain index fastest), so that the threads of a warp, which
hold consecutive chains, read and write consecutive addresses (coalesced); each thread
sweeps its chain's sites as the CPU kernel sweeps a lane. The CPU layout ``[block][site]
[lane]`` is the same thing with one block of ``M`` lanes. ``math.sin`` is the GPU's own
(the precise one: the kernel is compiled without ``fastmath``, whose reassociation would
cancel the compensated sums). float32 keeps the CPU float32 kernel's two-part 2 pi wrap and
its compensated updates (``compensated``: angles, or ``"full"``: momenta too; the reason
is in :mod:`.kernels_sym`).

Not measured here: no GPU was lent to this work. :func:`site_updates_per_second` is what a
benchmark on a lent GPU prints beside the CPU kernel's figure.
"""

from __future__ import annotations

import math

import numpy as np

try:  # a module global: numba's simulator swaps the name ``cuda`` in a kernel's globals
    from numba import cuda
except Exception:  # pragma: no cover - numba without its cuda module
    cuda = None

from .kernels_sym import _per_bond, dnls_tables
from .schemes import ROTOR_SCHEMES

_KERNELS = {}


def available():
    """``(True, "")`` where a GPU (or the simulator) can run the kernels, else ``(False, why)``."""
    if cuda is None:
        return False, "numba.cuda does not import"
    try:
        if cuda.is_available():
            return True, ""
    except Exception as exc:  # pragma: no cover
        return False, f"no CUDA device: {exc}"
    return False, "no CUDA device (set NUMBA_ENABLE_CUDASIM=1 to run the kernels in numba's simulator)"


def simulator():
    from numba import config

    return bool(config.ENABLE_CUDASIM)


def _rotor_kernel():
    if "rotor" in _KERNELS:
        return _KERNELS["rotor"]
    # no fastmath: its reassociation would cancel the compensated sums
    @cuda.jit(device=True, inline=True)
    def add_comp(arr, comp_arr, x, m, v):
        t0 = arr[x, m]
        y = v - comp_arr[x, m]
        t = t0 + y
        comp_arr[x, m] = (t - t0) - y
        arr[x, m] = t

    @cuda.jit
    def rotor(theta, ct, p, cp, kin, gb, a, b, n_steps, dt, wrap_every, wc, comp):
        """``comp`` as in kernels_sym._kick_drift32: 0 plain, 1 angles compensated, 2 the
        momenta too."""
        m = cuda.grid(1)
        L = theta.shape[0]
        if m >= theta.shape[1]:
            return
        s = b.shape[0]
        c0 = a[0] * dt
        for x in range(L):
            if comp == 2:
                add_comp(theta, ct, x, m, (c0 * kin[x]) * (p[x, m] - cp[x, m]))
            elif comp == 1:
                add_comp(theta, ct, x, m, (c0 * kin[x]) * p[x, m])
            else:
                theta[x, m] += (c0 * kin[x]) * p[x, m]
        a_merged = (a[s] + a[0]) * dt
        for k in range(n_steps):
            for i in range(s):
                ck = b[i] * dt
                cd = a[i + 1] * dt
                if i == s - 1 and k < n_steps - 1:
                    cd = a_merged
                s0 = gb[L - 1] * math.sin(theta[0, m] - theta[L - 1, m])
                sp = s0
                for x in range(L):
                    if x < L - 1:
                        sv = gb[x] * math.sin(theta[x + 1, m] - theta[x, m])
                    else:
                        sv = s0
                    if comp == 2:
                        add_comp(p, cp, x, m, ck * (sv - sp))
                        add_comp(theta, ct, x, m, (cd * kin[x]) * (p[x, m] - cp[x, m]))
                    else:
                        pn = p[x, m] + ck * (sv - sp)
                        p[x, m] = pn
                        if comp == 1:
                            add_comp(theta, ct, x, m, (cd * kin[x]) * pn)
                        else:
                            theta[x, m] += (cd * kin[x]) * pn
                    sp = sv
            if (k + 1) % wrap_every == 0 or k == n_steps - 1:
                for x in range(L):  # two-part 2 pi, the rounding into ct (see kernels_sym._wrap32)
                    t = theta[x, m]
                    kk = math.floor(t * wc[2] + wc[3])
                    a0 = t - kk * wc[0]
                    y = kk * wc[1] + ct[x, m]
                    tn = a0 - y
                    ct[x, m] = (tn - a0) + y
                    theta[x, m] = tn

    _KERNELS["rotor"] = rotor
    return rotor


def _dnls_kernel():
    if "dnls" in _KERNELS:
        return _KERNELS["dnls"]
    @cuda.jit
    def dnls(re, im, wx, ux, op_kind, op_tau, bc_c, bc_s, bc_er, bc_ei, g_start, g_stop, g_stride, n_steps):
        m = cuda.grid(1)
        L = re.shape[0]
        if m >= re.shape[1]:
            return
        for _k in range(n_steps):
            for op in range(op_kind.shape[0]):
                kind = op_kind[op]
                if kind == 0:
                    tau = op_tau[op]
                    for x in range(L):
                        xr = re[x, m]
                        xi = im[x, m]
                        ang = (wx[x] + 2.0 * ux[x] * (xr * xr + xi * xi)) * tau
                        c = math.cos(ang)
                        sn = math.sin(ang)
                        re[x, m] = c * xr + sn * xi
                        im[x, m] = c * xi - sn * xr
                else:
                    for bnd in range(g_start[kind], g_stop[kind], g_stride[kind]):
                        y = bnd + 1 if bnd + 1 < L else 0
                        ar = bc_c[op, bnd]
                        ai = bc_s[op, bnd]
                        br = bc_er[op, bnd]
                        bi = bc_ei[op, bnd]
                        xr = re[bnd, m]
                        xi = im[bnd, m]
                        yr = re[y, m]
                        yi = im[y, m]
                        re[bnd, m] = ar * xr - ai * xi + br * yr - bi * yi
                        im[bnd, m] = ar * xi + ai * xr + br * yi + bi * yr
                        re[y, m] = br * xr - bi * xi + ar * yr - ai * yi
                        im[y, m] = br * xi + bi * xr + ar * yi + ai * yr

    _KERNELS["dnls"] = dnls
    return dnls


def _wrap_consts(dtype):
    hi = dtype(2 * math.pi)
    return np.array([hi, 2 * math.pi - float(hi), 1 / (2 * math.pi), 0.5], dtype)


def _launch(kernel, M, threads_per_block, *args):
    tpb = int(min(threads_per_block, max(32, 32 * -(-M // 32))))
    kernel[-(-M // tpb), tpb](*args)


def rotor_evolve_gpu(q, p, g, dt, n_steps, scheme="aba864", *, precision="float64", m=1.0, wrap_every=None,
                     compensated=True, threads_per_block=128):
    """:func:`.kernels_sym.rotor_evolve` on the GPU: ``(M, L)`` in, ``(M, L)`` out (host
    arrays; the batch is copied to the device once, advanced ``n_steps`` steps there, and
    copied back). ``compensated`` as in :func:`.kernels_sym.rotor_evolve` (float32 only)."""
    dtype = {"float64": np.float64, "float32": np.float32}[precision]
    q = np.atleast_2d(np.asarray(q, dtype=float))
    p = np.atleast_2d(np.asarray(p, dtype=float))
    M, L = q.shape
    sch = ROTOR_SCHEMES[scheme]
    if wrap_every is None:
        wrap_every = max(1, min(32, int(0.5 / abs(dt)))) if dtype is np.float32 else 32
    th = cuda.to_device(np.ascontiguousarray(q.T, dtype=dtype))
    pp = cuda.to_device(np.ascontiguousarray(p.T, dtype=dtype))
    ct = cuda.to_device(np.zeros((L, M), dtype))
    cp = cuda.to_device(np.zeros((L, M), dtype))
    comp = {False: 0, True: 1, "angles": 1, "full": 2}[compensated] if dtype is np.float32 else 0
    args = (th, ct, pp, cp, cuda.to_device((1.0 / _per_bond(m, L, "m")).astype(dtype)),
            cuda.to_device(_per_bond(g, L, "g").astype(dtype)),
            cuda.to_device(np.asarray(sch.a, dtype)), cuda.to_device(np.asarray(sch.b, dtype)),
            int(n_steps), dtype(dt), int(wrap_every), cuda.to_device(_wrap_consts(dtype)), comp)
    if int(n_steps) > 0:
        _launch(_rotor_kernel(), M, threads_per_block, *args)
    cuda.synchronize()
    return th.copy_to_host().T.copy(), pp.copy_to_host().T.copy()


def dnls_evolve_gpu(psi, w, U, g, dt, n_steps, scheme="suzuki5", *, bc="periodic", threads_per_block=128):
    """:func:`.kernels_sym.dnls_evolve` on the GPU (float64)."""
    psi = np.atleast_2d(np.asarray(psi, dtype=complex))
    M, L = psi.shape
    gb = _per_bond(g, L, "g")
    if bc == "open":
        gb = gb.copy()
        gb[L - 1] = 0.0
    op_kind, op_tau, tabs, g_start, g_stop, g_stride = dnls_tables(L, gb, dt, scheme, bc)
    re = cuda.to_device(np.ascontiguousarray(psi.real.T))
    im = cuda.to_device(np.ascontiguousarray(psi.imag.T))
    args = (re, im, cuda.to_device(_per_bond(w, L, "w")), cuda.to_device(_per_bond(U, L, "U")),
            cuda.to_device(op_kind), cuda.to_device(op_tau), *(cuda.to_device(np.ascontiguousarray(t)) for t in tabs),
            cuda.to_device(g_start), cuda.to_device(g_stop), cuda.to_device(g_stride), int(n_steps))
    if int(n_steps) > 0:
        _launch(_dnls_kernel(), M, threads_per_block, *args)
    cuda.synchronize()
    return re.copy_to_host().T + 1j * im.copy_to_host().T


def site_updates_per_second(M=65536, L=64, n_steps=200, scheme="aba864", precision="float32", repeats=3,
                            compensated=True):
    """Force evaluations (site kicks) per second of the GPU rotor kernel on random chains,
    the batch kept on the device (the median of ``repeats`` timed launches after a warm-up)."""
    import time

    dtype = {"float64": np.float64, "float32": np.float32}[precision]
    rng = np.random.default_rng(0)
    sch = ROTOR_SCHEMES[scheme]
    th = cuda.to_device(rng.uniform(-np.pi, np.pi, (L, M)).astype(dtype))
    ct = cuda.to_device(np.zeros((L, M), dtype))
    cp = cuda.to_device(np.zeros((L, M), dtype))
    pp = cuda.to_device(rng.normal(size=(L, M)).astype(dtype))
    rest = (cuda.to_device(np.ones(L, dtype)), cuda.to_device(np.ones(L, dtype)),
            cuda.to_device(np.asarray(sch.a, dtype)), cuda.to_device(np.asarray(sch.b, dtype)))
    wc = cuda.to_device(_wrap_consts(dtype))
    comp = {False: 0, True: 1, "angles": 1, "full": 2}[compensated] if dtype is np.float32 else 0
    k = _rotor_kernel()
    _launch(k, M, 128, th, ct, pp, cp, *rest, 2, dtype(0.1), 32, wc, comp)
    cuda.synchronize()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _launch(k, M, 128, th, ct, pp, cp, *rest, n_steps, dtype(0.1), 5 if comp else 32, wc, comp)
        cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return M * L * n_steps * sch.kicks / float(np.median(times))
