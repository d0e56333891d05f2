"""Issue 13, study a: the free XX chain at infinite temperature, <Z_x(t) Z_0> from operator TEBD
(+ DAOE) against its exact form J_x(4 g t)^2, from the results of the sweep
``runs/sweeps/daoe_xx_bessel.yaml`` (one member per (gamma, l_star)).

    tnmbl sweep runs/sweeps/daoe_xx_bessel.yaml
    python analysis/daoe_xx_bessel.py runs/sweeps/daoe_xx_bessel.yaml   # docs/figures/daoe_xx_bessel.png + .json

Per member: the largest deviation from the Bessel form up to each time, the variance
sigma^2(t) = sum_x x^2 C(x, t) against the ballistic 8 g^2 t^2 (free fermions), D(t) from the
variance (tnmbl.transport.diffusion_constant), the largest bond dimension and the discarded
weight. Members without finished results are left out with a note; nothing is computed here.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.special import jv

import tnmbl
from tnmbl.evolution.figures import finish
from tnmbl.runs.sweep import load_sweep
from tnmbl.transport import diffusion_constant


def load_members(sweep_path, overrides=()):
    """One dict per finished member: ``gamma``, ``l_star``, ``g``, ``L``, ``result`` (``tnmbl.load``)."""
    plan = load_sweep(sweep_path, overrides)
    rows, notes = [], []
    for m in plan.members:
        ev = m.config["evolution"]
        label = f"gamma = {ev['gamma']:g}, l_star = {ev['l_star']}"
        if not m.path.exists():
            notes.append(f"{label}: no results ({m.path}), left out")
            continue
        res = tnmbl.load(m.path)
        if res.meta.get("status", "finished") != "finished" and len(res.times) < 2:
            notes.append(f"{label}: unfinished, left out")
            continue
        rows.append(dict(gamma=float(ev["gamma"]), l_star=int(ev["l_star"]), g=float(m.config["model"]["g"]),
                         L=int(m.config["model"]["L"]), result=res))
    return rows, notes


def analyse(row):
    """Deviation from J_x(4gt)^2, variance against 8 g^2 t^2, D(t), chi, discarded weight."""
    res, g = row["result"], row["g"]
    t, x, c = res.times, np.asarray(res.positions["density"], float), np.asarray(res["density"]).real
    exact = jv(x[None, :], 4 * g * t[:, None]) ** 2
    dev = np.abs(c - exact).max(axis=1)
    d = diffusion_constant(t, x, c)
    return dict(times=t, x=x, c=c, exact=exact, max_dev=np.maximum.accumulate(dev), variance=d.variance,
                ballistic=8 * g**2 * t**2, D=d.D, chi=np.asarray(res.health["chi"]),
                truncation_error=np.asarray(res.health["truncation_error"]))


def plot(rows, stats, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.2))
    g, L = rows[0]["g"], rows[0]["L"]
    t_last = stats[0]["times"][-1]
    x = stats[0]["x"]
    xx = np.arange(x.min(), x.max() + 1)
    ax1.semilogy(xx, jv(xx, 4 * g * t_last) ** 2 + 1e-16, "k-", lw=2.5, alpha=0.35,
                 label=r"exact $J_x(4gt)^2$")
    for r, s in zip(rows, stats):
        lab = rf"$\gamma$ = {r['gamma']:g}" + ("" if r["gamma"] == 0 else rf", $\ell_*$ = {r['l_star']}")
        ax1.semilogy(s["x"], np.abs(s["c"][-1]) + 1e-16, ".-", ms=3, lw=0.8, label=lab)
        ax2.semilogy(s["times"][1:], s["max_dev"][1:] + 1e-16, lw=1, label=lab)
        ax3.plot(s["times"], s["variance"] / np.where(s["ballistic"] > 0, s["ballistic"], np.nan), lw=1, label=lab)
    ax1.set(xlabel="distance x (sites)", ylabel=r"$|\langle Z_x(t) Z_0\rangle_{\beta=0}|$", ylim=(1e-12, 1),
            title=f"(a) profile at t = {t_last:g}")
    ax2.set(xlabel=r"time t ($\hbar$ = 1, couplings as in H)", ylabel=r"max$_{x,\,t'\leq t}$ |C - $J_x(4gt')^2$|",
            title="(b) deviation from the exact form")
    ax3.axhline(1.0, color="gray", lw=0.5, ls=":")
    ax3.set(xlabel=r"time t ($\hbar$ = 1, couplings as in H)", ylabel=r"$\sigma^2(t) / 8g^2t^2$",
            title="(c) variance over the ballistic one")
    for ax in (ax1, ax2, ax3):
        ax.legend(fontsize=7)
    fig.suptitle(f"Free XX chain, L = {L}, g = {g:g}, infinite temperature: operator TEBD4 (dt = "
                 f"{rows[0]['result'].meta.get('dt', '')}) with and without DAOE", fontsize=10)
    finish(fig, png, 110)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep", nargs="?", default="runs/sweeps/daoe_xx_bessel.yaml")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="sweep override")
    p.add_argument("--out", default="docs/figures/daoe_xx_bessel")
    args = p.parse_args(argv)
    rows, notes = load_members(args.sweep, args.set)
    for n in notes:
        print("note:", n)
    if not rows:
        raise SystemExit("no finished members: run the sweep first")
    stats = [analyse(r) for r in rows]
    summary = []
    for r, s in zip(rows, stats):
        i10 = int(np.searchsorted(s["times"], 10.0, side="right")) - 1
        summary.append(dict(gamma=r["gamma"], l_star=r["l_star"], t_final=float(s["times"][-1]),
                            max_dev_t10=float(s["max_dev"][i10]), max_dev=float(s["max_dev"][-1]),
                            variance_over_ballistic=float(s["variance"][-1] / s["ballistic"][-1]),
                            D_final=float(s["D"][-1]), chi_max=int(s["chi"].max()),
                            discarded_weight=float(s["truncation_error"][-1])))
        print(json.dumps(summary[-1]))
    plot(rows, stats, args.out + ".png")
    with open(args.out + ".json", "w") as f:
        json.dump(dict(sweep=args.sweep, g=rows[0]["g"], L=rows[0]["L"], members=summary, notes=notes), f, indent=1)
    print(f"wrote {args.out}.png and {args.out}.json")


if __name__ == "__main__":
    main()
