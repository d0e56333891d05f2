"""analysis/daoe_xx_bessel.py end to end on a small copy of runs/sweeps/daoe_xx_bessel.yaml:
the unitary member equals the exact free-fermion form J_x(4gt)^2 and keeps the ballistic
variance 8 g^2 t^2; DAOE with l_star = 1 slows the spreading (its fake diffusion), l_star = 2 keeps
the variance (the free-fermion bilinears it leaves alone carry it)."""

import json

from helpers import load_script, small_copy

from tnmbl.runs.sweep import load_sweep, run_sweep

xx = load_script("daoe_xx_bessel")


def test_xx_bessel_study_small(tmp_path):
    path = small_copy("runs/sweeps/daoe_xx_bessel.yaml", tmp_path, {
        "model.L": 24, "evolution.t_final": 4.0, "sweep.points": [
            {"evolution.gamma": 0.0}, {"evolution.gamma": 0.2, "evolution.l_star": 2},
            {"evolution.gamma": 0.2, "evolution.l_star": 1}]})
    res = run_sweep(load_sweep(path, workers=0))
    assert not res["failed"], res["failed"]
    xx.main([str(path), "--out", str(tmp_path / "fig")])
    members = json.loads((tmp_path / "fig.json").read_text())["members"]
    unitary, keep, damp = members
    assert unitary["gamma"] == 0 and unitary["max_dev"] < 1e-6          # g t = 1: front 4 sites, far from the ends
    assert abs(unitary["variance_over_ballistic"] - 1) < 1e-5
    assert keep["max_dev"] > 1e-2 and abs(keep["variance_over_ballistic"] - 1) < 1e-5
    assert damp["variance_over_ballistic"] < 0.8
    assert (tmp_path / "fig.png").stat().st_size > 10_000
