r"""Issue 13, study d: local line widths of the disordered XXZ chain at infinite temperature against
its spin conductivity, across the MBL crossover (nearly-MBL-metals paper, sec. II C: the DC
conductivity follows the *typical* local line width, sigma ~ Gamma), from the correlation
sweep ``runs/sweeps/linewidths_xxz.yaml`` (one member per disorder pattern x W x site y).

    tnmbl sweep runs/sweeps/linewidths_xxz.yaml
    python analysis/linewidths_xxz.py runs/sweeps/linewidths_xxz.yaml --exact  # docs/figures/linewidths_xxz.png, .json

Per member (its evolved :math:`Z_y`, profile :math:`C(x, t) = \langle Z_x(t) Z_y\rangle_{\beta=0}`):

* **Line width** :math:`\Gamma_y`. The paper's local line is a Lorentzian at detunings below the
  local energy scale, i.e. :math:`C_{yy}(t) \propto e^{-\Gamma t}` at late times (after the fast
  initial dephasing). First the part of :math:`Z_y` that cannot decay in a finite chain is
  removed: its Mazur projection :math:`M_y` onto the conserved :math:`S^z_{\rm tot} = \sum Z` and
  :math:`H` (at infinite temperature :math:`\langle Z_y Q\rangle`, :math:`\langle Q Q'\rangle`
  in closed form: :func:`mazur_plateau`; O(1/L), a finite-size effect), giving
  :math:`\tilde C_y(t) = (C_{yy}(t) - M_y)/(1 - M_y)`. Then :math:`\Gamma_y` is the rate of the
  exponential fit (:func:`tnmbl.evolution.correlations.decay_rate`) of :math:`|\tilde C_y|` over
  the late half :math:`[t_{\max}/2, t_{\max}]` of the times (points above ``floor``, default
  0.005); where fewer than three points are left there (the part decayed early), over
  :math:`[t_1, t_f]`, :math:`t_f` the first time below ``floor``. Rates below ``gamma_min``
  (default 1e-3: a change of 0.5 % over a window of 5), or negative (a revival in the window),
  are unresolved: they enter typical and mean as ``gamma_min`` (counted in the table). A second,
  cruder width: the inverse of the first time :math:`\tilde C_y < 1/e` (``efold``; ``1/t_max``,
  counted as censored, where it never gets there).
* **Typical and mean width** per W: :math:`\exp\langle\ln\Gamma\rangle` and :math:`\langle\Gamma\rangle`
  over sites and disorder patterns, with standard errors over the members (the sites of one
  pattern are correlated, so these errors are optimistic).
* **Spin D(t)** from the spreading of the same profile (:func:`tnmbl.transport.diffusion_constant`,
  study b's estimator), mean over members, and the Green-Kubo coefficient by Einstein,
  :math:`\sigma_\infty = 2 D \chi` with :math:`\chi = \sum_x\langle Z_x Z_y\rangle = 1` at every W
  (:mod:`tnmbl.transport.operator_transport` conventions).

With ``--exact`` the same widths from exact diagonalisation of each member's chain (L <= 14,
:func:`tnmbl.engines.exact_thermal.exact_correlations`) are put beside them: the check of the
engine (its truncation and DAOE bias) on exactly the quantity of the study.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import tnmbl
from tnmbl.chain import charge_densities
from tnmbl.engines.exact_thermal import exact_correlations
from tnmbl.errors import ObservableError
from tnmbl.evolution.correlations import decay_rate
from tnmbl.evolution.figures import finish
from tnmbl.runs.build import chain_from_params
from tnmbl.runs.sweep import load_sweep
from tnmbl.states.mixed import Thermal
from tnmbl.transport import diffusion_constant


def load_members(sweep_path, overrides=()):
    """One dict per finished member: ``W``, ``y``, ``seed``, ``params`` (the model's, with its
    fields ``w``), ``result`` (``tnmbl.load``)."""
    plan = load_sweep(sweep_path, overrides)
    rows, notes = [], []
    for m in plan.members:
        label = f"{m.id} (W = {m.config['model']['W']}, y = {m.config['correlation']['y']})"
        if not m.path.exists():
            notes.append(f"{label}: no results ({m.path}), left out")
            continue
        if m.path.with_name(m.path.name + ".lock").exists():
            notes.append(f"{label}: still running (locked), left out")
            continue
        res = tnmbl.load(m.path)
        if len(res.times) < 4 or res.times[-1] < m.config["evolution"]["t_final"] - 1e-9:
            notes.append(f"{label}: unfinished (t = {res.times[-1]:g}), left out")
            continue
        p = res.meta["model_params"]
        rows.append(dict(id=m.id, W=float(p["W"]), y=int(res.meta["y"]), seed=int(p["seed"]), params=p,
                         gamma=float(res.meta.get("gamma") or 0.0), chi_max=int(res.meta["chi_max"]), result=res))
    return rows, notes


def mazur_plateau(params, y):
    r"""Mazur projection of :math:`Z_y` onto :math:`\{S^z_{\rm tot}, H\}` of the open XXZ chain,
    :math:`M_y = b^T G^{-1} b` with :math:`b = (\langle Z_y S^z\rangle, \langle Z_y H\rangle) = (1, w_y)`,
    :math:`G = [[L, \sum w], [\sum w, \sum w^2 + (L-1)(2g^2 + J^2)]]` (normalised traces of Pauli
    strings): the part of :math:`C_{yy}(t)` that never decays in the finite chain."""
    w = np.asarray(params["w"], float)
    L, g, J = len(w), float(params["g"]), float(params["J"])
    G = np.array([[L, w.sum()], [w.sum(), w @ w + (L - 1) * (2 * g**2 + J**2)]])
    b = np.array([1.0, w[y]])
    return float(b @ np.linalg.solve(G, b))


def line_width(times, c, plateau, *, floor=0.005):
    """``(Gamma, error, (t_lo, t_hi))``: the rate of the exponential fit to the decaying part
    ``|c - plateau| / (1 - plateau)`` over the late half ``[t_max/2, t_max]`` of the times, points
    above ``floor`` (module docstring); if fewer than three are left (decayed early), over
    ``[t_1, t_f]``, ``t_f`` the first time below ``floor``."""
    t = np.asarray(times, float)
    ct = (np.asarray(c, float) - plateau) / (1.0 - plateau)
    window = (t[-1] / 2, t[-1])
    try:
        rate, err, _ = decay_rate(t, ct, window=window, floor=floor)
    except ObservableError:  # decayed before t_max / 2: fit the resolved decay
        below = np.nonzero(np.abs(ct) < floor)[0]
        window = (t[1], t[max(below[0], 4)])
        rate, err, _ = decay_rate(t, ct, window=window, floor=floor / 2)
    return rate, err, window


def e_fold_rate(times, c, plateau):
    """``(1 / tau, censored)``: ``tau`` the first time the decaying part falls below 1/e;
    ``censored`` (and 1 / t_max, an upper bound) if it never does."""
    t = np.asarray(times, float)
    ct = (np.asarray(c, float) - plateau) / (1.0 - plateau)
    below = np.nonzero(ct < np.exp(-1))[0]
    return (1.0 / t[below[0]], False) if len(below) else (1.0 / t[-1], True)


def exact_autocorrelations(params, ys, times):
    """``C[t, k] = <Z_y(t) Z_y>`` at infinite temperature for ``y`` in ``ys``, exact (one
    diagonalisation per charge sector)."""
    chain = chain_from_params("xxz", params)
    ops = charge_densities(chain)
    z = [ops[y] for y in ys]
    c = exact_correlations(chain, Thermal(0.0), z, z, times)
    return np.real(np.einsum("tkk->tk", c))


def analyse(rows, *, exact=False, floor=0.005, gamma_min=1e-3):
    """Per-member widths and D(t), then the table per W (module docstring)."""
    if exact:
        for (W, seed) in sorted({(r["W"], r["seed"]) for r in rows}):
            group = [r for r in rows if r["W"] == W and r["seed"] == seed]
            ce = exact_autocorrelations(group[0]["params"], [r["y"] for r in group], group[0]["result"].times)
            for k, r in enumerate(group):
                r["c_exact"] = ce[:, k]
    for r in rows:
        res = r["result"]
        t, x = res.times, np.asarray(res.positions["density"], float)
        c = np.asarray(res["density"]).real
        r["times"], r["c"] = t, c[:, int(np.argmin(np.abs(x)))]
        r["plateau"] = mazur_plateau(r["params"], r["y"])
        r["width"], r["width_error"], r["window"] = line_width(t, r["c"], r["plateau"], floor=floor)
        r["efold"], r["efold_censored"] = e_fold_rate(t, r["c"], r["plateau"])
        if "c_exact" in r:
            r["width_exact"], _, _ = line_width(t, r["c_exact"], r["plateau"], floor=floor)
            r["efold_exact"], r["efold_exact_censored"] = e_fold_rate(t, r["c_exact"], r["plateau"])
            r["max_dev_exact"] = float(np.abs(r["c"] - r["c_exact"]).max())
        d = diffusion_constant(t, x, c)
        r["D"], r["edge_weight"] = d.D, d.edge_weight
        r["truncation_error"] = float(np.max(res.health["truncation_error"]))
        r["charge_drift"] = float(np.max(np.abs(np.asarray(res.health["charge"]) - 1.0)))

    def stats(widths):
        raw = np.asarray(widths, float)
        g = np.maximum(raw, gamma_min)
        lg = np.log(g)
        n = len(g)

        def sem(v):
            return float(np.std(v, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")

        typ = float(np.exp(lg.mean()))
        return dict(typical=typ, typical_error=typ * sem(lg), mean=float(g.mean()), mean_error=sem(g),
                    median=float(np.median(g)), unresolved=int(np.sum(raw < gamma_min)), n=n)

    table = []
    for W in sorted({r["W"] for r in rows}):
        grp = [r for r in rows if r["W"] == W]
        t = grp[0]["times"]
        Ds = np.array([r["D"] for r in grp])
        row = dict(W=W, n_members=len(grp), n_patterns=len({r["seed"] for r in grp}),
                   width=stats([r["width"] for r in grp]), efold=stats([r["efold"] for r in grp]),
                   efold_censored=int(sum(r["efold_censored"] for r in grp)))
        if all("width_exact" in r for r in grp):
            row["width_exact"] = stats([r["width_exact"] for r in grp])
            row["efold_exact"] = stats([r["efold_exact"] for r in grp])
            row["efold_exact_censored"] = int(sum(r["efold_exact_censored"] for r in grp))
            row["max_dev_exact"] = max(r["max_dev_exact"] for r in grp)
        for tD in (2.0, 5.0, float(t[-1])):
            i = int(np.argmin(np.abs(t - tD)))
            row[f"D_t{tD:g}"] = float(Ds[:, i].mean())
            row[f"D_t{tD:g}_error"] = float(Ds[:, i].std(ddof=1) / np.sqrt(len(grp))) if len(grp) > 1 else float("nan")
            row[f"edge_weight_t{tD:g}"] = float(max(r["edge_weight"][i] for r in grp))
        row["sigma"] = 2 * row["D_t5"]  # sigma_inf = 2 D chi, chi = 1
        row["sigma_error"] = 2 * row["D_t5_error"]
        row["max_truncation_error"] = max(r["truncation_error"] for r in grp)
        row["max_charge_drift"] = max(r["charge_drift"] for r in grp)
        table.append(row)
    return table


def plot(rows, table, png, gamma_min=1e-3):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Ws = [row["W"] for row in table]
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(Ws)))
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.3))
    allw = np.array([max(r["width"], gamma_min) for r in rows] + [max(r.get("width_exact", 1), gamma_min)
                                                                 for r in rows])
    bins = np.logspace(np.log10(allw.min()) - 0.1, np.log10(allw.max()) + 0.1, 18)
    for W, col in zip(Ws, colors):
        grp = [r for r in rows if r["W"] == W]
        ax1.hist([max(r["width"], gamma_min) for r in grp], bins=bins, color=col, alpha=0.45, label=f"W = {W:g}")
        if all("width_exact" in r for r in grp):
            ax1.hist([max(r["width_exact"], gamma_min) for r in grp], bins=bins, color=col, histtype="step", lw=1.5,
                     ls="--")
        r0 = min(grp, key=lambda r: (r["seed"], abs(r["y"] - 5.5)))
        ct = (r0["c"] - r0["plateau"]) / (1 - r0["plateau"])
        ax3.semilogy(r0["times"], np.abs(ct) + 1e-6, color=col, lw=1, label=f"W = {W:g}, y = {r0['y']}")
        if "c_exact" in r0:
            ax3.semilogy(r0["times"], np.abs((r0["c_exact"] - r0["plateau"]) / (1 - r0["plateau"])) + 1e-6,
                         color=col, lw=1, ls="--")
    ax1.set_xscale("log")
    ax1.set(xlabel=r"line width $\Gamma_y$ (late-window exponential rate)", ylabel="sites x patterns",
            title="(a) width distributions (filled: engine, dashed: exact)")
    ax1.legend(fontsize=7)

    def errbar(ax, key, label, fmt, sub=None):
        v = [row[key][sub] if sub else row[key] for row in table]
        e = [row[key][sub + "_error"] if sub else row[key + "_error"] for row in table]
        ax.errorbar(Ws, v, yerr=e, fmt=fmt, capsize=3, label=label)

    errbar(ax2, "width", r"typical $\Gamma$ (engine)", "o-", "typical")
    errbar(ax2, "width", r"mean $\Gamma$ (engine)", "s-", "mean")
    if all("width_exact" in row for row in table):
        errbar(ax2, "width_exact", r"typical $\Gamma$ (exact)", "o--", "typical")
        errbar(ax2, "width_exact", r"mean $\Gamma$ (exact)", "s--", "mean")
    errbar(ax2, "sigma", r"$\sigma_\infty = 2D(t{=}5)$", "k^-")
    ax2.set(xscale="log", yscale="log", xlabel="disorder W", ylabel="rate / conductivity",
            title=r"(b) widths and $\sigma$ against W")
    ax2.legend(fontsize=7)
    ax3.set(xlabel="time t", ylabel=r"$\tilde C_y(t) = (C_{yy} - M_y)/(1 - M_y)$", ylim=(1e-3, 1.5),
            title="(c) examples (solid: engine, dashed: exact)")
    ax3.legend(fontsize=7)
    r = rows[0]
    fig.suptitle(f"Disordered XXZ, L = {len(r['params']['w'])}, g = {r['params']['g']:g}, J = {r['params']['J']:g}, "
                 rf"$\beta$ = 0: operator TEBD ($\gamma$ = {r['gamma']:g}, $\chi$ = {r['chi_max']})", fontsize=10)
    finish(fig, png, 110)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep", nargs="?", default="runs/sweeps/linewidths_xxz.yaml")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="sweep override")
    p.add_argument("--exact", action="store_true", help="exact widths beside the engine's (L <= 14)")
    p.add_argument("--floor", type=float, default=0.005, help="smallest resolved decaying part")
    p.add_argument("--gamma-min", type=float, default=1e-3, help="smallest resolved width")
    p.add_argument("--out", default="docs/figures/linewidths_xxz")
    args = p.parse_args(argv)
    rows, notes = load_members(args.sweep, args.set)
    for n in notes:
        print("note:", n)
    if not rows:
        raise SystemExit("no finished members: run the sweep first")
    table = analyse(rows, exact=args.exact, floor=args.floor, gamma_min=args.gamma_min)
    for row in table:
        print(json.dumps(row))
    plot(rows, table, args.out + ".png", args.gamma_min)
    members = [dict(id=r["id"], W=r["W"], y=r["y"], seed=r["seed"], width=r["width"], width_error=r["width_error"],
                    window=list(r["window"]), plateau=r["plateau"], width_exact=r.get("width_exact"),
                    efold=r["efold"], efold_exact=r.get("efold_exact"),
                    max_dev_exact=r.get("max_dev_exact")) for r in rows]
    with open(args.out + ".json", "w") as f:
        json.dump(dict(sweep=args.sweep, floor=args.floor, gamma_min=args.gamma_min, table=table, members=members,
                       notes=notes), f, indent=1)
    print(f"wrote {args.out}.png and {args.out}.json")


if __name__ == "__main__":
    main()
