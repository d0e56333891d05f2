"""Issue 13, study c: Bose-Hubbard transport at infinite temperature against g/U by operator TEBD +
DAOE, beside the classical DNLS chain at the matching density (Green-Kubo from Gibbs ensembles).

    tnmbl sweep runs/sweeps/daoe_bose_hubbard_small.yaml      # (or the full daoe_bose_hubbard.yaml)
    tnmbl sweep runs/sweeps/daoe_bose_hubbard_dnls.yaml
    python analysis/daoe_bose_hubbard.py runs/sweeps/daoe_bose_hubbard_small.yaml \
        --dnls runs/sweeps/daoe_bose_hubbard_dnls.yaml        # -> docs/figures/daoe_bose_hubbard.png + .json

Quantum (one finished member per (g, n_max, b, gamma, chi_max, l_star); unfinished ones are left
out with a note; nothing is computed here). Infinite temperature of the truncated boson is the
trace over the (n_max + 1)^L states: occupations uniform on 0..n_max, mean density n_max / 2.

* ``b = density`` / ``energy_density``: D(t) = (1/2) d sigma^2/dt of the profile
  (:func:`tnmbl.transport.diffusion_constant`) read at ``--t`` (default: the last output time but
  one, the centred difference), then the budget of :func:`tnmbl.transport.daoe_budget`: gamma -> 0
  linear fit at the largest chi_max (>= 3 gammas), the chi row |D(chi) - D(chi_next)|, the l_star
  row when varied. Einstein: kappa = 2 chi_s D with chi_s = sum_x <q_x q_0>_c (the profile's
  conserved sum; particle: the variance of n, (n_max + 1)^2 - 1) / 12).
* ``b = density_current`` / ``energy_current``: Green-Kubo sigma / kappa = 2 int sum_x <j_x(t) j_0>
  dt over ``--window-frac`` of the run (default the second half), same budget.

A value is *converged* when D(t) at the smallest gamma moved by less than 5 % over the last
quarter of the run (``green_kubo``'s plateau rule, ``PLATEAU_REL``), the profile did not reach the
ends (edge weight < 1e-3) and the chi row is below 10 % of the value; otherwise it is drawn as a
bound in the direction D(t) still moves (rising: lower bound) and flagged in the JSON.

Classical (DNLS sweep, one member per g): C(t) = <J(t) J(0)> / L from the per-chain total
energy current, every row a time origin (:func:`tnmbl.transport.green_kubo_ensemble`,
``origins="all"``), window [t_final / 4, t_final / 2]; chi_E = var(E_m) / L from the per-chain
energies at t = 0 (a check) and exactly, chi_E = 20 U^2 a^4 + 16 U g a^3 + 6 g^2 a^2 for the clean chain
(:func:`dnls_energy_susceptibility`); D_E = kappa / (2 chi_E) with the exact chi_E. A run without a
plateau is drawn as a bound in the direction its running integral moves over the window.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

import numpy as np

import tnmbl
from tnmbl.evolution.figures import finish, lower_bounds, upper_bounds
from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import load_sweep
from tnmbl.transport import daoe_budget, diffusion_constant, green_kubo_ensemble
from tnmbl.transport.green_kubo import PLATEAU_REL

PROFILES = {"density": "particle", "energy_density": "energy"}
CURRENTS = {"density_current": "particle", "energy_current": "energy"}
EDGE_MAX = 1e-3
CHI_REL = 0.1


def load_quantum(sweep_path, overrides=()):
    """Finished members grouped by (g, U, n_max, L, b): lists of ``(params, result)``, and notes."""
    groups, notes = defaultdict(list), []
    for m in load_sweep(sweep_path, overrides).members:
        ev, mod, b = m.config["evolution"], m.config["model"], m.config["correlation"]["b"]
        label = f"g = {mod['g']:g}, b = {b}, gamma = {ev['gamma']:g}, chi_max = {ev['chi_max']}"
        if not m.path.exists():
            notes.append(f"{label}: no results ({m.path}), left out")
            continue
        res = tnmbl.load(m.path)
        if (res.meta.get("file") or {}).get("status") != "finished" or len(res.times) < 3:
            notes.append(f"{label}: unfinished, left out")
            continue
        key = (float(mod["g"]), float(mod["U"]), int(mod["n_max"]), int(mod["L"]), b)
        groups[key].append(({"evolution.gamma": float(ev["gamma"]), "evolution.chi_max": int(ev["chi_max"]),
                             "evolution.l_star": int(ev["l_star"])}, res))
    return groups, notes


def as_point(params, res, b):
    """A member in the shape of a ``read_summary`` point (what :func:`daoe_budget` reads)."""
    health = {k: np.abs(np.asarray(v, float)) for k, v in res.health.items()
              if k in ("truncation_error", "charge_drift", "energy_drift")}
    return {"params": params, "time": np.asarray(res.times, float), "health_worst": health,
            "observables": {b: {"positions": np.asarray(res.positions[b], float),
                                "mean": np.asarray(res[b]).real}}}


def quantum_row(key, members, t_read=None, window_frac=(0.5, 1.0)):
    """The estimate of one (g, b) group with its budget, convergence flags and D(t) curves."""
    g, U, n_max, L, b = key
    points = [as_point(p, r, b) for p, r in members]
    times = points[0]["time"]
    kind = "D" if b in PROFILES else "kappa"
    t = float(times[-2]) if t_read is None else float(t_read)
    window = (float(times[-1]) * window_frac[0], float(times[-1]) * window_frac[1]) if kind == "kappa" else None
    row = {"g": g, "U": U, "g_over_U": g / U, "n_max": n_max, "L": L, "b": b,
           "transport": (PROFILES | CURRENTS)[b], "quantity": kind, "t": t, "window": window,
           "members": len(points), "flags": []}
    curves = {}
    for p in points:
        d = diffusion_constant(p["time"], p["observables"][b]["positions"], p["observables"][b]["mean"]) \
            if kind == "D" else None
        curves[(p["params"]["evolution.gamma"], p["params"]["evolution.chi_max"])] = d
    gammas = sorted({p["params"]["evolution.gamma"] for p in points if p["params"]["evolution.gamma"] > 0})
    chis = sorted({p["params"]["evolution.chi_max"] for p in points})
    top = [gm for gm in gammas if (gm, chis[-1]) in curves]
    row["gammas"], row["chis"] = gammas, chis
    if len(top) < 3:
        row["flags"].append(f"only {len(top)} gammas at chi_max {chis[-1]}: no gamma -> 0 extrapolation")
        return row, curves
    budget = daoe_budget({"points": points, "base": {}}, kind, b, t=t if kind == "D" else None, window=window)
    row["budget"] = budget
    row["value"], row["error"] = budget["value"], budget["error"]
    chi_err = budget["rows"]["chi"]["error"]
    if chi_err is None:
        row["flags"].append("one chi_max only: no chi row")
    elif chi_err > CHI_REL * abs(row["value"]):
        row["flags"].append(f"chi row {chi_err:.3g} > {CHI_REL:g} of the value")
    if kind == "D":
        d = curves[(top[0], chis[-1])]
        i = int(np.argmin(np.abs(d.times - t)))
        j = int(np.argmin(np.abs(d.times - 0.75 * t)))
        drift = float(d.D[i] - d.D[j])
        row["D_smallest_gamma"] = float(d.D[i])
        row["D_drift_last_quarter"] = drift
        row["edge_weight"] = float(max(c.edge_weight[i] for c in curves.values()))
        row["susceptibility"] = float(d.total[0])
        row["kappa_einstein"] = 2 * row["susceptibility"] * row["value"]
        row["kappa_einstein_error"] = 2 * row["susceptibility"] * row["error"]
        row["plateau"] = abs(drift) < PLATEAU_REL * abs(d.D[i])
        if not row["plateau"]:
            row["flags"].append(f"D(t) still moves by {drift:+.3g} over the last quarter at gamma = {top[0]:g}")
        if row["edge_weight"] > EDGE_MAX:
            row["flags"].append(f"edge weight {row['edge_weight']:.2g} > {EDGE_MAX:g}: the profile reached the ends")
        row["bound"] = None if row["plateau"] else ("lower" if drift > 0 else "upper")
    else:
        row["plateau"] = all("plateau" not in f for f in row["flags"])
        row["bound"] = None
    row["converged"] = not row["flags"]
    return row, curves


def dnls_energy_susceptibility(U, g, a):
    """var(E) / L of the clean periodic DNLS chain at beta = 0 and density ``a``: |psi_x|^2 ~ Exp(a) iid
    with uniform phases, E = sum_x (U n_x^2 + 2 g n_x) - 2 g sum_x Re(psi_x* psi_x+1) and <n^k> = k! a^k."""
    return 20 * U**2 * a**4 + 16 * U * g * a**3 + 6 * g**2 * a**2


def classical(sweep_path, overrides=(), notes=None):
    """One row per finished DNLS member: kappa (Green-Kubo, all origins), chi_E, D_E."""
    out = []
    for m in load_sweep(sweep_path, overrides).members:
        if not m.path.exists() or read_results(m.path)["attrs"].get("status") != "finished":
            (notes if notes is not None else []).append(f"DNLS {m.params}: no finished results in {m.path}, left out")
            continue
        res = read_results(m.path)
        mod, st = m.config["model"], m.config["state"]
        L, t = int(mod["L"]), np.asarray(res["time"], float)
        window = (t[-1] / 4, t[-1] / 2)
        k, C, C_err = green_kubo_ensemble(t, res["per_chain"]["total_current"], L, window=window, origins="all")
        e0 = np.asarray(res["per_chain"]["energy"], float)[0]
        chi_sampled = float(np.var(e0, ddof=1) / L)
        chi_e = dnls_energy_susceptibility(float(mod["U"]), float(mod["g"]), float(st["density"])) \
            if not mod.get("W") else chi_sampled
        i_lo, i_hi = np.searchsorted(t, window[0]), np.searchsorted(t, window[1]) - 1
        move = float(k.running[min(i_hi, len(k.running) - 1)] - k.running[min(i_lo, len(k.running) - 1)])
        row = {"g": float(mod["g"]), "U": float(mod["U"]), "g_over_U": float(mod["g"]) / float(mod["U"]),
               "density": float(st["density"]), "L": L, "M": int(st["M"]), "t_final": float(t[-1]),
               "window": list(window), "kappa": k.kappa, "error": k.error, "errors": k.errors,
               "plateau": bool(k.plateau), "susceptibility": chi_e, "susceptibility_sampled": chi_sampled,
               "D": k.kappa / (2 * chi_e),
               "D_error": k.error / (2 * chi_e),
               "bound": None if k.plateau else ("lower" if move > 0 else "upper"),
               "lags": t[:len(C)][:: max(1, len(C) // 400)].tolist(), "C": C[:: max(1, len(C) // 400)].tolist()}
        out.append(row)
    return out


def _draw(ax, x, y, err, bound, color, marker, label):
    x, y, err = np.asarray(x, float), np.asarray(y, float), np.asarray(err, float)
    b = np.asarray([bb or "" for bb in bound])
    ok = b == ""
    ax.errorbar(x[ok], y[ok], yerr=err[ok], fmt=marker, color=color, capsize=3, label=label)
    lower_bounds(ax, x[b == "lower"], y[b == "lower"], color=color, label=f"{label}: lower bound")
    upper_bounds(ax, x[b == "upper"], y[b == "upper"], color=color, label=f"{label}: upper bound")


def plot(quantum, curves, dnls, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(15, 4.3))
    colors = {"particle": "C0", "energy": "C1"}
    for (key, gm, chi), d in curves.items():
        g, b = key[0], key[4]
        if d is None or chi != max(c for (k2, _, c) in curves if k2 == key):
            continue
        ax0.plot(d.times, d.D, lw=0.9, color=colors[PROFILES[b]], alpha=0.4 + 0.6 * (gm == min(
            gg for (k2, gg, _) in curves if k2 == key)),
            ls={2.0: "-", 1.0: "-.", 0.5: "--", 0.25: ":", 0.125: (0, (1, 3))}.get(g / key[1], "-"))
    for r in quantum:
        if "D_smallest_gamma" in r:
            ax0.plot([], [], color=colors[r["transport"]], ls={2.0: "-", 1.0: "-.", 0.5: "--", 0.25: ":",
                                                               0.125: (0, (1, 3))}.get(r["g_over_U"], "-"),
                     label=f"{r['transport']}, g/U = {r['g_over_U']:g}")
    ax0.set(xlabel="t (1/U)", ylabel=r"$D(t) = \frac{1}{2} d\sigma^2/dt$",
            title="(a) quantum D(t), all gammas (dark: smallest)")
    if curves:
        ax0.legend(fontsize=6)
    else:
        ax0.text(0.5, 0.5, "no finished quantum members", ha="center", va="center", transform=ax0.transAxes)
    cutoffs = sorted({r["n_max"] for r in quantum}, key=lambda n: -sum(r["n_max"] == n for r in quantum))
    for ax, what in ((ax1, "D"), (ax2, "kappa")):
        for tr, marker in (("particle", "o"), ("energy", "s")):
            for k, n_max in enumerate(cutoffs):  # the main cutoff first; a check cutoff in another colour
                rows = [r for r in quantum if r["transport"] == tr and "value" in r and r["quantity"] == "D"
                        and r["n_max"] == n_max]
                if not rows:
                    continue
                y = [r["value"] if what == "D" else r["kappa_einstein"] for r in rows]
                e = [r["error"] if what == "D" else r["kappa_einstein_error"] for r in rows]
                lab = f"BH {tr}" + (f", n_max = {n_max}" if len(cutoffs) > 1 else "") \
                    + ("" if what == "D" else r" (Einstein $2\chi D$)")
                color = colors[tr] if k == 0 else {"particle": "C2", "energy": "C4"}[tr]
                _draw(ax, [r["g_over_U"] for r in rows], y, e, [r["bound"] for r in rows], color, marker, lab)
            rows = [r for r in quantum if r["transport"] == tr and "value" in r and r["quantity"] == "kappa"]
            if rows and what == "kappa":
                _draw(ax, [r["g_over_U"] for r in rows], [r["value"] for r in rows], [r["error"] for r in rows],
                      [r["bound"] for r in rows], colors[tr], "D", f"BH {tr} (Green-Kubo)")
        if dnls:
            y = [r["D"] if what == "D" else r["kappa"] for r in dnls]
            e = [r["D_error"] if what == "D" else r["error"] for r in dnls]
            _draw(ax, [r["g_over_U"] for r in dnls], y, e, [r["bound"] for r in dnls], "C3", "^",
                  f"DNLS energy, a = {dnls[0]['density']:g} (Green-Kubo)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        xs = sorted({r["g_over_U"] for r in quantum + dnls})
        ax.set_xticks(xs, [f"{v:g}" for v in xs])
        ax.minorticks_off()
        ax.set_xlabel("g / U")
        ax.legend(fontsize=6)
    ax1.set(ylabel=r"$D$ ($\gamma \to 0$; classical $\kappa / 2\chi_E$)", title="(b) diffusion constants")
    ax2.set(ylabel=r"$\kappa_\infty = 2\int_0^\infty \sum_x\langle j_x(t) j_0\rangle dt$",
            title=r"(c) conductivities at $\beta = 0$")
    q = (f"Bose-Hubbard n_max = {quantum[0]['n_max']}, L = {quantum[0]['L']}, infinite temperature (operator "
         "TEBD + DAOE, gamma -> 0)") if quantum else "Bose-Hubbard: no finished members"
    c = f"DNLS L = {dnls[0]['L']}, M = {dnls[0]['M']}, beta = 0, t = {dnls[0]['t_final']:g}" if dnls else "no DNLS"
    fig.suptitle(f"{q}; {c} (U = 1)", fontsize=10)
    return finish(fig, png, 110)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep", nargs="?", default="runs/sweeps/daoe_bose_hubbard.yaml")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="quantum sweep override")
    p.add_argument("--no-quantum", action="store_true", help="the DNLS side only (no quantum sweep read)")
    p.add_argument("--dnls", default=None, help="the DNLS sweep (runs/sweeps/daoe_bose_hubbard_dnls.yaml)")
    p.add_argument("--dnls-set", action="append", default=[], metavar="KEY=VALUE", help="DNLS sweep override")
    p.add_argument("--t", type=float, default=None, help="time at which D(t) is read (default: last but one row)")
    p.add_argument("--out", default="docs/figures/daoe_bose_hubbard")
    args = p.parse_args(argv)
    groups, notes = ({}, []) if args.no_quantum else load_quantum(args.sweep, args.set)
    quantum, curves = [], {}
    for key in sorted(groups, key=lambda k: (k[4], -k[0])):
        row, c = quantum_row(key, groups[key], args.t)
        quantum.append(row)
        curves.update({(key, gm, chi): d for (gm, chi), d in c.items()})
        brief = {k: row.get(k) for k in ("g_over_U", "n_max", "b", "t", "value", "error", "kappa_einstein",
                                          "bound", "flags")}
        print(json.dumps(brief, default=float))
    dnls = classical(args.dnls, args.dnls_set, notes) if args.dnls else []
    for r in dnls:
        print(f"DNLS g/U = {r['g_over_U']:g}: kappa = {r['kappa']:.4g} +- {r['error']:.2g} (plateau {r['plateau']}), "
              f"chi_E = {r['susceptibility']:.4g}, D_E = {r['D']:.4g} +- {r['D_error']:.2g}")
    for n in notes:
        print("note:", n)
    if not quantum and not dnls:
        raise SystemExit("no finished members: run the sweeps first")
    plot(quantum, curves, dnls, args.out + ".png")
    with open(args.out + ".json", "w") as f:
        json.dump(dict(sweep=args.sweep, dnls_sweep=args.dnls, quantum=quantum, dnls=dnls, notes=notes), f,
                  indent=1, default=float)
    print(f"wrote {args.out}.png and {args.out}.json")
    return quantum, dnls


if __name__ == "__main__":
    main()
