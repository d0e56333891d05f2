"""Bond-parallel TEBD (issue 14): tnmbl with 1, 2, ... threads against plain TeNPy, in one process.

Problem: Bose-Hubbard, L = 64, n_max = 4, U = 1, g = 0.1, dt = 0.05, TEBD2, chi_max = 256
(``--chi 512`` for the other figure of the issue).

1. State: a random MPS with every bulk bond at ``chi_max`` (TeNPy's ``RandomUnitaryEvolution``,
   truncated), so every contender is timed at saturated chi from the *same* MPS (copies).
2. Contenders, timed in interleaved blocks of ``--steps`` steps (the order rotates every
   repetition, so load from other processes on a shared machine hits all alike): plain TeNPy
   (``TEBDEngine.run_evolution`` on a hand-built ``CouplingMPOModel``, scipy's SVD) and tnmbl
   (``Evolution(..., threads=n)``, measuring nothing) for n = 1, 2 and, with ``--all-cores``,
   every power of two up to ``os.cpu_count()``. Reported: medians per step, and the medians of
   the per-repetition ratios plain / tnmbl (> 1: tnmbl faster).
3. Measurement share at one output every ``--every`` steps with density, energy_density,
   energy_current and entanglement (one-pass ``expect_many``, its sites on the pool with
   threads > 1): median measurement time of each thread count against ``every`` of its steps.

The load average (``os.getloadavg``) is printed before and after: on a shared machine ratios
are what travels, and only when the load stayed below the core count are they speed-ups.

Run:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_parallel_tebd.py [--chi 256 --reps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
from bench_tebd import plain_engine, plain_tenpy_model  # the same plain-TeNPy reference as bench_tebd.py

import tnmbl

OBSERVABLES = ["density", "energy_density", "energy_current", "entanglement"]


def saturated_mps(model, occ, chi, seed=0, max_layers=40):
    """A random MPS in the charge sector of ``occ`` with the bulk bonds at ``chi``."""
    from tenpy.algorithms.tebd import RandomUnitaryEvolution
    from tenpy.networks.mps import MPS

    L = model.lat.N_sites
    psi = MPS.from_product_state(model.lat.mps_sites(), occ, bc="finite", dtype=complex, unit_cell_width=L)
    np.random.seed(seed)
    layers = 0
    while min(psi.chi[L // 4: 3 * L // 4]) < chi and layers < max_layers:
        RandomUnitaryEvolution(psi, {"N_steps": 1, "trunc_params": {"chi_max": chi, "svd_min": 1e-14}}).run()
        layers += 1
    psi.canonical_form()
    return psi, layers


def tnmbl_evolution(chain, state, psi, dt, chi, threads):
    ev = tnmbl.Evolution(chain, state, "tebd2", dt=dt, t_final=dt * 10**6, chi_max=chi, backend="tenpy",
                         threads=threads, observables=OBSERVABLES)
    ev.engine.psi = ev.engine.tebd.psi = psi.copy()  # the same warmed-up MPS (benchmark only)
    ev.engine.advance(1)
    return ev


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--L", type=int, default=64)
    ap.add_argument("--chi", type=int, default=256)
    ap.add_argument("--n-max", type=int, default=4)
    ap.add_argument("--dt", type=float, default=0.05)
    ap.add_argument("--g", type=float, default=0.1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--every", type=int, default=4, help="one output every N steps (measurement share)")
    ap.add_argument("--measurements", type=int, default=3)
    ap.add_argument("--all-cores", action="store_true", help="also time every power of two up to os.cpu_count()")
    ap.add_argument("--json", type=Path, default=None, help="append the figures as one JSON line here")
    a = ap.parse_args()

    cores = os.cpu_count()
    load0 = os.getloadavg()
    U = 1.0
    occ = np.random.default_rng(0).integers(0, a.n_max + 1, a.L).tolist()
    print(f"Bose-Hubbard L={a.L} n_max={a.n_max} chi_max={a.chi} dt={a.dt} g={a.g} U={U}, TEBD2; "
          f"os.cpu_count() = {cores}; load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; "
          f"OMP/OPENBLAS threads {os.environ.get('OMP_NUM_THREADS')}/{os.environ.get('OPENBLAS_NUM_THREADS')}")
    model = plain_tenpy_model(a.L, U, a.g, a.n_max, conserve=True)
    t0 = time.perf_counter()
    psi, layers = saturated_mps(model, occ, a.chi)
    bulk = min(psi.chi[a.L // 4: 3 * a.L // 4])
    print(f"state: {layers} random-unitary layers -> chi {max(psi.chi)} (bulk min {bulk})"
          f" in {time.perf_counter() - t0:.0f} s")

    chain = tnmbl.models.bose_hubbard(a.L, U=U, g=a.g, n_max=a.n_max)
    state = tnmbl.states.product(chain, occupations=occ)
    counts = [1, 2]
    if a.all_cores:
        counts = sorted({1, 2, cores} | {2 ** k for k in range(cores.bit_length()) if 2 ** k <= cores})
    contenders = {"plain": plain_engine(model, psi.copy(), a.dt, a.chi)}
    evs = {n: tnmbl_evolution(chain, state, psi, a.dt, a.chi, n) for n in counts}
    contenders.update({f"tnmbl x{n}": ev.engine for n, ev in evs.items()})

    def block(name):
        eng = contenders[name]
        t, c = time.perf_counter(), time.process_time()
        if name == "plain":
            eng.run_evolution(a.steps, a.dt)
        else:
            eng.advance(a.steps)
        return (time.perf_counter() - t) / a.steps, (time.process_time() - c) / a.steps

    names = list(contenders)
    times = {n: [] for n in names}
    cpu = {n: [] for n in names}
    for rep in range(a.reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            wall, c = block(name)
            times[name].append(wall)
            cpu[name].append(c)
    med = {n: statistics.median(v) for n, v in times.items()}
    print(f"time per step, median of {a.reps} interleaved blocks of {a.steps} steps (wall; CPU of this process; "
          "CPU / wall > 1: threads ran at the same time):")
    for n in names:
        ratios = [p / t for p, t in zip(times["plain"], times[n])]
        extra = "" if n == "plain" else (f"; plain / this {statistics.median(ratios):.2f}x "
                                         f"(per-block min {min(ratios):.2f}, max {max(ratios):.2f})")
        parallel = "" if n == "plain" else f", parallel layers {contenders[n].tebd.parallel_layers}"
        overlap = statistics.median([c / w for c, w in zip(cpu[n], times[n])])
        print(f"  {n:10s} {med[n]:.3f} s/step wall, {statistics.median(cpu[n]):.3f} s/step CPU, CPU/wall "
              f"{overlap:.2f}{extra}{parallel}")
    one = times["tnmbl x1"]
    print("scaling to all cores (tnmbl x1 / tnmbl xn, medians of paired blocks):", ", ".join(
        f"{n} threads {statistics.median([o / t for o, t in zip(one, times[f'tnmbl x{n}'])]):.2f}x" for n in counts))
    if not a.all_cores and cores > 2:
        print(f"  (this machine has {cores} cores: rerun with --all-cores for the full scaling)")
    chis = {n: max(e.psi.chi) for n, e in contenders.items()}
    print(f"max chi after the blocks: {chis}")

    # 3. measurement share: one output every `every` steps (the sites of one measurement run on
    # the pool of an engine with threads > 1), interleaved over the thread counts
    meas = {n: [] for n in counts}
    for n in counts:
        evs[n].measure()  # first row: reference figures
    for _ in range(a.measurements):
        for n in counts:
            t = time.perf_counter()
            evs[n].measure()
            meas[n].append(time.perf_counter() - t)
    shares = {}
    print(f"measurement ({', '.join(OBSERVABLES)}), one pass, median of {a.measurements}:")
    for n in counts:
        m = statistics.median(meas[n])
        shares[n] = m / (m + a.every * med[f"tnmbl x{n}"])
        print(f"  {n} thread(s): {m:.3f} s = {m / med[f'tnmbl x{n}']:.2f} steps; share of run time at one output "
              f"every {a.every} steps {shares[n]:.1%}")
    load1 = os.getloadavg()
    print(f"load average after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} (on {cores} cores)")
    if a.json is not None:
        rec = {"bench": "parallel_tebd", "L": a.L, "chi": a.chi, "n_max": a.n_max, "dt": a.dt, "cores": cores,
               "load_before": load0, "load_after": load1, "s_per_step": med, "blocks": times, "cpu_blocks": cpu,
               "measure_s": meas, "measure_share": shares, "versions": tnmbl.versions()}
        with open(a.json, "a") as f:
            f.write(json.dumps(rec, default=str) + "\n")


if __name__ == "__main__":
    main()
