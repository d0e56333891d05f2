"""The overview figure of a :class:`~tnmbl.Result` (:meth:`Result.plot <tnmbl.Result.plot>`; the figure
``tnmbl run`` writes next to its results file is the same, via :func:`tnmbl.runs.figure.plot_results`).

Panels, for whichever of these were measured: heat maps (time vs position) of the change of
the density and of the energy density since t = 0 (of a correlation run: the profiles
themselves, against the distance to the evolved operator), the energy and density currents vs time
at a quarter, the middle and three quarters of the chain, the batch averages phi (with its
0.9 level) and current_correlation of classical runs, and the health figures (largest bond
dimension and accumulated truncation error; for classical batches the energy and charge
errors). The title carries the model's parameters, the state and the method; every axis its
units; log-spaced output times get a log time axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .resultsio import TIME_UNITS

HEATMAPS = ("density", "energy_density", "entanglement")
CURRENTS = ("energy_current", "density_current", "particle_current", "spin_current")
SCALARS = ("phi", "current_correlation")
TIME_LABEL = f"time t [{TIME_UNITS}]"


def log_spaced(t):
    """Whether output times ``t`` look log-spaced (``n_log``): their spacing grows by more than 100x."""
    t = np.asarray(t, float)
    if len(t) < 4 or t[1] <= 0:
        return False
    d = np.diff(t)
    return bool(d[-1] > 0 and d[0] > 0 and d[-1] / d[0] > 100 and t[-1] / t[1] > 100)


def regions(res):
    """Regions of the chain worth marking on position axes, ``[(label, (a, b))]`` (sites a to
    b - 1): the bath of the model (``model_params["bath"]``) and the bubble of the initial
    state (``state.region`` of the run config stored in a results file)."""
    out = []
    bath = (res.meta.get("model_params") or {}).get("bath")
    if bath is not None and len(bath) == 2:
        out.append(("bath", (int(bath[0]), int(bath[1]))))
    config = (res.meta.get("file") or {}).get("config_json") or {}
    region = (config.get("state") or {}).get("region") if isinstance(config, dict) else None
    if region is not None and len(region) == 2:
        out.append(("bubble", (int(region[0]), int(region[1]))))
    return out


REGION_STYLES = {"bath": dict(color="tab:green", ls="-"), "bubble": dict(color="k", ls=":")}


def mark_regions(ax, marks):
    """Vertical lines at the edges (half-way between sites) of each region, labelled once."""
    for label, (a, b) in marks:
        style = REGION_STYLES.get(label, dict(color="0.3", ls="--"))
        ax.axvline(a - 0.5, lw=1.0, label=f"{label} [{a}, {b})", **style)
        ax.axvline(b - 0.5, lw=1.0, **style)
    if marks:
        ax.legend(fontsize=7, loc="upper right", framealpha=0.6)


def plot_result(res, out=None, *, dpi=110, title=None):
    """Draw the overview of ``res``; write a PNG to ``out`` and return its path, or return the
    ``Figure`` when ``out`` is ``None``."""
    import matplotlib.pyplot as plt

    t, obs = np.asarray(res.times, float), res.data
    logt = log_spaced(t)
    marks = regions(res)
    # observables of users (tnmbl.observables.register) are placed by their dim, like the built-in ones
    own = [k for k in obs if k not in HEATMAPS + CURRENTS + SCALARS]
    maps = [k for k in HEATMAPS if k in obs][:2] + [k for k in own if res.dims.get(k) not in ("scalar", "current")][:1]
    currents = [k for k in CURRENTS if k in obs] + [k for k in own if res.dims.get(k) == "current"]
    scalars = [k for k in SCALARS if k in obs] + [k for k in own if res.dims.get(k) == "scalar"]
    panels = len(maps) + (1 if currents else 0) + (1 if scalars else 0) + 1
    fig, axes = plt.subplots(1, panels, figsize=(4.4 * panels, 3.8), squeeze=False)
    axes = list(axes[0])
    for ax, name in zip(axes, maps):
        data, pos = np.asarray(obs[name]), np.asarray(res.positions[name])
        units = res.units.get(name, "")
        profile = res.dims.get(name) == "distance"  # a correlation profile (correlation runs): itself
        if len(t) > 1 and len(pos) > 1:
            change = data if profile else data - data[0]
            vmax = float(np.max(np.abs(change))) or 1.0
            im = ax.pcolormesh(pos, t, change, shading="nearest", cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            fig.colorbar(im, ax=ax, label=f"C_{name}(x, t) [{units}]" if profile else
                         f"{name}(t) - {name}(0) [{units}]")
            ax.set_ylabel(TIME_LABEL)
            if logt:
                ax.set_yscale("symlog", linthresh=max(t[1], 1e-12))
        else:
            ax.plot(pos, data[-1] if len(data) else [])
            ax.set_ylabel(f"{name} [{units}]")
        ax.set_xlabel(f"position x of the {res.dims.get(name, 'site')} [lattice spacing]")
        ax.set_title(f"<{name}_x(t) {res.meta.get('b', 'B')}_y>" if profile else f"change of {name}")
        mark_regions(ax, marks)
    k = len(maps)
    if currents:
        ax = axes[k]
        for name in currents:
            data, pos = np.asarray(obs[name]), np.asarray(res.positions[name])
            for frac, style in ((0.25, ":"), (0.5, "-"), (0.75, "--")):
                i = int(np.argmin(np.abs(pos - (pos[0] + frac * (pos[-1] - pos[0])))))
                ax.plot(t, data[:, i], style, label=f"{name} at x={pos[i]:g}")
        ax.set_xlabel(TIME_LABEL)
        ax.set_ylabel("current [" + ", ".join(sorted({res.units.get(n, "") for n in currents})) + "]")
        if logt:
            ax.set_xscale("symlog", linthresh=max(t[1], 1e-12))
        ax.legend(fontsize=7)
        ax.set_title("currents")
        k += 1
    if scalars:
        ax = axes[k]
        for name in scalars:
            ax.plot(t, np.asarray(obs[name])[:, 0], label=f"{name} [{res.units.get(name, '1')}]")
        if "phi" in scalars:
            ax.axhline(0.9, color="0.5", lw=0.8, ls="--", label="phi = 0.9 (t0 level)")
        if logt:
            ax.set_xscale("log")
        ax.set_xlabel(TIME_LABEL)
        ax.legend(fontsize=7)
        ax.set_title("batch averages")
        k += 1
    ax = axes[k]
    health = res.health
    if "chi" in health:
        ax.plot(t, health["chi"], color="C0")
        ax.set_ylabel("max bond dimension chi", color="C0")
    if "truncation_error" in health:
        ax2 = ax.twinx()
        ax2.semilogy(t, np.maximum(health["truncation_error"], 1e-18), color="C3")
        ax2.set_ylabel("truncation error (accumulated discarded weight)", color="C3")
    for name, color in (("energy_error", "C3"), ("charge_error", "C0")):  # classical batches
        if name in health:
            ax.semilogy(t, np.maximum(health[name], 1e-18), color=color, label=name)
            ax.set_ylabel("largest relative error over the batch")
            ax.legend(fontsize=7)
    if logt:
        ax.set_xscale("log")
    ax.set_xlabel(TIME_LABEL)
    ax.set_title("health")
    fig.suptitle(title if title is not None else res.title(), fontsize=9)
    return finish(fig, out, dpi)


def finish(fig, out, dpi):
    """Lay out ``fig``; return it (``out`` is ``None``), or write a PNG to ``out`` and return its path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    if out is None:
        return fig
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


def lower_bounds(ax, x, y, *, color="C0", label="lower bound", arrow=0.6):
    """Draw values that are lower bounds as such: open markers with an upward arrow of
    ``arrow`` times the value (a fixed factor on log axes), one legend entry ``label``."""
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    if not len(x):
        return None
    return ax.errorbar(x, y, yerr=[np.zeros_like(y), arrow * np.abs(y)], lolims=True, fmt="o", mfc="none",
                       color=color, capsize=3, label=label)



def upper_bounds(ax, x, y, *, color="C0", label="upper bound", arrow=0.6):
    """Draw values that are upper bounds as such: open markers with a downward arrow of
    ``arrow`` times the value (the mirror of :func:`lower_bounds`)."""
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    if not len(x):
        return None
    return ax.errorbar(x, y, yerr=[arrow * np.abs(y), np.zeros_like(y)], uplims=True, fmt="o", mfc="none",
                       color=color, capsize=3, label=label)

def plot_health(ax, t, health, logt=False):
    """The discarded weight (log scale) and, on a twin axis, the largest bond dimension."""
    ax.semilogy(t, np.maximum(health["truncation_error"], 1e-18), color="C3")
    ax.set_ylabel("truncation error (accumulated discarded weight)", color="C3")
    if "chi" in health:
        ax2 = ax.twinx()
        ax2.plot(t, health["chi"], color="C0")
        ax2.set_ylabel("max bond dimension chi", color="C0")
    if logt:
        ax.set_xscale("log")
    ax.set_xlabel(TIME_LABEL)
    ax.set_title("health")


def plot_correlation(corr, out=None, *, dpi=110, title=None):
    """Figure of a :class:`~tnmbl.evolution.correlations.Correlation`: Re C(t) with its
    truncation error estimate as a band (a heat map over distance and time for a profile), and
    the health of the evolution."""
    import matplotlib.pyplot as plt

    res = corr.as_result()
    t = np.asarray(res.times, float)
    units = res.units["C_re"]
    logt = log_spaced(t)
    fig, (ax, axh) = plt.subplots(1, 2, figsize=(9.6, 3.8))
    if corr.scalar:
        c, err = res["C_re"][:, 0], res["C_error"][:, 0]
        ax.plot(t, c, color="C0", label="Re C(t)")
        ax.fill_between(t, c - err, c + err, color="C0", alpha=0.25, lw=0, label="truncation error estimate")
        ax.axhline(0.0, color="0.5", lw=0.6)
        ax.set_xlabel(TIME_LABEL)
        ax.set_ylabel(f"Re C(t) [{units}]")
        if logt:
            ax.set_xscale("log")
        ax.legend(fontsize=7)
        ax.set_title(corr.meta.get("normalisation") or "autocorrelation", fontsize=9)
    else:
        vmax = float(np.max(np.abs(res["C_re"]))) or 1.0
        im = ax.pcolormesh(res.positions["C_re"], t, res["C_re"], shading="nearest", cmap="RdBu_r",
                           vmin=-vmax, vmax=vmax)
        fig.colorbar(im, ax=ax, label=f"Re C(x - y, t) [{units}]")
        ax.set_xlabel("distance x - y [lattice spacing]")
        ax.set_ylabel(TIME_LABEL)
        if logt:
            ax.set_yscale("symlog", linthresh=max(t[1], 1e-12))
        ax.set_title(f"<{corr.meta.get('a')}(t) {corr.meta.get('b')}(0)>", fontsize=9)
    if corr.meta.get("method") == "exact":
        fig.delaxes(axh)
        fig.set_figwidth(5.2)
    else:
        plot_health(axh, t, res.health, logt)
    fig.suptitle(title if title is not None else f"{res.title()}, {corr.meta.get('ensemble', '')}", fontsize=9)
    return finish(fig, out, dpi)
