"""Ensembles: throughput of a 64-member ensemble on 1 and 2 local worker processes and on a
Dask LocalCluster (2 workers x 1 thread), and the per-task overhead of each path.

    python benchmarks/bench_ensembles.py [--members 64] [--noop 256] [--repeats 2]

Members: ``rotor`` (one batch of 128 Gibbs-sampled rotor chains, L = 64, g = 1, leapfrog
dt = 0.01 to t = 250, numba at one thread) and ``quantum`` (a disordered XXZ chain, L = 10,
W = 3, TEBD2 chi_max = 32, dt = 0.05 to t = 4; a disorder realization per member). Pools and
clusters are started and warmed up (imports, numba cache) before timing, so the figures are
steady-state throughput; the start-up cost is timed apart. ``noop`` tasks return at once:
their wall time per task is the executor's own overhead.

Parallel efficiency = T(1 worker) / (2 T(2 workers)). The machine is shared: the load
average at the start is printed, and the worker utilization (CPU seconds of the tasks /
(wall seconds x workers)) says how much of its cores the run actually got; the best of
``--repeats`` is kept.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import time
from pathlib import Path

for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_k] = "1"  # before NumPy is imported, here and in the spawned workers


def rotor_member(seed):
    """(a result, CPU seconds of this member)."""
    c0 = time.process_time()
    import tnmbl
    from tnmbl.states import classical as cs

    chain = tnmbl.models.rotor(64, 1.0)
    state = cs.gibbs(chain, 128, beta=1.0, seed=seed)
    r = tnmbl.evolve_classical(chain, state, "leapfrog", dt=0.01, t_final=250.0, output_dt=25.0,
                               observables=["energy_current"], threads=1)
    return float(r["energy_current"][-1].mean()), time.process_time() - c0


def quantum_member(seed):
    c0 = time.process_time()
    import tnmbl

    chain = tnmbl.models.xxz(L=10, g=1.0, J=0.3, W=3.0, seed=seed)
    r = tnmbl.evolve(chain, tnmbl.states.neel(chain), "tebd2", dt=0.05, t_final=4.0, chi_max=32,
                     observables=["density"], output_dt=1.0)
    return float(r["density"][-1][0]), time.process_time() - c0


def noop(x):
    return x, 0.0


def warm(_):
    import tnmbl  # noqa: F401

    rotor_member(0)
    quantum_member(0)
    return os.getpid()


def time_map(submit_all, n):
    """(wall seconds, CPU seconds summed over the tasks)."""
    t0 = time.perf_counter()
    results = submit_all()
    assert len(results) == n
    return time.perf_counter() - t0, sum(cpu for _, cpu in results)


def local_pool(workers):
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=64)
    ap.add_argument("--noop", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", default="out/bench_ensembles.json")
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    load = os.getloadavg()[0]
    print(f"cores: {os.cpu_count()}, load average at start: {load:.1f}")
    seeds = list(range(1, args.members + 1))
    kinds = {"rotor": rotor_member, "quantum": quantum_member}
    res = {"members": args.members, "load_average": load, "wall_s": {}, "startup_s": {}, "utilization": {}}

    t = time.perf_counter()
    warm(0)
    res["startup_s"]["serial (this process)"] = time.perf_counter() - t

    def run_all(label, mapper, workers):
        for kind, fn in kinds.items():
            best, cpu = min(time_map(lambda fn=fn: mapper(fn, seeds), len(seeds)) for _ in range(args.repeats))
            res["wall_s"][f"{kind} {label}"] = best
            res["utilization"][f"{kind} {label}"] = cpu / (best * workers)
            print(f"{kind:8s} {label:24s} {best:7.2f} s  ({args.members / best:6.2f} members/s, "
                  f"{1e3 * cpu / args.members:5.0f} ms CPU per member, worker utilization "
                  f"{cpu / (best * workers):.2f})", flush=True)
        best = min(time_map(lambda: mapper(noop, list(range(args.noop))), args.noop)[0]
                   for _ in range(args.repeats))
        res["wall_s"][f"noop {label}"] = best
        print(f"{'noop':8s} {label:24s} {1e3 * best / args.noop:7.3f} ms per task", flush=True)

    run_all("serial", lambda fn, xs: [fn(x) for x in xs], 1)
    for workers in (1, 2):
        t = time.perf_counter()
        with local_pool(workers) as pool:
            list(pool.map(warm, range(workers)))
            res["startup_s"][f"local x{workers}"] = time.perf_counter() - t
            run_all(f"local processes x{workers}", lambda fn, xs: list(pool.map(fn, xs)), workers)
    t = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.gather(client.map(warm, range(2), pure=False))
        res["startup_s"]["dask x2"] = time.perf_counter() - t
        run_all("dask LocalCluster x2", lambda fn, xs: client.gather(client.map(fn, xs, pure=False)), 2)

    w = res["wall_s"]
    print("\nsummary")
    for kind in kinds:
        eff = w[f"{kind} local processes x1"] / (2 * w[f"{kind} local processes x2"])
        dask_over = (w[f"{kind} dask LocalCluster x2"] - w[f"{kind} local processes x2"]) / args.members
        res[f"{kind}_parallel_efficiency"] = eff
        res[f"{kind}_dask_minus_local_ms_per_member"] = 1e3 * dask_over
        print(f"{kind:8s} parallel efficiency (1 -> 2 local workers) {eff:.2f}; "
              f"dask - local per member {1e3 * dask_over:+.1f} ms "
              f"(member {1e3 * w[f'{kind} serial'] / args.members:.0f} ms serial)")
    for label in ("local processes x2", "dask LocalCluster x2"):
        res[f"noop_ms_per_task {label}"] = 1e3 * w[f"noop {label}"] / args.noop
    print(f"per-task overhead (noop): local {res['noop_ms_per_task local processes x2']:.2f} ms, "
          f"dask {res['noop_ms_per_task dask LocalCluster x2']:.2f} ms")
    print("start-up (spawn + imports + numba cache + first runs): "
          + ", ".join(f"{k} {v:.1f} s" for k, v in res["startup_s"].items()))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
