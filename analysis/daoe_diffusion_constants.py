"""Issue 13, study b: a diffusion constant D(gamma -> 0) with its error budget from a gamma x chi_max
sweep of correlation runs (operator TEBD + DAOE at infinite temperature), and its figure.

    tnmbl sweep runs/sweeps/daoe_ising_energy.yaml
    python analysis/daoe_diffusion_constants.py runs/sweeps/daoe_ising_energy.yaml --observable energy_density
    tnmbl sweep runs/sweeps/daoe_xxz_easy_axis.yaml
    python analysis/daoe_diffusion_constants.py runs/sweeps/daoe_xxz_easy_axis.yaml --observable density

Reads the sweep's ``summary.h5`` only (computes nothing but estimators). D(t) = (1/2) d sigma^2/dt of
the connected profile of every point (:func:`tnmbl.transport.diffusion_constant`); the value is
:func:`tnmbl.transport.daoe_budget` at the time ``--t`` (default: the last time with a centred
difference): the gamma -> 0 line through the largest chi_max, its fit error, the chi_max row, the
sum rules and the discarded weight. One row is added here, ``time``: |D_0(t) - D_0(t - dt_plateau)|,
how far the extrapolated D still moves over the last ``--plateau`` time units (a D(t) that has not
levelled off shows up there, not as a precise number). ``error`` = budget error (+) time row.
``--partial``: the sweep is not finished (no ``summary.h5``): the same summary is built from the
rows every member has stored so far, all cut to the shortest member's last time (one member per
point, as in these sweeps). For the XXZ chain the value is also given in the spin-1/2 convention
(S = sigma / 2, exchange J_S = 4 g = 1): D_S = D / (4 g). Writes ``<out>.png`` and ``<out>.json``.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import tnmbl
from tnmbl.evolution.figures import finish
from tnmbl.runs.sweep import load_sweep
from tnmbl.transport import daoe_budget, diffusion_constant
from tnmbl.transport.operator_transport import budget_summary


def curves(summary, observable):
    """One dict per sweep point: ``gamma``, ``chi_max``, ``times``, ``D`` (D(t) of the mean profile)."""
    out = []
    for p in summary["points"]:
        o = p["observables"][observable]
        t = np.asarray(p["time"], float)
        d = diffusion_constant(t, o["positions"], o["mean"])
        out.append(dict(gamma=float(p["params"].get("evolution.gamma", 0.0)),
                        chi_max=int(p["params"].get("evolution.chi_max", 0)), times=t, D=np.asarray(d.D)))
    return out


def partial_summary(plan, observable, cut=True):
    """A :func:`~tnmbl.runs.sweep_summary.read_summary`-like dict from the members' stored rows, cut to
    the shortest member's last time (``cut=False``: every row, for the figure), with the evolution
    section as ``base``."""
    results = [(m, tnmbl.load(m.path)) for m in plan.members if m.path.exists()]
    if len(results) < len(plan.members):
        missing = [m.id for m in plan.members if not m.path.exists()]
        raise SystemExit(f"members without results yet: {missing}")
    points = []
    for m, r in results:
        n = min(len(q.times) for _, q in results) if cut else len(r.times)
        health = {k: np.abs(np.asarray(r.health[k], float)[:n]) for k in
                  ("truncation_error", "charge_drift", "energy_drift") if k in r.health}
        points.append({"params": dict(m.params), "time": np.asarray(r.times[:n], float),
                       "observables": {observable: {"mean": np.asarray(r[observable])[:n].real,
                                                    "positions": np.asarray(r.positions[observable], float)}},
                       "health_worst": health})
    return {"attrs": {"partial": True}, "base": dict(plan.members[0].config["evolution"]), "points": points}


def estimate(summary, observable, t, plateau, degree=1):
    """``daoe_budget`` at ``t`` (gamma -> 0 by a line, ``degree`` 1, or a parabola, 2) with the
    ``time`` row (its change since ``t - plateau``) added, and with four or more gammas the
    ``form`` row: how far the other degree's intercept lies (curvature the chosen form does not
    capture shows there)."""
    b = daoe_budget(summary, "D", observable, t=t, degree=degree)
    earlier = daoe_budget(summary, "D", observable, t=t - plateau, degree=degree)
    time_row = abs(b["value"] - earlier["value"])
    b["rows"]["time"] = {"error": time_row, "compared": [t - plateau, t], "value_earlier": earlier["value"]}
    b["error_budget_only"] = b["error"]
    extra = [time_row]
    if len(set(b["rows"]["gamma_extrapolation"]["gammas"])) >= 4:
        other = daoe_budget(summary, "D", observable, t=t, degree=3 - degree)
        form = abs(b["value"] - other["value"])
        b["rows"]["form"] = {"error": form, "degrees": [degree, 3 - degree], "value_other": other["value"]}
        extra.append(form)
    b["error"] = float(np.sqrt(b["error"] ** 2 + sum(x ** 2 for x in extra)))
    return b


def tail_extrapolation(summary, observable, t, t_from, degree=1):
    """D(t -> infinity) under the one-dimensional hydrodynamic long-time tail
    ``D(t) = D_inf - c / sqrt(t)``: a least-squares line in ``1 / sqrt(t)`` through the gamma -> 0
    values ``D_0(t')`` at the output times ``t_from <= t' <= t``. Returned as a row (not folded
    into the error): ``D_inf``, ``c``, ``shift`` = D_inf - D_0(t), the window and the points."""
    times = sorted({float(x) for p in summary["points"] for x in p["time"] if t_from <= x <= t})
    if len(times) < 3:
        return None
    d0 = [daoe_budget(summary, "D", observable, t=x, degree=degree)["value"] for x in times]
    x = 1.0 / np.sqrt(np.asarray(times))
    c1, c0 = np.polyfit(x, d0, 1)
    resid = np.asarray(d0) - (c0 + c1 * x)
    return {"D_inf": float(c0), "c": float(-c1), "shift": float(c0 - d0[-1]), "window": [times[0], times[-1]],
            "times": times, "D0": [float(v) for v in d0], "max_residual": float(np.abs(resid).max())}


def convention(model):
    """How the D of this model converts to the published conventions (text and factor)."""
    if model.get("name") == "xxz":
        g = float(model.get("g", 1.0))
        return {"factor": 1.0 / (4 * g), "to": "spin-1/2 S = sigma/2, H = J_S sum (SxSx + SySy + Delta SzSz), J_S = 1",
                "Delta": float(model.get("J", 0.0)) / g}
    return {"factor": 1.0, "to": "as in H (Pauli matrices)"}


def plot(model, evolution, cs, budget, png, observable):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [1.6, 1]})
    gammas = sorted({c["gamma"] for c in cs})
    chis = sorted({c["chi_max"] for c in cs})
    colors = dict(zip(gammas, plt.cm.viridis(np.linspace(0, 0.85, len(gammas)))))
    styles = dict(zip(chis, [":", "--", "-"][-len(chis):]))
    for c in cs:
        ax1.plot(c["times"][1:-1], c["D"][1:-1], styles[c["chi_max"]], color=colors[c["gamma"]], lw=1.3,
                 label=rf"$\gamma$ = {c['gamma']:g}, $\chi$ = {c['chi_max']}")
    t, v, e = budget["t"], budget["value"], budget["error"]
    ax1.errorbar([t], [v], [e], fmt="ko", ms=4, capsize=3, label=rf"$D(\gamma\to0)$ = {v:.3f} $\pm$ {e:.3f}")
    ax1.set(xlabel=r"time t ($\hbar$ = 1, couplings as in H)", ylabel=r"D(t) (sites$^2$ / time)",
            title="(a) D(t) = (1/2) d$\\sigma^2$/dt of the connected profile")
    ax1.legend(fontsize=7, ncol=2)
    ex = budget["rows"]["gamma_extrapolation"]
    g = np.asarray(ex["gammas"])
    gg = np.linspace(0, g.max() * 1.05, 50)
    ax2.plot(g, ex["values"], "o", color="C0", label=rf"$\chi$ = {ex['chi_max']}, t = {t:g}")
    ax2.plot(gg, np.polyval(ex["coefficients"], gg), "-", color="C0", lw=1)
    ax2.errorbar([0], [v], [e], fmt="ks", capsize=3, label="extrapolation (full budget)")
    others = [c for c in cs if c["chi_max"] != ex["chi_max"]]
    for c in others:
        i = int(np.argmin(np.abs(c["times"] - t)))
        ax2.plot(c["gamma"], c["D"][i], "x", color="C1", label=rf"$\chi$ = {c['chi_max']}" if c is others[0] else None)
    ax2.set(xlabel=r"DAOE dissipation $\gamma$ (dimensionless)", ylabel=f"D(t = {t:g}) (sites$^2$ / time)",
            title=r"(b) extrapolation $\gamma \to 0$", xlim=(-0.01, None))
    ax2.legend(fontsize=7)
    params = ", ".join(f"{k} = {model[k]:g}" for k in model if k not in ("name", "L", "seed", "W")
                       and isinstance(model[k], (int, float)))
    fig.suptitle(f"{model['name']} ({params}), L = {model['L']}, infinite temperature, D of {observable}: "
                 f"operator {evolution['method'].upper()} (dt = {evolution['dt']:g}) + DAOE, "
                 f"l* = {evolution.get('l_star')}", fontsize=9)
    finish(fig, png, 110)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep")
    p.add_argument("--observable", default="density", help="the profile: density or energy_density")
    p.add_argument("--t", type=float, default=None, help="time of D(t) (default: the last centred one)")
    p.add_argument("--plateau", type=float, default=2.0, help="the time row compares t with t - plateau")
    p.add_argument("--partial", action="store_true", help="read the members' rows so far (no summary.h5 yet)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="sweep override")
    p.add_argument("--out", default=None, help="figure / JSON path without suffix (default docs/figures/<sweep>)")
    p.add_argument("--tail-from", type=float, default=None, metavar="T0",
                   help="also fit D_0(t) = D_inf - c / sqrt(t) over [T0, t] (the 1D hydrodynamic long-time tail); "
                        "reported beside the value as the tail row, not folded into the error")
    p.add_argument("--degree", type=int, default=1, choices=(1, 2),
                   help="gamma -> 0 by a line (1) or a parabola (2, needs four gammas); with four or more the other "
                        "form's intercept is the form row of the budget")
    args = p.parse_args(argv)
    plan = load_sweep(args.sweep, args.set)
    if args.partial:
        summary = partial_summary(plan, args.observable)
    elif not plan.summary_path.exists():
        raise SystemExit(f"no {plan.summary_path}: run the sweep first (tnmbl sweep {args.sweep}), or --partial")
    else:
        summary = budget_summary(plan.summary_path)  # read once for every budget below
    config = plan.members[0].config
    model, evolution = config["model"], config["evolution"]
    cs = curves(summary, args.observable)
    t = args.t if args.t is not None else float(cs[0]["times"][-2])
    if args.partial:  # the figure shows every stored row; the budget uses the common times only
        cs = curves(partial_summary(plan, args.observable, cut=False), args.observable)
        print("partial: rows up to t =", {f"gamma={c['gamma']:g},chi={c['chi_max']}": float(c["times"][-1])
                                          for c in cs})
    budget = estimate(summary, args.observable, t, args.plateau, args.degree)
    if args.tail_from is not None:
        tail = tail_extrapolation(summary, args.observable, t, args.tail_from, args.degree)
        if tail is not None:
            budget["rows"]["tail"] = tail
    conv = convention(model)
    out = args.out or f"docs/figures/{plan.name}"
    plot(model, evolution, cs, budget, out + ".png", args.observable)
    result = dict(sweep=args.sweep, partial=bool(args.partial), model=model,
                  evolution={k: evolution[k] for k in ("method", "dt", "l_star")},
                  observable=args.observable, t=t, D=budget["value"], error=budget["error"],
                  convention=dict(conv, D=budget["value"] * conv["factor"], error=budget["error"] * conv["factor"]),
                  rows={k: v for k, v in budget["rows"].items()}, curves=[
                      {"gamma": c["gamma"], "chi_max": c["chi_max"], "D_at_t": float(
                          c["D"][int(np.argmin(np.abs(c["times"] - t)))])} for c in cs])
    with open(out + ".json", "w") as f:
        json.dump(result, f, indent=1, default=float)
    rows = budget["rows"]
    print(f"{model['name']}: D({args.observable}, gamma -> 0, t = {t:g}) = {budget['value']:.4f} +- "
          f"{budget['error']:.4f}  [fit {rows['gamma_extrapolation']['error']:.4f}, chi {rows['chi']['error']}, "
          f"time {rows['time']['error']:.4f}" + (f", form {rows['form']['error']:.4f}" if "form" in rows else "")
          + f"; discarded weight {rows['truncation']['max_discarded_weight']:.1e}]")
    if "tail" in rows:
        tl = rows["tail"]
        print(f"  long-time tail D_0(t) = D_inf - c / sqrt(t) over t in {tl['window']}: D_inf = {tl['D_inf']:.4f} "
              f"(c = {tl['c']:.3f}; {tl['shift']:+.4f} from D_0(t = {t:g}); largest residual {tl['max_residual']:.1e})")
    if conv["factor"] != 1.0:
        f = conv["factor"]
        print(f"  in the {conv['to']}: D = {budget['value'] * f:.4f} +- {budget['error'] * f:.4f}")
    print(f"wrote {out}.png and {out}.json")


if __name__ == "__main__":
    main()
