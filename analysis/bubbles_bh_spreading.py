"""Issue 7, study (a): spreading of a low-density bubble in a dense Bose-Hubbard chain vs g/U,
from the summary of the sweep ``runs/sweeps/bubbles_bh_spreading.yaml``.

    tnmbl sweep runs/sweeps/bubbles_bh_spreading.yaml
    python analysis/bubbles_bh_spreading.py runs/sweeps/bubbles_bh_spreading.yaml
    # -> docs/figures/bubbles_bh_spreading.png

For each g the sweep has TEBD2 at (chi_max, dt), (chi_max / 2, dt) and (chi_max, 2 dt). The
particle deficit e_x = background - <n_x> (tnmbl.observables.spreading, sign 'auto') gives
the width sigma(t), the front (half-distance between the outermost sites where
e_x >= threshold, searched ``front_margin`` sites away from the open ends, where the dense
background moves by itself) and the bosons that entered the bubble, N_in(t) = sum over the
bubble's sites of <n_x>. Nothing is computed here: run the sweep first.
"""

from __future__ import annotations

import argparse

import numpy as np

from tnmbl.observables import spreading as sp
from tnmbl.runs.sweep import load_sweep, read_summary


def load_points(sweep_path):
    """One dict per sweep point: ``g``, ``chi_max``, ``dt``, ``region``, ``background``, ``times``,
    ``density`` (n_times, L), ``truncation_error`` (worst member per time)."""
    plan = load_sweep(sweep_path)
    if not plan.summary_path.exists():
        raise SystemExit(f"{plan.summary_path} is missing: run `tnmbl sweep {sweep_path}` first")
    summary = read_summary(plan.summary_path)
    out = []
    for k, point in enumerate(summary["points"]):
        cfg = next(m.config for m in plan.members if m.point == k)
        out.append(dict(g=cfg["model"]["g"], chi_max=cfg["evolution"]["chi_max"], dt=cfg["evolution"]["dt"],
                        region=tuple(cfg["state"]["region"]), background=cfg["state"]["background"],
                        L=cfg["model"]["L"], U=cfg["model"]["U"], n_max=cfg["model"]["n_max"],
                        times=point["time"], density=point["observables"]["density"]["mean"],
                        truncation_error=point["health_worst"].get("truncation_error")))
    return out


def analyse(times, density, region, *, threshold=0.1, front_margin=2):
    """Spreading of the deficit (width, front away from the ends) and the bosons inside the
    bubble ``region = (a, b)``."""
    x = np.arange(density.shape[1], dtype=float)
    res = sp.spreading(sp.Series(times, x, density, "density"), threshold=threshold, side="both")
    k = front_margin
    front = sp.front(x[k:len(x) - k], res.excess[:, k:len(x) - k], threshold, "both")
    res = sp.Spreading(res.times, res.positions, res.excess, res.centre, res.width, front, res.total)
    a, b = region
    return res, density[:, a:b].sum(1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sweep")
    ap.add_argument("--png", default="docs/figures/bubbles_bh_spreading.png")
    ap.add_argument("--threshold", type=float, default=0.1, help="front: deficit (bosons) that counts as reached")
    ap.add_argument("--front-margin", type=int, default=2, help="front: end sites left out")
    a = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = load_points(a.sweep)
    gs = sorted({p["g"] for p in points})
    ref_of = {g: min((p for p in points if p["g"] == g), key=lambda p: (-p["chi_max"], p["dt"])) for g in gs}
    fig, axes = plt.subplots(1, 5, figsize=(21, 3.9))
    colors = dict(zip(gs, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]))
    report = []
    for g in gs:
        ref = ref_of[g]
        ref_res, ref_in = analyse(ref["times"], ref["density"], ref["region"], threshold=a.threshold,
                                  front_margin=a.front_margin)
        dev = {}
        for p in (q for q in points if q["g"] == g):
            res, n_in = analyse(p["times"], p["density"], p["region"], threshold=a.threshold,
                                front_margin=a.front_margin)
            ls = "-" if p is ref else ("--" if p["chi_max"] < ref["chi_max"] else ":")
            lab = f"g/U={g:g}" if p is ref else None
            axes[0].plot(res.times, res.width, ls, color=colors[g], label=lab)
            axes[1].plot(res.times * g, n_in, ls, color=colors[g], label=lab)
            axes[2].plot(res.times, n_in, ls, color=colors[g], label=lab)
            if p["truncation_error"] is not None:
                axes[3].semilogy(res.times, np.maximum(p["truncation_error"], 1e-16), ls, color=colors[g], label=lab)
            axes[4].plot(res.times, res.front, ls, color=colors[g], label=lab)
            if p is not ref:
                common = np.isin(np.round(ref_res.times, 9), np.round(res.times, 9))
                mine = np.isin(np.round(res.times, 9), np.round(ref_res.times, 9))
                dev[f"chi={p['chi_max']}, dt={p['dt']:g}"] = float(np.max(np.abs(res.width[mine] -
                                                                                ref_res.width[common])))
        at = float(np.interp(0.8 / g, ref_res.times, ref_in))
        report.append(dict(g=g, width_start=float(ref_res.width[0]), width_end=float(ref_res.width[-1]),
                           n_in_end=float(ref_in[-1]), n_in_at_gt_0_8=at, max_width_difference=dev))
    ref = ref_of[gs[0]]
    axes[0].set(xlabel="t", ylabel=r"width $\sigma$ of the deficit of $\langle n_x\rangle$")
    axes[1].set(xlabel="g t", ylabel="bosons inside the bubble", xlim=(0, 0.8 * 1.05))
    axes[2].set(xlabel="t", ylabel="bosons inside the bubble")
    axes[3].set(xlabel="t", ylabel="discarded weight (accumulated)")
    axes[4].set(xlabel="t", ylabel=f"front: half-extent where the deficit >= {a.threshold}",
                title=f"{a.front_margin} end sites left out")
    axes[0].legend(fontsize=8, title=f"solid chi={ref['chi_max']}, dt={ref['dt']}\n--: chi / 2   :: 2 dt",
                   title_fontsize=7)
    fig.suptitle(f"Bose-Hubbard L={ref['L']}, U={ref['U']}, n_max={ref['n_max']}: empty sites {list(ref['region'])} "
                 f"in density {ref['background']}; TEBD2", fontsize=9)
    fig.tight_layout()
    fig.savefig(a.png, dpi=70)
    plt.close(fig)
    for r in report:
        print(f"g/U={r['g']:g}: sigma {r['width_start']:.3f} -> {r['width_end']:.3f}, bosons in bubble at t_final "
              f"{r['n_in_end']:.3f}, at g t = 0.8 {r['n_in_at_gt_0_8']:.3f}; max |d sigma| vs variants "
              f"{r['max_width_difference']}")
    return report


if __name__ == "__main__":
    main()
