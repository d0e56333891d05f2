"""The `tnmbl` command: `sweep` and `budget` subcommands, and `info` showing the error budget."""

from helpers import sweep_raw, write_yaml

from tnmbl.runs.budget import read_budget
from tnmbl.runs.cli import info_dict, main
from tnmbl.runs.config import validate_config
from tnmbl.runs.runner import run


def test_tnmbl_sweep_dry_run(tmp_path, capsys):
    assert main(["sweep", str(write_yaml(tmp_path / "s.yaml", sweep_raw(tmp_path / "o"))), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "4 point(s) x 3 member(s) = 12 runs, valid" in out and "p003_m002" in out


def test_info_shows_the_budget_and_budget_stores_it(tmp_path, capsys):
    cfg = validate_config({
        "seed": 3, "model": {"name": "xxz", "L": 6, "g": 1.0, "J": 0.5, "W": 1.0}, "state": {"kind": "neel"},
        "evolution": {"method": "tebd2", "dt": 0.25, "t_final": 0.5, "chi_max": 2},
        "observables": {"names": ["density"], "output_dt": 0.25},
        "output": {"path": str(tmp_path / "r.h5"), "figure": False}}, name="r")
    path = run(cfg).results
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "budget:     (computed now, not stored)" in out and "FLAG truncation: discarded weight" in out
    assert info_dict(path)["budget"]["truncation"]["chi_reached"] == 2
    assert main(["budget", str(path), "--dt-check"]) == 0
    assert "FLAG time step: Richardson estimate" in capsys.readouterr().out
    assert read_budget(path)["time_step"]["dt_effect"] > 1e-3
    assert main(["info", str(path)]) == 0
    assert "budget:     (stored)" in capsys.readouterr().out
