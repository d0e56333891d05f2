"""analysis/kappa_rotor_betag.py on a small copy of runs/sweeps/transport_kappa_rotor_betag.yaml: the
script's kappa is green_kubo_ensemble over all time origins of the stored currents, and two
points with the same beta*g -- (g = 0.5, beta = 1) and (g = 1, beta = 0.5) with time scaled by
sqrt(g), the same seed -- are one trajectory set in other units (physics.md's scaling), so their
kappa-bar agree to round-off and kappa_{g=1} = g^(-5/2) kappa exactly."""

import json

import h5py
import numpy as np
import pytest
from helpers import load_script, small_copy

from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import load_sweep, run_sweep
from tnmbl.transport import green_kubo, green_kubo_accumulated, green_kubo_ensemble

kappa = load_script("kappa_rotor_betag")


def test_script_on_two_equivalent_points(tmp_path):
    a = float(np.sqrt(0.5))  # (g, beta, t) = (0.5, 1, t) is (1, 0.5, a t)
    sweep = small_copy("runs/sweeps/transport_kappa_rotor_betag.yaml", tmp_path, {
        "model.L": 8, "state.M": 16, "sweep.points": [
            {"model.g": 0.5, "evolution.dt": 0.1, "observables.output_dt": 0.1, "evolution.t_final": 4.0, "seed": 7},
            {"model.g": 1.0, "state.beta": 0.5, "evolution.dt": 0.1 * a, "observables.output_dt": 0.1 * a,
             "evolution.t_final": 4.0 * a, "seed": 7}]})
    plan = load_sweep(sweep, workers=0)
    assert not run_sweep(plan)["failed"]
    out, png = tmp_path / "k.json", tmp_path / "k.png"
    res = kappa.main([str(sweep), "--results", str(out), "--png", str(png)])
    p, q = res["points"]
    assert p["beta_g"] == q["beta_g"] == 0.5 and p["M"] == q["M"] == 16
    # one trajectory set in two unit systems
    assert q["kappa_bar"] == pytest.approx(p["kappa_bar"], rel=1e-8)
    assert q["kappa"] == pytest.approx(p["kappa_g1"], rel=1e-8)
    assert q["errors"]["statistical"] == pytest.approx(p["errors"]["statistical"] * 0.5**-2.5, rel=1e-8)
    # the script's kappa is green_kubo_ensemble over all origins of the stored currents, window [1/4, 1/2] t_final
    r = read_results(plan.members[0].path)
    t = np.asarray(r["time"])
    k, _, _ = green_kubo_ensemble(t, r["per_chain"]["total_current"], 8, window=(t[-1] / 4, t[-1] / 2),
                                  origins="all")
    assert p["kappa"] == pytest.approx(k.kappa, rel=1e-12) and p["error"] == pytest.approx(k.error, rel=1e-12)
    assert json.loads(out.read_text())["points"][0]["kappa"] == p["kappa"] and png.stat().st_size > 0
    kappa.main([str(sweep), "--results", str(out), "--png", str(tmp_path / "again.png"), "--plot-only"])
    assert (tmp_path / "again.png").stat().st_size > 0
    # a stopped member counts only with --partial
    with h5py.File(plan.members[1].path, "r+") as f:
        f.attrs["status"] = "interrupted"
    assert len(kappa.main([str(sweep), "--results", str(out), "--png", str(png)])["points"]) == 1
    (p2, q2) = kappa.main([str(sweep), "--results", str(out), "--png", str(png), "--partial"])["points"]
    assert q2["status"] == "interrupted" and q2["kappa"] == q["kappa"] and p2["status"] == "finished"


def test_bounds_follow_the_direction_of_the_running_integral():
    t = np.linspace(0, 20, 2001)
    rising = green_kubo(t, np.exp(-t / 8), window=(10, 20))
    falling = green_kubo(t, np.exp(-t) - 0.1 * np.exp(-t / 10), window=(10, 20))  # negative tail
    flat = green_kubo(t, np.exp(-t), window=(10, 20))
    assert [kappa.bound(k) for k in (rising, falling, flat)] == ["lower", "upper", "estimate"]


def test_unit_conversions():
    # kappa-bar is invariant under (g, beta, kappa) -> (g / s, beta s, s^(5/2) kappa) (a^2 = s)
    g, beta, k, s = 0.3, 1.0, 0.01, 0.3
    assert kappa.reduced(k, g, beta) == pytest.approx(kappa.reduced(s**-2.5 * k, g / s, beta * s), rel=1e-14)
    assert kappa.at_g1(k, g) == pytest.approx(g**-2.5 * k, rel=1e-14)


def test_script_reads_the_accumulated_sums_and_replaces_earlier_points(tmp_path):
    """A member of the accumulator sweep (observables.green_kubo): the script's kappa is
    green_kubo_accumulated on the file's /green_kubo with the window [1/4, 1/2] of the time the
    samples cover, and it replaces the point of an earlier sweep at the same beta g."""
    acc_sweep = small_copy("runs/sweeps/transport_kappa_rotor_betag_accumulated.yaml", tmp_path / "acc", {
        "model.L": 8, "state.M": 16, "evolution.dt": 0.1, "evolution.t_final": 8.0, "observables.output_dt": 0.4,
        "observables.green_kubo": {"lag_max": 4.0, "sample_dt": 0.2},
        "sweep.points": [{"model.g": 0.5, "seed": 7}]})
    old_sweep = small_copy("runs/sweeps/transport_kappa_rotor_betag.yaml", tmp_path / "old", {
        "model.L": 8, "state.M": 16, "sweep.points": [
            {"model.g": 0.5, "evolution.dt": 0.1, "observables.output_dt": 0.1, "evolution.t_final": 4.0, "seed": 7},
            {"model.g": 1.0, "evolution.dt": 0.1, "observables.output_dt": 0.1, "evolution.t_final": 4.0, "seed": 7}]})
    plans = [load_sweep(s, workers=0) for s in (old_sweep, acc_sweep)]
    assert not any(run_sweep(p)["failed"] for p in plans)
    out, png = tmp_path / "k.json", tmp_path / "k.png"
    res = kappa.main([str(old_sweep), str(acc_sweep), "--results", str(out), "--png", str(png)])
    one, half = res["points"]
    assert (one["beta_g"], half["beta_g"]) == (1.0, 0.5) and half["sweep"] == str(acc_sweep)
    assert half["first_origin"] is None and half["t_final"] == pytest.approx(8.0)
    acc = read_results(plans[1].members[0].path)["extra"]["green_kubo"]
    k, _, _ = green_kubo_accumulated(acc, 8, window=(2.0, 4.0))
    assert half["kappa"] == pytest.approx(k.kappa, rel=1e-12) and half["error"] == pytest.approx(k.error, rel=1e-12)
