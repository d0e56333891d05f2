"""Green-Kubo kappa: Bose-Hubbard at beta = 0 against g/U, beside the rotor chain against beta*g.

    python analysis/kappa_bose_hubbard.py runs/transport_kappa.yaml [--only quantum|classical]

Reads the YAML with ``yaml.safe_load`` (the run file describes it; unknown keys are errors),
computes the current autocorrelations (:func:`tnmbl.evolution.correlations.current_autocorrelation`
for the quantum chain, :func:`tnmbl.evolve_classical` ensembles for the rotor chain), feeds
both to the same :mod:`tnmbl.transport.green_kubo` functions, writes the numbers (JSON) and a
two-panel figure: left kappa(g/U) and the running integrals, right kappa(beta g).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import yaml

QUANTUM_KEYS = {"model", "g_over_U", "current", "t_max_g", "window_g", "dt", "dt_g", "output_dt_g", "trotter",
                "chi_max", "chi_check", "svd_cutoff", "tail"}
CLASSICAL_KEYS = {"model", "beta_g", "M", "dt", "t_final", "output_dt", "window", "seed"}


def load(path):
    cfg = yaml.safe_load(Path(path).read_text())
    problems = []
    for section, keys in (("quantum", QUANTUM_KEYS), ("classical", CLASSICAL_KEYS), ("output", {"figure", "results"})):
        got = set(cfg.get(section, {}))
        problems += [f"{section}.{k}: unknown key (known: {', '.join(sorted(keys))})" for k in got - keys]
        problems += [f"{section}.{k}: missing" for k in keys - got]
    problems += [f"{k}: unknown section" for k in set(cfg) - {"quantum", "classical", "output"}]
    if problems:
        sys.exit("config problems:\n  " + "\n  ".join(problems))
    return cfg


def snap(x, step):
    return round(x / step) * step


def quantum(q):
    from tnmbl.evolution.correlations import current_autocorrelation
    from tnmbl.models.quantum import bose_hubbard
    from tnmbl.transport import green_kubo

    out = []
    for ratio in q["g_over_U"]:
        U = q["model"]["U"]
        g = ratio * U
        dt = min(q["dt"], q["dt_g"] / g)
        out_dt = snap(q["output_dt_g"] / g, dt) or dt
        t_max = snap(q["t_max_g"] / g, out_dt)
        window = (snap(q["window_g"][0] / g, out_dt), t_max)
        chain = bose_hubbard(q["model"]["L"], U=U, g=g, n_max=q["model"]["n_max"])
        t0 = time.process_time()
        runs = {chi: current_autocorrelation(chain, q["current"], total=False, t_max=t_max, dt=dt,
                                             output_dt=out_dt, trotter=q["trotter"], chi_max=chi,
                                             svd_cutoff=q["svd_cutoff"])
                for chi in (q["chi_check"], q["chi_max"])}
        c = runs[q["chi_max"]]
        # truncation error of C: the change from chi_check to chi_max (convergence in chi)
        dC = np.abs(c.values - runs[q["chi_check"]].values)
        k = green_kubo(c.times, c.values, window=window, C_error=dC, tail=q["tail"])
        row = {"g_over_U": ratio, "g": g, "kappa": k.kappa, "error": k.error, "errors": k.errors,
               "window": list(window), "times": c.times.tolist(), "C": c.values.real.tolist(),
               "C_error": dC.tolist(), "C_error_estimate_bound": c.error_estimate.tolist(),
               "running": k.running.tolist(),
               "truncation_error": c.truncation_error.tolist(), "chi": c.chi.tolist(), "dt": dt,
               "cpu_s": time.process_time() - t0}
        print(f"quantum g/U={ratio:g}: kappa = {k.kappa:.4g} +- {k.error:.2g} {k.errors} "
              f"(chi {c.chi.max()}, discarded {c.truncation_error[-1]:.2g}, {row['cpu_s']:.0f} CPU s)", flush=True)
        out.append(row)
    return out


def classical(c):
    from tnmbl import evolve_classical
    from tnmbl.models.classical import rotor
    from tnmbl.states.classical import gibbs
    from tnmbl.transport import green_kubo_ensemble

    out = []
    g = c["model"]["g"]
    chain = rotor(c["model"]["L"], g=g)
    for bg in c["beta_g"]:
        beta = bg / g
        state = gibbs(chain, c["M"], beta=beta, seed=c["seed"])
        t0 = time.process_time()
        res = evolve_classical(chain, state, dt=c["dt"], t_final=c["t_final"], output_dt=c["output_dt"],
                               observables=("current_correlation",))
        J = res.engine.samples["total_current"]
        k, C, C_err = green_kubo_ensemble(res.times, J, chain.L, window=tuple(c["window"]))
        row = {"beta_g": bg, "beta": beta, "kappa": k.kappa, "error": k.error, "errors": k.errors,
               "times": res.times.tolist(), "C": C.tolist(), "C_error": C_err.tolist(),
               "running": k.running.tolist(), "cpu_s": time.process_time() - t0}
        print(f"classical beta g={bg:g}: kappa = {k.kappa:.4g} +- {k.error:.2g} {k.errors} "
              f"({row['cpu_s']:.0f} CPU s)", flush=True)
        out.append(row)
    return out


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
        # plateau reached: the running integral moves by < 5 % over the window
        ok = np.array([r["errors"]["window"] < 0.05 * r["kappa"] for r in q])
        ax[1].plot(x, kap, "-", color="C0", lw=0.8)
        ax[1].errorbar(x[ok], kap[ok], yerr=err[ok], fmt="o", color="C0", capsize=3, label="plateau reached")
        if (~ok).any():
            ax[1].errorbar(x[~ok], kap[~ok], yerr=err[~ok], fmt="o", mfc="none", color="C0", capsize=3,
                           label="no plateau: lower bound")
        ax[1].legend(fontsize=7)
        ax[1].set_xscale("log")
        ax[1].set_yscale("log")
        ax[1].set_xticks(x, [f"{v:g}" for v in x])
        ax[1].minorticks_off()
        ax[1].set_xlabel("g / U")
        ax[1].set_ylabel(r"$\kappa$ at $\beta = 0$")
        ax[1].set_title(f"Bose-Hubbard L={len(q) and results['config']['quantum']['model']['L']}, "
                        f"n_max={results['config']['quantum']['model']['n_max']}", fontsize=9)
    c = results.get("classical", [])
    if c:
        gg = results["config"]["classical"]["model"]["g"]
        red = [r["beta"] ** 2 / np.sqrt(gg) for r in c]  # reduced kappa-bar = g^-1/2 beta^2 kappa (paper, sec. 2)
        ax[2].errorbar([r["beta_g"] for r in c], [f * r["kappa"] for f, r in zip(red, c)],
                       yerr=[f * r["error"] for f, r in zip(red, c)], fmt="s-", color="C3", capsize=3)
        ax[2].set_xscale("log")
        ax[2].set_yscale("log")
        ax[2].set_xticks([r["beta_g"] for r in c], [f"{r['beta_g']:g}" for r in c])
        ax[2].minorticks_off()
        ax[2].set_xlabel(r"$\beta g$")
        ax[2].set_ylabel(r"$\bar\kappa = g^{-1/2}\beta^2\kappa$")
        ax[2].set_title(f"rotor chain L={results['config']['classical']['model']['L']}, "
                        f"M={results['config']['classical']['M']}", fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--only", choices=["quantum", "classical"])
    ap.add_argument("--plot-only", action="store_true", help="redraw the figure from the results file")
    a = ap.parse_args()
    cfg = load(a.config)
    res_path = Path(cfg["output"]["results"])
    if a.plot_only:
        results = json.loads(res_path.read_text())
    else:
        results = json.loads(res_path.read_text()) if res_path.exists() else {}
        results["config"] = cfg
        if a.only in (None, "classical"):
            results["classical"] = classical(cfg["classical"])
        if a.only in (None, "quantum"):
            results["quantum"] = quantum(cfg["quantum"])
        res_path.parent.mkdir(parents=True, exist_ok=True)
        res_path.write_text(json.dumps(results))
    figure(results, cfg["output"]["figure"])


if __name__ == "__main__":
    main()
