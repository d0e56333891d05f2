"""evolution.stop_when: the rule on known series, its config checks, and a run that stops
where it should, also when extended from a checkpoint (the stored rows are replayed)."""

import json

import numpy as np
import pytest

from tnmbl.errors import ConfigError, OptionError
from tnmbl.evolution.stopping import StopWhen
from tnmbl.runs import runner
from tnmbl.runs.config import validate_config
from tnmbl.runs.storage import read_results


def test_rule_stops_at_the_first_row_after_factor_times_the_crossing():
    rule = StopWhen("phi", above=0.9, for_factor=2.0)
    times = np.arange(0, 40.0)
    values = np.where(times >= 10, 0.95, 0.5)
    stops = [rule.update(t, [v]) for t, v in zip(times, values)]
    assert stops.index(True) == 20 and rule.t_cross == 10 and rule.t_stop == 20


def test_a_dip_below_the_level_restarts_the_stretch():
    rule = StopWhen("phi", above=0.9, for_factor=2.0)
    values = {t: 0.95 for t in range(5, 40)}
    values[8] = 0.5  # the stretch from 5 restarts at 9: stop at 18, not at 10
    stop_at = next(t for t in range(40) if rule.update(float(t), values.get(t, 0.1)))
    assert stop_at == 18 and rule.t_cross == 9


def test_replay_ignores_rows_already_seen():
    rule = StopWhen("phi", above=0.9, for_factor=2.0)
    assert not rule.replay([0.0, 5.0, 6.0], [[0.1], [0.95], [0.95]])
    assert not rule.update(6.0, [0.95])  # a recomputed row: ignored
    assert rule.update(10.0, [0.95]) and rule.t_cross == 5.0


@pytest.mark.parametrize("factor", [0.5, float("inf")])
def test_rule_refuses_bad_factors(factor):
    with pytest.raises(OptionError) as e:
        StopWhen("phi", above=0.9, for_factor=factor)
    assert e.value.key == "stop_when.for_factor"


def rotor(tmp_path, t_final=200.0, **stop):
    return {"seed": 3, "model": {"name": "rotor", "L": 8, "g": 0.7},
            "state": {"kind": "gibbs", "beta": 1.0, "M": 128},
            "evolution": {"method": "leapfrog", "dt": 0.05, "t_final": t_final,
                          "stop_when": {"observable": "phi", "above": 0.7, "for_factor": 2.0, **stop}},
            "observables": {"names": ["phi", "energy_density"], "output_dt": 0.5},
            "output": {"path": str(tmp_path / "r.h5"), "figure": False, "checkpoint_every_outputs": 20}}


@pytest.mark.parametrize("key,value", [("observable", "density"), ("for_factor", 0.5), ("above", None)])
def test_config_problems_name_the_key(tmp_path, key, value):
    raw = rotor(tmp_path)
    raw["evolution"]["stop_when"][key] = value
    with pytest.raises(ConfigError) as e:
        validate_config(raw)
    assert [p.key for p in e.value.problems] == [f"evolution.stop_when.{key}"]


def test_run_stops_and_an_extended_run_stops_at_the_same_row(tmp_path):
    straight = runner.run(validate_config(rotor(tmp_path)))
    res = read_results(straight.results)
    rec = json.loads(res["attrs"]["stopped_early"])
    phi = res["observables"]["phi"][:, 0]
    t = res["time"]
    assert res["attrs"]["status"] == "finished" and t[-1] == rec["t_stop"] < 200.0
    # the rule on the stored rows: all at or above 0.9 from t_cross on, the one before below it
    i = int(np.searchsorted(t, rec["t_cross"]))
    assert np.all(phi[i:] >= 0.7) and phi[i - 1] < 0.7 and t[-2] < 2 * rec["t_cross"] <= t[-1]
    # the same run, first to a t_final past the crossing but before the stop, then extended
    part = tmp_path / "part"
    part.mkdir()
    first = runner.run(validate_config(rotor(part, t_final=float(np.ceil(1.5 * rec["t_cross"])))))
    assert "stopped_early" in read_results(first.results)["attrs"]
    assert json.loads(read_results(first.results)["attrs"]["stopped_early"])["t_stop"] is None
    runner.resume(first.results, t_final=200.0)
    ext = read_results(first.results)
    assert json.loads(ext["attrs"]["stopped_early"]) == rec
    np.testing.assert_array_equal(ext["time"], t)
    np.testing.assert_allclose(ext["observables"]["phi"], res["observables"]["phi"], rtol=0, atol=1e-12)


def test_extending_a_run_that_stopped_early_adds_no_rows(tmp_path):
    done = runner.run(validate_config(rotor(tmp_path)))
    before = read_results(done.results)
    runner.resume(done.results, t_final=300.0)
    after = read_results(done.results)
    np.testing.assert_array_equal(after["time"], before["time"])
    assert after["attrs"]["stopped_early"] == before["attrs"]["stopped_early"]
    assert after["attrs"]["status"] == "finished"
