"""Green-Kubo kappa: Bose-Hubbard at beta = 0 against g/U, beside the rotor chain against beta*g.

    tnmbl sweep runs/sweeps/transport_kappa_rotor.yaml     # the rotor chain: one results file per beta
    python analysis/kappa_bose_hubbard.py                  # kappa of both, figure and JSON
    python analysis/kappa_bose_hubbard.py --no-quantum     # the rotor side only (seconds)
    python analysis/kappa_bose_hubbard.py --plot-only      # redraw from the JSON

Rotor chain (a standard sweep): each member's results file holds C(t) = <J(t) J(0)> / L and
the per-chain total current J_m(t); kappa = 2 int C over the plateau window (``--window``,
default [50, 100]) with the exact statistical error from the per-chain plateaus
(:func:`tnmbl.transport.green_kubo_ensemble`).

Bose-Hubbard chain: NOT a standard run yet. Infinite-temperature current correlations come
from the purification driver (:func:`tnmbl.evolution.correlations.current_autocorrelation`),
which computes the whole C(t) in one call and has no engine of the run protocol (no
stepwise advance, no checkpoint), so ``tnmbl run`` cannot drive it; until it has one, this
script computes it, with the parameters below (``--quantum-*`` options, recorded in the
JSON): H = U sum n^2 + g sum (a+ a + h.c.), L = 16, U = 1, n_max = 2; at beta = 0 the
ensemble is uniform over all occupations 0..n_max (the cutoff is part of the ensemble).
C(t) = sum_x <j_x(t) j_y(0)> (bulk form, y mid-chain), kappa = 2 int C over the window.
Times scale with 1/g: t_max = 1.5 / g, window [1.0 / g, t_max], dt = min(0.1, 0.1 / g);
chi_max 48, and chi 24 as the truncation check: the budget's truncation row is the chi
difference |kappa(48) - kappa(24)| (:func:`tnmbl.transport.green_kubo_chi`). The window must
end before the edges are felt. A kappa whose running integral has no plateau in the window
(``Conductivity.plateau``) is drawn as a lower bound (open marker, upward arrow).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from tnmbl.evolution.figures import finish, lower_bounds
from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import load_sweep
from tnmbl.transport import green_kubo_ensemble
from tnmbl.transport.green_kubo import PLATEAU_REL

ROTOR = "runs/sweeps/transport_kappa_rotor.yaml"
#: the Bose-Hubbard study (see the module docstring): not a run kind yet
QUANTUM = {"L": 16, "U": 1.0, "n_max": 2, "g_over_U": [0.25, 0.5, 1.0, 2.0], "current": "energy_current",
           "t_max_g": 1.5, "window_g": [1.0, 1.5], "dt": 0.1, "dt_g": 0.1, "output_dt_g": 0.1, "trotter": "tebd2",
           "chi_max": 48, "chi_check": 24, "svd_cutoff": 1.0e-10, "tail": "none"}


def snap(x, step):
    return round(x / step) * step


def rotor_kappa(times, J, L, window):
    """kappa, its errors, C(t) and its statistical error from per-chain total currents ``J`` (n_t, M)."""
    k, C, C_err = green_kubo_ensemble(times, J, L, window=tuple(window))
    return {"kappa": k.kappa, "error": k.error, "errors": k.errors, "plateau": k.plateau,
            "times": np.asarray(times).tolist(), "C": C.tolist(), "C_error": C_err.tolist(),
            "running": k.running.tolist()}


def classical(sweep_path, window):
    """One row per finished member of the rotor sweep (others are left out with a note)."""
    out = []
    for m in load_sweep(sweep_path).members:
        if not m.path.exists() or read_results(m.path)["attrs"].get("status") != "finished":
            print(f"{m.id} ({m.params}): no finished results in {m.path} (tnmbl sweep {sweep_path}), left out")
            continue
        res = read_results(m.path)
        L, g, beta = m.config["model"]["L"], m.config["model"]["g"], m.config["state"]["beta"]
        row = {"beta_g": beta * g, "beta": beta, "g": g, "L": L, "M": m.config["state"]["M"], "window": list(window),
               **rotor_kappa(res["time"], res["per_chain"]["total_current"], L, window)}
        print(f"classical beta g={row['beta_g']:g}: kappa = {row['kappa']:.4g} +- {row['error']:.2g} {row['errors']}")
        out.append(row)
    return out


def quantum(q):
    from tnmbl.evolution.correlations import current_autocorrelation
    from tnmbl.models.quantum import bose_hubbard
    from tnmbl.transport import green_kubo_chi

    if len(q["window_g"]) != 2:
        raise SystemExit(f"--quantum-window-g: {q['window_g']}: give two numbers (start, end of the window in g t)")
    out = []
    for ratio in q["g_over_U"]:
        U = q["U"]
        g = ratio * U
        dt = min(q["dt"], q["dt_g"] / g)
        out_dt = snap(q["output_dt_g"] / g, dt) or dt
        t_max = snap(q["t_max_g"] / g, out_dt)
        window = (snap(q["window_g"][0] / g, out_dt), t_max)
        chain = bose_hubbard(q["L"], U=U, g=g, n_max=q["n_max"])
        t0 = time.process_time()
        runs = {chi: current_autocorrelation(chain, q["current"], total=False, t_max=t_max, dt=dt,
                                             output_dt=out_dt, trotter=q["trotter"], chi_max=chi,
                                             svd_cutoff=q["svd_cutoff"])
                for chi in (q["chi_check"], q["chi_max"])}
        c = runs[q["chi_max"]]
        dC = np.abs(c.values - runs[q["chi_check"]].values)  # the change of C from chi_check to chi_max
        # the truncation row: |kappa(chi_max) - kappa(chi_check)|
        k = green_kubo_chi(runs, window=window, tail=q["tail"])
        row = {"g_over_U": ratio, "g": g, "kappa": k.kappa, "error": k.error, "errors": k.errors,
               "plateau": k.plateau, "kappa_chi_check": k.truncation["kappa_low"], "flags": k.flags,
               "window": list(window), "times": c.times.tolist(), "C": c.values.real.tolist(),
               "C_error": dC.tolist(), "C_error_estimate_bound": c.error_estimate.tolist(),
               "running": k.running.tolist(),
               "truncation_error": c.truncation_error.tolist(), "chi": c.chi.tolist(), "dt": dt,
               "cpu_s": time.process_time() - t0}
        print(f"quantum g/U={ratio:g}: kappa = {k.kappa:.4g} +- {k.error:.2g} {k.errors} "
              f"(chi {c.chi.max()}, discarded {c.truncation_error[-1]:.2g}, {row['cpu_s']:.0f} CPU s)", flush=True)
        out.append(row)
    return out


def plateaus(rows):
    """Per row, whether kappa's running integral reached a plateau (rows of older JSON files
    without ``plateau``: the same rule, ``Conductivity.plateau``, from the stored window error)."""
    return np.array([r.get("plateau", r["errors"]["window"] < PLATEAU_REL * abs(r["kappa"])) for r in rows], bool)


def figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(12, 3.6))
    q = results.get("quantum", [])
    if q:
        for r in q:
            ax[0].plot(np.array(r["times"]) * r["g"], r["running"], label=f"g/U={r['g_over_U']:g}")
            ax[0].axvspan(r["window"][0] * r["g"], r["window"][1] * r["g"], color="0.9")
        ax[0].set_xlabel("g t")
        ax[0].set_ylabel(r"$2\int_0^t \sum_x\langle j_x(s) j_y(0)\rangle ds$")
        ax[0].set_title("Bose-Hubbard, beta=0: running integral", fontsize=9)
        ax[0].legend(fontsize=7)
        x = np.array([r["g_over_U"] for r in q])
        kap = np.array([r["kappa"] for r in q])
        err = np.array([r["error"] for r in q])
        ok = plateaus(q)
        ax[1].plot(x, kap, "-", color="C0", lw=0.8)
        ax[1].errorbar(x[ok], kap[ok], yerr=err[ok], fmt="o", color="C0", capsize=3, label="plateau reached")
        lower_bounds(ax[1], x[~ok], kap[~ok], color="C0", label="no plateau: lower bound")
        ax[1].legend(fontsize=7)
        ax[1].set_xscale("log")
        ax[1].set_yscale("log")
        ax[1].set_xticks(x, [f"{v:g}" for v in x])
        ax[1].minorticks_off()
        ax[1].set_xlabel("g / U")
        ax[1].set_ylabel(r"$\kappa$ at $\beta = 0$")
        ax[1].set_title(f"Bose-Hubbard L={results['quantum_config']['L']}, "
                        f"n_max={results['quantum_config']['n_max']}", fontsize=9)
    c = results.get("classical", [])
    if c:
        red = [r["beta"] ** 2 / np.sqrt(r["g"]) for r in c]  # reduced kappa-bar = g^-1/2 beta^2 kappa (paper, sec. 2)
        x, y = np.array([r["beta_g"] for r in c]), np.array([f * r["kappa"] for f, r in zip(red, c)])
        err, ok = np.array([f * r["error"] for f, r in zip(red, c)]), plateaus(c)
        ax[2].plot(x, y, "-", color="C3", lw=0.8)
        ax[2].errorbar(x[ok], y[ok], yerr=err[ok], fmt="s", color="C3", capsize=3, label="plateau reached")
        lower_bounds(ax[2], x[~ok], y[~ok], color="C3", label="no plateau: lower bound")
        ax[2].legend(fontsize=7)
        ax[2].set_xscale("log")
        ax[2].set_yscale("log")
        ax[2].set_xticks([r["beta_g"] for r in c], [f"{r['beta_g']:g}" for r in c])
        ax[2].minorticks_off()
        ax[2].set_xlabel(r"$\beta g$")
        ax[2].set_ylabel(r"$\bar\kappa = g^{-1/2}\beta^2\kappa$")
        ax[2].set_title(f"rotor chain L={c[0]['L']}, M={c[0]['M']}", fontsize=9)
    finish(fig, path, 80)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rotor", default=ROTOR, help="the rotor sweep file")
    ap.add_argument("--window", type=float, nargs=2, default=[50.0, 100.0], help="rotor plateau window")
    ap.add_argument("--no-quantum", action="store_true", help="leave the Bose-Hubbard computation out")
    for k, v in QUANTUM.items():  # --quantum-L 16, --quantum-g-over-U 0.25 0.5, ...
        many = isinstance(v, list)
        ap.add_argument(f"--quantum-{k.replace('_', '-')}", dest=f"q_{k}", type=type(v[0] if many else v), default=v,
                        nargs=("+" if many else None), help=f"default {v}")
    ap.add_argument("--results", default="out/kappa_transport.json")
    ap.add_argument("--png", default="docs/figures/kappa_bose_hubbard.png")
    ap.add_argument("--plot-only", action="store_true", help="redraw the figure from the results JSON")
    a = ap.parse_args(argv)
    res_path = Path(a.results)
    if a.plot_only:
        results = json.loads(res_path.read_text())
    else:
        results = json.loads(res_path.read_text()) if res_path.exists() else {}
        results["classical"] = classical(a.rotor, a.window)
        results["rotor_sweep"] = a.rotor
        if not a.no_quantum:
            q = {k: getattr(a, f"q_{k}") for k in QUANTUM}
            results["quantum_config"] = q
            results["quantum"] = quantum(q)
        res_path.parent.mkdir(parents=True, exist_ok=True)
        res_path.write_text(json.dumps(results))
    figure(results, a.png)
    return results


if __name__ == "__main__":
    main()
