"""Glassy-dynamics paper, Fig. 1: snapshots of w_x (x = 1..40) of one rotor chain at
equilibrium, L = 64, beta = 1, g = 0.07 (Langevin preparation t_th = 1000, then Stormer-Verlet
with dt = 0.001), plus the space-time map of w_x(t) - w_x(0) that shows the intermittency.

    tnmbl run runs/glassy_fig1.yaml                        # the run -> out/glassy_fig1.h5
    python analysis/glassy_fig1.py runs/glassy_fig1.yaml   # the figure -> docs/figures/glassy_fig1.png

The figure is made from the results file the run config names; if it does not exist yet the
run is started here (``tnmbl.runs.runner.run``), if it is unfinished it is resumed.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from tnmbl.runs import runner
from tnmbl.runs.config import load_config
from tnmbl.runs.storage import read_results

SNAPSHOTS = (0.0, 10000.0, 20000.0)
SITES = (0, 40)  # x = 1..40 in the paper's numbering


def results(cfg):
    """The run's results, running or resuming it first if needed."""
    path = cfg.results_path
    if not path.exists():
        runner.run(cfg)
    elif read_results(path)["attrs"].get("status") != "finished":
        runner.resume(path)
    return read_results(path)


def main(path, png="docs/figures/glassy_fig1.png"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = load_config(path)
    t0 = time.time()
    res = results(cfg)
    times, w = res["time"], res["observables"]["density"]  # one chain: density = w_x
    m, s = cfg.model.params, cfg.state
    a, b = SITES
    fig = plt.figure(figsize=(10, 6))
    for k, ts in enumerate(SNAPSHOTS):
        ax = fig.add_subplot(len(SNAPSHOTS), 2, 2 * k + 1)
        i = int(np.argmin(np.abs(times - ts)))
        ax.bar(np.arange(a, b) + 1, w[i, a:b], width=0.8, color="C0")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_ylim(-3.5, 3.5)
        ax.set_ylabel(r"$\omega_x$")
        ax.text(0.01, 0.85, f"t = {times[i]:g}", transform=ax.transAxes, fontsize=8)
        if k == len(SNAPSHOTS) - 1:
            ax.set_xlabel("x")
    ax = fig.add_subplot(1, 2, 2)
    im = ax.imshow(w[:, a:b] - w[0, a:b], aspect="auto", origin="lower", cmap="RdBu_r", vmin=-2, vmax=2,
                   extent=[a + 0.5, b + 0.5, 0, times[-1]], interpolation="nearest")
    ax.set_xlabel("x")
    ax.set_ylabel("t")
    ax.set_title(r"$\omega_x(t) - \omega_x(0)$: rare active spots", fontsize=9)
    fig.colorbar(im, ax=ax)
    err = res["health"]["energy_error"].max()
    fig.suptitle(f"Rotor chain L = {m['L']}, g = {m['g']}, beta = {s.beta}, Langevin t_th = {s.t_th:g}, "
                 f"Verlet dt = {cfg.evolution.dt} (energy error/L {err:.1e})", fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    print(f"wrote {png} in {time.time() - t0:.0f} s; max energy error per site {err:.2e}")


if __name__ == "__main__":
    main(sys.argv[1])
