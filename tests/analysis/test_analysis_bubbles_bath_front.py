"""analysis/bubbles_bath_front.py: the thermalization distance of a profile with a known answer,
and the script end to end on small versions of its two sweeps (the check sweep's member has the
fields of the main sweep's member 0, as its header says)."""

import numpy as np
import pytest
from helpers import load_script, small_copy

from tnmbl.runs.sweep import load_sweep, run_sweep

front = load_script("bubbles_bath_front")


def test_distance_of_a_profile_relaxed_on_two_sites_next_to_the_bath():
    times = np.arange(0, 10.0)
    neel = np.array([1.0, -1.0] * 5)
    sz = np.tile(neel, (len(times), 1))
    sz[3:, :6] = 0.0  # from t = 3 the bath [0, 4) and the next two sites are at their thermal value 0
    t, dist, profile = front.front_of(times, sz, (0, 4), level=0.5, window=2)
    assert dist[-1] == 2 and dist[0] == 0
    np.testing.assert_allclose(profile[4:], [1, 1, 0, 0, 0, 0])


def test_script_reads_small_sweeps(tmp_path):
    small = {"model.L": 6, "model.bath": [0, 2], "evolution.t_final": 1.0, "observables.output_dt": 0.25}
    main = small_copy("runs/sweeps/bubbles_bath_front.yaml", tmp_path / "main", dict(
        small, **{"ensemble.members": 2, "sweep.grid": {"model.W": [4.0], "model.bath_link": [1.0, 0.0]}}),
        name="front.yaml")
    check = small_copy("runs/sweeps/bubbles_bath_front_check.yaml", tmp_path / "check", small, name="check.yaml")
    plans = [load_sweep(p, workers=0) for p in (main, check)]
    assert plans[0].members[0].seed == plans[1].members[0].seed  # the check runs member 0's fields
    for plan in plans:
        assert not run_sweep(plan)["failed"]
    res, errors = front.main([str(main), str(check), "--png", str(tmp_path / "f.png"), "--window", "2"])
    assert (tmp_path / "f.png").exists() and [r["W"] for r in res] == [4.0] and res[0]["n"] == 2
    assert res[0]["profile_control"].shape == res[0]["profile"].shape == (2, 6)
    assert np.all(res[0]["profile"][:, :2] != res[0]["profile_control"][:, :2])  # the bath moved: coupled != cut
    assert set(errors) == {32, 64} and 0 < errors[32].max() < 1e-2  # TEBD2's Trotter error at dt = 0.05
    assert np.isfinite(res[0]["xi"]) and res[0]["xi"] == pytest.approx(front.xi_of(
        front.load_members(main)[0][(4.0, 1.0)], (0, 2), 1.0))
