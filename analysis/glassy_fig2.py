"""Glassy-dynamics paper, Fig. 2: phi(g, beta=1, t) of the rotor chain against t / t0(g),
and t0(g) with bootstrap errors and a power-law fit.

    python analysis/glassy_fig2.py run  runs/glassy_fig2.yaml   # compute (writes out/glassy_fig2/g*.npz)
    python analysis/glassy_fig2.py plot runs/glassy_fig2.yaml   # docs/figures/glassy_fig2.png + .json

The config is read with yaml.safe_load (the issue-3 runner does not take classical
ensembles yet). ``run`` skips couplings whose .npz exists, so it can be resumed.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import yaml

import tnmbl
from tnmbl.evolution import Evolution
from tnmbl.observables.classical import crossing_time, fit_power_law, smooth_log, t0
from tnmbl.states import classical as cs

KEYS = {"name", "model", "couplings", "state", "M_by_g", "evolve", "level", "stop_after", "t_max", "bootstrap",
        "output"}


def load(path):
    with open(path) as f:
        cfg = yaml.safe_load(f)
    bad = set(cfg) ^ KEYS
    if bad:
        raise tnmbl.ConfigError([f"{k}: {'unknown key' if k in cfg else 'missing key'}" for k in sorted(bad)])
    return cfg


def run_one(cfg, g):
    m, s, e = cfg["model"], cfg["state"], cfg["evolve"]
    chain = tnmbl.models.rotor(m["L"], g, bc=m["bc"], m=m["m"])
    t_start = time.time()
    M = (cfg["M_by_g"] or {}).get(g, s["M"])
    state = cs.gibbs(chain, M, beta=s["beta"], seed=[s["seed"], int(round(g * 1000))])
    ev = Evolution(chain, state, e["method"], dt=e["dt"], t_final=cfg["t_max"][g], observables=["phi"],
                   n_log=e["n_log"], threads=e["threads"], energy_tolerance=e["energy_tolerance"],
                   chunk_outputs=4)
    times, phis = [], []
    cross = None
    for row in ev:
        times.append(row.time)
        phis.append(row.values["phi"][0])
        if len(times) % 25 == 0:  # progress: the long couplings take tens of minutes
            print(f"  g = {g}: t = {row.time:.6g} of at most {cfg['t_max'][g]:g}, phi = {phis[-1]:.4f}, "
                  f"energy error/L {row.health['energy_error']:.1e}, {time.time() - t_start:.0f} s", flush=True)
        if cross is None and len(times) > 3:
            sm = smooth_log(np.array(times), np.array(phis), cfg["bootstrap"]["window"])
            # the smoothed curve is trustworthy up to half a window before the end
            ok = np.array(times) < times[-1] * np.exp(-cfg["bootstrap"]["window"] / 2)
            c = crossing_time(np.array(times)[ok], sm[ok], cfg["level"])
            cross = None if np.isnan(c) else c
        if cross is not None and row.time > cfg["stop_after"] * cross:
            break
    wall = time.time() - t_start
    samples = ev.samples
    n = len(times)
    out = dict(g=g, times=np.array(times), phi=np.array(phis), phi_chains=samples["phi"][:n].astype(np.float32),
               energy_error=np.max(np.abs(samples["energy"][:n] - samples["energy"][0]), axis=1) / m["L"],
               wall_s=wall, steps=int(round(times[-1] / e["dt"])), M=M, L=m["L"], threads=e["threads"])
    return out


def cmd_run(cfg):
    os.makedirs(cfg["output"], exist_ok=True)
    for g in cfg["couplings"]:
        path = os.path.join(cfg["output"], f"g{g:g}.npz")
        if os.path.exists(path):
            print(f"g = {g}: {path} exists, skipped", flush=True)
            continue
        res = run_one(cfg, g)
        np.savez(path + ".tmp.npz", **res)
        os.replace(path + ".tmp.npz", path)
        print(f"g = {g}: t_end = {res['times'][-1]:g}, phi_end = {res['phi'][-1]:.4f}, wall {res['wall_s']:.0f} s, "
              f"max energy error/L {res['energy_error'].max():.2e}", flush=True)


def cmd_plot(cfg, png="docs/figures/glassy_fig2.png"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b = cfg["bootstrap"]
    rows = []
    for g in cfg["couplings"]:
        path = os.path.join(cfg["output"], f"g{g:g}.npz")
        if not os.path.exists(path):
            print(f"g = {g}: no data ({path}), left out")
            continue
        d = np.load(path)
        t0v, err, _ = t0(d["times"], d["phi_chains"].astype(float), level=cfg["level"], window=b["window"],
                         n_boot=b["n_boot"], seed=b["seed"])
        rows.append(dict(g=g, t0=t0v, t0_err=err, M=int(d["M"]), wall_s=float(d["wall_s"]), t_end=float(d["times"][-1]),
                         max_energy_error_per_site=float(d["energy_error"].max()), times=d["times"], phi=d["phi"]))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for r in rows:
        ax1.semilogx(r["times"][1:] / r["t0"], smooth_log(r["times"], r["phi"], b["window"])[1:],
                     label=f"g = {r['g']:g}")
    ax1.axhline(cfg["level"], color="gray", lw=0.5, ls=":")
    ax1.set_xlabel(r"$t / t_0(g)$")
    ax1.set_ylabel(r"$\varphi(g, \beta=1, t)$")
    ax1.set_xlim(1e-3, 3)
    ax1.set_ylim(0, 1)
    ax1.legend(fontsize=8)
    fewer = ", ".join(f"{r['M']} for g = {r['g']:g}" for r in rows if r["M"] != cfg["state"]["M"])
    title = f"(a) L = {cfg['model']['L']}, M = {cfg['state']['M']} chains per g"
    ax1.set_title(title + (f" ({fewer})" if fewer else ""), fontsize=10)
    g = np.array([r["g"] for r in rows])
    t0s = np.array([r["t0"] for r in rows])
    errs = np.array([r["t0_err"] for r in rows])
    fit = None
    if len(rows) >= 3:
        alpha, alpha_err, c = fit_power_law(g, t0s, errs)
        fit = dict(alpha=alpha, alpha_err=alpha_err, prefactor=float(np.exp(c)))
        gg = np.geomspace(g.min(), g.max(), 50)
        ax2.loglog(gg, np.exp(c) * gg ** (-alpha), "k--", lw=0.8,
                   label=rf"fit $t_0 \propto g^{{-{alpha:.2f} \pm {alpha_err:.2f}}}$")
    ax2.errorbar(g, t0s, yerr=errs, fmt="o", capsize=3, label="bootstrap errors")
    ax2.set_xlabel("g")
    ax2.set_ylabel(r"$t_0(g) = \min\{t: \varphi = 0.9\}$")
    ax2.legend(fontsize=8)
    ax2.set_title(r"(b) $t_0(g)$, $\beta = 1$")
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    summary = {"config": cfg, "fit": fit,
               "points": [{k: v for k, v in r.items() if k not in ("times", "phi")} for r in rows]}
    with open(png.replace(".png", ".json"), "w") as f:
        json.dump(summary, f, indent=1, default=float)
    print(json.dumps(summary["fit"]), [(r["g"], round(r["t0"], 1), round(r["t0_err"], 1)) for r in rows])


if __name__ == "__main__":
    cmd, path = sys.argv[1], sys.argv[2]
    cfg = load(path)
    {"run": cmd_run, "plot": cmd_plot}[cmd](cfg)
