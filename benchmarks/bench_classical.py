"""Classical kernels: site-updates per second of the numba rotor leapfrog against a plain C
kernel compiled here (gcc -O3 -march=native -ffast-math, same layout and polynomial sine,
double precision), side by side in one run; and the DNLS split2 / split4 figures.

    python benchmarks/bench_classical.py [--steps 2000] [--repeats 5]

Every repeat runs C and numba on 1 and 2 threads in turn (the machine is shared); printed are
the medians (and bests) of the rates, wall-clock and per CPU-second, and the median over the
repeats of each repeat's numba / C-1-thread ratio. Both kernels get 64-byte aligned arrays.
One "site update" is one site advanced by one time step of the scheme (leapfrog: one force
evaluation per step).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import tempfile
import threading
import time

import numba
import numpy as np

import tnmbl
from tnmbl.engines.classical import ClassicalEngine
from tnmbl.states import classical as cs

HERE = os.path.dirname(os.path.abspath(__file__))


def build_c():
    out = os.path.join(tempfile.mkdtemp(prefix="tnmbl-bench-"), "librotor.so")
    cmd = ["gcc", "-O3", "-march=native", "-ffast-math", "-shared", "-fPIC", "-o", out,
           os.path.join(HERE, "rotor_leapfrog.c")]
    subprocess.run(cmd, check=True)
    lib = ctypes.CDLL(out)
    P = ctypes.POINTER(ctypes.c_double)
    lib.rotor_leapfrog.argtypes = [P, P, P, ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_double,
                                   ctypes.c_int, ctypes.c_int]
    return lib, " ".join(cmd[:4])


def time_it(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def aligned(arr, align=64):
    """``arr`` copied to a 64-byte boundary, as the engine stores its rotor batch (an
    AVX-512 load or store that straddles two cache lines is slower, for C as for numba)."""
    buf = np.empty(arr.nbytes + align, dtype=np.uint8)
    k = -buf.ctypes.data % align
    out = buf[k:k + arr.nbytes].view(arr.dtype).reshape(arr.shape)
    out[...] = arr
    return out


def c_runner(lib, L, M, steps, threads, lanes=16):
    nb = M // lanes
    rng = np.random.default_rng(0)
    th = aligned(rng.uniform(-np.pi, np.pi, (nb, L, lanes)))
    p = aligned(rng.normal(size=(nb, L, lanes)))
    g = np.ones(L)
    P = ctypes.POINTER(ctypes.c_double)
    args = (th.ctypes.data_as(P), p.ctypes.data_as(P), g.ctypes.data_as(P), nb, L, steps, 0.01)

    def run():
        parts = [(k * nb // threads, (k + 1) * nb // threads) for k in range(threads)]
        ts = [threading.Thread(target=lib.rotor_leapfrog, args=args + part) for part in parts]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    return run


def numba_runner(chain, state, method, steps, threads):
    eng = ClassicalEngine.create(chain, state, method, 0.01, threads=threads)
    eng.run([1])  # compile / warm up
    return lambda: eng.run([steps])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--L", type=int, default=64)
    ap.add_argument("--M", type=int, default=8192)
    a = ap.parse_args()
    L, M, steps = a.L, a.M, a.steps
    lib, flags = build_c()
    chain = tnmbl.models.rotor(L, 1.0)
    state = cs.gibbs(chain, M, beta=1.0, seed=1)
    work = L * M * steps
    print(f"rotor leapfrog, L={L}, M={M}, dt=0.01, {steps} steps; C: {flags}, polynomial sine; "
          f"cores: {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    runners = {}
    for threads in (1, 2):
        runners[("C", threads)] = c_runner(lib, L, M, steps, threads)
        runners[("numba", threads)] = numba_runner(chain, state, "leapfrog", steps, threads)
    wall = {k: [] for k in runners}
    cpu = {k: [] for k in runners}
    for _ in range(a.repeats):  # the four runs interleaved in every repeat
        for k, fn in runners.items():
            w, c = time_it(fn)
            wall[k].append(work / w)
            cpu[k].append(work / c)
    for k in runners:
        print(f"  {k[0]:5s} {k[1]} thread(s): {np.median(wall[k]):.3g} site-updates/s wall (median; best "
              f"{max(wall[k]):.3g}), {np.median(cpu[k]):.3g} per CPU-s")
    c1 = np.array(wall[("C", 1)])
    for threads, goal in ((1, "0.8x"), (2, "1.8x, needs two idle cores")):
        r = np.array(wall[("numba", threads)]) / c1  # the ratio within each repeat
        print(f"  numba {threads} thread(s) / C 1 thread: {np.median(r):.2f}x wall (median of the repeats' "
              f"ratios; range {r.min():.2f}-{r.max():.2f}; best/best {max(wall[('numba', threads)]) / c1.max():.2f}x)"
              f" (goal >= {goal})")
    eff = [np.median(cpu[("numba", t)]) / np.median(cpu[("C", t)]) for t in (1, 2)]
    print(f"  CPU efficiency: numba per CPU-s / C per CPU-s = {eff[0]:.2f} (1 thread), {eff[1]:.2f} (2 threads); "
          f"numba threading layer {numba.threading_layer()}; load {os.getloadavg()[0]:.1f}")
    dn = tnmbl.models.dnls(L, 0.1, 1.0, W=1.0, seed=1)
    ds = cs.gibbs(dn, M // 8, density=1.0, seed=2)
    for method in ("split2", "split4"):
        for threads in (1, 2):
            fn = numba_runner(dn, ds, method, steps // 4, threads)
            w, c = min((time_it(fn) for _ in range(a.repeats)), key=lambda x: x[0])
            n = L * (M // 8) * (steps // 4)
            print(f"DNLS {method}, L={L}, M={M // 8}, {threads} thread(s): {n / w:.3g} site-steps/s wall, "
                  f"{n / c:.3g} per CPU-s")


if __name__ == "__main__":
    main()
