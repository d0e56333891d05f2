"""Foundation benchmark: tnmbl TEBD against a plain TeNPy script, in one process.

Problem (issue 2): Bose-Hubbard, L=64, n_max=4, chi_max=128, dt=0.05, U=1, g=0.1.

1. A warm-up with plain TeNPy (dt=0.2, same model) grows the bond dimension until chi_max
   is reached, so both contenders are timed at saturated chi on the *same* MPS.
2. Blocks of ``--steps`` TEBD2 steps are timed alternately for ``tnmbl`` (an ``Evolution``
   whose engine is handed a copy of the warmed-up MPS, on one thread like plain TeNPy,
   measuring nothing between steps; bench_parallel_tebd.py times the threads) and
   for plain TeNPy (``TEBDEngine.run_evolution`` on a hand-built ``CouplingMPOModel``); the
   ratio of each pair is recorded and the median reported. Interleaving makes load from
   other processes on the shared machine hit both alike.
3. Measurement share: one block of ``tnmbl.evolve``-style iteration with the four standard
   observables measured every ``--every`` steps.
4. Conservation speed-up: plain TeNPy with and without U(1) on the same state (dense steps
   are ~10x slower, so only ``--dense-steps`` of them).
5. Peak memory (tracemalloc, NumPy allocations included) of a tnmbl block and a plain block.

Run:  OMP_NUM_THREADS=1 python benchmarks/bench_tebd.py [--L 64 --chi 128 --reps 5 --steps 4]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

import tnmbl


def plain_tenpy_model(L, U, g, n_max, conserve):
    """The same Hamiltonian written directly against TeNPy's API."""
    from tenpy.models.lattice import Chain
    from tenpy.models.model import CouplingMPOModel, NearestNeighborModel
    from tenpy.networks.site import BosonSite

    class BH(CouplingMPOModel, NearestNeighborModel):
        def init_sites(self, p):
            return BosonSite(Nmax=n_max, conserve="N" if conserve else None)

        def init_lattice(self, p):
            return Chain(L, self.init_sites(p), bc="open", bc_MPS="finite")

        def init_terms(self, p):
            self.add_onsite(U, 0, "NN")
            self.add_coupling(g, 0, "Bd", 0, "B", 1, plus_hc=True)

    return BH({})


def plain_engine(model, psi, dt, chi):
    from tenpy.algorithms.tebd import TEBDEngine

    eng = TEBDEngine(psi, model, {"order": 2, "trunc_params": {"chi_max": chi, "svd_min": 1e-10}})
    eng.run_evolution(1, dt)  # build U once, outside the timings
    return eng


def occupations(L, n_max, seed=0):
    return np.random.default_rng(seed).integers(0, n_max + 1, L).tolist()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--L", type=int, default=64)
    ap.add_argument("--chi", type=int, default=128)
    ap.add_argument("--n-max", type=int, default=4)
    ap.add_argument("--dt", type=float, default=0.05)
    ap.add_argument("--g", type=float, default=0.1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--every", type=int, default=4, help="measure every N steps in the measurement-share block")
    ap.add_argument("--dense-steps", type=int, default=1)
    ap.add_argument("--max-warmup", type=int, default=600)
    a = ap.parse_args()
    from tenpy.networks.mps import MPS

    U = 1.0
    occ = occupations(a.L, a.n_max)
    print(f"Bose-Hubbard L={a.L} n_max={a.n_max} chi_max={a.chi} dt={a.dt} g={a.g} U={U}; versions {tnmbl.versions()}")

    # 1. warm-up to saturated chi (plain TeNPy, larger dt: only state preparation)
    model_c = plain_tenpy_model(a.L, U, a.g, a.n_max, True)
    psi = MPS.from_product_state(model_c.lat.mps_sites(), occ, bc="finite", dtype=complex, unit_cell_width=a.L)
    warm = plain_engine(model_c, psi, 0.2, a.chi)
    t0 = time.perf_counter()
    n = 0
    while max(psi.chi) < a.chi and n < a.max_warmup:
        warm.run_evolution(5, 0.2)
        n += 5
    print(f"warm-up: {n} steps of dt=0.2 -> max chi {max(psi.chi)} ({time.perf_counter() - t0:.0f} s)")

    # 2. tnmbl vs plain, interleaved
    chain = tnmbl.models.bose_hubbard(a.L, U=U, g=a.g, n_max=a.n_max)
    state = tnmbl.states.product(chain, occupations=occ)
    ev = tnmbl.Evolution(chain, state, "tebd2", dt=a.dt, t_final=a.dt * 10**6, chi_max=a.chi, threads=1,
                         observables=["density", "energy_density", "energy_current", "entanglement"])
    ev.engine.psi = psi.copy()  # hand the warmed-up state to tnmbl's engine (benchmark only)
    ev.engine.tebd.psi = ev.engine.psi
    ev.engine.advance(1)
    plain = plain_engine(model_c, psi.copy(), a.dt, a.chi)
    ratios, t_tnmbl, t_plain = [], [], []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        ev.engine.advance(a.steps)
        t1 = time.perf_counter()
        plain.run_evolution(a.steps, a.dt)
        t2 = time.perf_counter()
        t_tnmbl.append((t1 - t0) / a.steps)
        t_plain.append((t2 - t1) / a.steps)
        ratios.append(t_tnmbl[-1] / t_plain[-1])
    print(f"time per step, median of {a.reps} blocks of {a.steps}: tnmbl {statistics.median(t_tnmbl):.3f} s, "
          f"plain TeNPy {statistics.median(t_plain):.3f} s")
    print(f"RATIO tnmbl / plain TeNPy (median of paired blocks): {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}); max chi tnmbl {max(ev.engine.psi.chi)}, "
          f"plain {max(plain.psi.chi)}")

    # 3. measurement share with the four standard observables
    ev.measure()  # first call converts the local operators to TeNPy arrays (cached afterwards)
    ev.timing = {"evolve_s": 0.0, "measure_s": 0.0}
    for _ in range(a.reps):
        t0 = time.perf_counter()
        ev.engine.advance(a.every)
        ev.timing["evolve_s"] += time.perf_counter() - t0
        ev.measure()
    share = ev.timing["measure_s"] / (ev.timing["measure_s"] + ev.timing["evolve_s"])
    per_meas = ev.timing["measure_s"] / a.reps
    print(f"measurement (density, energy_density, energy_current, entanglement): {per_meas:.3f} s each "
          f"= {per_meas / statistics.median(t_tnmbl):.2f} steps; share of run time at one output every "
          f"{a.every} steps: {share:.1%}")

    step = statistics.median(t_tnmbl)
    for obs in ev.observables:
        t0 = time.perf_counter()
        obs.measure(ev.engine, ev._ops[obs.name])
        dt_obs = time.perf_counter() - t0
        print(f"  {obs.name:16s} {dt_obs:.3f} s = {dt_obs / step:.2f} steps")

    # 4. conservation speed-up (plain TeNPy, same state, dense vs U(1))
    if a.dense_steps > 0:
        model_d = plain_tenpy_model(a.L, U, a.g, a.n_max, False)
        psi_d = MPS.from_product_state(model_d.lat.mps_sites(), occ, bc="finite", dtype=complex,
                                       unit_cell_width=a.L)
        # same warmed-up state, charges dropped: copy the dense tensors into the trivial-charge MPS
        for i in range(a.L):
            B = psi.get_B(i).to_ndarray()
            psi_d.set_B(i, type(psi_d.get_B(i)).from_ndarray_trivial(B, labels=["vL", "p", "vR"]))
            psi_d.set_SL(i, psi.get_SL(i))
        psi_d.set_SR(a.L - 1, psi.get_SR(a.L - 1))
        dense = plain_engine(model_d, psi_d, a.dt, a.chi)
        t0 = time.perf_counter()
        dense.run_evolution(a.dense_steps, a.dt)
        t_dense = (time.perf_counter() - t0) / a.dense_steps
        t0 = time.perf_counter()
        plain.run_evolution(a.dense_steps, a.dt)
        t_u1 = (time.perf_counter() - t0) / a.dense_steps
        print(f"conservation: dense {t_dense:.2f} s/step vs U(1) {t_u1:.3f} s/step -> speed-up {t_dense / t_u1:.1f}x")

    # 5. peak memory of one block each
    blocks = [("tnmbl", lambda: ev.engine.advance(a.steps)), ("plain", lambda: plain.run_evolution(a.steps, a.dt))]
    for name, fn in blocks:
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak memory during {a.steps} steps ({name}): {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
