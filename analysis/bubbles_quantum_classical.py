"""Issue 7, study (c): a dense bubble in the Bose-Hubbard chain vs the DNLS chain at the
matching density, the same spreading observables side by side; and a hot rotor bubble.

    python analysis/bubbles_quantum_classical.py runs/bubbles_quantum_classical.yaml [--plot-only]
    # -> out/bubbles_quantum_classical/*.npz, docs/figures/bubbles_quantum_classical.png

Matching: BH H = U n^2 + g (a+_x a_x+1 + h.c.) and DNLS H = U |psi|^4 + g |psi_x+1 - psi_x|^2
have the same density dynamics in the classical limit (a -> psi, U n^2 = U |psi|^4 + U |psi|^2
up to ordering, a term in the conserved N; the DNLS hopping is -g (psi* psi' + c.c.) + g(|psi_x|^2
+ |psi_x+1|^2), the sign of g being gauged away by psi_x -> (-1)^x psi_x). So the comparison is
made on the density, which the gauge and the N terms leave alone. The quantum Fock bubble
(n_x = inside / outside) is matched by |psi_x|^2 = inside / outside with independent uniform
phases (the phases of a Fock state are uniformly spread). Both chains open.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import yaml

import tnmbl
from tnmbl.observables import spreading as sp
from tnmbl.states import classical as cs

OUT = Path("out/bubbles_quantum_classical")


def cached(name, fn):
    path = OUT / f"{name}.npz"
    if path.exists():
        return dict(np.load(path))
    t0 = time.process_time()
    out = fn()
    out["cpu_s"] = time.process_time() - t0
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    print(f"{name}: {out['cpu_s']:.0f} CPU s", flush=True)
    return out


def quantum(cfg, chi_max, dt, n_max=None):
    c, b, q = cfg["chain"], cfg["bubble"], cfg["quantum"]
    chain = tnmbl.models.bose_hubbard(L=c["L"], U=c["U"], g=c["g"], n_max=n_max or q["n_max"])
    psi = tnmbl.states.bubble(chain, tuple(b["region"]), b["outside"], b["inside"])
    r = tnmbl.evolve(chain, psi, q["method"], dt=dt, t_final=q["t_final"], chi_max=chi_max,
                     output_dt=q["output_dt"], observables=["density", "entanglement"])
    return dict(times=r.times, density=r["density"], entanglement=r["entanglement"],
                truncation_error=r.health["truncation_error"])


def classical(cfg, dt):
    c, b, k, q = cfg["chain"], cfg["bubble"], cfg["classical"], cfg["quantum"]
    chain = tnmbl.models.dnls(c["L"], g=c["g"], U=c["U"], bc="open")
    st = cs.bubble(chain, k["M"], region=tuple(b["region"]), inside=float(b["inside"]), outside=float(b["outside"]),
                   seed=k["seed"])
    r = tnmbl.evolve_classical(chain, st, k["method"], dt=dt, t_final=q["t_final"], output_dt=q["output_dt"],
                               observables=["density"])
    return dict(times=r.times, density=r["density"])


def rotor(cfg):
    k = cfg["rotor"]
    chain = tnmbl.models.rotor(k["L"], g=k["g"])
    st = cs.bubble(chain, k["M"], region=tuple(k["region"]), inside=k["beta_inside"], outside=k["beta_outside"],
                   seed=k["seed"])
    r = tnmbl.evolve_classical(chain, st, "leapfrog", dt=k["dt"], t_final=k["t_final"], n_log=k["n_log"],
                               observables=["energy_density"])
    return dict(times=r.times, energy_density=r["energy_density"], positions=r.positions["energy_density"])


def main(path, plot_only=False):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = yaml.safe_load(open(path))
    q, k, b = cfg["quantum"], cfg["classical"], cfg["bubble"]
    runs = {
        f"bh_chi{q['chi_max']}_dt{q['dt']:g}": lambda: quantum(cfg, q["chi_max"], q["dt"]),
        f"bh_chi{q['check']['chi_max']}_dt{q['dt']:g}": lambda: quantum(cfg, q["check"]["chi_max"], q["dt"]),
        f"bh_chi{q['chi_max']}_dt{q['check']['dt']:g}": lambda: quantum(cfg, q["chi_max"], q["check"]["dt"]),
        f"bh_nmax{q['check']['n_max']}_chi{q['check']['chi_max']}": lambda: quantum(
            cfg, q["check"]["chi_max"], q["dt"], q["check"]["n_max"]),
        f"dnls_dt{k['dt']:g}": lambda: classical(cfg, k["dt"]),
        f"dnls_dt{k['check']['dt']:g}": lambda: classical(cfg, k["check"]["dt"]),
        "rotor": lambda: rotor(cfg),
    }
    data = {n: cached(n, f) for n, f in runs.items() if not plot_only or (OUT / f"{n}.npz").exists()}
    L = cfg["chain"]["L"]
    x = np.arange(L, dtype=float)
    bh, dn = data.get(f"bh_chi{q['chi_max']}_dt{q['dt']:g}"), data.get(f"dnls_dt{k['dt']:g}")
    fig, axes = plt.subplots(1, 5, figsize=(22, 4))
    vmax = b["inside"]
    for ax, d, title in ((axes[0], bh, "Bose-Hubbard <n_x>"), (axes[1], dn, "DNLS <|psi_x|^2>")):
        if d is None:
            continue
        im = ax.imshow(d["density"], aspect="auto", origin="lower", cmap="magma", vmin=0, vmax=vmax,
                       extent=[-0.5, L - 0.5, d["times"][0], d["times"][-1]], interpolation="nearest")
        ax.set(xlabel="x", ylabel="t", title=title)
        fig.colorbar(im, ax=ax)
    styles = {f"bh_chi{q['chi_max']}_dt{q['dt']:g}": ("tab:blue", "-", f"BH chi={q['chi_max']} dt={q['dt']}"),
              f"bh_chi{q['check']['chi_max']}_dt{q['dt']:g}": ("tab:blue", "--", f"BH chi={q['check']['chi_max']}"),
              f"bh_chi{q['chi_max']}_dt{q['check']['dt']:g}": ("tab:blue", ":", f"BH dt={q['check']['dt']}"),
              f"bh_nmax{q['check']['n_max']}_chi{q['check']['chi_max']}": (
                  "tab:cyan", "-.", f"BH n_max={q['check']['n_max']} chi={q['check']['chi_max']}"),
              f"dnls_dt{k['dt']:g}": ("tab:red", "-", f"DNLS M={k['M']} dt={k['dt']}"),
              f"dnls_dt{k['check']['dt']:g}": ("tab:red", ":", f"DNLS dt={k['check']['dt']}")}
    report = []
    for name, (col, ls, lab) in styles.items():
        if name not in data:
            continue
        d = data[name]
        s = sp.spreading(sp.Series(d["times"], x, d["density"], "density"), background=b["outside"],
                         threshold=cfg["threshold"])
        axes[2].plot(s.times, s.width, ls, color=col, label=lab)
        axes[3].plot(s.times, s.front, ls, color=col, label=lab)
        report.append((name, s.width[-1], s.front[-1]))
    axes[2].set(xlabel="t", ylabel=r"width $\sigma$ of the excess density", title="same observables")
    axes[3].set(xlabel="t", ylabel=f"front (half-extent where excess >= {cfg['threshold']})")
    axes[2].legend(fontsize=7)
    if "rotor" in data:
        rt = data["rotor"]
        kr = cfg["rotor"]
        s = sp.spreading(sp.Series(rt["times"], rt["positions"], rt["energy_density"], "energy_density"))
        ok = s.times > 0
        axes[4].loglog(s.times[ok], s.width[ok], color="k", label="width of excess energy")
        axes[4].set(xlabel="t", ylabel=r"$\sigma(t)$", title=f"rotor L={kr['L']}, g={kr['g']}, M={kr['M']}:\n"
                    f"beta {kr['beta_inside']} on {kr['region']} in beta {kr['beta_outside']}")
        axes[4].legend(fontsize=7)
        report.append(("rotor", s.width[0], s.width[-1]))
    c = cfg["chain"]
    fig.suptitle(f"Dense bubble: {b['inside']} per site on {b['region']} in {b['outside']}, L={L}, U={c['U']}, "
                 f"g={c['g']}; BH n_max={q['n_max']} TEBD2 (TeNPy U(1)); DNLS split2, random phases", fontsize=9)
    fig.tight_layout()
    fig.savefig("docs/figures/bubbles_quantum_classical.png", dpi=70)
    for name, w, f in report:
        print(f"{name}: {w:.3f} {f:.3f}")
    if bh is not None:
        print(f"BH truncation error at t_final: {bh['truncation_error'][-1]:.2e}")
    if bh is not None and dn is not None:
        print(f"max |n_BH - n_DNLS| over x, t: {np.abs(bh['density'] - dn['density']).max():.3f}")


if __name__ == "__main__":
    main(sys.argv[1], "--plot-only" in sys.argv)
