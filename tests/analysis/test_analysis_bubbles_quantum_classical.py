"""analysis/bubbles_quantum_classical.py: the width of a known excess profile, and the script end
to end on small versions of its two sweeps and its rotor run."""

import numpy as np
import pytest
from helpers import load_script, small_copy

from tnmbl.runs import runner
from tnmbl.runs.config import load_config
from tnmbl.runs.sweep import load_sweep, read_summary, run_sweep

qc = load_script("bubbles_quantum_classical")


def test_width_of_a_step_bubble():
    density = np.ones((1, 12))
    density[0, 4:8] = 3.0
    s = qc.width_front(np.array([0.0]), density, 1.0, 0.2)
    assert s.width[0] == pytest.approx(np.sqrt(1.25)) and s.centre[0] == pytest.approx(5.5)


def test_script_reads_small_sweeps_and_the_rotor_run(tmp_path):
    small = {"model.L": 6, "state.region": [2, 4], "evolution.t_final": 0.2, "observables.output_dt": 0.1}
    bh = small_copy("runs/sweeps/bubbles_quantum_classical_bh.yaml", tmp_path / "bh", dict(
        small, **{"model.n_max": 4, "evolution.chi_max": 8,
                  "sweep.points": [{}, {"evolution.chi_max": 4}, {"model.n_max": 3}]}))
    dn = small_copy("runs/sweeps/bubbles_quantum_classical_dnls.yaml", tmp_path / "dnls",
                    dict(small, **{"state.M": 16}))
    rot = small_copy("runs/bubbles_quantum_classical_rotor.yaml", tmp_path / "rotor", {
        "model.L": 16, "state.region": [6, 10], "state.M": 8, "evolution.t_final": 1.0, "observables.n_log": 8,
        "output.figure": False})
    for p in (bh, dn):
        assert not run_sweep(load_sweep(p, workers=0))["failed"]
    runner.run(load_config(rot))
    report = qc.main(["--bh", str(bh), "--dnls", str(dn), "--rotor", str(rot), "--png", str(tmp_path / "f.png")])
    assert (tmp_path / "f.png").exists()
    assert set(report) == {"BH chi=8 dt=0.05", "BH chi=4", "BH n_max=3", "DNLS M=16 dt=0.01", "DNLS dt=0.02", "rotor",
                           "max_density_difference"}
    # t = 0: the Fock bubble and its classical match have the same density, so the largest
    # difference comes from the evolution; both read from the summaries the script reads
    nb = read_summary(load_sweep(bh).summary_path)["points"][0]["observables"]["density"]["mean"]
    nd = read_summary(load_sweep(dn).summary_path)["points"][0]["observables"]["density"]["mean"]
    np.testing.assert_allclose(nb[0], nd[0], atol=1e-12)
    assert report["max_density_difference"] == pytest.approx(np.abs(nb - nd).max())
    assert report["rotor"]["width_end"] > 0
