"""Short DAOE study: D(t) of the charge and energy profiles at several gamma and chi, and the
gamma -> 0 extrapolation (linear fit over >= 3 gammas) of D at the last times.

Infinite temperature, operator TEBD + DAOE (:mod:`tnmbl.engines.operator_tebd`), estimator
:func:`tnmbl.transport.diffusion.diffusion_constant` (D(t) = (1/2) d sigma^2/dt of the connected
profile <q_x(t) q_0>). Results are cached in ``out/daoe_diffusion/<tag>.npz``; ``--plot-only``
reprints the table from the cache.

Example (about 3 minutes on one core):

    python analysis/daoe_diffusion.py --model bose_hubbard --L 24 --g 0.5 --n-max 2 \
        --gammas 0.05 0.1 0.2 --chis 32 64 --t-max 6 --ops density
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from tnmbl.evolution.operator_correlations import operator_correlations
from tnmbl.models.quantum import bose_hubbard, xxz
from tnmbl.transport.diffusion import diffusion_constant

OUT = Path("out/daoe_diffusion")


def build(args):
    if args.model == "bose_hubbard":
        return bose_hubbard(args.L, U=1.0, g=args.g, n_max=args.n_max)
    return xxz(args.L, g=1.0, J=args.J)


def run_one(chain, op, gamma, chi, args):
    t0 = time.process_time()
    c = operator_correlations(chain, op, t_max=args.t_max, dt=args.dt, output_dt=args.output_dt, method=args.method,
                              chi_max=chi, svd_cutoff=1e-10, gamma=gamma, l_star=args.l_star)
    cpu = time.process_time() - t0
    d = diffusion_constant(c.times, c.distance, c.values)
    return dict(times=c.times, D=d.D, variance=d.variance, total=d.total, edge=d.edge_weight,
                truncation_error=c.truncation_error, chi=c.chi, norm=c.meta["norm"], cpu=cpu)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["bose_hubbard", "xxz"], default="bose_hubbard")
    p.add_argument("--L", type=int, default=24)
    p.add_argument("--g", type=float, default=0.5, help="Bose-Hubbard hopping (U = 1)")
    p.add_argument("--n-max", type=int, default=2)
    p.add_argument("--J", type=float, default=1.5, help="XXZ: J sz sz with g = 1 (Pauli matrices)")
    p.add_argument("--gammas", type=float, nargs="+", default=[0.05, 0.1, 0.2])
    p.add_argument("--chis", type=int, nargs="+", default=[32, 64])
    p.add_argument("--l-star", type=int, default=2)
    p.add_argument("--t-max", type=float, default=6.0)
    p.add_argument("--dt", type=float, default=0.1)
    p.add_argument("--output-dt", type=float, default=0.5)
    p.add_argument("--method", default="tebd2")
    p.add_argument("--ops", nargs="+", default=["density", "energy_density"])
    p.add_argument("--plot-only", action="store_true")
    args = p.parse_args(argv)
    tag = (f"{args.model}_L{args.L}_g{args.g}_n{args.n_max}_J{args.J}_ls{args.l_star}_t{args.t_max}_dt{args.dt}"
           f"_{args.method}")
    OUT.mkdir(parents=True, exist_ok=True)
    chain = build(args)
    rows = {}
    for op in args.ops:
        for chi in args.chis:
            for gamma in args.gammas:
                f = OUT / f"{tag}_{op}_chi{chi}_gamma{gamma}.npz"
                if f.exists():
                    r = dict(np.load(f))
                elif args.plot_only:
                    continue
                else:
                    r = run_one(chain, op, gamma, chi, args)
                    np.savez(f, **r)
                rows[op, chi, gamma] = r
                print(f"{op:15s} chi={chi:4d} gamma={gamma:5.3f} cpu={float(r['cpu']):7.1f}s "
                      f"eps={r['truncation_error'][-1]:.1e} edge={r['edge'][-1]:.1e} "
                      f"sum drift={np.abs(r['total'] - r['total'][0]).max():.1e} "
                      f"D(t)[last 4]={np.round(r['D'][-4:], 4).tolist()}", flush=True)
    summary = {}
    for op in args.ops:
        for chi in args.chis:
            gs = [g for g in args.gammas if (op, chi, g) in rows]
            if len(gs) < 3:
                continue
            # D at the last time and the mean over the last quarter, each fitted linearly in gamma
            last = [rows[op, chi, g]["D"][-2] for g in gs]  # -2: the centred difference
            a, b = np.polyfit(gs, last, 1)
            summary[f"{op} chi={chi}"] = dict(gammas=gs, D_last=[float(x) for x in last], D_gamma0=float(b),
                                              slope=float(a))
            print(f"{op:15s} chi={chi:4d}: D(t={rows[op, chi, gs[0]]['times'][-2]:.1f}) = "
                  f"{np.round(last, 4).tolist()} at gamma = {gs}; linear fit gamma -> 0: {b:.4f}")
    (OUT / f"{tag}_summary.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
