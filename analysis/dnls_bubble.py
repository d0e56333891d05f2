"""Norm-density spreading from a dense bubble in a dilute DNLS chain, clean and disordered
(companion of the glassy-dynamics figures; the classical limit of a Bose-Hubbard bubble).

    tnmbl sweep runs/sweeps/dnls_bubble.yaml                    # the ensemble -> out/dnls_bubble_sweep/
    python analysis/dnls_bubble.py runs/sweeps/dnls_bubble.yaml  # the figure -> docs/figures/dnls_bubble.png

Per disorder strength W the sweep's summary.h5 holds the ensemble mean of <|psi_x|^2>(t)
over its members (each a batch of M random-phase initial conditions with its own disorder
seed); the excess norm density dn_x(t) = <|psi_x|^2> - background is plotted, with its width
sigma(t) = sqrt(sum (x - X)^2 dn_x / sum dn_x). The sweep is run here if its summary is missing.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from tnmbl.observables.classical import bubble_width
from tnmbl.runs.sweep import load_sweep, read_summary, run_sweep


def main(path, png="docs/figures/dnls_bubble.png"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = time.time()
    plan = load_sweep(path)
    if not plan.summary_path.exists():
        run_sweep(plan, log=print)
    summary = read_summary(plan.summary_path)
    st = plan.members[0].config["state"]
    model = plan.members[0].config["model"]
    points = summary["points"]
    fig, axes = plt.subplots(1, len(points) + 1, figsize=(4 * (len(points) + 1), 3.8))
    x = np.arange(model["L"])
    for ax, point in zip(axes, points, strict=False):
        times = point["time"]
        n = point["observables"]["density"]["mean"]
        W = point["params"]["model.W"]
        im = ax.imshow(n, aspect="auto", origin="lower", cmap="magma", vmin=0, vmax=st["inside"],
                       extent=[-0.5, model["L"] - 0.5, 0, len(times) - 1], interpolation="nearest")
        ticks = np.linspace(0, len(times) - 1, 5).astype(int)
        ax.set_yticks(ticks, [f"{times[i]:.3g}" for i in ticks])
        ax.set_xlabel("x")
        ax.set_ylabel("t (log grid)")
        ax.set_title(f"W = {W:g}: " + r"$\langle|\psi_x|^2\rangle$", fontsize=9)
        fig.colorbar(im, ax=ax)
        _, sigma = bubble_width(x, n, st["background"])
        norm_err = point["health_worst"]["charge_error"].max() / n[0].sum()
        axes[-1].loglog(times[1:], sigma[1:], label=f"W = {W:g} (norm error {norm_err:.0e})")
    axes[-1].set_xlabel("t")
    axes[-1].set_ylabel(r"width $\sigma(t)$ of the excess norm")
    axes[-1].legend(fontsize=8)
    fig.suptitle(f"DNLS L = {model['L']}, g = {model['g']}, U = {model['U']}: bubble |psi|^2 = {st['inside']} on "
                 f"{st['region']} in {st['background']}, {plan.n_members} members x {st['M']} phase samples",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    print(f"wrote {png} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1])
