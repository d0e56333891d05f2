"""Every YAML under runs/ is a run config (runs/*.yaml: validates, and a shortened version runs)
or a sweep (runs/sweeps/*.yaml: passes `tnmbl sweep --dry-run`); none is private to a script, and
every analysis script named in a header exists."""

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import HEAVY_SWEEPS

from tnmbl.runs import runner
from tnmbl.runs.cli import main as tnmbl_main
from tnmbl.runs.config import load_config
from tnmbl.runs.storage import read_results

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "runs"
CONFIGS = sorted(RUNS.glob("*.yaml"))
SWEEPS = sorted((RUNS / "sweeps").glob("*.yaml"))


def test_every_yaml_under_runs_is_a_run_or_a_sweep():
    every = sorted(RUNS.rglob("*.y*ml"))
    assert every == sorted(CONFIGS + SWEEPS), "YAML outside runs/*.yaml and runs/sweeps/*.yaml"
    assert not [p for p in every if re.search(r"^# Read by", p.read_text(), flags=re.M)]


@pytest.mark.parametrize("path", CONFIGS + SWEEPS, ids=[p.stem for p in CONFIGS + SWEEPS])
def test_analysis_scripts_named_in_headers_exist(path):
    header = path.read_text().split("\n\n")[0]
    for script in re.findall(r"python (analysis/\S+\.py)", header):
        assert (ROOT / script).exists(), f"{path.name} names {script}, which is missing"


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if p.stem in HEAVY_SWEEPS else p
                                  for p in SWEEPS], ids=[p.stem for p in SWEEPS])
def test_sweep_has_a_header_and_passes_dry_run(path, capsys):
    text = path.read_text()
    assert text.startswith("#") and "tnmbl sweep" in text.split("\ndescription")[0]
    assert tnmbl_main(["sweep", str(path), "--dry-run"]) == 0, capsys.readouterr().err
    assert "valid" in capsys.readouterr().out


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
    elif cfg.correlation is not None:  # an evolved operator: DAOE lowers its norm, the charge sum rule holds
        h = res["health"]
        assert h["norm"][-1] <= 1 + 1e-12 and h["chi"].max() <= 8
        assert np.all(np.abs(h["charge_drift"]) <= 1e-10 + np.sqrt(cfg.model.params["L"]) * h["overlap_error"])
    else:
        assert abs(res["health"]["norm"][-1] - 1) < 1e-6
