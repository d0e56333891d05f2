"""Green-Kubo kappa of the classical rotor chain against beta*g (issue 15, item 5): the glassy
Fig. 2 range beta*g = 1 ... 0.15 and the low-temperature side beta*g = 2, 4.

    tnmbl sweep runs/sweeps/transport_kappa_rotor_betag.yaml   # one results file per beta*g
    tnmbl sweep runs/sweeps/transport_kappa_rotor_betag_accumulated.yaml   # beta*g = 0.15, 0.1 (accumulator)
    python analysis/kappa_rotor_betag.py                       # -> docs/figures/kappa_rotor_betag.png + .json
    python analysis/kappa_rotor_betag.py --plot-only           # redraw from the JSON

Each member's results file holds the per-chain total current J_m(t) at every step, or (runs with
``observables.green_kubo``) its per-chain sums over all time origins accumulated during the run
(``/green_kubo``; :func:`tnmbl.transport.green_kubo_accumulated`, the same estimate). A point of a
later sweep replaces one of an earlier sweep at the same beta*g. kappa = 2 int C
over the plateau window ``--window`` (fractions of the run length t_final; default [1/4, 1/2]),
with C(t) averaged over every time origin of the run and over the chains, and the exact
statistical error from the per-chain plateaus
(:func:`tnmbl.transport.green_kubo_ensemble` with ``origins="all"``). The single-origin
estimate (t = 0 only, as analysis/kappa_bose_hubbard.py) is kept beside it for comparison.

Plateau (:attr:`tnmbl.transport.Conductivity.plateau`): the running integral moves by less than
5 % of kappa over the window. Without one, kappa is a bound in the direction the running
integral moves across the window: still rising -> a lower bound (C > 0 there), falling -> an
upper bound (a negative tail; a bound as long as C keeps its sign later). Drawn as such (open
markers, arrows up or down).

Units: the sweep varies g at beta = 1. At fixed beta*g the dynamics is the same up to a
rescaling of time (physics.md: phi(g, beta, t) = phi(g/a^2, beta a^2, a t)); with a^2 = g the
point (g, beta) is (g' = 1, beta' = beta g) with t' = sqrt(g) t and, energies scaling like g and
currents like g^(3/2), kappa' = g^(-5/2) kappa. The reduced kappa-bar = g^(-1/2) beta^2 kappa (the
glassy-dynamics paper, sec. 2) is the same in both and equals, at g = 1, the conventional
conductivity beta^2 kappa (J = -kappa_conv grad T; times our factor 2 of int C). Li et al.
(arXiv:1703.07813, nonequilibrium conductance of the same chain at g = 1) fit
kappa_conv ~ T^-3.64 at high T, i.e. kappa-bar ~ (beta g)^3.64: the fit here,
kappa-bar ~ (beta g)^x weighted by the Green-Kubo errors over the points with a plateau
(:func:`tnmbl.observables.classical.fit_t0_model`, the weighted log-log fit of Fig. 2), is
drawn beside that slope.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from tnmbl.evolution.figures import finish, lower_bounds, upper_bounds
from tnmbl.observables.classical import fit_t0_model
from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import load_sweep
from tnmbl.transport import green_kubo_accumulated, green_kubo_ensemble

SWEEP = "runs/sweeps/transport_kappa_rotor_betag.yaml"
SWEEP_ACC = "runs/sweeps/transport_kappa_rotor_betag_accumulated.yaml"  #: the on-the-fly accumulator runs
LI_EXPONENT = 3.64  #: Li et al. arXiv:1703.07813: kappa_conv ~ T^-3.64 at g = 1, i.e. kappa-bar ~ (beta g)^3.64
N_CURVE = 300  #: points of each running integral kept in the JSON (log-spaced)


def reduced(kappa, g, beta):
    """kappa-bar = g^(-1/2) beta^2 kappa: a function of beta*g only."""
    return kappa * beta**2 / np.sqrt(g)


def at_g1(kappa, g):
    """kappa of the equivalent point at g = 1 (beta' = beta g, t' = sqrt(g) t): g^(-5/2) kappa."""
    return kappa * g ** -2.5


def bound(k):
    """"estimate" (plateau reached), else "lower" or "upper" by the way the running integral moves over the window."""
    if k.plateau:
        return "estimate"
    m = (k.times >= k.window[0] - 1e-12) & (k.times <= k.window[1] + 1e-12)
    run = k.running[m]
    return "lower" if run[-1] >= run[0] else "upper"


def point(times, J, L, g, beta, window_frac):
    """The Green-Kubo row of one sweep point from its per-chain currents ``J`` (n_t, M)."""
    t = np.asarray(times, float)
    window = (window_frac[0] * t[-1], window_frac[1] * t[-1])
    k, C, C_err = green_kubo_ensemble(t, J, L, window=window, origins="all")
    n = int(np.searchsorted(t, window[1] + 1e-9)) + 1  # the single origin needs rows up to the window's end only
    k1, _, _ = green_kubo_ensemble(t[:n], J[:n], L, window=window, origins="first")
    return _row(k, C, C_err, L, g, beta, int(J.shape[1]), float(t[-1]), float(t[1] - t[0]), window,
                {"kappa": k1.kappa, "error": k1.error, "plateau": k1.plateau})


def point_accumulated(acc, L, g, beta, window_frac):
    """The Green-Kubo row of one sweep point from its accumulated sums (``/green_kubo``); the run
    length is the time the samples cover (n_samples x lag_dt)."""
    t_run = float(acc["n_samples"]) * float(acc["lag_dt"])
    window = (window_frac[0] * t_run, window_frac[1] * t_run)
    k, C, C_err = green_kubo_accumulated(acc, L, window=window)
    return _row(k, C, C_err, L, g, beta, int(np.shape(acc["sums"])[1]), t_run, float(acc["lag_dt"]), window, None)


def _row(k, C, C_err, L, g, beta, M, t_final, dt_out, window, first_origin):
    keep = np.unique(np.concatenate([[0], np.round(np.geomspace(1, len(k.times) - 1, N_CURVE)).astype(int)]))
    red = reduced(1.0, g, beta)
    return {"beta_g": beta * g, "beta": beta, "g": g, "L": L, "M": M, "t_final": t_final,
            "dt_out": dt_out, "window": list(window),
            "kappa": k.kappa, "error": k.error, "errors": k.errors, "plateau": k.plateau, "bound": bound(k),
            "kappa_bar": red * k.kappa, "kappa_bar_error": red * k.error,
            "kappa_g1": at_g1(k.kappa, g), "beta_g1": beta * g, "first_origin": first_origin,
            "curve": {"t": k.times[keep].tolist(), "running": k.running[keep].tolist(),
                      "C": C[keep].tolist(), "C_error": C_err[keep].tolist()}}


def rows(sweep_path, window_frac, partial=False):
    """One row per finished member of the sweep (others are left out with a note); with
    ``partial``, stopped members too (status interrupted, running from a killed run -- do not use
    while it runs -- or failed, e.g. a ConvergenceError at its last row: the rows written before
    it) that reached a quarter of their t_final, on the rows they have (``t_final`` is
    then the time reached, and the window scales with it)."""
    out = []
    for m in load_sweep(sweep_path).members:
        res = read_results(m.path) if m.path.exists() else None
        status = res["attrs"].get("status") if res is not None else None
        acc = res["extra"].get("green_kubo") if res is not None else None
        reached = (float(acc["n_samples"]) * float(acc["lag_dt"]) if acc is not None
                   else res["time"][-1] if res is not None else 0.0)
        usable = partial and status in ("interrupted", "running", "failed") \
            and reached >= 0.25 * m.config["evolution"]["t_final"]
        if status != "finished" and not usable:
            print(f"{m.id} ({m.params}): no finished results in {m.path} (tnmbl sweep {sweep_path}), left out")
            continue
        L, g, beta = m.config["model"]["L"], m.config["model"]["g"], m.config["state"]["beta"]
        t0 = time.process_time()
        if acc is not None:
            r = point_accumulated(acc, L, g, beta, window_frac)
        else:
            r = point(res["time"], res["per_chain"]["total_current"], L, g, beta, window_frac)
        r["energy_error"] = float(np.max(res["health"]["energy_error"]))
        r["status"] = status
        r["t_final_planned"] = float(m.config["evolution"]["t_final"])
        r["analysis_cpu_s"] = time.process_time() - t0
        print(f"beta g = {r['beta_g']:g}: kappa = {r['kappa']:.4g} +- {r['error']:.2g} ({r['bound']}; window "
              f"{r['errors']['window']:.2g}, statistical {r['errors']['statistical']:.2g}), kappa-bar = "
              f"{r['kappa_bar']:.4g}; " + (f"one origin: {r['first_origin']['kappa']:.3g} +- "
              f"{r['first_origin']['error']:.2g}; " if r["first_origin"] else "accumulated; ")
              + f"energy error {r['energy_error']:.2g}", flush=True)
        out.append(r)
    return out


def fit(points):
    """Weighted fit kappa-bar = A (beta g)^x over the points with a plateau (None with fewer than 3)."""
    ok = [r for r in points if r["bound"] == "estimate"]
    if len(ok) < 3:
        return None
    f = fit_t0_model("power", [r["beta_g"] for r in ok], [r["kappa_bar"] for r in ok],
                     [r["kappa_bar_error"] for r in ok])  # ln y = a - alpha ln x
    return {"x": -f["params"]["alpha"], "x_error": f["errors"]["alpha"], "ln_A": f["params"]["a"],
            "chi2_dof": f["chi2_dof"], "p_value": f["p_value"], "beta_g": [r["beta_g"] for r in ok]}


def figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = results["points"]
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, r in enumerate(sorted(pts, key=lambda r: -r["beta_g"])):
        c = r["curve"]
        ax[0].plot(np.array(c["t"][1:]), np.array(c["running"][1:]) / r["kappa"], color=f"C{i}",
                   label=f"$\\beta g$={r['beta_g']:g}: M={r['M']}, $t_f$={r['t_final']:g}"
                   + (" (partial run)" if r.get("status", "finished") != "finished" else ""))
        ax[0].plot(r["window"], [1, 1], color=f"C{i}", lw=5, alpha=0.35)
    ax[0].axhline(1, color="0.5", lw=0.5)
    ax[0].set_xscale("log")
    ax[0].set_ylim(-0.2, 2.5)
    ax[0].set_xlabel(r"lag $t$ ($\beta = 1$ units; $t_{g=1} = \sqrt{g}\,t$)")
    ax[0].set_ylabel(r"$2\int_0^t C\,/\,\kappa$ (kappa: window mean)")
    ax[0].set_title("running integral over kappa, all time origins (bars: plateau windows)", fontsize=9)
    ax[0].legend(fontsize=7)
    x = np.array([r["beta_g"] for r in pts])
    y = np.array([r["kappa_bar"] for r in pts])
    e = np.array([r["kappa_bar_error"] for r in pts])
    kind = np.array([r["bound"] for r in pts])
    est = kind == "estimate"
    ax[1].errorbar(x[est], y[est], yerr=e[est], fmt="s", color="C3", capsize=3, label="plateau reached")
    lower_bounds(ax[1], x[kind == "lower"], y[kind == "lower"], color="C3", label="no plateau: lower bound")
    upper_bounds(ax[1], x[kind == "upper"], y[kind == "upper"], color="C3",
                 label="no plateau, integral falling: upper bound")
    f = results.get("fit")
    xs = np.geomspace(x.min() / 1.2, x.max() * 1.2, 50)
    if f:
        ax[1].plot(xs, np.exp(f["ln_A"]) * xs ** f["x"], "-", color="C3", lw=0.8,
                   label=f"fit $(\\beta g)^{{{f['x']:.2f}\\pm{f['x_error']:.2f}}}$, $\\chi^2$/dof {f['chi2_dof']:.1f}")
        anchor = np.exp(f["ln_A"])  # Li's slope through the fit at beta g = 1
    else:
        anchor = float(y[np.argmin(abs(np.log(x)))])
    ax[1].plot(xs, anchor * xs**LI_EXPONENT, "--", color="0.4",
               label=f"Li et al. $T^{{-{LI_EXPONENT}}}$: $(\\beta g)^{{{LI_EXPONENT}}}$")
    ax[1].set_xscale("log")
    ax[1].set_yscale("log")
    ax[1].set_xticks(sorted(set(x)), [f"{v:g}" for v in sorted(set(x))])
    ax[1].minorticks_off()
    ax[1].set_xlabel(r"$\beta g$  (here $\beta = 1$, $g = \beta g$)")
    ax[1].set_ylabel(r"$\bar\kappa = g^{-1/2}\beta^2\kappa$")
    ax[1].set_title(f"rotor chain L={pts[0]['L']}, ABA864, Green-Kubo over all time origins", fontsize=9)
    ax[1].legend(fontsize=7)
    finish(fig, path, 80)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep", nargs="*", default=[SWEEP, SWEEP_ACC],
                    help="the sweep files (a later one's point replaces an earlier one's at the same beta g)")
    ap.add_argument("--window", type=float, nargs=2, default=[0.25, 0.5],
                    help="plateau window as fractions of each point's t_final (the lags reach half the run)")
    ap.add_argument("--results", default="docs/figures/kappa_rotor_betag.json")
    ap.add_argument("--png", default="docs/figures/kappa_rotor_betag.png")
    ap.add_argument("--plot-only", action="store_true", help="redraw the figure from the results JSON")
    ap.add_argument("--partial", action="store_true",
                    help="also use interrupted members, on the rows they have (resume them with tnmbl sweep)")
    a = ap.parse_args(argv)
    res_path = Path(a.results)
    if a.plot_only:
        results = json.loads(res_path.read_text())
    else:
        if not 0 < a.window[0] < a.window[1] <= 1:
            raise SystemExit(f"--window {a.window}: need 0 < lo < hi <= 1 (fractions of t_final)")
        pts = []
        for sweep in a.sweep:
            new = [dict(r, sweep=str(sweep)) for r in rows(sweep, a.window, a.partial)]
            replaced = sorted({r["beta_g"] for r in pts} & {r["beta_g"] for r in new})
            if replaced:
                print(f"beta g = {replaced}: the points of {sweep} replace the earlier ones")
            pts = [r for r in pts if r["beta_g"] not in replaced] + new
        pts.sort(key=lambda r: -r["beta_g"])  # stable: points of one sweep keep their order
        if not pts:
            raise SystemExit(f"no finished members in {a.sweep}: run tnmbl sweep on them first")
        results = {"sweep": [str(x) for x in a.sweep], "window_fraction": a.window, "li_exponent": LI_EXPONENT,
                   "points": pts, "fit": fit(pts)}
        if results["fit"]:
            f = results["fit"]
            print(f"fit kappa-bar ~ (beta g)^x over beta g = {f['beta_g']}: x = {f['x']:.3f} +- {f['x_error']:.3f}, "
                  f"chi2/dof = {f['chi2_dof']:.2f} (p = {f['p_value']:.2g}); Li et al.: x = {LI_EXPONENT}")
        res_path.parent.mkdir(parents=True, exist_ok=True)
        res_path.write_text(json.dumps(results, indent=1))
    figure(results, a.png)
    return results


if __name__ == "__main__":
    main()
