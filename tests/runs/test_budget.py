"""Error budget: an under-resolved run (small chi, large dt) is flagged, a resolved one is not;
the budget is stored in the results file and read back; the summary statistics are right."""

import numpy as np
import pytest

from tnmbl.runs.budget import budget_for_info, budget_lines, error_budget, read_budget, write_budget
from tnmbl.runs.config import validate_config
from tnmbl.runs.runner import run


def xxz_run(tmp_path, name, method, chi, dt):
    cfg = validate_config({
        "seed": 3, "model": {"name": "xxz", "L": 6, "g": 1.0, "J": 0.5, "W": 1.0}, "state": {"kind": "neel"},
        "evolution": {"method": method, "dt": dt, "t_final": 1.0, "chi_max": chi},
        "observables": {"names": ["density", "energy_density"], "output_dt": 0.5},
        "output": {"path": str(tmp_path / f"{name}.h5"), "figure": False}}, name=name)
    return run(cfg).results


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("budget")
    return {"under": xxz_run(tmp, "under", "tebd2", 2, 0.5), "resolved": xxz_run(tmp, "resolved", "tebd4", 16, 0.05)}


def test_under_resolved_run_is_flagged(runs):
    b = error_budget(runs["under"], chi_check=True, dt_check=True)
    text = "\n".join(b["flags"])
    assert b["truncation"]["discarded_weight"] > 1e-3 and b["truncation"]["chi_reached"] == 2
    assert "truncation: discarded weight" in text
    assert "max |O(chi=2) - O(chi=1)|" in text
    assert b["time_step"]["order"] == 2 and b["time_step"]["dt_effect"] > 1e-2
    assert "time step: Richardson estimate" in text
    assert "conservation: max |energy_drift|" in text


def test_resolved_run_is_not_flagged(runs):
    b = error_budget(runs["resolved"], chi_check=True, dt_check=True)
    assert b["flags"] == [], b["flags"]
    assert b["truncation"]["chi_effect"] is None      # chi stayed below chi_max: no rerun, no truncation by chi
    assert "chi never reached chi_max" in b["truncation"]["chi_effect_note"]
    assert 0 < b["time_step"]["dt_effect"] < 1e-5     # tebd4 at dt = 0.05
    assert b["conservation"]["charge_drift_per_site"] < 1e-12


def test_richardson_estimate_matches_the_true_time_step_error(runs, tmp_path):
    """dt-effect of tebd2 at dt = 0.1 vs the error against a tebd4 dt = 0.01 reference."""
    from tnmbl.runs.storage import read_results

    coarse = xxz_run(tmp_path, "coarse", "tebd2", 16, 0.1)
    ref = read_results(xxz_run(tmp_path, "ref", "tebd4", 16, 0.01))
    est = error_budget(coarse, dt_check=True)["time_step"]["dt_effect"]
    true = max(np.max(np.abs(read_results(coarse)["observables"][k] - ref["observables"][k]))
               for k in ref["observables"])
    assert 0.7 * true < est < 1.5 * true, (est, true)


def test_budget_is_stored_and_shown(runs):
    path = runs["under"]
    assert read_budget(path) is None
    cheap = budget_for_info(path)
    assert cheap["stored"] is False and cheap["time_step"]["dt_effect"] is None
    write_budget(path, error_budget(path, dt_check=True))
    stored = read_budget(path)
    assert stored["stale"] is False and stored["time_step"]["dt_effect"] > 1e-2
    lines = budget_lines(budget_for_info(path))
    assert lines[0].startswith("budget:     (stored")
    assert any(line.startswith("  FLAG time step") for line in lines)
    from tnmbl.runs.storage import read_results

    assert read_results(path)["n_rows"] == 3          # the rows are untouched


def test_summary_statistics(clean_sweep):
    """mean / sem / bootstrap interval of the summary against the member files."""
    from tnmbl.runs.storage import read_results

    plan, summary = clean_sweep
    point = summary["points"][3]
    x = np.stack([read_results(m.path)["observables"]["density"] for m in plan.members if m.point == 3])
    s = point["observables"]["density"]
    np.testing.assert_allclose(s["mean"], x.mean(0), rtol=0, atol=1e-14)
    np.testing.assert_allclose(s["sem"], x.std(0, ddof=1) / np.sqrt(3), rtol=0, atol=1e-14)
    assert np.all(s["lo"] <= s["mean"] + 1e-14) and np.all(s["mean"] <= s["hi"] + 1e-14)
    assert np.all(s["lo"] >= x.min(0) - 1e-14) and np.all(s["hi"] <= x.max(0) + 1e-14)
    assert np.any(s["hi"] - s["lo"] > 1e-6)             # disorder realizations differ
    assert point["params"] == {"model.W": 3.0, "model.J": 0.4}
    assert summary["attrs"]["members_per_point"] == 3


def test_companion_files_equal_the_in_memory_checks(runs, tmp_path):
    """chi_from / dt_from read from finished runs give the rows the in-memory reruns give."""
    under = runs["under"]
    lo = xxz_run(tmp_path, "chi1", "tebd2", 1, 0.5)
    fine = xxz_run(tmp_path, "dt025", "tebd2", 2, 0.25)
    mem = error_budget(under, chi_check=True, dt_check=True)
    comp = error_budget(under, chi_from=lo, dt_from=fine)
    assert comp["truncation"]["chi_effect"] == pytest.approx(mem["truncation"]["chi_effect"], rel=1e-12, abs=1e-14)
    assert comp["time_step"]["dt_effect"] == pytest.approx(mem["time_step"]["dt_effect"], rel=1e-12, abs=1e-14)
    assert comp["truncation"]["chi_compared"] == 1 and comp["truncation"]["t_compared"] == pytest.approx(1.0)
    assert comp["time_step"]["dt_compared"] == 0.25
    assert [f.split(":")[0] for f in comp["flags"]] == [f.split(":")[0] for f in mem["flags"]]
    assert "(dt 0.5 vs 0.25, order 2)" in "\n".join(comp["flags"])
    line = budget_lines(comp)[1]
    assert "chi = 1" in line and "chi1.h5" in line


def test_dt_row_from_a_cheaper_chi_pair(runs, tmp_path):
    """dt_base at another chi_max: the row is the pair's Richardson estimate, labelled with its chi."""
    base = xxz_run(tmp_path, "base16", "tebd2", 16, 0.5)
    fine = xxz_run(tmp_path, "fine16", "tebd2", 16, 0.25)
    b = error_budget(runs["under"], dt_from=fine, dt_base=base)
    from tnmbl.runs.storage import read_results

    x, y = read_results(base)["observables"], read_results(fine)["observables"]
    expect = max(np.max(np.abs(x[k] - y[k])) for k in x) * 4 / 3
    assert b["time_step"]["dt_effect"] == pytest.approx(expect, rel=1e-12)
    assert b["time_step"]["chi_max_compared"] == 16


def test_companion_with_another_difference_is_refused(runs, tmp_path):
    from tnmbl.errors import ConfigError

    other = xxz_run(tmp_path, "tebd4", "tebd4", 1, 0.5)        # chi and method differ
    with pytest.raises(ConfigError) as err:
        error_budget(runs["under"], chi_from=other)
    assert err.value.key == "chi_from" and "evolution.method" in str(err.value)
    bigger = xxz_run(tmp_path, "chi4", "tebd2", 4, 0.5)
    with pytest.raises(ConfigError, match="is not below"):
        error_budget(runs["under"], chi_from=bigger)
    with pytest.raises(ConfigError, match="is not below"):          # dt 0.5 is not below dt 0.25
        error_budget(xxz_run(tmp_path, "dt025", "tebd2", 2, 0.25), dt_from=runs["under"])
