"""Norm-density spreading from a dense bubble in a dilute DNLS chain, clean and disordered
(companion of the glassy-dynamics figures; the classical limit of a Bose-Hubbard bubble).

    python analysis/dnls_bubble.py runs/dnls_bubble.yaml   # -> docs/figures/dnls_bubble.png

For each disorder strength W: ``len(seeds)`` disorder realizations (one for W = 0) x M
random-phase initial conditions; the excess norm density dn_x(t) = <|psi_x|^2> - outside is
averaged, and its width sigma(t) = sqrt(sum (x - X)^2 dn_x / sum dn_x) is plotted.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import yaml

import tnmbl
from tnmbl.observables.classical import bubble_width
from tnmbl.states import classical as cs


def profile(cfg, W):
    m, s, e = cfg["model"], cfg["state"], cfg["evolve"]
    seeds = cfg["disorder"]["seeds"] if W > 0 else cfg["disorder"]["seeds"][:1]
    acc = None
    for seed in seeds:
        chain = tnmbl.models.dnls(m["L"], m["g"], m["U"], W=W, seed=seed, bc=m["bc"])
        st = cs.bubble(chain, s["M"], region=tuple(s["region"]), inside=s["inside"], outside=s["outside"],
                       seed=[s["seed"], seed])
        r = tnmbl.evolve_classical(chain, st, e["method"], dt=e["dt"], t_final=e["t_final"], n_log=e["n_log"],
                                   observables=["density"])
        acc = r["density"] if acc is None else acc + r["density"]
        err = r.health["charge_error"].max() / r.health["charge"][0]
    return r.times, acc / len(seeds), err


def main(path, png="docs/figures/dnls_bubble.png"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(path) as f:
        cfg = yaml.safe_load(f)
    s, m = cfg["state"], cfg["model"]
    t0 = time.time()
    Ws = cfg["disorder"]["W"]
    fig, axes = plt.subplots(1, len(Ws) + 1, figsize=(4 * (len(Ws) + 1), 3.8))
    x = np.arange(m["L"])
    for ax, W in zip(axes, Ws, strict=False):
        times, n, norm_err = profile(cfg, W)
        im = ax.imshow(n, aspect="auto", origin="lower", cmap="magma", vmin=0, vmax=s["inside"],
                       extent=[-0.5, m["L"] - 0.5, 0, len(times) - 1], interpolation="nearest")
        ticks = np.linspace(0, len(times) - 1, 5).astype(int)
        ax.set_yticks(ticks, [f"{times[i]:.3g}" for i in ticks])
        ax.set_xlabel("x")
        ax.set_ylabel("t (log grid)")
        ax.set_title(f"W = {W:g}: " + r"$\langle|\psi_x|^2\rangle$", fontsize=9)
        fig.colorbar(im, ax=ax)
        _, sigma = bubble_width(x, n, s["outside"])
        axes[-1].loglog(times[1:], sigma[1:], label=f"W = {W:g} (norm drift {norm_err:.0e})")
    axes[-1].set_xlabel("t")
    axes[-1].set_ylabel(r"width $\sigma(t)$ of the excess norm")
    axes[-1].legend(fontsize=8)
    fig.suptitle(f"DNLS L = {m['L']}, g = {m['g']}, U = {m['U']}: bubble |psi|^2 = {s['inside']} on "
                 f"{s['region']} in {s['outside']}, {s['M']} phase samples", fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    print(f"wrote {png} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1])
