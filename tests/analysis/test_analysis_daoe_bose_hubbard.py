"""analysis/daoe_bose_hubbard.py end to end on tiny copies of study c's sweeps
(runs/sweeps/daoe_bose_hubbard_small.yaml and runs/sweeps/daoe_bose_hubbard_dnls.yaml): the
gamma -> 0 budget is formed from three gammas, the particle susceptibility is the exact variance of
an occupation uniform on 0..n_max (infinite temperature of the truncated boson), and the DNLS energy
susceptibility of the Gibbs samples agrees with its exact beta = 0 value."""

import json

import numpy as np
from helpers import load_script, small_copy

from tnmbl.runs.sweep import load_sweep, run_sweep

bh = load_script("daoe_bose_hubbard")


def test_bose_hubbard_study_small(tmp_path):
    q = small_copy("runs/sweeps/daoe_bose_hubbard_small.yaml", tmp_path / "q", {
        "model.L": 8, "evolution.t_final": 1.5, "evolution.chi_max": 16, "sweep.points": [
            {"model.g": 0.5, "evolution.gamma": gm} for gm in (0.1, 0.2, 0.4)]
        + [{"model.g": 0.5, "evolution.gamma": 0.2, "evolution.chi_max": 8}]})
    c = small_copy("runs/sweeps/daoe_bose_hubbard_dnls.yaml", tmp_path / "c", {
        "model.L": 16, "state.M": 2048, "evolution.t_final": 8.0, "observables.output_dt": 0.2,
        "sweep.grid": {"model.g": [0.5]}})
    for path in (q, c):
        res = run_sweep(load_sweep(path, workers=0))
        assert not res["failed"], res["failed"]
    quantum, dnls = bh.main([str(q), "--dnls", str(c), "--out", str(tmp_path / "fig")])
    saved = json.loads((tmp_path / "fig.json").read_text())
    (row,) = quantum
    assert row["b"] == "density" and saved["quantum"][0]["gammas"] == [0.1, 0.2, 0.4]
    n_max = row["n_max"]
    assert abs(row["susceptibility"] - ((n_max + 1) ** 2 - 1) / 12) < 1e-8
    assert row["budget"]["rows"]["chi"]["compared"] == [8, 16]
    assert np.isfinite(row["value"]) and row["error"] >= row["budget"]["rows"]["gamma_extrapolation"]["error"]
    assert abs(row["kappa_einstein"] - 2 * row["susceptibility"] * row["value"]) < 1e-12
    (cl,) = dnls
    a, U, g = cl["density"], cl["U"], cl["g"]
    assert abs(cl["susceptibility"] - (20 * U**2 * a**4 + 16 * U * g * a**3 + 6 * g**2 * a**2)) < 1e-9
    assert abs(cl["susceptibility_sampled"] / cl["susceptibility"] - 1) < 0.25   # heavy tails: ~5 % scatter
    assert abs(cl["D"] * 2 * cl["susceptibility"] - cl["kappa"]) < 1e-12
    assert (tmp_path / "fig.png").stat().st_size > 10_000


def test_a_member_still_running_is_left_out(tmp_path):
    """A member whose results file says status = running (a sweep still at work) is not read: its
    rows stop short of the others', and the group keeps only the finished members."""
    import h5py

    q = small_copy("runs/sweeps/daoe_bose_hubbard_small.yaml", tmp_path / "q", {
        "model.L": 6, "evolution.t_final": 1.0, "evolution.chi_max": 8, "sweep.points": [
            {"model.g": 0.5, "evolution.gamma": gm} for gm in (0.1, 0.2, 0.4, 0.8)]})
    plan = load_sweep(q, workers=0)
    assert not run_sweep(plan)["failed"]
    with h5py.File(plan.members[3].path, "r+") as f:
        f.attrs["status"] = "running"
    groups, notes = bh.load_quantum(str(q))
    (members,) = groups.values()
    assert sorted(p["evolution.gamma"] for p, _ in members) == [0.1, 0.2, 0.4]
    assert any("gamma = 0.8" in n and "unfinished" in n for n in notes)
