"""A quick overview figure of a results file (used by ``tnmbl run`` and ``analysis/plot_run.py``).

Panels, for whichever of these were measured: heat maps (time vs position) of the change of
the density and of the energy density since t = 0, the energy and density currents vs time
at a quarter, the middle and three quarters of the chain, and the health figures (largest bond dimension and
accumulated truncation error; for classical batches the energy and charge errors), and the
batch averages phi and current_correlation of classical runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .storage import read_results

HEATMAPS = ("density", "energy_density", "entanglement")
CURRENTS = ("energy_current", "density_current", "particle_current", "spin_current")
SCALARS = ("phi", "current_correlation")


def plot_results(path, out=None, *, dpi=110):
    """Write an overview PNG of the results file ``path``; return the PNG's path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = read_results(path)
    out = Path(out) if out is not None else Path(path).with_suffix(".png")
    t, obs = res["time"], res["observables"]
    maps = [k for k in HEATMAPS if k in obs][:2]
    currents = [k for k in CURRENTS if k in obs]
    scalars = [k for k in SCALARS if k in obs]
    panels = len(maps) + (1 if currents else 0) + (1 if scalars else 0) + 1
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6), squeeze=False)
    axes = list(axes[0])
    title = res["attrs"].get("meta", {}).get("model", "")
    for ax, name in zip(axes, maps):
        data, pos = obs[name], res["positions"][name]
        if len(t) > 1 and len(pos) > 1:
            change = data - data[0]
            vmax = float(np.max(np.abs(change))) or 1.0
            im = ax.pcolormesh(pos, t, change, shading="nearest", cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            fig.colorbar(im, ax=ax, label=f"{name}(t) - {name}(0) [{res['units'][name]}]")
        else:
            ax.plot(pos, data[-1] if len(data) else [])
        ax.set_xlabel("position x")
        ax.set_ylabel("time t")
        ax.set_title(f"change of {name}")
    k = len(maps)
    if currents:
        ax = axes[k]
        for name in currents:
            data, pos = obs[name], res["positions"][name]
            for frac, style in ((0.25, ":"), (0.5, "-"), (0.75, "--")):
                i = int(np.argmin(np.abs(pos - (pos[0] + frac * (pos[-1] - pos[0])))))
                ax.plot(t, data[:, i], style, label=f"{name} at x={pos[i]:g}")
        ax.set_xlabel("time t")
        ax.set_ylabel("current")
        ax.legend(fontsize=7)
        ax.set_title("currents")
        k += 1
    if scalars:
        ax = axes[k]
        for name in scalars:
            ax.plot(t, obs[name][:, 0], label=name)
        if len(t) > 2 and t[1] > 0 and t[-1] / t[1] > 100:  # a log grid (n_log)
            ax.set_xscale("log")
        ax.set_xlabel("time t")
        ax.legend(fontsize=7)
        ax.set_title("batch averages")
        k += 1
    ax = axes[k]
    health = res["health"]
    if "chi" in health:
        ax.plot(t, health["chi"], color="C0")
        ax.set_ylabel("max bond dimension chi", color="C0")
    if "truncation_error" in health:
        ax2 = ax.twinx()
        ax2.semilogy(t, np.maximum(health["truncation_error"], 1e-18), color="C3")
        ax2.set_ylabel("truncation error (accumulated)", color="C3")
    for name, color in (("energy_error", "C3"), ("charge_error", "C0")):  # classical batches
        if name in health:
            ax.semilogy(t, np.maximum(health[name], 1e-18), color=color, label=name)
            ax.set_ylabel("largest error over the batch")
            ax.legend(fontsize=7)
    ax.set_xlabel("time t")
    ax.set_title("health")
    fig.suptitle(f"{title}  {Path(path).name}  ({res['attrs'].get('status')}, {res['n_rows']} rows)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
