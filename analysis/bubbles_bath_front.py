"""Issue 7, study (b): thermalization front of a small bath in a disordered XXZ chain.

    python analysis/bubbles_bath_front.py runs/bubbles_bath_front.yaml [--plot-only]
    # -> out/bubbles_bath_front/*.npz, docs/figures/bubbles_bath_front.png

For every W and seed: the chain xxz_with_bath (bath at the left end) and its control with
the bath cut off (tnmbl.states.bubbles.decoupled: every bond between bath and chain at
zero), both from the Neel state, evolved exactly (expm_multiply, full space: the bath's
transverse field breaks S^z). The thermalization distance (tnmbl.observables.spreading) is
the number of consecutive spins next to the bath whose sigma^z has relaxed by >= level
toward 0 (running mean over a window). xi: the single-particle localization length of the
same chains' localized part (J = 0, Jordan-Wigner: h = diag(2 w_x) + 2 g on the off-diagonal),
from the decay of every eigenvector, ln|psi_n(x)| ~ -|x - x_n| / xi_n fitted by least
squares, averaged as xi = 1 / mean(1 / xi_n) over eigenvectors and seeds. l_c from eq. 19.
A TEBD check (chi 32 and 64 vs exact, t <= 6) is shown for one member.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import yaml

import tnmbl
from tnmbl.observables import spreading as sp
from tnmbl.states.bubbles import decoupled

OUT = Path("out/bubbles_bath_front")


def chain_of(cfg, W, seed):
    m = cfg["model"]
    return tnmbl.models.xxz_with_bath(L=m["L"], g=m["g"], J=m["J"], W=W, bath=tuple(m["bath"]),
                                      bath_hx=m["bath_hx"], bath_W=m["bath_W"], seed=seed)


def run_one(cfg, W, seed, control):
    path = OUT / f"W{W:g}_s{seed}_{'control' if control else 'bath'}.npz"
    if path.exists():
        return dict(np.load(path))
    chain = chain_of(cfg, W, seed)
    if control:
        chain = decoupled(chain, cfg["model"]["bath"])
    e = cfg["evolution"]
    t0 = time.process_time()
    r = tnmbl.evolve(chain, tnmbl.states.neel(chain), e["method"], dt=e["dt"], t_final=e["t_final"],
                     output_dt=e["output_dt"], observables=["density"])
    out = dict(times=r.times, density=r["density"], w=np.array(chain.params["w"]), cpu_s=time.process_time() - t0)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    print(f"W={W} seed={seed} control={control}: {out['cpu_s']:.0f} CPU s", flush=True)
    return out


def xi_eigenvectors(w, g):
    """Inverse decay lengths of the single-particle eigenvectors of the localized segment."""
    n = len(w)
    h = np.diag(2 * w) + np.diag(np.full(n - 1, 2 * g), 1) + np.diag(np.full(n - 1, 2 * g), -1)
    _, v = np.linalg.eigh(h)
    inv = []
    x = np.arange(n)
    for k in range(n):
        a = np.abs(v[:, k])
        x0 = np.argmax(a)
        dist = np.abs(x - x0)
        ok = dist > 0
        A = np.vstack([np.ones(ok.sum()), dist[ok]]).T
        slope = np.linalg.lstsq(A, np.log(a[ok] + 1e-300), rcond=None)[0][1]
        inv.append(max(-slope, 1e-9))
    return np.array(inv)


def tebd_check(cfg):
    c = cfg["check"]
    path = OUT / "check.npz"
    if path.exists():
        return dict(np.load(path))
    chain = chain_of(cfg, c["W"], c["seed"])
    psi = tnmbl.states.neel(chain)
    out = {}
    ex = tnmbl.evolve(chain, psi, "exact", dt=c["dt"], t_final=c["t_final"], output_dt=0.5, observables=["density"])
    out["times"], out["exact"] = ex.times, ex["density"]
    for chi in c["chi_max"]:
        r = tnmbl.evolve(chain, psi, c["method"], backend="quimb", dt=c["dt"], t_final=c["t_final"], chi_max=chi,
                         output_dt=0.5, observables=["density"])
        out[f"chi{chi}"] = r["density"]
        out[f"eps{chi}"] = r.health["truncation_error"]
        print(f"check chi={chi}: max|d sz| = {np.abs(r['density'] - ex['density']).max():.2e}", flush=True)
    np.savez(path, **out)
    return out


def main(path, plot_only=False):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = yaml.safe_load(open(path))
    m, dcfg = cfg["model"], cfg["distance"]
    a, b = m["bath"]
    fig, axes = plt.subplots(1, 4, figsize=(20, 4))
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    lines = []
    for W, col in zip(cfg["W"], colors):
        dist = {False: [], True: []}
        prof = {False: [], True: []}
        inv_xi = []
        for seed in cfg["seeds"]:
            for control in (False, True):
                p = OUT / f"W{W:g}_s{seed}_{'control' if control else 'bath'}.npz"
                if plot_only and not p.exists():
                    continue
                d = run_one(cfg, W, seed, control)
                s = sp.Series(d["times"], np.arange(m["L"], dtype=float), d["density"], "density")
                t, dd = sp.thermalization_distance(s, bath=(a, b), thermal=0.0, level=dcfg["level"],
                                                   window=dcfg["window"])
                _, x, r = sp.relaxed_fraction(s, thermal=0.0, window=dcfg["window"])
                dist[control].append(dd)
                prof[control].append(r[-1])
                if not control:
                    inv_xi.extend(xi_eigenvectors(d["w"][b:], m["g"]))
        if not dist[False]:
            continue
        xi = 1 / np.mean(inv_xi)
        lc = sp.l_c(xi, b - a)
        axes[0].plot(np.arange(b, m["L"]) - b + 1, np.mean(prof[False], 0)[b:], "o-", color=col,
                     label=f"W={W:g} bath")
        if dist[True]:
            axes[0].plot(np.arange(b, m["L"]) - b + 1, np.mean(prof[True], 0)[b:], "x--", color=col,
                         label=f"W={W:g} bath cut off")
            diff = np.array(prof[False]) - np.array(prof[True])
            axes[3].errorbar(np.arange(b, m["L"]) - b + 1, diff.mean(0)[b:],
                             diff.std(0, ddof=1)[b:] / np.sqrt(len(diff)), fmt="o-", color=col, capsize=2,
                             label=f"W={W:g}, l_c={lc:.2f}")
            if lc <= m["L"] - b:
                axes[3].axvline(lc, color=col, ls=":", lw=1)
            axes[1].plot(t, np.mean(dist[True], 0), "--", color=col)
        axes[1].plot(t, np.mean(dist[False], 0), "-", color=col, label=f"W={W:g}: xi={xi:.2f}, l_c={lc:.2f}")
        if lc <= m["L"] - b:  # l_c beyond the chain's localized part is not drawn (see the legend)
            axes[1].axhline(lc, color=col, ls=":", lw=1)
        lines.append((W, xi, lc, float(np.mean(dist[False], 0)[-1]),
                      float(np.mean(dist[True], 0)[-1]) if dist[True] else np.nan, len(dist[False])))
    axes[0].axhline(dcfg["level"], color="k", lw=0.5)
    axes[0].set(xlabel="distance from the bath (sites)", ylabel=r"relaxed fraction $r_x$ at $t_{final}$",
                title=f"mean over seeds,\nrunning mean of {dcfg['window']} outputs", ylim=(-0.2, 1.1))
    axes[0].legend(fontsize=7)
    axes[1].set(xlabel="t", ylabel="thermalization distance (sites)",
                title=f"solid: bath, dashed: bath cut off,\ndotted: l_c (eq. 19), L_bath={b - a}")
    axes[1].legend(fontsize=7)
    axes[1].set_xscale("log")
    axes[3].axhline(0, color="k", lw=0.5)
    axes[3].set(xlabel="distance from the bath (sites)", ylabel=r"$r_x$(bath) - $r_x$(cut off) at $t_{final}$",
                title="relaxation due to the bath\n(mean +- sem over seeds); dotted: l_c")
    axes[3].legend(fontsize=7)
    if not plot_only or (OUT / "check.npz").exists():
        chk = tebd_check(cfg)
        c = cfg["check"]
        for chi in c["chi_max"]:
            axes[2].semilogy(chk["times"][1:], np.abs(chk[f"chi{chi}"] - chk["exact"]).max(1)[1:],
                             label=f"TEBD2 chi={chi}, dt={c['dt']}")
        axes[2].set(xlabel="t", ylabel=r"max$_x |\Delta\langle\sigma^z_x\rangle|$ vs exact",
                    title=f"MPS check, W={c['W']:g}, seed {c['seed']}\n(Trotter error: chi 32 = chi 64)")
        axes[2].legend(fontsize=7)
    fig.suptitle(f"XXZ+bath L={m['L']}, g={m['g']}, J={m['J']}, bath {m['bath']} (hx={m['bath_hx']}), Neel start, "
                 f"exact evolution, {len(cfg['seeds'])} seeds per W", fontsize=9)
    fig.tight_layout()
    fig.savefig("docs/figures/bubbles_bath_front.png", dpi=70)
    for W, xi, lc, dfin, dctl, n in lines:
        print(f"W={W:g}: xi={xi:.3f}, l_c={lc:.2f}, distance at t_final: bath {dfin:.2f}, control {dctl:.2f} "
              f"({n} seeds)")


if __name__ == "__main__":
    main(sys.argv[1], "--plot-only" in sys.argv)
