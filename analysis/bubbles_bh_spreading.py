"""Issue 7, study (a): spreading of a low-density bubble in a dense Bose-Hubbard chain vs g/U.

    python analysis/bubbles_bh_spreading.py runs/bubbles_bh_spreading.yaml [--plot-only]
    # -> out/bubbles_bh_spreading/*.npz, docs/figures/bubbles_bh_spreading.png

For each g: TEBD2 at (chi_max, dt), (chi_max / 2, dt) and (chi_max, 2 dt). The particle
deficit e_x = 2 - <n_x> (tnmbl.observables.spreading, sign 'auto') gives the width sigma(t),
the front (half-distance between the outermost sites where e_x >= threshold) and the number
of bosons that entered the bubble, N_in(t) = sum_{x in bubble} <n_x>.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import yaml

import tnmbl
from tnmbl.observables import spreading as sp

OUT = Path("out/bubbles_bh_spreading")


def run_one(cfg, g, chi_max, dt):
    path = OUT / f"g{g:g}_chi{chi_max}_dt{dt:g}.npz"
    if path.exists():
        return dict(np.load(path))
    m, s, e = cfg["model"], cfg["state"], cfg["evolution"]
    chain = tnmbl.models.bose_hubbard(L=m["L"], U=m["U"], g=g, n_max=m["n_max"])
    psi = tnmbl.states.bubble(chain, tuple(s["region"]), s["background"], s["inside"])
    t0 = time.process_time()
    r = tnmbl.evolve(chain, psi, e["method"], dt=dt, t_final=e["t_final"], chi_max=chi_max,
                     output_dt=e["output_dt"], observables=["density", "energy_density", "entanglement"])
    out = dict(times=r.times, density=r["density"], energy_density=r["energy_density"],
               entanglement=r["entanglement"], truncation_error=r.health["truncation_error"],
               chi=r.health["chi"], cpu_s=time.process_time() - t0, backend=r.meta["backend"])
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    print(f"g={g} chi={chi_max} dt={dt}: {out['cpu_s']:.0f} CPU s, eps={out['truncation_error'][-1]:.1e}",
          flush=True)
    return out


def analyse(cfg, d):
    x = np.arange(d["density"].shape[1], dtype=float)
    s = sp.Series(d["times"], x, d["density"], "density")
    res = sp.spreading(s, threshold=cfg["threshold"], side="both")  # background: 2 (median at t = 0)
    # the front away from the open ends, where the dense background moves by itself (a deficit of
    # 0.11 at the end sites by t = 7.5 at g/U = 0.2): columns [k, L - k), k = cfg["front_margin"]
    k = cfg["front_margin"]
    front = sp.front(x[k:-k], res.excess[:, k:-k], cfg["threshold"], "both")
    res = sp.Spreading(res.times, res.positions, res.excess, res.centre, res.width, front, res.total)
    a, b = cfg["state"]["region"]
    return res, d["density"][:, a:b].sum(1)


def main(path, plot_only=False):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = yaml.safe_load(open(path))
    e, c = cfg["evolution"], cfg["convergence"]
    variants = [(e["chi_max"], e["dt"], "-"), (c["chi_max"], e["dt"], "--"), (e["chi_max"], c["dt"], ":")]
    fig, axes = plt.subplots(1, 5, figsize=(21, 3.9))
    colors = dict(zip(cfg["g"], ["tab:blue", "tab:orange", "tab:green", "tab:red"]))
    summary = []
    for g in cfg["g"]:
        curves = {}
        for chi, dt, ls in variants:
            p = OUT / f"g{g:g}_chi{chi}_dt{dt:g}.npz"
            if plot_only and not p.exists():
                continue
            d = run_one(cfg, g, chi, dt)
            res, n_in = analyse(cfg, d)
            curves[(chi, dt)] = (res, n_in, d)
            lab = f"g/U={g:g}" if ls == "-" else None
            axes[0].plot(res.times, res.width, ls, color=colors[g], label=lab)
            axes[1].plot(res.times * g, n_in, ls, color=colors[g], label=lab)
            axes[2].plot(res.times, n_in, ls, color=colors[g], label=lab)
            axes[3].semilogy(res.times, np.maximum(d["truncation_error"], 1e-16), ls, color=colors[g], label=lab)
            axes[4].plot(res.times, res.front, ls, color=colors[g], label=lab)
        ref = curves.get((e["chi_max"], e["dt"]))
        if ref:
            dev = {k: float(np.max(np.abs(v[0].width - ref[0].width[: len(v[0].width)]))) if len(v[0].times) ==
                   len(ref[0].times) else np.nan for k, v in curves.items() if k != (e["chi_max"], e["dt"])}
            at = np.interp(0.8 / g, ref[0].times, ref[1])
            summary.append((g, ref[0].width[0], ref[0].width[-1], ref[1][-1], dev, at))
    axes[0].set(xlabel="t", ylabel=r"width $\sigma$ of the deficit of $\langle n_x\rangle$")
    axes[1].set(xlabel="g t", ylabel="bosons inside the bubble", xlim=(0, 0.8 * 1.05))
    axes[2].set(xlabel="t", ylabel="bosons inside the bubble")
    axes[3].set(xlabel="t", ylabel="discarded weight (accumulated)")
    axes[4].set(xlabel="t", ylabel=f"front: half-extent where the deficit >= {cfg['threshold']}",
                title=f"{cfg['front_margin']} end sites left out")
    axes[0].legend(fontsize=8, title=f"solid chi={e['chi_max']}, dt={e['dt']}\n--: chi={c['chi_max']}"
                   f"  :: dt={c['dt']}", title_fontsize=7)
    m, s = cfg["model"], cfg["state"]
    fig.suptitle(f"Bose-Hubbard L={m['L']}, U={m['U']}, n_max={m['n_max']}: empty sites {s['region']} in "
                 f"density {s['background']}; TEBD2 (TeNPy, U(1))", fontsize=9)
    fig.tight_layout()
    fig.savefig("docs/figures/bubbles_bh_spreading.png", dpi=70)
    for g, w0, w1, nin, dev, at in summary:
        print(f"g/U={g:g}: sigma {w0:.3f} -> {w1:.3f}, bosons in bubble at t_final {nin:.3f}, at g t = 0.8 "
              f"{at:.3f}; max |d sigma| vs variants {dev}")


if __name__ == "__main__":
    main(sys.argv[1], "--plot-only" in sys.argv)
