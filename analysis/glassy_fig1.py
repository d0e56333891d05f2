"""Glassy-dynamics paper, Fig. 1: three snapshots of w_x (x = 1..40) of one rotor chain at
equilibrium, L = 64, beta = 1, g = 0.07, Langevin preparation t_th = 1000, then Stormer-Verlet
with dt = 0.001; plus the space-time map of w_x(t) - w_x(0) that shows the intermittency.

    python analysis/glassy_fig1.py runs/glassy_fig1.yaml   # -> docs/figures/glassy_fig1.png
"""

from __future__ import annotations

import sys
import time

import numpy as np
import yaml

import tnmbl
from tnmbl.states import classical as cs


def main(path, png="docs/figures/glassy_fig1.png"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(path) as f:
        cfg = yaml.safe_load(f)
    m, s, e = cfg["model"], cfg["state"], cfg["evolve"]
    chain = tnmbl.models.rotor(m["L"], m["g"], bc=m["bc"])
    t0 = time.time()
    rest = cs.explicit(chain, theta=np.zeros(m["L"]), w=np.zeros(m["L"]))
    lv = s["langevin"]
    state = cs.langevin(chain, rest, s["beta"], lv["t_th"], gamma=lv["gamma"], dt=lv["dt"], seed=s["seed"], threads=1)
    r = tnmbl.evolve_classical(chain, state, e["method"], dt=e["dt"], t_final=e["t_final"], output_dt=e["output_dt"],
                               observables=["density"], beta=s["beta"], threads=1, lanes=4)
    w = r["density"]
    a, b = cfg["sites"]
    fig = plt.figure(figsize=(10, 6))
    snaps = cfg["snapshots"]
    for k, ts in enumerate(snaps):
        ax = fig.add_subplot(len(snaps), 2, 2 * k + 1)
        i = int(np.argmin(np.abs(r.times - ts)))
        x = np.arange(a, b) + 1
        ax.bar(x, w[i, a:b], width=0.8, color="C0")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_ylim(-3.5, 3.5)
        ax.set_ylabel(r"$\omega_x$")
        ax.text(0.01, 0.85, f"t = {r.times[i]:g}", transform=ax.transAxes, fontsize=8)
        if k == len(snaps) - 1:
            ax.set_xlabel("x")
    ax = fig.add_subplot(1, 2, 2)
    im = ax.imshow((w[:, a:b] - w[0, a:b]), aspect="auto", origin="lower", cmap="RdBu_r", vmin=-2, vmax=2,
                   extent=[a + 0.5, b + 0.5, 0, r.times[-1]], interpolation="nearest")
    ax.set_xlabel("x")
    ax.set_ylabel("t")
    ax.set_title(r"$\omega_x(t) - \omega_x(0)$: rare active spots", fontsize=9)
    fig.colorbar(im, ax=ax)
    fig.suptitle(f"Rotor chain L = {m['L']}, g = {m['g']}, beta = {s['beta']}, Langevin t_th = {lv['t_th']:g}, "
                 f"Verlet dt = {e['dt']} (energy error/L {r.health['energy_error'].max():.1e})", fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    print(f"wrote {png} in {time.time() - t0:.0f} s; max energy error per site {r.health['energy_error'].max():.2e}")


if __name__ == "__main__":
    main(sys.argv[1])
