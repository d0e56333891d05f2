"""analysis/bubbles_bh_spreading.py: width, front and bosons inside on a profile with a known
answer, and the script end to end on a small version of its sweep."""

import numpy as np
import pytest
from helpers import load_script, small_copy

from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import load_sweep, run_sweep

bh = load_script("bubbles_bh_spreading")


def test_width_front_and_bosons_inside_of_a_known_profile():
    density = np.full((2, 16), 2.0)
    density[0, 6:10] = 0.0  # t = 0: deficit 2 on 4 sites
    density[1, 4:12] = 1.0  # t = 1: deficit 1 on 8 sites, 4 bosons inside [6, 10)
    res, n_in = bh.analyse(np.array([0.0, 1.0]), density, (6, 10), threshold=0.1, front_margin=2)
    np.testing.assert_allclose(res.width, [np.sqrt(1.25), np.sqrt(63 / 12)])
    np.testing.assert_allclose(n_in, [0.0, 4.0])
    np.testing.assert_allclose(res.front, [2.45, 4.4])  # half the distance between the interpolated edges


def test_script_reads_a_small_sweep(tmp_path):
    path = small_copy("runs/sweeps/bubbles_bh_spreading.yaml", tmp_path, {
        "model.L": 8, "model.n_max": 2, "state.region": [3, 5], "evolution.chi_max": 8, "evolution.t_final": 0.4,
        "observables.output_dt": 0.2,
        "sweep.points": [{"model.g": 0.2}, {"model.g": 0.2, "evolution.chi_max": 4},
                         {"model.g": 0.2, "evolution.dt": 0.1}]})
    plan = load_sweep(path, workers=0)
    assert not run_sweep(plan)["failed"]
    report = bh.main([str(path), "--png", str(tmp_path / "f.png"), "--front-margin", "1"])
    assert (tmp_path / "f.png").exists() and len(report) == 1
    assert set(report[0]["max_width_difference"]) == {"chi=4, dt=0.05", "chi=8, dt=0.1"}
    ref = read_results(plan.members[0].path)  # the reference point's own results file
    res, n_in = bh.analyse(ref["time"], ref["observables"]["density"], (3, 5), front_margin=1)
    assert report[0]["n_in_end"] == pytest.approx(n_in[-1]) and report[0]["width_end"] == pytest.approx(res.width[-1])
    assert n_in[-1] > 0.01  # bosons did enter the bubble
