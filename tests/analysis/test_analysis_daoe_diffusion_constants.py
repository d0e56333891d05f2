"""analysis/daoe_diffusion_constants.py: on synthetic Gaussian profiles with a known D(gamma, chi) the
value is the gamma -> 0 intercept and the time row vanishes (D does not depend on t); the XXZ
convention factor; end to end on a small copy of runs/sweeps/daoe_ising_energy.yaml."""

import json

import numpy as np
from helpers import load_script, small_copy

from tnmbl.runs.sweep import load_sweep, run_sweep
from tnmbl.transport import daoe_budget

dc = load_script("daoe_diffusion_constants")


def synthetic_summary(D, gammas=(0.05, 0.1, 0.2)):
    t = np.linspace(1.0, 5.0, 9)
    x = np.arange(-40.0, 41.0)
    points = []
    for gamma in gammas:
        for chi in (32, 64):
            var = 2 * D(gamma, chi) * t[:, None]
            prof = np.exp(-x[None, :] ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)
            points.append({"params": {"evolution.gamma": gamma, "evolution.chi_max": chi}, "time": t,
                           "observables": {"energy_density": {"mean": prof, "positions": x}},
                           "health_worst": {"truncation_error": np.full(t.size, 1e-9)}})
    return {"attrs": {}, "base": {"l_star": 2}, "points": points}


def test_known_D_and_the_time_row():
    s = synthetic_summary(lambda g, chi: 1.3 + 0.8 * g + (0.02 if chi == 32 else 0.0))
    b = dc.estimate(s, "energy_density", t=4.0, plateau=2.0)
    assert abs(b["value"] - 1.3) < 1e-6
    assert b["rows"]["time"]["error"] < 1e-6 and abs(b["rows"]["chi"]["error"] - 0.02) < 1e-6
    assert abs(b["error"] - b["error_budget_only"]) < 1e-9
    cs = dc.curves(s, "energy_density")
    assert len(cs) == 6 and all(np.abs(c["D"] - (1.3 + 0.8 * c["gamma"] + (0.02 if c["chi_max"] == 32 else 0))).max()
                                < 1e-3 for c in cs)
    # a D that still grows in time shows up in the time row, not in the fit
    grow = synthetic_summary(lambda g, chi: 1.3 + 0.8 * g)
    for p in grow["points"]:
        t = p["time"][:, None]
        x = p["observables"]["energy_density"]["positions"]
        var = 2 * (1.3 + 0.8 * p["params"]["evolution.gamma"]) * t * (1 + 0.05 * t)  # D(t) rises with t
        p["observables"]["energy_density"]["mean"] = np.exp(-x ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)
    assert dc.estimate(grow, "energy_density", t=4.0, plateau=2.0)["rows"]["time"]["error"] > 0.1


def test_curved_d_of_gamma_the_parabola_and_the_form_row():
    """D(gamma) = 1.3 + 4 gamma^2 through four gammas: the parabola finds 1.3, the line misses it,
    and either way the form row is the distance between the two intercepts."""
    s = synthetic_summary(lambda g, chi: 1.3 + 4.0 * g ** 2, gammas=(0.025, 0.05, 0.1, 0.2))
    quad = dc.estimate(s, "energy_density", t=4.0, plateau=2.0, degree=2)
    line = dc.estimate(s, "energy_density", t=4.0, plateau=2.0, degree=1)
    assert abs(quad["value"] - 1.3) < 1e-5 and abs(line["value"] - 1.3) > 0.02
    assert abs(quad["rows"]["form"]["error"] - abs(quad["value"] - line["value"])) < 1e-9
    assert abs(line["rows"]["form"]["error"] - quad["rows"]["form"]["error"]) < 1e-9
    assert quad["error"] >= quad["rows"]["form"]["error"]
    assert "form" not in dc.estimate(synthetic_summary(lambda g, chi: 1.3 + g), "energy_density", t=4.0,
                                     plateau=2.0)["rows"]  # three gammas: no second form to compare


def test_the_long_time_tail_fit_finds_d_inf():
    """Profiles whose D(t) = 1.5 - 0.4 / sqrt(t) (the 1D hydrodynamic tail) at every gamma: the tail
    row's D_inf is 1.5 while the value at t = 5 is still below it."""
    s = synthetic_summary(lambda g, chi: 1.0)
    for p in s["points"]:
        t = p["time"]
        x = p["observables"]["energy_density"]["positions"]
        # sigma^2 = 2 int_0^t D = 2 (1.5 t - 0.8 sqrt(t)) + a constant keeps it positive
        var = (2 * (1.5 * t - 0.8 * np.sqrt(t)) + 4.0)[:, None]
        p["observables"]["energy_density"]["mean"] = np.exp(-x ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)
    tail = dc.tail_extrapolation(s, "energy_density", t=4.5, t_from=2.0)
    assert abs(tail["D_inf"] - 1.5) < 0.01 and abs(tail["c"] - 0.4) < 0.02
    assert tail["shift"] > 0.1  # D_0(4.5) = 1.5 - 0.4 / sqrt(4.5) ~ 1.31
    assert dc.tail_extrapolation(s, "energy_density", t=4.5, t_from=4.4) is None  # fewer than three times


def test_xxz_convention():
    conv = dc.convention({"name": "xxz", "g": 1.0, "J": 1.5})
    assert conv["factor"] == 0.25 and conv["Delta"] == 1.5   # H = 4 g sum S.S (Delta): times 1/(4g)
    assert dc.convention({"name": "mixed_field_ising", "J": 1.0})["factor"] == 1.0


def test_ising_energy_study_small(tmp_path):
    path = small_copy("runs/sweeps/daoe_ising_energy.yaml", tmp_path, {
        "model.L": 10, "evolution.t_final": 1.2, "observables.output_dt": 0.2,
        "sweep.grid": {"evolution.gamma": [0.1, 0.2, 0.4], "evolution.chi_max": [8, 16]}})
    res = run_sweep(load_sweep(path, workers=0))
    assert not res["failed"], res["failed"]
    dc.main([str(path), "--observable", "energy_density", "--plateau", "0.4", "--out", str(tmp_path / "fig")])
    out = json.loads((tmp_path / "fig.json").read_text())
    direct = daoe_budget(res["summary"], "D", "energy_density", t=out["t"])
    assert out["t"] == 1.0 and abs(out["D"] - direct["value"]) < 1e-12 and out["D"] > 0
    assert out["error"] >= direct["error"] > 0 and out["rows"]["chi"]["compared"] == [8, 16]
    assert out["convention"]["factor"] == 1.0 and len(out["curves"]) == 6
    assert (tmp_path / "fig.png").stat().st_size > 10_000
    # --partial (members' rows, no summary.h5) gives the same numbers on a finished sweep
    dc.main([str(path), "--observable", "energy_density", "--plateau", "0.4", "--partial",
             "--out", str(tmp_path / "p")])
    part = json.loads((tmp_path / "p.json").read_text())
    assert part["partial"] and abs(part["D"] - out["D"]) < 1e-12 and abs(part["error"] - out["error"]) < 1e-12
