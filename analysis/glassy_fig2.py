"""Glassy-dynamics paper, Fig. 2: phi(g, beta = 1, t) of the rotor chain against t / t0(g),
and t0(g) with bootstrap errors and a power-law fit, from the results of the sweep
``runs/sweeps/glassy_fig2.yaml`` (one member per coupling g).

    tnmbl sweep runs/sweeps/glassy_fig2.yaml                 # compute (resumable: rerun to continue)
    python analysis/glassy_fig2.py runs/sweeps/glassy_fig2.yaml   # docs/figures/glassy_fig2.png + .json

Each member's results file holds phi on the log grid and the per-chain phi (/per_chain/phi);
t0 is the first crossing of ``level`` by the log-smoothed mean, its error the bootstrap over
chains (:func:`tnmbl.observables.classical.t0`). ``level`` is the sweep's
``evolution.stop_when.above`` (0.9). Points whose results file is missing or unfinished are
left out with a note; nothing is computed here.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from tnmbl.observables.classical import fit_power_law, smooth_log, t0
from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import load_sweep


def load_points(sweep_path, overrides=()):
    """One dict per finished member of the sweep: ``g``, ``times``, ``phi`` (batch mean),
    ``phi_chains`` (n_times, M), ``M``, ``L``, ``max_energy_error_per_site``, ``stopped_early``;
    and the list of notes about members left out. Also the crossing ``level``."""
    plan = load_sweep(sweep_path, overrides)
    rows, notes, level = [], [], 0.9
    for m in plan.members:
        stop = m.config["evolution"].get("stop_when")
        level = stop["above"] if stop else level
        g = m.config["model"]["g"]
        if not m.path.exists():
            notes.append(f"g = {g:g}: no results ({m.path}), left out")
            continue
        res = read_results(m.path)
        if res["attrs"].get("status") != "finished":
            notes.append(f"g = {g:g}: status {res['attrs'].get('status')!r} (rerun the sweep to continue), left out")
            continue
        if "phi" not in res["per_chain"]:
            notes.append(f"g = {g:g}: no /per_chain/phi in {m.path}, left out")
            continue
        stopped = res["attrs"].get("stopped_early")
        rows.append(dict(g=float(g), times=res["time"], phi=res["observables"]["phi"][:, 0],
                         phi_chains=res["per_chain"]["phi"], M=int(m.config["state"]["M"]),
                         L=int(m.config["model"]["L"]),
                         max_energy_error_per_site=float(np.max(res["health"]["energy_error"])),
                         stopped_early=json.loads(stopped) if stopped else None))
    return rows, notes, level


def analyse(rows, *, level=0.9, window=0.15, n_boot=300, seed=7):
    """t0 and its bootstrap error per point (added to each row), and the power-law fit
    ``t0 ~ g^-alpha`` over the points (``None`` with fewer than three)."""
    for r in rows:
        r["t0"], r["t0_err"], _ = t0(r["times"], r["phi_chains"].astype(float), level=level, window=window,
                                     n_boot=n_boot, seed=seed)
    ok = [r for r in rows if np.isfinite(r["t0"]) and np.isfinite(r["t0_err"]) and r["t0_err"] > 0]
    fit = None
    if len(ok) >= 3:
        alpha, alpha_err, c = fit_power_law([r["g"] for r in ok], [r["t0"] for r in ok], [r["t0_err"] for r in ok])
        fit = dict(alpha=alpha, alpha_err=alpha_err, prefactor=float(np.exp(c)))
    return fit


def plot(rows, fit, level, window, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for r in rows:
        if np.isfinite(r["t0"]):
            ax1.semilogx(r["times"][1:] / r["t0"], smooth_log(r["times"], r["phi"], window)[1:],
                         label=f"g = {r['g']:g}")
    ax1.axhline(level, color="gray", lw=0.8, ls=":", label=rf"$\varphi = {level:g}$ (the $t_0$ level)")
    ax1.set(xlabel=r"$t / t_0(g)$", ylabel=r"$\varphi(g, \beta=1, t)$", xlim=(1e-3, 3), ylim=(0, 1))
    ax1.legend(fontsize=8)
    if rows:
        ax1.set_title(f"(a) L = {rows[0]['L']}, M = " + ", ".join(sorted({str(r['M']) for r in rows})) + " chains",
                      fontsize=10)
    g = np.array([r["g"] for r in rows])
    if fit is not None:
        gg = np.geomspace(g.min(), g.max(), 50)
        ax2.loglog(gg, fit["prefactor"] * gg ** (-fit["alpha"]), "k--", lw=0.8,
                   label=rf"fit $t_0 \propto g^{{-{fit['alpha']:.2f} \pm {fit['alpha_err']:.2f}}}$")
    ax2.errorbar(g, [r["t0"] for r in rows], yerr=[r["t0_err"] for r in rows], fmt="o", capsize=3,
                 label="bootstrap errors")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set(xlabel="g", ylabel=rf"$t_0(g) = \min\{{t: \varphi = {level:g}\}}$")
    ax2.legend(fontsize=8)
    ax2.set_title(r"(b) $t_0(g)$, $\beta = 1$")
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sweep", help="the sweep file (runs/sweeps/glassy_fig2.yaml)")
    ap.add_argument("--set", action="append", default=[], help="override a sweep key, as for tnmbl sweep")
    ap.add_argument("--png", default="docs/figures/glassy_fig2.png")
    ap.add_argument("--window", type=float, default=0.15, help="smoothing window in ln t")
    ap.add_argument("--n-boot", type=int, default=300)
    ap.add_argument("--boot-seed", type=int, default=7)
    a = ap.parse_args(argv)
    rows, notes, level = load_points(a.sweep, a.set)
    for n in notes:
        print(n)
    fit = analyse(rows, level=level, window=a.window, n_boot=a.n_boot, seed=a.boot_seed)
    plot(rows, fit, level, a.window, a.png)
    summary = {"sweep": a.sweep, "level": level, "window": a.window, "n_boot": a.n_boot, "fit": fit,
               "points": [{k: v for k, v in r.items() if k not in ("times", "phi", "phi_chains")} for r in rows]}
    with open(a.png.rsplit(".", 1)[0] + ".json", "w") as f:
        json.dump(summary, f, indent=1, default=float)
    print(json.dumps(fit), [(r["g"], round(r["t0"], 1), round(r["t0_err"], 1)) for r in rows])
    return summary


if __name__ == "__main__":
    main()
