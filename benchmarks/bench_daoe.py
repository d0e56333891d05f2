"""Benchmark (issue 13): DAOE operator evolution against purification TEBD at equal CPU time.

Problem: the infinite-temperature connected charge profile ``C(x, t) = <q_x(t) q_y>_c`` (``y`` the
middle site) and its diffusion constant ``D(t) = (1/2) d sigma^2 / dt`` from the profile variance
(:func:`tnmbl.transport.diffusion_constant`), for

* ``xxz``: the XXZ chain ``H = g sum (X X + Y Y) + J sum Z Z`` (Pauli matrices), g = 1, J = 1.5,
  i.e. the easy-axis anisotropy ``Delta = J / g = 1.5`` (in spin-1/2 operators both terms carry
  the same factor 4, so Delta is the same), open, q = Z, ``--L`` sites (default 64);
* ``bh``: Bose-Hubbard ``H = U sum n^2 + g sum (a^dag a + h.c.)`` at g / U = 0.5, cutoff
  ``--n-max`` (default 2), q = n, ``--L-bh`` sites (default 32).

Methods, TEBD2 with the same ``dt`` and ``svd_cutoff`` 1e-10, U(1) charge conserved in both:

* ``purif``: purification TEBD with backwards-evolved ancillas (``PurificationCorrelator``,
  ``disentangle="backwards"``: at beta = 0 only the ket ``q_y |I>`` is evolved), at ``--chi-purif``
  and twice that;
* ``daoe``: the operator ``q_y`` evolved as an MPS in operator space (``OperatorEvolution``) with
  DAOE ``gamma`` (``--gamma``, default 0.1), ``l_star`` (``--l-star``, default 2), at ``--chi-daoe``
  and twice that.

Each (model, method, chi) is one subprocess (its peak RSS is its own), run in the interleaved
order daoe chi, purif chi, daoe 2chi, purif 2chi, and stopped at the first output time at which its
CPU time (``time.process_time`` from before the engine is built) passes ``--cpu`` seconds: every
run has the same CPU budget. Convergence time, the rule: on the output times both runs of a
method reached, ``D_chi(t)`` and ``D_2chi(t)`` are computed each from its own profiles (same grid,
same finite differences), and ``t_conv`` is the largest output time ``t_k`` such that
``|D_chi(t_j) - D_2chi(t_j)| <= 1e-3 |D_2chi(t_j)|`` for every output time ``0 < t_j <= t_k``
(:func:`tnmbl.transport.agreement_time`; ``>=`` marks a t_conv equal to the last common time,
so only a lower bound). Reported per run: time reached, CPU s per unit time (overall, and over
the last quarter of the run, where chi has saturated), largest chi, discarded weight at t_conv,
peak RSS (and above the process after its imports); per method t_conv and D_2chi(t_conv), and the
ratio t_conv(daoe) / t_conv(purif) at equal CPU (the issue's goal: >= 3), at the budget and at
``--fractions`` of it (every run cut at that CPU time, the same stopping rule). t_conv is given for
each ``--rtol`` (the issue's 1e-3 first). The D that DAOE converges to is that of its gamma
(biased; gamma -> 0 is ``tnmbl.transport.daoe_budget``'s job). The machine load is printed: CPU
seconds on a loaded machine are inflated by cache sharing, so only the ratios travel.

Run:  OMP_NUM_THREADS=1 python benchmarks/bench_daoe.py [--models xxz bh --cpu 20 --out F.json] [--quick]
      python benchmarks/bench_daoe.py --from-json F.json ...    # the tables again from saved runs
Results go to stdout as tables, and as JSON to ``--out`` if given.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def chain_of(model, a):
    from tnmbl.models.quantum import bose_hubbard, xxz

    if model == "xxz":
        return xxz(a.L, g=1.0, J=1.5)
    return bose_hubbard(a.L_bh, U=1.0, g=0.5, n_max=a.n_max)


def one(model, method, chi, a):
    """One capped run: profiles per output time, chi, discarded weight, CPU, peak RSS."""
    from tnmbl.engines.purification import PurificationCorrelator
    from tnmbl.evolution.correlations import operator_list
    from tnmbl.evolution.operator_correlations import OperatorEvolution
    from tnmbl.states.mixed import Thermal

    chain = chain_of(model, a)
    import tenpy.algorithms.tebd  # noqa: F401  (imported before the baseline RSS)

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_out = int(round(a.output_dt / a.dt))
    rows = {"times": [], "C": [], "chi": [], "trunc": [], "cpu": []}
    start = time.process_time()

    def record(t, values, chi_now, trunc):
        rows["times"].append(float(t))
        rows["C"].append(np.real(values).tolist())
        rows["chi"].append(int(chi_now))
        rows["trunc"].append(float(trunc))
        rows["cpu"].append(time.process_time() - start)
        return rows["cpu"][-1] > a.cpu

    if method == "daoe":
        ev = OperatorEvolution(chain, "density", "density", t_final=a.t_max, dt=a.dt, output_dt=a.output_dt,
                               method="tebd2", chi_max=chi, svd_cutoff=1e-10, gamma=a.gamma, l_star=a.l_star)
        distance = ev.observables[0].positions(chain)
        for row in ev:
            if record(row.time, row.values["density"], row.health["chi"], row.health["truncation_error"]):
                break
    else:
        ops, pos = operator_list(chain, "density")
        y = len(ops) // 2
        distance = pos - pos[y]
        d = chain.site.dim
        shift = np.array([np.trace(o.matrix) for o in ops]) * np.trace(ops[y].matrix) / d**2  # <q_x><q_y>, beta=0
        corr = PurificationCorrelator(chain, Thermal(0.0), dt=a.dt, method="tebd2", chi_max=chi, svd_cutoff=1e-10,
                                      disentangle="backwards")
        n_times = int(round(a.t_max / a.output_dt)) + 1
        corr.correlate(ops, ops[y], n_times, n_out, callback=lambda i, v, h: record(
            i * a.output_dt, v - shift, h["chi"], h["truncation_error"]))
    return {"model": model, "method": method, "chi_max": chi, "distance": np.asarray(distance, float).tolist(),
            **rows, "rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_start_MB": rss0}


def cost_rates(r):
    """CPU s per unit time: overall, and over the last quarter of the run."""
    t, c = np.array(r["times"]), np.array(r["cpu"])
    if t[-1] <= 0:
        return float("nan"), float("nan")
    k = np.searchsorted(t, 0.75 * t[-1])
    late = (c[-1] - c[k]) / (t[-1] - t[k]) if t[-1] > t[k] else float("nan")
    return float(c[-1] / t[-1]), float(late)


def compare(lo, hi, rtols):
    """t_conv of a pair of runs at each tolerance (module docstring's rule), with D_2chi, the
    discarded weight and the edge weight at the first tolerance's t_conv."""
    from tnmbl.transport import agreement_time, diffusion_constant

    n = min(len(lo["times"]), len(hi["times"]))
    if n < 3:
        return {"t_conv": [0.0] * len(rtols), "complete": [False] * len(rtols), "D": float("nan"), "n_common": n}
    t = np.array(hi["times"][:n])
    d_lo = diffusion_constant(t, lo["distance"], np.array(lo["C"][:n])).D
    dh = diffusion_constant(t, hi["distance"], np.array(hi["C"][:n]))
    t_conv, complete = zip(*[agreement_time(t, d_lo, dh.D, rtol=r) for r in rtols])
    k = int(np.searchsorted(t, t_conv[0]))
    return {"t_conv": t_conv, "complete": complete, "D": float(dh.D[k]), "edge": float(dh.edge_weight[k]),
            "trunc_lo": lo["trunc"][k], "trunc_hi": hi["trunc"][k], "n_common": n, "t_common": float(t[-1])}


def truncate(r, budget):
    """The run as if stopped at ``budget`` CPU seconds (the live rule: up to the first output past it)."""
    over = np.flatnonzero(np.array(r["cpu"]) > budget)
    n = len(r["cpu"]) if len(over) == 0 else int(over[0]) + 1
    return {**r, **{k: r[k][:n] for k in ("times", "C", "chi", "trunc", "cpu")}}


def report(runs, a):
    """The tables: per run; per method t_conv at the full budget; the ratio at each budget."""
    print(f"{'model':>5} {'method':>6} {'chi':>4} {'t_run':>6} {'cpu_s':>6} {'s/t':>6} {'s/t late':>8} "
          f"{'chi_got':>7} {'RSS_MB':>6} {'+MB':>5}")
    for (model, method, chi), r in runs.items():
        rate, late = cost_rates(r)
        print(f"{model:>5} {method:>6} {chi:>4} {r['times'][-1]:>6.2f} {r['cpu'][-1]:>6.1f} {rate:>6.2f} "
              f"{late:>8.2f} {max(r['chi']):>7} {r['rss_MB']:>6.0f} {r['rss_MB'] - r['rss_start_MB']:>5.0f}")
    models = list(dict.fromkeys(k[0] for k in runs))
    pairs = [("daoe", a.chi_daoe), ("purif", a.chi_purif)]
    results = [{"model": m, "method": meth, "chis": [chi, 2 * chi], "cpu": a.cpu,
                **compare(runs[m, meth, chi], runs[m, meth, 2 * chi], a.rtol)} for m in models for meth, chi in pairs]
    print("\nconvergence time t_conv(rtol): |D_chi - D_2chi| <= rtol |D_2chi| at every output time up to it "
          "(>=: at every common time, a lower bound); D_2chi, discarded weight (2chi) and edge weight at the "
          "first rtol's t_conv")
    print(f"{'model':>5} {'method':>6} {'chis':>8} {'t_common':>8} "
          + " ".join(f"{'t(' + format(r, 'g') + ')':>9}" for r in a.rtol)
          + f" {'D_2chi':>8} {'trunc':>8} {'edge':>7}")
    for c in results:
        tcs = " ".join(f"{'>=' if done else '  '}{t:>7.2f}" for t, done in zip(c["t_conv"], c["complete"]))
        print(f"{c['model']:>5} {c['method']:>6} {'/'.join(map(str, c['chis'])):>8} {c.get('t_common', 0):>8.2f} "
              f"{tcs} {c['D']:>8.4f} {c.get('trunc_hi', float('nan')):>8.1e} {c.get('edge', float('nan')):>7.1e}")
    print("\nat equal CPU per run (every run stopped at the budget), t_conv daoe / purif (goal >= 3)")
    for m in models:
        for budget in sorted({a.cpu * f for f in a.fractions}):
            cut = {k: truncate(r, budget) for k, r in runs.items() if k[0] == m}
            tc = {meth: compare(cut[m, meth, chi], cut[m, meth, 2 * chi], a.rtol) for meth, chi in pairs}
            parts = []
            for i, r in enumerate(a.rtol):
                td, tp = tc["daoe"]["t_conv"][i], tc["purif"]["t_conv"][i]
                ratio = td / tp if tp > 0 else float("inf")
                ge = ">=" if tc["daoe"]["complete"][i] else ""
                if tc["purif"]["complete"][i]:  # purification agreed to the end too: no ratio
                    parts.append(f"rtol {r:g}: {ge}{td:.2f} / >={tp:.2f} (undetermined)")
                    continue
                verdict = "met" if ratio >= 3 else "undetermined: a lower bound" if ge else "not met"
                parts.append(f"rtol {r:g}: {ge}{td:.2f} / {tp:.2f} = {ge}{ratio:.2f} ({verdict})")
            print(f"{m:>5} {budget:>6.0f} CPU-s: " + "; ".join(parts))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["xxz", "bh"], choices=["xxz", "bh"])
    ap.add_argument("--L", type=int, default=64, help="XXZ length")
    ap.add_argument("--L-bh", type=int, default=32, help="Bose-Hubbard length")
    ap.add_argument("--n-max", type=int, default=2, help="Bose-Hubbard cutoff")
    ap.add_argument("--cpu", type=float, default=20.0, help="CPU seconds per run (every run the same)")
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 1.0],
                    help="also compare at these fractions of --cpu (the runs cut at that CPU time)")
    ap.add_argument("--t-max", type=float, default=200.0, help="stop here if the CPU budget lasts")
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--output-dt", type=float, default=0.2)
    ap.add_argument("--chi-daoe", type=int, default=32, help="DAOE runs at this chi and twice it")
    ap.add_argument("--chi-purif", type=int, default=64, help="purification runs at this chi and twice it")
    ap.add_argument("--gamma", type=float, default=0.1)
    ap.add_argument("--l-star", type=int, default=2)
    ap.add_argument("--rtol", type=float, nargs="+", default=[1e-3, 1e-2],
                    help="relative tolerances of t_conv (the issue's: 1e-3, the first)")
    ap.add_argument("--quick", action="store_true", help="XXZ L = 20 / BH L = 10, chi 32/64 for both, 4 CPU-s a run")
    ap.add_argument("--out")
    ap.add_argument("--from-json", nargs="+", metavar="JSON", help="report on saved --out files, run nothing")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.quick:
        a.L, a.L_bh, a.cpu, a.chi_daoe, a.chi_purif = 20, 10, 4.0, 32, 32
    if a.one:
        model, method, chi = a.one.split(",")
        print(json.dumps(one(model, method, int(chi), a)))
        return
    if a.from_json:
        saved = [json.load(open(f)) for f in a.from_json]
        for key in ("cpu", "chi_daoe", "chi_purif", "gamma", "l_star"):
            setattr(a, key, saved[0]["args"][key])
        runs = {(r["model"], r["method"], r["chi_max"]): r for s in saved for r in s["runs"]}
        print(f"from {', '.join(a.from_json)}: CPU cap {a.cpu:g} s per run, DAOE gamma {a.gamma} l_star {a.l_star}")
        report(runs, a)
        return
    passed = [x for x in sys.argv[1:] if x != "--quick"]
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}; CPU cap {a.cpu:g} s per run; dt {a.dt}, "
          f"output_dt {a.output_dt}, DAOE gamma {a.gamma} l_star {a.l_star}", flush=True)
    runs = {}
    for model in a.models:
        order = [("daoe", a.chi_daoe), ("purif", a.chi_purif), ("daoe", 2 * a.chi_daoe), ("purif", 2 * a.chi_purif)]
        for method, chi in order:
            cmd = [sys.executable, __file__, *passed, "--one", f"{model},{method},{chi}"]
            if a.quick:
                cmd.append("--quick")
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            runs[model, method, chi] = json.loads(out.splitlines()[-1])
            r = runs[model, method, chi]
            print(f"  ran {model} {method} chi {chi}: t = {r['times'][-1]:.2f} in {r['cpu'][-1]:.1f} CPU-s, "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    results = report(runs, a)
    print(f"load after: {os.getloadavg()[0]:.1f}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"args": vars(a), "runs": list(runs.values()), "results": results}, f)


if __name__ == "__main__":
    main()
