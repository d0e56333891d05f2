"""Issue 7, study (c): a dense bubble in the Bose-Hubbard chain vs the DNLS chain at the
matching density, the same spreading observables side by side; and a hot rotor bubble.

    tnmbl sweep runs/sweeps/bubbles_quantum_classical_bh.yaml     # quantum, with chi / dt / n_max checks
    tnmbl sweep runs/sweeps/bubbles_quantum_classical_dnls.yaml   # classical limit, with a dt check
    tnmbl run runs/bubbles_quantum_classical_rotor.yaml           # hot rotor bubble
    python analysis/bubbles_quantum_classical.py                  # -> docs/figures/bubbles_quantum_classical.png

Matching: BH H = U n^2 + g (a+_x a_x+1 + h.c.) and DNLS H = U |psi|^4 + g |psi_x+1 - psi_x|^2
have the same density dynamics in the classical limit (a -> psi, U n^2 = U |psi|^4 + U |psi|^2
up to ordering, a term in the conserved N; the DNLS hopping is -g (psi* psi' + c.c.) + g(|psi_x|^2
+ |psi_x+1|^2), the sign of g being gauged away by psi_x -> (-1)^x psi_x). So the comparison is
made on the density, which the gauge and the N terms leave alone. The quantum Fock bubble
(n_x = inside / outside) is matched by |psi_x|^2 = inside / outside with independent uniform
phases (the phases of a Fock state are uniformly spread). Both chains open.

The script reads the two sweeps' summaries (one member per point: the point's own run) and the
rotor run's results file; a part that has not run yet is left out with a note. Nothing is
computed here.
"""

from __future__ import annotations

import argparse

import numpy as np

from tnmbl.observables import spreading as sp
from tnmbl.runs.config import load_config
from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import load_sweep, read_summary

BH = "runs/sweeps/bubbles_quantum_classical_bh.yaml"
DNLS = "runs/sweeps/bubbles_quantum_classical_dnls.yaml"
ROTOR = "runs/bubbles_quantum_classical_rotor.yaml"


def sweep_points(path):
    """``[(member config, summary point)]`` of a sweep, or ``None`` (with a note) if it has not run."""
    plan = load_sweep(path)
    if not plan.summary_path.exists():
        print(f"{path}: no summary ({plan.summary_path}); run `tnmbl sweep {path}` -- left out")
        return None
    points = read_summary(plan.summary_path)["points"]
    return [(next(m.config for m in plan.members if m.point == k), p) for k, p in enumerate(points)]


def label_of(cfg, ref):
    """How a point differs from the reference point (``ref``), e.g. ``chi=64 n_max=7``."""
    keys = (("evolution", "chi_max", "chi"), ("evolution", "dt", "dt"), ("model", "n_max", "n_max"))
    diff = [f"{short}={cfg[s][k]}" for s, k, short in keys if k in cfg[s] and cfg[s][k] != ref[s].get(k)]
    return " ".join(diff)


def width_front(times, density, background, threshold):
    """Width and front of the excess density over ``background``."""
    x = np.arange(density.shape[1], dtype=float)
    return sp.spreading(sp.Series(times, x, density, "density"), background=background, threshold=threshold)


def rotor_width(path):
    """``(times, width of the excess energy density)`` of the rotor run, or ``None``."""
    cfg = load_config(path)
    if not cfg.results_path.exists():
        print(f"{path}: no results ({cfg.results_path}); run `tnmbl run {path}` -- left out")
        return None, cfg
    res = read_results(cfg.results_path)
    s = sp.spreading(sp.Series(res["time"], res["positions"]["energy_density"], res["observables"]["energy_density"],
                               "energy_density"))
    return (s.times, s.width), cfg


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bh", default=BH, help="the Bose-Hubbard sweep")
    ap.add_argument("--dnls", default=DNLS, help="the DNLS sweep")
    ap.add_argument("--rotor", default=ROTOR, help="the rotor run config")
    ap.add_argument("--png", default="docs/figures/bubbles_quantum_classical.png")
    ap.add_argument("--threshold", type=float, default=0.2, help="front: excess density that counts as reached")
    a = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bh, dn = sweep_points(a.bh), sweep_points(a.dnls)
    fig, axes = plt.subplots(1, 5, figsize=(22, 4))
    report = {}
    for ax, pts, title in ((axes[0], bh, "Bose-Hubbard <n_x>"), (axes[1], dn, "DNLS <|psi_x|^2>")):
        if not pts:
            continue
        cfg, p = pts[0]
        d = p["observables"]["density"]["mean"]
        im = ax.imshow(d, aspect="auto", origin="lower", cmap="magma", vmin=0, vmax=cfg["state"]["inside"],
                       extent=[-0.5, d.shape[1] - 0.5, p["time"][0], p["time"][-1]], interpolation="nearest")
        ax.set(xlabel="x", ylabel="t", title=title)
        fig.colorbar(im, ax=ax)
    for pts, col, name in ((bh, "tab:blue", "BH"), (dn, "tab:red", "DNLS")):
        for i, (cfg, p) in enumerate(pts or []):
            s = width_front(p["time"], p["observables"]["density"]["mean"], float(cfg["state"]["background"]),
                            a.threshold)
            ev = cfg["evolution"]
            lab = f"{name} " + (label_of(cfg, pts[0][0]) if i else
                                (f"chi={ev['chi_max']} dt={ev['dt']}" if "chi_max" in ev else
                                 f"M={cfg['state']['M']} dt={ev['dt']}"))
            ls = ["-", "--", ":", "-."][i % 4]
            axes[2].plot(s.times, s.width, ls, color=col, label=lab)
            axes[3].plot(s.times, s.front, ls, color=col, label=lab)
            report[lab] = dict(width_end=float(s.width[-1]), front_end=float(s.front[-1]))
    axes[2].set(xlabel="t", ylabel=r"width $\sigma$ of the excess density", title="same observables")
    axes[3].set(xlabel="t", ylabel=f"front (half-extent where excess >= {a.threshold})")
    axes[2].legend(fontsize=7)
    rw, rcfg = rotor_width(a.rotor)
    if rw is not None:
        t, w = rw
        ok = t > 0
        axes[4].loglog(t[ok], w[ok], color="k", label="width of excess energy")
        st = rcfg.state
        axes[4].set(xlabel="t", ylabel=r"$\sigma(t)$", title=f"rotor L={rcfg.model.params['L']}, "
                    f"g={rcfg.model.params['g']}, M={st.M}:\nbeta {st.inside} on {st.region} in beta {st.background}")
        axes[4].legend(fontsize=7)
        report["rotor"] = dict(width_start=float(w[0]), width_end=float(w[-1]))
    if bh:
        c, s = bh[0][0]["model"], bh[0][0]["state"]
        fig.suptitle(f"Dense bubble: {s['inside']} per site on {s['region']} in {s['background']}, L={c['L']}, "
                     f"U={c['U']}, g={c['g']}; BH n_max={c['n_max']} TEBD2; DNLS split2, random phases", fontsize=9)
    fig.tight_layout()
    fig.savefig(a.png, dpi=70)
    plt.close(fig)
    for name, r in report.items():
        print(f"{name}: {r}")
    if bh:
        trunc = bh[0][1]["health_worst"].get("truncation_error")
        if trunc is not None:
            print(f"BH truncation error at t_final: {trunc[-1]:.2e}")
    if bh and dn:
        nb, nd = bh[0][1]["observables"]["density"]["mean"], dn[0][1]["observables"]["density"]["mean"]
        if nb.shape == nd.shape:
            report["max_density_difference"] = float(np.abs(nb - nd).max())
            print(f"max |n_BH - n_DNLS| over x, t: {report['max_density_difference']:.3f}")
    return report


if __name__ == "__main__":
    main()
