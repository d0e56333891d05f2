"""Helpers shared by the test suite (``tests/`` is on ``sys.path``: pytest puts the directory of the
rootdir ``conftest.py`` there, so every test imports this module as ``helpers``).

* models: the two sets of small quantum chains with initial states (``small_models``: couplings of
  order one; ``weak_models``: near the atomic limit, with a next-nearest-neighbour chain), served
  as fixtures by ``conftest.py`` and importable for parametrization;
* engine runs against exact evolution (``options``, ``exact_densities``, ``run_engine``);
* run configs (``small_config``, ``write_config``, ``StopAfter``);
* sweeps (``sweep_raw``, ``write_yaml``, ``assert_same_summary``, ``completions``);
* the analysis scripts (``load_script``: a script of analysis/ as a module; ``small_copy``: a
  small version of a runs/ config);
* the nightly convergence report (``Report``, ``fit_slope``, ``write_report``): run
  ``python -m pytest -m nightly tests/nightly`` (26 studies, 2.5 minutes on 2 shared cores); the
  report goes to ``$TNMBL_NIGHTLY_DIR`` (default ``out/nightly/`` in the repository): ``report.md``
  (one table row per model / method / study, with the fitted slope, the expectation and
  pass / FAIL) and one PNG per study (``dt.png``, ``chi.png``, ``classical.png``).
"""

import importlib.util
import json
import os
import time
from pathlib import Path

import numpy as np
import yaml

import tnmbl
from tnmbl.chain import charge_densities
from tnmbl.engines import METHODS, EngineOptions, ExactEngine
from tnmbl.states import classical as cs

# ---------------------------------------------------------------------------------------------
# models

def small_models():
    """One small chain per quantum model with an initial state, keyed by model name.

    Couplings of order one: every observable moves by more than 1e-2 by t = 2, so comparisons
    with exact evolution are not vacuous (the ``small_models`` fixture of conftest.py).
    """
    bh = tnmbl.models.bose_hubbard(L=8, U=1.0, g=0.3, n_max=3, W=0.5, seed=1)
    xxz = tnmbl.models.xxz(L=10, g=1.0, J=0.4, W=2.0, seed=2)
    bath = tnmbl.models.xxz_with_bath(L=8, g=1.0, J=0.3, W=3.0, bath=(0, 3), bath_hx=0.6, seed=3)
    return {
        "bose_hubbard": (bh, tnmbl.states.product(bh, occupations=[2, 2, 0, 0, 1, 0, 2, 1])),
        "xxz": (xxz, tnmbl.states.neel(xxz)),
        "xxz_with_bath": (bath, tnmbl.states.domain_wall(bath)),
    }


T_FINAL = 2.0


def weak_models():
    """One chain per quantum model near the atomic limit (L = 8), with an initial state.

    ``xxz_nnn`` is the bath model with a next-nearest-neighbour sz sz coupling inside the
    bath (range 2): only TDVP and exact evolution take it.
    """
    bh = tnmbl.models.bose_hubbard(L=8, U=1.0, g=0.1, n_max=3, W=0.5, seed=1)
    xxz = tnmbl.models.xxz(L=8, g=0.3, J=0.1, W=1.0, seed=2)
    bath = tnmbl.models.xxz_with_bath(L=8, g=0.3, J=0.1, W=1.0, bath=(0, 3), bath_hx=0.2, seed=3)
    nnn = tnmbl.models.xxz_with_bath(L=8, g=0.3, J=0.1, W=1.0, bath=(0, 5), bath_hx=0.0, bath_W=0.2,
                                     bath_J2=0.2, seed=4)
    return {
        "bose_hubbard": (bh, tnmbl.states.product(bh, occupations=[2, 2, 0, 0, 1, 0, 2, 1])),
        "xxz": (xxz, tnmbl.states.neel(xxz)),
        "xxz_with_bath": (bath, tnmbl.states.domain_wall(bath)),
        "xxz_nnn": (nnn, tnmbl.states.neel(nnn)),
    }


WEAK_MODELS = weak_models()
_EXACT = {}


def options(method, dt, chain, chi_max=256, svd_cutoff=1e-12, **kw):
    return EngineOptions(method=method, dt=dt, chi_max=chi_max, svd_cutoff=svd_cutoff,
                         conserve=chain.conserves_charge, **kw)


def exact_densities(name, t=T_FINAL):
    """<n_x> or <sigma^z_x> at time ``t`` from exact evolution (cached)."""
    if (name, t) not in _EXACT:
        chain, state = WEAK_MODELS[name]
        eng = ExactEngine(chain, state, options("exact", t, chain))
        eng.advance(1)
        _EXACT[name, t] = eng.expect("density", charge_densities(chain))
    return _EXACT[name, t]


def run_engine(name, method, backend, dt, t=T_FINAL, **kw):
    """(engine, densities) after evolving model ``name`` to ``t``."""
    chain, state = WEAK_MODELS[name]
    eng = METHODS[method][backend](chain, state, options(method, dt, chain, **kw))
    eng.advance(int(round(t / dt)))
    return eng, eng.expect("density", charge_densities(chain))


def classical_sample(chain, M=5, seed=0):
    """A Gibbs batch of ``M`` classical chains: beta = 1 for rotors, density 1 for DNLS."""
    if chain.site.name == "rotor":
        return cs.gibbs(chain, M, beta=1.0, seed=seed)
    return cs.gibbs(chain, M, density=1.0, seed=seed)


# ---------------------------------------------------------------------------------------------
# run configs

def small_config(tmp_path, method="tebd2", name="small", t_final=0.6, **output):
    """A valid config dict: Bose-Hubbard L=6 bubble, results under ``tmp_path``."""
    return {
        "description": "test run",
        "seed": 5,
        "model": {"name": "bose_hubbard", "L": 6, "U": 1.0, "g": 0.3, "n_max": 2, "W": 0.4},
        "state": {"kind": "bubble", "region": [2, 4], "background": 2, "inside": 0},
        "evolution": {"method": method, "dt": 0.05, "t_final": t_final, "chi_max": 16},
        "observables": {"names": ["density", "energy_density", "energy_current"], "output_dt": 0.1},
        "output": {"path": str(tmp_path / f"{name}.h5"), "figure": False, **output},
    }


def write_config(tmp_path, raw, name="cfg"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


class StopAfter:
    """A progress hook that interrupts the run (like Ctrl-C) after ``n`` rows."""

    def __init__(self, n):
        self.n = n

    def start(self, **kw):
        pass

    def row(self, row, *, n_rows, total_rows):
        if n_rows >= self.n:
            raise KeyboardInterrupt

    def note(self, text):
        pass

    def finish(self):
        pass


# ---------------------------------------------------------------------------------------------
# sweeps

def sweep_raw(out_dir, members=3, **evolution):
    """A valid sweep dict: 2 swept parameters (model.W, model.J) x ``members`` seeds."""
    return {
        "description": "sweep test",
        "model": {"name": "xxz", "L": 6, "g": 1.0, "J": 0.3, "W": 1.0},
        "state": {"kind": "neel"},
        "evolution": {"method": "tebd2", "dt": 0.1, "t_final": 0.6, "chi_max": 8, **evolution},
        "observables": {"names": ["density", "energy_density"], "output_dt": 0.2},
        "output": {"checkpoint_every_outputs": 1},
        "ensemble": {"members": members, "root_seed": 2026},
        "sweep": {"grid": {"model.W": [0.5, 3.0], "model.J": [0.2, 0.4]}},
        "execution": {"output_dir": str(out_dir)},
        "aggregate": {"n_boot": 200},
    }


def write_yaml(path, raw):
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def assert_same_summary(a, b, atol=1e-12):
    """Two read_summary() dicts hold the same points, times and statistics."""
    assert len(a["points"]) == len(b["points"])
    for pa, pb in zip(a["points"], b["points"]):
        assert pa["params"] == pb["params"]
        assert pa["seeds"] == pb["seeds"]
        np.testing.assert_allclose(pa["time"], pb["time"], rtol=0, atol=1e-12)
        assert set(pa["observables"]) == set(pb["observables"])
        for name, oa in pa["observables"].items():
            for stat in ("mean", "sem", "lo", "hi"):
                np.testing.assert_allclose(oa[stat], pb["observables"][name][stat], rtol=0, atol=atol,
                                           err_msg=f"{pa['params']} {name} {stat}")


def completions(out_dir):
    """{member id: number of completions} from the sweep's completions.log."""
    log = out_dir / "completions.log"
    counts = {}
    if log.exists():
        for line in log.read_text().splitlines():
            mid = line.split()[0]
            counts[mid] = counts.get(mid, 0) + 1
    return counts


# ---------------------------------------------------------------------------------------------
# the nightly convergence report

RECORDS = []
OUT = Path(os.environ.get("TNMBL_NIGHTLY_DIR", Path(__file__).resolve().parents[1] / "out" / "nightly"))


class Report:
    """``add(study, case, xs, errors, slope=, expected=, passed=, note=)`` records one study."""

    def add(self, study, case, xs, errors, *, x_label, passed, slope=None, expected="", note=""):
        RECORDS.append({"study": study, "case": case, "xs": [float(x) for x in xs],
                        "errors": [float(e) for e in errors], "x_label": x_label, "slope": slope,
                        "expected": expected, "passed": bool(passed), "note": note})


def fit_slope(xs, errors):
    """Slope of log(error) against log(x) (least squares)."""
    return float(np.polyfit(np.log(xs), np.log(errors), 1)[0])


def _plots():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    for study in dict.fromkeys(r["study"] for r in RECORDS):
        recs = [r for r in RECORDS if r["study"] == study and len(r["xs"]) > 1]
        if not recs:
            continue
        fig, ax = plt.subplots(figsize=(8.4, 4.6))
        colors = plt.get_cmap("tab20").colors
        for i, r in enumerate(recs):
            ax.loglog(r["xs"], np.maximum(r["errors"], 1e-300), marker="os^Dv<>"[i % 7], ls=["-", "--", ":"][i % 3],
                      color=colors[i % len(colors)], label=r["case"])
        ax.set_xlabel(recs[0]["x_label"])
        ax.set_ylabel("max |error| of the observables")
        ax.set_title(study)
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
        ax.grid(True, which="both", alpha=0.3)
        name = study.split()[0].lower().replace("/", "_") + ".png"
        fig.tight_layout()
        fig.savefig(OUT / name, dpi=110)
        plt.close(fig)
        files.append(name)
    return files


def write_report():
    """Write report.md, report.json and the plots, if any study was recorded."""
    if not RECORDS:
        return
    from tnmbl import versions
    from tnmbl.runs.storage import git_commit

    OUT.mkdir(parents=True, exist_ok=True)
    plots = _plots()
    lines = [f"# tnmbl nightly convergence report ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             f"git {git_commit()}; " + ", ".join(f"{k} {v}" for k, v in versions().items() if v), "",
             "| study | case | x | max abs error | slope | expected | result |", "|---|---|---|---|---|---|---|"]
    for r in RECORDS:
        xs = ", ".join(f"{x:g}" for x in r["xs"])
        errs = ", ".join(f"{e:.2e}" for e in r["errors"])
        slope = f"{r['slope']:.2f}" if r["slope"] is not None else "-"
        lines.append(f"| {r['study']} | {r['case']} | {r['x_label']} = {xs} | {errs} | {slope} | {r['expected']} | "
                     f"{'pass' if r['passed'] else '**FAIL**'}{' (' + r['note'] + ')' if r['note'] else ''} |")
    lines += [""] + [f"![{p}]({p})" for p in plots]
    (OUT / "report.md").write_text("\n".join(lines) + "\n")
    (OUT / "report.json").write_text(json.dumps(RECORDS, indent=1))
    print(f"\nnightly report: {OUT / 'report.md'}")


# ---------------------------------------------------------------- analysis scripts

REPO = Path(__file__).resolve().parents[1]


def load_script(name):
    """``analysis/<name>.py`` as a module (the scripts are not a package)."""
    path = REPO / "analysis" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"analysis_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def small_copy(src, dest_dir, changes, name=None):
    """``src`` (a YAML under runs/) with ``changes`` ({dotted key: value}; ``None`` deletes) and its
    output folder (or path) in ``dest_dir``, written to ``dest_dir/<name>``; returns the path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((REPO / src).read_text())
    for key, value in changes.items():
        *head, last = key.split(".")
        d = raw
        for k in head:
            d = d.setdefault(k, {})
        if value is None:
            d.pop(last, None)
        else:
            d[last] = value
    if "execution" in raw:
        raw["execution"]["output_dir"] = str(dest_dir / "sweep")
    else:
        raw.setdefault("output", {})["path"] = str(dest_dir / "run.h5")
    out = dest_dir / (name or Path(src).name)
    out.write_text(yaml.safe_dump(raw, sort_keys=False))
    return out


#: sweeps under runs/sweeps whose dry run takes ~30 s or more (validation builds every member's
#: evolution: 60 operator engines at L = 64, n_max = 3, ~0.5 s each): validated under `-m slow` only
HEAVY_SWEEPS = {"daoe_bose_hubbard"}
