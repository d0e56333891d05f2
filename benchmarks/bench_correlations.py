"""Benchmark (issue 6): beta = 0 energy-current autocorrelation of the clean XXZ chain.

Problem: XXZ, L = 32 (open), g = 1, J = 0.5, beta = 0, grand canonical with S^z
conservation; C(t) = sum_x <j_x(t) j_y(0)> with y the middle energy current (the bulk
Green-Kubo integrand), TEBD2 with dt = 0.1 and svd_cutoff 1e-10, up to ``--t-max``.

For every ``chi_max`` and both settings of the entanglement trick (``backwards`` = ancilla
evolved backwards, ``none`` = ancilla left alone, bra and ket both evolved), one run in
its own subprocess (so its peak RSS is its own) records: the reachable time at fixed
error, twice -- ``t_reached``: last output time with accumulated discarded weight <=
``--eps``; ``t_drift``: last time with ``|C(t) - C(0)| <= 1e-3 |C(0)|`` (C is conserved in
the clean chain until the light cone reaches the edges, ``t ~ (L/2 - 2) / 4g``, so the
drift is a true error) -- the CPU time of the run (until the discarded weight passes
``100 eps``), the largest chi reached and the peak resident memory.

Run:  OMP_NUM_THREADS=1 python benchmarks/bench_correlations.py [--L 32 --chis 64 128 256 --t-max 8]
Results go to stdout as a table, and as JSON to ``--out`` if given.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def one(L, chi, trick, t_max, eps, dt, out_dt):
    import numpy as np

    from tnmbl.evolution.correlations import current_autocorrelation
    from tnmbl.models.quantum import xxz

    chain = xxz(L, g=1.0, J=0.5)
    start = time.process_time()

    c = current_autocorrelation(chain, "energy_current", total=False, t_max=t_max, dt=dt, output_dt=out_dt,
                                trotter="tebd2", chi_max=chi, svd_cutoff=1e-10,
                                disentangle="backwards" if trick else None, max_truncation_error=100 * eps)
    total_cpu = time.process_time() - start
    ok = np.flatnonzero(c.truncation_error <= eps)
    reach = float(c.times[ok[-1]]) if len(ok) else 0.0
    # the clean chain conserves sum_x <j_x(t) j_y(0)> until the light cone (v = 4g) meets the edges,
    # so its drift is a true error: last time with |C(t) - C(0)| <= 1e-3 |C(0)|
    dev = np.abs(c.values - c.values[0]) / abs(c.values[0])
    bad = np.flatnonzero(dev > 1e-3)
    reach_dev = float(c.times[bad[0] - 1]) if len(bad) else float(c.times[-1])
    return {"L": L, "eps": eps, "chi_max": chi, "trick": "backwards" if trick else "none", "t_reached": reach,
            "t_drift_1e-3": reach_dev, "t_light_cone": (L // 2 - 2) / 4.0,
            "t_run": float(c.times[-1]), "cpu_s": total_cpu, "chi_reached": int(c.chi.max()),
            "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "C": c.values.real.tolist(), "times": c.times.tolist(), "trunc": c.truncation_error.tolist()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, default=32)
    ap.add_argument("--chis", type=int, nargs="+", default=[64, 128, 256])
    ap.add_argument("--t-max", type=float, default=8.0)
    ap.add_argument("--eps", type=float, default=1e-6, help="accumulated discarded weight defining 'reachable'")
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--output-dt", type=float, default=0.5)
    ap.add_argument("--tricks", nargs="+", default=["backwards", "none"])
    ap.add_argument("--out")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--plot", nargs="+", metavar=("PNG", "JSON"),
                    help="draw C(t) and the discarded weight from result JSON files, run nothing")
    a = ap.parse_args()
    if a.plot:
        plot(a.plot[0], a.plot[1:])
        return
    if a.one:
        chi, trick = a.one.split(",")
        print(json.dumps(one(a.L, int(chi), trick == "backwards", a.t_max, a.eps, a.dt, a.output_dt)))
        return
    rows = []
    print(f"{'chi':>5} {'trick':>10} {'t_reached':>9} {'t_drift':>7} {'t_run':>6} {'cpu_s':>8} {'chi_max':>7} "
          f"{'RSS_MB':>7}")
    for chi in a.chis:
        for trick in a.tricks:
            cmd = [sys.executable, __file__, "--one", f"{chi},{trick}", "--L", str(a.L), "--t-max", str(a.t_max),
                   "--eps", str(a.eps), "--dt", str(a.dt), "--output-dt", str(a.output_dt)]
            r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
            rows.append(r)
            print(f"{chi:>5} {r['trick']:>10} {r['t_reached']:>9.2f} {r['t_drift_1e-3']:>7.2f} {r['t_run']:>6.2f} "
                  f"{r['cpu_s']:>8.1f} "
                  f"{r['chi_reached']:>7} {r['peak_rss_MB']:>7.0f}", flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(rows, f, indent=1)


def plot(png, files):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for f in files for r in json.load(open(f))]
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
    for r in rows:
        style = "-" if r["trick"] == "backwards" else "--"
        lab = f"chi={r['chi_max']}, {r['trick']}"
        ax[0].plot(r["times"], r["C"], style, label=lab)
        ax[1].semilogy(r["times"], [max(e, 1e-16) for e in r["trunc"]], style, label=lab)
    ax[0].set_xlabel("t")
    ax[0].set_ylabel(r"$\sum_x\langle j_x(t) j_y(0)\rangle_{\beta=0}$")
    ax[1].axhline(rows[0].get("eps", 1e-4), color="k", lw=0.5)
    ax[1].set_xlabel("t")
    ax[1].set_ylabel("discarded weight (bra + ket)")
    ax[1].legend(fontsize=7)
    ax[0].set_title(f"clean XXZ L={rows[0]['L']}, g=1, J=0.5, TEBD2 dt=0.1", fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=80)


if __name__ == "__main__":
    main()
