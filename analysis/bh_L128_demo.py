"""Issue 14, the long-chain demonstration: a low-density bubble in a Bose-Hubbard chain of 128
sites (``runs/bose_hubbard_bubble_L128.yaml``), its spreading and its error budget.

    tnmbl run runs/bose_hubbard_bubble_L128.yaml                      # chi 512 (the run)
    tnmbl run runs/bose_hubbard_bubble_L128.yaml --set evolution.chi_max=256 \\
        --set output.path=out/bh_L128_chi256.h5                         # the chi row
    tnmbl run runs/bose_hubbard_bubble_L128.yaml --set evolution.chi_max=128 \\
        --set output.path=out/bh_L128_chi128.h5                         # the dt row's coarse run
    tnmbl run runs/bose_hubbard_bubble_L128.yaml --set evolution.chi_max=128 \\
        --set evolution.dt=0.1 --set output.path=out/bh_L128_chi128_dt01.h5   # ... and its dt / 2
    python analysis/bh_L128_demo.py out/bose_hubbard_bubble_L128.h5 --chi out/bh_L128_chi256.h5 \\
        out/bh_L128_chi128.h5 --dt-fine out/bh_L128_chi128_dt01.h5 --dt-base out/bh_L128_chi128.h5
    # -> docs/figures/bh_L128_demo.png and .json

The budget rows come from :func:`tnmbl.runs.budget.error_budget` with companion files
(``chi_from`` = the first ``--chi`` file, ``dt_from`` / ``dt_base`` = the cheaper chi pair at
dt and dt / 2: the TEBD4 time-step error is measured there, the row says at which chi). The
spreading figures use the particle deficit of the bubble (as
``analysis/bubbles_bh_spreading.py``: width, front away from the open ends, bosons that
entered the bubble). Partial files (runs still going or stopped) are read up to their last row.
Nothing is computed here but the budget's comparisons: run the runs first.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bubbles_bh_spreading import analyse  # noqa: E402

from tnmbl.runs.budget import error_budget  # noqa: E402
from tnmbl.runs.storage import read_results  # noqa: E402


def load(path):
    """The results of ``path`` with the config keys the figure needs."""
    r = read_results(path)
    cfg = r["attrs"]["config_json"]
    ev = cfg["evolution"]
    return dict(path=str(path), times=np.asarray(r["time"], float), obs=r["observables"], health=r["health"],
                chi_max=int(ev["chi_max"]), dt=float(ev["dt"]), method=ev["method"], model=cfg["model"],
                region=tuple(cfg["state"]["region"]), background=cfg["state"]["background"],
                status=r["attrs"]["status"], t_final=float(ev["t_final"]))


def spread(run, threshold, margin):
    res, n_in = analyse(run["times"], np.asarray(run["obs"]["density"], float), run["region"],
                        threshold=threshold, front_margin=margin)
    return res, n_in


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="the chi_max = 512 run")
    ap.add_argument("--chi", nargs="*", default=[], help="the same run at smaller chi_max (first: chi row)")
    ap.add_argument("--dt-fine", help="a run at dt / 2 (of --dt-base, or of RESULTS)")
    ap.add_argument("--dt-base", help="the coarse-dt partner of --dt-fine (default RESULTS)")
    ap.add_argument("--png", default="docs/figures/bh_L128_demo.png")
    ap.add_argument("--threshold", type=float, default=0.1, help="front: deficit (bosons) that counts as reached")
    ap.add_argument("--front-margin", type=int, default=4, help="front: end sites left out")
    ap.add_argument("--zoom", type=int, default=16, help="heat maps: sites shown on each side of the bubble")
    a = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main_run = load(a.results)
    others = [load(p) for p in a.chi]
    fine = load(a.dt_fine) if a.dt_fine else None
    runs = [main_run] + others + ([fine] if fine else [])
    budget = error_budget(a.results, chi_from=a.chi[0] if a.chi else None, dt_from=a.dt_fine, dt_base=a.dt_base)

    m = main_run["model"]
    x0, x1 = main_run["region"]
    t = main_run["times"]
    L = int(m["L"])
    fig, ax = plt.subplots(2, 3, figsize=(16, 8.6))
    dn = np.asarray(main_run["obs"]["density"]) - np.asarray(main_run["obs"]["density"])[0]
    de = np.asarray(main_run["obs"]["energy_density"]) - np.asarray(main_run["obs"]["energy_density"])[0]
    for k, (data, lab) in enumerate([(dn, r"$\langle n_x\rangle(t) - \langle n_x\rangle(0)$"),
                                     (de, r"$\langle h_x\rangle(t) - \langle h_x\rangle(0)$  [U]")]):
        lo, hi = max(0, x0 - a.zoom), min(data.shape[1], x1 + a.zoom)
        data = data[:, lo:hi]
        lim = float(np.max(np.abs(data))) or 1.0
        im = ax[0, k].pcolormesh(np.arange(lo, hi + 1) - 0.5, np.r_[t, t[-1] + (t[1] - t[0])] - (t[1] - t[0]) / 2,
                                 data, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="flat")
        fig.colorbar(im, ax=ax[0, k], label=lab)
        for xb in (x0 - 0.5, x1 - 0.5):
            ax[0, k].axvline(xb, color="k", lw=0.6, ls=":")
        ax[0, k].set(xlabel="site x", ylabel="t  [1/U]", title=("density" if k == 0 else "energy density")
                     + " change near the bubble (dotted)")

    styles = {}
    rows = []
    for r in runs:
        is_fine = fine is not None and r is fine
        ls = ":" if is_fine else {main_run["chi_max"]: "-"}.get(r["chi_max"], "--" if r["chi_max"] >= 256 else "-.")
        col = {512: "C0", 256: "C1", 128: "C2"}.get(r["chi_max"], "C3")
        lab = f"chi {r['chi_max']}, dt {r['dt']:g}"
        styles[r["path"]] = (ls, col, lab)
        res, n_in = spread(r, a.threshold, a.front_margin)
        ax[0, 2].plot(r["times"], n_in, ls, color=col, label=lab)
        ax[1, 0].plot(r["times"], res.width, ls, color=col, label=lab)
        ent = np.asarray(r["obs"]["entanglement"])
        ax[1, 1].plot(r["times"], ent.max(1), ls, color=col, label=lab)
        ax[1, 2].semilogy(r["times"], np.maximum(np.asarray(r["health"]["truncation_error"]), 1e-17), ls, color=col,
                          label=lab)
        rows.append(dict(path=r["path"], chi_max=r["chi_max"], dt=r["dt"], t_reached=float(r["times"][-1]),
                         status=r["status"], bosons_in_bubble_end=float(n_in[-1]), width_end=float(res.width[-1]),
                         front_end=float(res.front[-1]), entanglement_max_end=float(ent[-1].max()),
                         chi_reached=int(np.max(r["health"]["chi"])),
                         discarded_weight_end=float(np.asarray(r["health"]["truncation_error"])[-1]),
                         energy_drift_max=float(np.max(np.abs(r["health"]["energy_drift"])))))
    ax[0, 2].set(xlabel="t  [1/U]", ylabel=f"bosons inside the bubble (sites {x0}-{x1 - 1})",
                 title="filling of the bubble")
    ax[1, 0].set(xlabel="t  [1/U]", ylabel="width sigma of the particle deficit  [sites]",
                 title="spreading of the bubble")
    ax[1, 1].set(xlabel="t  [1/U]", ylabel="largest entanglement entropy over the bonds  [nats]",
                 title="entanglement (what chi must carry)")
    ax[1, 2].set(xlabel="t  [1/U]", ylabel="accumulated discarded weight", title="truncation")
    for axis in (ax[0, 2], ax[1, 0], ax[1, 1], ax[1, 2]):
        axis.legend(fontsize=7)
        axis.grid(alpha=0.3)
    tr, st = budget["truncation"], budget["time_step"]
    chi_txt = (f"chi row max|O({tr['chi_max']}) - O({tr.get('chi_compared')})| = {tr['chi_effect']:.1e}"
               if tr.get("chi_effect") is not None else "no chi row")
    dt_txt = (f"dt row (chi {st.get('chi_max_compared')}) {st['dt_effect']:.1e}" if st.get("dt_effect") is not None
              else "no dt row")
    fig.suptitle(f"Bose-Hubbard L = {L}, U = {m['U']}, g = {m['g']}, n_max = {m['n_max']}: empty sites {x0}-{x1 - 1} "
                 f"in density {main_run['background']}; {main_run['method'].upper()} dt {main_run['dt']:g}, "
                 f"chi_max {main_run['chi_max']}, to t = {t[-1]:g}\n{chi_txt}; {dt_txt}", fontsize=10)
    fig.tight_layout()
    Path(a.png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.png, dpi=70)
    plt.close(fig)
    report = dict(runs=rows, budget=budget)
    Path(a.png).with_suffix(".json").write_text(json.dumps(report, indent=1, default=float))
    for r in rows:
        print(f"chi {r['chi_max']:4d} dt {r['dt']:<5g} t = {r['t_reached']:5.1f} ({r['status']}): bosons in bubble "
              f"{r['bosons_in_bubble_end']:.4f}, width {r['width_end']:.3f}, max S "
              f"{r['entanglement_max_end']:.4f}, discarded {r['discarded_weight_end']:.1e}")
    print(chi_txt + "  by observable: " + json.dumps({k: f"{v:.1e}" for k, v in (tr.get("chi_effect_by_observable")
                                                                                   or {}).items()}))
    print(dt_txt + "  by observable: " + json.dumps({k: f"{v:.1e}" for k, v in (st.get("dt_effect_by_observable")
                                                                                 or {}).items()}))
    return report


if __name__ == "__main__":
    main()
