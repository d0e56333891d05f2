"""Every run config in runs/ validates, and a shortened version of each runs."""

import re
from pathlib import Path

import pytest

from tnmbl.runs import runner
from tnmbl.runs.config import load_config
from tnmbl.runs.storage import read_results

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "runs"


def script_of(path):
    """The analysis script a YAML file declares itself read by ("# Read by analysis/x.py"), or None."""
    m = re.search(r"^# Read by (analysis/\S+\.py)", path.read_text(), flags=re.M)
    return m.group(1) if m else None


#: YAML files in runs/ that are configs of an analysis script, not of `tnmbl run`
SCRIPT_CONFIGS = sorted(p for p in RUNS.glob("*.yaml") if script_of(p))
CONFIGS = sorted(p for p in RUNS.glob("*.yaml") if not script_of(p))


@pytest.mark.parametrize("path", SCRIPT_CONFIGS, ids=[p.stem for p in SCRIPT_CONFIGS])
def test_script_configs_name_an_existing_script(path):
    assert (ROOT / script_of(path)).exists(), f"{path.name} says it is read by {script_of(path)}, which is missing"
MODELS = {"bose_hubbard", "xxz", "xxz_with_bath", "rotor"}  # DNLS: runs/sweeps/dnls_bubble.yaml


def test_one_example_per_model_and_the_readme_demo():
    names = {load_config(p).model.name for p in CONFIGS}
    assert MODELS <= names
    assert (RUNS / "bose_hubbard_bubble.yaml") in CONFIGS


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_example_validates_has_a_header_and_a_short_version_runs(path, tmp_path):
    text = path.read_text()
    assert text.startswith("#") and "tnmbl run" in text.split("\ndescription")[0].split("\nmodel")[0]
    cfg = load_config(path)
    dt = cfg.evolution.dt
    classical = cfg.evolution.backend == "numba"
    sets = [f"evolution.t_final={4 * dt}", f"observables.output_dt={2 * dt}", f"output.path={tmp_path / 'short.h5'}",
            "output.figure=false"]
    if classical:  # a small batch, a short preparation, output_dt instead of a log grid
        sets += ["observables.n_log=null", "state.M=4"] + (["state.t_th=1.0"] if cfg.state.kind == "langevin" else [])
    else:
        sets += ["evolution.chi_max=8"]
    short = load_config(path, sets)
    summary = runner.run(short)
    res = read_results(summary.results)
    assert res["n_rows"] == 3 and res["attrs"]["status"] == "finished"
    assert set(res["observables"]) == set(cfg.observables.names)
    if classical:  # the batch's energy and charge are kept (health: largest per-chain errors)
        assert res["health"]["energy_error"].max() < 1e-3 and res["health"]["charge_error"].max() < 1e-10
    else:
        assert abs(res["health"]["norm"][-1] - 1) < 1e-6
