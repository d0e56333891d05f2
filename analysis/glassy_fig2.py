"""Glassy-dynamics paper, Fig. 2: phi(g, beta = 1, t) of the rotor chain against t / t0(g),
and t0(g) with bootstrap errors, a power law against super-polynomial fits and the local
exponents, from the results of the sweep ``runs/sweeps/glassy_fig2.yaml`` (one member per
coupling g).

    tnmbl sweep runs/sweeps/glassy_fig2.yaml                 # compute (resumable: rerun to continue)
    python analysis/glassy_fig2.py runs/sweeps/glassy_fig2.yaml   # docs/figures/glassy_fig2.png + .json

Each member's results file holds phi on the log grid and the per-chain phi (/per_chain/phi);
t0 is the first crossing of ``level`` by the log-smoothed mean, its error the bootstrap over
chains (:func:`tnmbl.observables.classical.t0`). ``level`` is the sweep's
``evolution.stop_when.above`` (0.9). Points whose results file is missing or unfinished are
left out with a note; nothing is computed here.

The comparison (``comparison`` in the JSON, the fits drawn on panel b): ln t0 = a - alpha ln g
against ln t0 = a + b g^-c (c in [0.1, 3]) and t0 = A e^(c/g), weighted by the bootstrap errors
of t0, each with chi^2 per degree of freedom, AIC and BIC; a family (power law or
super-polynomial) is preferred when its AIC and BIC are both lower by more than 4, else
"undecided" (:func:`tnmbl.observables.classical.compare_t0_models`). Panel c: the local exponents
-d ln t0 / d ln g between neighbouring points with their errors, and those of the fits.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from tnmbl.evolution.figures import finish
from tnmbl.observables.classical import (
    compare_t0_models,
    fit_power_law,
    local_slopes,
    model_local_slope,
    smooth_log,
    t0,
    t0_model_curve,
)
from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import load_sweep


def load_points(sweep_path, overrides=()):
    """One dict per finished member of the sweep: ``g``, ``times``, ``phi`` (batch mean),
    ``phi_chains`` (n_times, M), ``M``, ``L``, ``max_energy_error_per_site``, ``stopped_early``;
    and the list of notes about members left out. Also the crossing ``level``."""
    plan = load_sweep(sweep_path, overrides)
    rows, notes, level = [], [], 0.9
    for m in plan.members:
        stop = m.config["evolution"].get("stop_when")
        level = stop["above"] if stop else level
        _load_member(m.path, m.config["model"]["g"], rows, notes)
    return rows, notes, level


def _load_member(path, g, rows, notes):
    """Append the row of one finished member's results file (else a note)."""
    if not path.exists():
        notes.append(f"g = {g:g}: no results ({path}), left out")
        return
    res = read_results(path)
    if res["attrs"].get("status") != "finished":
        notes.append(f"g = {g:g}: status {res['attrs'].get('status')!r} (rerun the sweep to continue), left out")
        return
    if "phi" not in res["per_chain"]:
        notes.append(f"g = {g:g}: no /per_chain/phi in {path}, left out")
        return
    cfg = res["attrs"]["config_json"]
    stopped = res["attrs"].get("stopped_early")
    rows.append(dict(g=float(g), times=res["time"], phi=res["observables"]["phi"][:, 0],
                     phi_chains=res["per_chain"]["phi"], M=int(cfg["state"]["M"]), L=int(cfg["model"]["L"]),
                     method=cfg["evolution"]["method"], dt=float(cfg["evolution"]["dt"]),
                     max_energy_error_per_site=float(np.max(res["health"]["energy_error"])),
                     stopped_early=json.loads(stopped) if stopped else None))


def load_other(directory):
    """The finished members of another run of the sweep (``DIR/members/*.h5``: e.g. the
    same chains with another integrator), one row each, as :func:`load_points`."""
    rows, notes = [], []
    for path in sorted(Path(directory, "members").glob("*.h5")):
        _load_member(path, float(read_results(path)["attrs"]["config_json"]["model"]["g"]), rows, notes)
    return rows, notes


def integrator_check(rows, other):
    """t0 of the same g from two runs (e.g. ABA864 and leapfrog from the same chains): per g the
    difference and its size in combined bootstrap errors (the runs decorrelate by chaos long
    before t0, so the errors add in quadrature). Points run with the same method and dt in
    both (a member copied over) are left out."""
    by_g = {r["g"]: r for r in other}
    out = []
    for r in rows:
        o = by_g.get(r["g"])
        if o is None or (o["method"], o["dt"]) == (r["method"], r["dt"]):  # none, or the same run copied
            continue
        diff = r["t0"] - o["t0"]
        out.append(dict(g=r["g"], t0=r["t0"], t0_err=r["t0_err"], method=r["method"], dt=r["dt"],
                        other_t0=o["t0"], other_t0_err=o["t0_err"], other_method=o["method"], other_dt=o["dt"],
                        diff=float(diff), sigmas=float(diff / np.hypot(r["t0_err"], o["t0_err"]))))
    return out


def analyse(rows, *, level=0.9, window=0.15, n_boot=300, seed=7):
    """t0 and its bootstrap error per point (added to each row), and the power-law fit
    ``t0 ~ g^-alpha`` over the points (``None`` with fewer than three; its error rescaled
    by chi^2 / dof when the points scatter more than their errors)."""
    for r in rows:
        r["t0"], r["t0_err"], _ = t0(r["times"], r["phi_chains"].astype(float), level=level, window=window,
                                     n_boot=n_boot, seed=seed)
    ok = [r for r in rows if np.isfinite(r["t0"]) and np.isfinite(r["t0_err"]) and r["t0_err"] > 0]
    fit = None
    if len(ok) >= 3:
        alpha, alpha_err, c = fit_power_law([r["g"] for r in ok], [r["t0"] for r in ok], [r["t0_err"] for r in ok])
        fit = dict(alpha=alpha, alpha_err=alpha_err, prefactor=float(np.exp(c)))
    return fit


def compare(rows, threshold=4.0):
    """The model comparison (``None`` with fewer than four points with finite errors: the
    stretched form has three parameters) and the local exponents between neighbouring points."""
    ok = [r for r in rows if np.isfinite(r["t0"]) and np.isfinite(r["t0_err"]) and r["t0_err"] > 0]
    g, t, e = ([r[k] for r in ok] for k in ("g", "t0", "t0_err"))
    slopes = [dict(g_lo=float(lo), g_hi=float(hi), g_mid=float(m), alpha=float(a), alpha_err=float(da))
              for lo, hi, m, a, da in zip(sorted(g)[:-1], sorted(g)[1:], *local_slopes(g, t, e))] if len(ok) > 1 else []
    return (compare_t0_models(g, t, e, threshold=threshold) if len(ok) >= 4 else None), slopes


FIT_STYLE = {"power": ("k--", "power law"), "stretched": ("C3:", "stretched"), "exp": ("C2-.", "exp(c/g)")}


def _fit_label(f):
    p = f["params"]
    if f["model"] == "power":
        form = rf"$g^{{-{p['alpha']:.2f}}}$"
    elif f["model"] == "stretched":
        form = rf"$e^{{{p['b']:.2g}\,g^{{-{p['c']:.2f}}}}}$"
    else:
        form = rf"$e^{{{p['c']:.2f}/g}}$"
    return rf"{form}: $\chi^2$/dof = {f['chi2_dof']:.2g}, AIC {f['aic']:.1f}"


def plot(rows, fit, level, window, png, comparison=None, slopes=()):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.2))
    for r in rows:
        if np.isfinite(r["t0"]):
            ax1.semilogx(r["times"][1:] / r["t0"], smooth_log(r["times"], r["phi"], window)[1:],
                         label=f"g = {r['g']:g}" + (f" ({r['method']}, dt {r['dt']:g})" if 'method' in r else ""))
    ax1.axhline(level, color="gray", lw=0.8, ls=":", label=rf"$\varphi = {level:g}$ (the $t_0$ level)")
    ax1.set(xlabel=r"$t / t_0(g)$", ylabel=r"$\varphi(g, \beta=1, t)$", xlim=(1e-3, 3), ylim=(0, 1))
    ax1.legend(fontsize=8)
    if rows:
        ax1.set_title(f"(a) L = {rows[0]['L']}, M = " + ", ".join(sorted({str(r['M']) for r in rows})) + " chains",
                      fontsize=10)
    g = np.array([r["g"] for r in rows])
    gg = np.geomspace(g.min(), g.max(), 80) if len(g) else np.array([])
    if comparison is not None:
        for name, f in comparison["fits"].items():
            style, _ = FIT_STYLE[name]
            ax2.loglog(gg, t0_model_curve(f, gg), style, lw=0.9, label=_fit_label(f))
            ax3.plot(gg, model_local_slope(f, gg), style, lw=0.9, label=FIT_STYLE[name][1])
        ax2.text(0.03, 0.03, f"preferred: {comparison['preferred']}\n"
                 rf"$\Delta$AIC = {comparison['delta_aic']:.1f}, $\Delta$BIC = {comparison['delta_bic']:.1f}"
                 "\n(super-polynomial - power law; > 4 or < -4 decides)", transform=ax2.transAxes, fontsize=7,
                 va="bottom")
    elif fit is not None:
        ax2.loglog(gg, fit["prefactor"] * gg ** (-fit["alpha"]), "k--", lw=0.8,
                   label=rf"fit $t_0 \propto g^{{-{fit['alpha']:.2f} \pm {fit['alpha_err']:.2f}}}$")
    ax2.errorbar(g, [r["t0"] for r in rows], yerr=[r["t0_err"] for r in rows], fmt="o", capsize=3,
                 label="bootstrap errors")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set(xlabel="coupling g (units of 1/m, m = 1)",
            ylabel=rf"$t_0(g) = \min\{{t: \varphi = {level:g}\}}$ (time units, m = 1)")
    ax2.legend(fontsize=7, loc="upper right")
    ax2.set_title(r"(b) $t_0(g)$, $\beta = 1$, fits weighted by the bootstrap errors", fontsize=10)
    if slopes:
        ax3.errorbar([s["g_mid"] for s in slopes], [s["alpha"] for s in slopes],
                     yerr=[s["alpha_err"] for s in slopes], fmt="o", capsize=3, color="C0",
                     label="neighbouring points")
    ax3.set_xscale("log")
    ax3.set(xlabel="coupling g (geometric mean of the pair)", ylabel=r"local exponent $-d\ln t_0 / d\ln g$")
    if slopes or comparison is not None:
        ax3.legend(fontsize=8)
    ax3.set_title("(c) local exponents", fontsize=10)
    finish(fig, png, 90)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sweep", help="the sweep file (runs/sweeps/glassy_fig2.yaml)")
    ap.add_argument("--set", action="append", default=[], help="override a sweep key, as for tnmbl sweep")
    ap.add_argument("--png", default="docs/figures/glassy_fig2.png")
    ap.add_argument("--window", type=float, default=0.15, help="smoothing window in ln t")
    ap.add_argument("--n-boot", type=int, default=300)
    ap.add_argument("--boot-seed", type=int, default=7)
    ap.add_argument("--threshold", type=float, default=4.0, help="AIC and BIC difference that decides between "
                    "the power law and the super-polynomial forms")
    ap.add_argument("--compare", metavar="DIR", help="t0 from another run of the sweep (its output_dir, e.g. "
                    "out/glassy_fig2_leapfrog: the same chains with another integrator), printed per g and stored "
                    "as integrator_check in the JSON")
    a = ap.parse_args(argv)
    rows, notes, level = load_points(a.sweep, a.set)
    for n in notes:
        print(n)
    fit = analyse(rows, level=level, window=a.window, n_boot=a.n_boot, seed=a.boot_seed)
    comparison, slopes = compare(rows, a.threshold)
    plot(rows, fit, level, a.window, a.png, comparison, slopes)
    summary = {"sweep": a.sweep, "level": level, "window": a.window, "n_boot": a.n_boot, "fit": fit,
               "comparison": comparison, "local_slopes": slopes,
               "points": [{k: v for k, v in r.items() if k not in ("times", "phi", "phi_chains")} for r in rows]}
    if a.compare:
        other, other_notes = load_other(a.compare)
        for n in other_notes:
            print(f"{a.compare}: {n}")
        analyse(other, level=level, window=a.window, n_boot=a.n_boot, seed=a.boot_seed)
        summary["integrator_check"] = {"other": a.compare, "points": integrator_check(rows, other)}
        for c in summary["integrator_check"]["points"]:
            print(f"g = {c['g']:g}: t0 = {c['t0']:.4g} +- {c['t0_err']:.2g} ({c['method']}, dt {c['dt']:g}) against "
                  f"{c['other_t0']:.4g} +- {c['other_t0_err']:.2g} ({c['other_method']}, dt {c['other_dt']:g}): "
                  f"{c['sigmas']:+.2f} combined sigma")
    with open(a.png.rsplit(".", 1)[0] + ".json", "w") as f:
        json.dump(summary, f, indent=1, default=float)
    print(json.dumps(fit), [(r["g"], round(r["t0"], 1), round(r["t0_err"], 1)) for r in rows])
    if comparison is not None:
        print(f"preferred: {comparison['preferred']} (delta AIC {comparison['delta_aic']:.2f}, delta BIC "
              f"{comparison['delta_bic']:.2f}; {comparison['rule']})")
        for name, f in comparison["fits"].items():
            print(f"  {name}: {f['params']} +- {f['errors']}, chi2/dof = {f['chi2_dof']:.2f}, AIC {f['aic']:.2f}")
    return summary


if __name__ == "__main__":
    main()
