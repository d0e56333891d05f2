"""Expansion of ensemble / sweep sections: member configs, seeds, every problem at once."""

import copy

import numpy as np
import pytest
from helpers import sweep_raw

from tnmbl.errors import ConfigError
from tnmbl.runs.sweep import member_seeds, plan_sweep


def test_grid_times_members_with_reproducible_seeds(tmp_path):
    plan = plan_sweep(sweep_raw(tmp_path / "o"), name="t")
    assert len(plan.points) == 4 and len(plan.members) == 12
    assert [p for p in plan.points] == [{"model.W": w, "model.J": j} for w in (0.5, 3.0) for j in (0.2, 0.4)]
    seeds = member_seeds(2026, 3)
    assert len(set(seeds)) == 3 and all(0 <= s < 2 ** 63 for s in seeds)
    assert member_seeds(2026, 3) == seeds and member_seeds(2027, 3) != seeds
    for m in plan.members:
        assert m.seed == seeds[m.index]
        assert m.config["seed"] == seeds[m.index]
        assert m.config["model"]["seed"] == seeds[m.index]        # the disorder follows the member seed
        assert m.config["model"]["W"] == plan.points[m.point]["model.W"]
        assert m.config["output"]["path"].endswith(f"members/{m.id}.h5")
        assert m.config["output"]["figure"] is False
    again = plan_sweep(sweep_raw(tmp_path / "o"), name="t")
    assert [m.config for m in again.members] == [m.config for m in plan.members]


def test_points_list_and_seed_key(tmp_path):
    raw = sweep_raw(tmp_path / "o", members=2)
    raw["sweep"] = {"points": [{"model.W": 1.0}, {"model.W": 2.0, "evolution.chi_max": 4}]}
    raw["ensemble"]["seed_key"] = "model.seed"
    raw["seed"] = 9
    plan = plan_sweep(raw)
    assert len(plan.members) == 4
    assert plan.members[2].config["evolution"]["chi_max"] == 4 and plan.members[0].config["evolution"]["chi_max"] == 8
    assert all(m.config["seed"] == 9 for m in plan.members)
    assert [m.config["model"]["seed"] for m in plan.members[:2]] == member_seeds(2026, 2)


def test_every_problem_of_every_member_at_once(tmp_path):
    raw = sweep_raw(tmp_path / "o")
    raw["sweep"] = {"grid": {"model.W": [1.0, "strong"], "evolution.dt": [0.1, 0.07]}}
    raw["ensemble"]["membrs"] = 2
    raw["execution"]["workers"] = -1
    with pytest.raises(ConfigError) as err:
        plan_sweep(raw)
    text = "\n".join(err.value.problems)
    assert "ensemble.membrs: unknown key; did you mean 'members'?" in text
    assert "execution.workers = -1" in text
    # the bad value fails in every member of its points, and the bad dt in its points; nothing ran
    assert "member p002_m000 (model.W='strong', evolution.dt=0.1): model.W = 'strong'" in text
    assert "member p001_m002 (model.W=1.0, evolution.dt=0.07): evolution.t_final = 0.6: evolution.t_final / " \
        "evolution.dt = 0.6 / 0.07 = 8.57143 must be an integer" in text
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("bad,message", [
    ({"grid": {"output.path": ["a.h5"]}}, "cannot be swept"),
    ({"grid": {"model.W": []}}, "non-empty list"),
    ({"grid": {"model.W": [1.0]}, "points": [{}]}, "exactly one of"),
    ({"points": [{"seed": 3}]}, "the ensemble's seed key"),
])
def test_bad_sweep_sections(tmp_path, bad, message):
    raw = sweep_raw(tmp_path / "o")
    raw["sweep"] = bad
    with pytest.raises(ConfigError, match=message):
        plan_sweep(raw)


def test_root_seed_is_required(tmp_path):
    raw = sweep_raw(tmp_path / "o")
    del raw["ensemble"]["root_seed"]
    with pytest.raises(ConfigError, match="root_seed: required"):
        plan_sweep(raw)
    raw["seed"] = 2026                            # the top-level seed serves as the root
    assert plan_sweep(raw).root_seed == 2026


def test_member_configs_unchanged_by_the_planner(tmp_path):
    raw = sweep_raw(tmp_path / "o")
    keep = copy.deepcopy(raw)
    plan_sweep(raw)
    assert raw == keep
    assert np.isfinite(plan_sweep(raw).confidence)


def test_example_sweeps_validate():
    from pathlib import Path

    from helpers import HEAVY_SWEEPS

    from tnmbl.runs.sweep import load_sweep

    examples = sorted((Path(__file__).resolve().parents[2] / "runs" / "sweeps").glob("*.yaml"))
    assert examples
    for path in (p for p in examples if p.stem not in HEAVY_SWEEPS):  # the heavy ones: -m slow
        plan = load_sweep(path)
        assert len(plan.members) == len(plan.points) * plan.n_members > 1


def test_cli_lists_every_problem_and_exits_2(tmp_path, capsys):
    from helpers import write_yaml

    from tnmbl.runs.sweep import main

    raw = sweep_raw(tmp_path / "o")
    raw["sweep"] = {"grid": {"model.WW": [1.0, 2.0]}}
    raw["aggregate"]["confidence"] = 95
    assert main([str(write_yaml(tmp_path / "bad.yaml", raw)), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "aggregate.confidence = 95: must be a number in (0, 1)" in err
    assert "member p001_m002 (model.WW=2.0): model.WW: unknown parameter of model 'xxz'; did you mean 'W'?" in err
    assert main([str(write_yaml(tmp_path / "good.yaml", sweep_raw(tmp_path / "o"))), "--dry-run"]) == 0
    assert "4 point(s) x 3 member(s) = 12 runs, valid" in capsys.readouterr().out


@pytest.mark.parametrize("workers", [0, 2])
def test_map_tasks_reports_each_failure_and_goes_on(workers):
    import math

    from tnmbl.runs.sweep import map_tasks

    got = {i: (res, exc) for i, res, exc in map_tasks(math.sqrt, [4.0, -1.0, 9.0], workers=workers)}
    assert got[0] == (2.0, None) and got[2] == (3.0, None)
    assert got[1][0] is None and isinstance(got[1][1], ValueError)


def test_sweep_sections_are_strict_models_with_keyed_problems(tmp_path):
    raw = sweep_raw(tmp_path / "o")
    raw["ensemble"] = {"members": True, "root_seed": 1.5}
    raw["aggregate"] = {"n_boot": 5, "confidence": 0.9}
    raw["budget"] = {"chi_check": "yes"}
    raw["execution"] = "here"
    with pytest.raises(ConfigError) as err:
        plan_sweep(raw)
    probs = {p.key: p for p in err.value.problems}
    assert set(probs) == {"ensemble.members", "ensemble.root_seed", "aggregate.n_boot", "budget.chi_check",
                          "execution"}
    assert probs["aggregate.n_boot"].value == 5 and "[10, 100000]" in probs["aggregate.n_boot"].rule
    assert probs["execution"].value == "here"


def test_without_an_ensemble_each_member_reports_its_configs_seed(tmp_path):
    """A sweep without an ensemble sets no member seed: the seed listed (and written to the
    summary) is the member config's, the top-level one or a point's own."""
    raw = sweep_raw(tmp_path)
    del raw["ensemble"]
    raw["seed"] = 5
    raw["sweep"] = {"points": [{"model.W": 0.5}, {"model.W": 3.0, "seed": 9}]}
    plan = plan_sweep(raw)
    assert [m.seed for m in plan.members] == [m.config["seed"] for m in plan.members] == [5, 9]


def test_local_sweep_workers_share_the_cores(monkeypatch):
    # each of N worker processes gets cores // N TEBD threads ($TNMBL_THREADS, read by default_threads)
    import os

    from tnmbl.engines import tenpy_parallel as tp
    from tnmbl.runs.sweep import map_tasks

    monkeypatch.delenv(tp.THREADS_ENV, raising=False)
    monkeypatch.setattr(tp.os, "sched_getaffinity", lambda pid: set(range(5)), raising=False)
    got = [res for _, res, _ in map_tasks(os.getenv, [tp.THREADS_ENV] * 3, workers=2)]
    assert got == ["2"] * 3  # 5 cores // 2 workers
    assert tp.THREADS_ENV not in os.environ  # the sweep process itself is unchanged afterwards
    assert [res for _, res, _ in map_tasks(os.getenv, [tp.THREADS_ENV], workers=0)] == [None]  # here: every core


def test_edited_point_reruns_once_its_old_results_are_deleted(tmp_path):
    """A changed member config conflicts with the output folder only while that member's old
    results exist: delete them and the sweep reruns it, keeping every other member's files."""
    import copy

    from tnmbl.errors import ConfigError
    from tnmbl.runs.sweep import plan_sweep, run_sweep

    raw = sweep_raw(tmp_path / "out", members=1, t_final=0.2)
    raw["sweep"] = {"points": [{"model.W": 0.5}, {"model.W": 3.0}]}
    first = plan_sweep(raw, name="a", workers=0)
    assert set(run_sweep(first)["actions"].values()) == {"run"}
    kept = first.members[0].path
    stamp = kept.stat().st_mtime_ns
    edited = copy.deepcopy(raw)
    edited["sweep"]["points"][1]["evolution.dt"] = 0.05
    with pytest.raises(ConfigError) as err:
        run_sweep(plan_sweep(edited, name="a", workers=0))
    assert "execution.output_dir" in str(err.value) and "p001_m000" in str(err.value)
    changed = first.members[1].path
    for p in (changed, changed.with_name(changed.name + ".ckpt")):
        p.unlink(missing_ok=True)
    res = run_sweep(plan_sweep(edited, name="a", workers=0))
    assert res["actions"] == {first.members[0].id: "skipped", first.members[1].id: "run"}
    assert kept.stat().st_mtime_ns == stamp
