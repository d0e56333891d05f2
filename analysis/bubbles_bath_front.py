"""Issue 7, study (b): thermalization front of a small bath in a disordered XXZ chain, from the
results of the sweeps ``runs/sweeps/bubbles_bath_front.yaml`` (and its MPS check
``runs/sweeps/bubbles_bath_front_check.yaml``, optional).

    tnmbl sweep runs/sweeps/bubbles_bath_front.yaml
    tnmbl sweep runs/sweeps/bubbles_bath_front_check.yaml
    python analysis/bubbles_bath_front.py runs/sweeps/bubbles_bath_front.yaml runs/sweeps/bubbles_bath_front_check.yaml
    # -> docs/figures/bubbles_bath_front.png

Per W the sweep holds the chain xxz_with_bath (bath at the left end) and its control with the
bath cut off (``model.bath_link = 0``: every bond between bath and chain at zero, the same
fields), both from the Neel state, evolved exactly, one results file per disorder
realization. The thermalization distance (tnmbl.observables.spreading) is the number of
consecutive spins next to the bath whose sigma^z has relaxed by >= level toward 0 (running
mean over a window of outputs). xi: the single-particle localization length of the same
chains' localized part (J = 0, Jordan-Wigner: h = diag(2 w_x) + 2 g on the off-diagonal; the
fields w_x from the member's resolved model parameters), from the decay of every
eigenvector, ln|psi_n(x)| ~ -|x - x_n| / xi_n fitted by least squares, averaged as
xi = 1 / mean(1 / xi_n) over eigenvectors and realizations. l_c from eq. 19. Members whose
results are missing or unfinished are left out with a note; nothing is computed here.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from tnmbl.observables import spreading as sp
from tnmbl.runs.build import chain_from_params
from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import load_sweep


def finished(path):
    """The results of ``path`` if it is finished, else ``None``."""
    if not path.exists():
        return None
    res = read_results(path)
    return res if res["attrs"].get("status") == "finished" else None


def load_members(sweep_path):
    """``({(W, bath_link): [member dict]}, model config, notes)``; a member dict has ``times``,
    ``sz`` (n_times, L) and ``w`` (the fields)."""
    plan = load_sweep(sweep_path)
    groups, notes, model = defaultdict(list), [], None
    for m in plan.members:
        model = m.config["model"]
        res = finished(m.path)
        if res is None:
            notes.append(f"{m.id} ({m.params}): no finished results in {m.path}, left out")
            continue
        params = {k: v for k, v in model.items() if k != "name"}
        w = np.array(chain_from_params(model["name"], params).params["w"])
        groups[(model["W"], model["bath_link"])].append(dict(times=res["time"], sz=res["observables"]["density"],
                                                             w=w, seed=m.seed))
    return dict(groups), model, notes


def front_of(times, sz, bath, *, level=0.5, window=8):
    """Thermalization distance vs time and the relaxed fraction per site at the last time."""
    s = sp.Series(times, np.arange(sz.shape[1], dtype=float), sz, "density")
    t, dist = sp.thermalization_distance(s, bath=tuple(bath), thermal=0.0, level=level, window=window)
    _, _, r = sp.relaxed_fraction(s, thermal=0.0, window=window)
    return t, dist, r[-1]


def xi_of(members, bath, g):
    """Localization length of the localized part, 1 / mean(1 / xi_n) over members and eigenvectors."""
    inv = np.concatenate([xi_eigenvectors(d["w"][bath[1]:], g) for d in members])
    return 1 / np.mean(inv)


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


def analyse(groups, model, *, level=0.5, window=8):
    """Per W: xi, l_c, mean distance vs time and mean relaxed-fraction profile, bath and control."""
    a, b = model["bath"]
    out = []
    for W in sorted({k[0] for k in groups}):
        bath, ctl = groups.get((W, 1.0), []), groups.get((W, 0.0), [])
        if not bath:
            continue
        fr = [front_of(d["times"], d["sz"], (a, b), level=level, window=window) for d in bath]
        fc = [front_of(d["times"], d["sz"], (a, b), level=level, window=window) for d in ctl]
        xi = xi_of(bath, (a, b), model["g"])
        out.append(dict(W=W, xi=float(xi), l_c=float(sp.l_c(xi, b - a)), n=len(bath), times=fr[0][0],
                        distance=np.mean([f[1] for f in fr], 0), profile=np.array([f[2] for f in fr]),
                        distance_control=np.mean([f[1] for f in fc], 0) if fc else None,
                        profile_control=np.array([f[2] for f in fc]) if fc else None))
    return out


def load_check(sweep_path):
    """``(times, exact sz, {chi: sz})`` of the MPS check sweep, or ``None`` if it has not run."""
    plan = load_sweep(sweep_path)
    exact, mps, times, cfg = None, {}, None, None
    for m in plan.members:
        res = finished(m.path)
        if res is None:
            return None
        cfg = m.config
        if m.config["evolution"]["method"] == "exact":
            exact, times = res["observables"]["density"], res["time"]
        else:
            mps[m.config["evolution"]["chi_max"]] = res["observables"]["density"]
    return times, exact, mps, cfg


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sweep")
    ap.add_argument("check", nargs="?", help="the MPS check sweep (optional)")
    ap.add_argument("--png", default="docs/figures/bubbles_bath_front.png")
    ap.add_argument("--level", type=float, default=0.5, help="relaxed fraction that counts as thermalized")
    ap.add_argument("--window", type=int, default=8, help="running mean over this many outputs")
    a = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, m, notes = load_members(a.sweep)
    for n in notes:
        print(n)
    lo, hi = m["bath"]
    L = m["L"]
    fig, axes = plt.subplots(1, 4, figsize=(20, 4))
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    res = analyse(groups, m, level=a.level, window=a.window)
    x = np.arange(hi, L) - hi + 1
    for r, col in zip(res, colors):
        W, lc = r["W"], r["l_c"]
        axes[0].plot(x, r["profile"].mean(0)[hi:], "o-", color=col, label=f"W={W:g} bath")
        if r["profile_control"] is not None:
            axes[0].plot(x, r["profile_control"].mean(0)[hi:], "x--", color=col, label=f"W={W:g} bath cut off")
            if len(r["profile_control"]) == len(r["profile"]):
                diff = r["profile"] - r["profile_control"]
                err = diff.std(0, ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.zeros(L)
                axes[3].errorbar(x, diff.mean(0)[hi:], err[hi:], fmt="o-", color=col, capsize=2,
                                 label=f"W={W:g}, l_c={lc:.2f}")
            axes[1].plot(r["times"], r["distance_control"], "--", color=col)
        if lc <= L - hi:  # l_c beyond the chain's localized part is not drawn (see the legend)
            axes[3].axvline(lc, color=col, ls=":", lw=1)
            axes[1].axhline(lc, color=col, ls=":", lw=1)
        axes[1].plot(r["times"], r["distance"], "-", color=col, label=f"W={W:g}: xi={r['xi']:.2f}, l_c={lc:.2f}")
    axes[0].axhline(a.level, color="k", lw=0.5)
    axes[0].set(xlabel="distance from the bath (sites)", ylabel=r"relaxed fraction $r_x$ at $t_{final}$",
                title=f"mean over realizations,\nrunning mean of {a.window} outputs", ylim=(-0.2, 1.1))
    axes[0].legend(fontsize=7)
    axes[1].set(xlabel="t", ylabel="thermalization distance (sites)",
                title=f"solid: bath, dashed: bath cut off,\ndotted: l_c (eq. 19), L_bath={hi - lo}")
    axes[1].legend(fontsize=7)
    axes[1].set_xscale("log")
    axes[3].axhline(0, color="k", lw=0.5)
    axes[3].set(xlabel="distance from the bath (sites)", ylabel=r"$r_x$(bath) - $r_x$(cut off) at $t_{final}$",
                title="relaxation due to the bath\n(mean +- sem over realizations); dotted: l_c")
    axes[3].legend(fontsize=7)
    check = load_check(a.check) if a.check else None
    if a.check and check is None:
        print(f"{a.check}: not run yet (tnmbl sweep {a.check}); the MPS check panel is left empty")
    errors = {}
    if check is not None:
        times, exact, mps, cfg = check
        for chi, sz in sorted(mps.items()):
            errors[chi] = np.abs(sz - exact).max(1)
            axes[2].semilogy(times[1:], errors[chi][1:], label=f"TEBD2 chi={chi}, dt={cfg['evolution']['dt']}")
            print(f"check chi={chi}: max|d sz| = {errors[chi].max():.2e}")
        axes[2].set(xlabel="t", ylabel=r"max$_x |\Delta\langle\sigma^z_x\rangle|$ vs exact",
                    title=f"MPS check, W={cfg['model']['W']:g}, seed {cfg['seed']}")
        axes[2].legend(fontsize=7)
    fig.suptitle(f"XXZ+bath L={L}, g={m['g']}, J={m['J']}, bath {m['bath']} (hx={m['bath_hx']}), Neel start, "
                 f"exact evolution, {max((r['n'] for r in res), default=0)} realizations per W", fontsize=9)
    fig.tight_layout()
    fig.savefig(a.png, dpi=70)
    plt.close(fig)
    for r in res:
        ctl = r["distance_control"][-1] if r["distance_control"] is not None else np.nan
        print(f"W={r['W']:g}: xi={r['xi']:.3f}, l_c={r['l_c']:.2f}, distance at t_final: bath {r['distance'][-1]:.2f}, "
              f"control {ctl:.2f} ({r['n']} realizations)")
    return res, errors


if __name__ == "__main__":
    main()
