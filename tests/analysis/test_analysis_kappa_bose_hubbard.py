"""analysis/kappa_bose_hubbard.py: the rotor kappa of synthetic currents with a known answer, and
the script end to end on a small rotor sweep and a tiny Bose-Hubbard chain (its C(t) against the
exact thermal correlation)."""

import json

import numpy as np
import pytest
from helpers import load_script, small_copy

from tnmbl.evolution.correlations import current_autocorrelation
from tnmbl.models.quantum import bose_hubbard
from tnmbl.runs.sweep import load_sweep, run_sweep

kappa = load_script("kappa_bose_hubbard")


def test_rotor_kappa_of_exponentially_decaying_currents():
    # J_m(t) = J_m(0) exp(-t / tau): C(t) = <J(0)^2> / L exp(-t / tau), kappa = 2 C(0) tau on the plateau
    rng = np.random.default_rng(1)
    L, tau = 16, 2.0
    times = np.linspace(0, 40, 801)
    J0 = rng.standard_normal(4000) * np.sqrt(L)
    J = J0[None, :] * np.exp(-times / tau)[:, None]
    row = kappa.rotor_kappa(times, J, L, (30.0, 40.0))
    c0 = np.mean(J0**2) / L
    assert row["kappa"] == pytest.approx(2 * c0 * tau, rel=1e-3)
    assert row["error"] == pytest.approx(2 * tau * np.std(J0**2 / L, ddof=1) / np.sqrt(len(J0)), rel=1e-2)


def test_script_end_to_end_on_small_inputs(tmp_path):
    rot = small_copy("runs/sweeps/transport_kappa_rotor.yaml", tmp_path / "rotor", {
        "model.L": 8, "state.M": 16, "evolution.t_final": 2.0, "sweep.grid": {"state.beta": [1.0, 2.0]}})
    assert not run_sweep(load_sweep(rot, workers=0))["failed"]
    out = tmp_path / "k.json"
    res = kappa.main(["--rotor", str(rot), "--window", "1", "2", "--results", str(out),
                      "--png", str(tmp_path / "k.png"), "--quantum-L", "4", "--quantum-g-over-U", "1.0",
                      "--quantum-chi-max", "81", "--quantum-chi-check", "40"])  # 81 = (3 x 3)^2: no truncation at L = 4
    assert (tmp_path / "k.png").exists() and json.loads(out.read_text())["quantum_config"]["L"] == 4
    assert [r["beta_g"] for r in res["classical"]] == [1.0, 2.0] and all(r["M"] == 16 for r in res["classical"])
    (q,) = res["quantum"]
    exact = current_autocorrelation(bose_hubbard(4, U=1.0, g=1.0, n_max=2), "energy_current", total=False,
                                    t_max=q["times"][-1], dt=0.1, output_dt=0.1, method="exact")
    C = np.array(q["C"])
    np.testing.assert_allclose(C, exact.values.real, atol=1e-2 * np.abs(C).max())  # TEBD2 at dt = 0.1
    assert max(q["truncation_error"]) < 1e-8 and np.isfinite(q["kappa"])
    # the truncation row is the chi difference of kappa
    assert q["errors"]["truncation"] == pytest.approx(abs(q["kappa"] - q["kappa_chi_check"]), rel=1e-12, abs=1e-15)


def test_kappa_without_plateau_is_drawn_as_a_lower_bound(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figs = []
    monkeypatch.setattr(plt, "close", figs.append)  # keep the figure to look at its axes
    row = {"times": [0.0, 1.0], "running": [0.0, 1.0], "window": [0.5, 1.0], "error": 0.1}
    q = [dict(row, g_over_U=0.5, g=0.5, kappa=2.0, errors={"window": 0.01}, plateau=True),
         dict(row, g_over_U=1.0, g=1.0, kappa=9.0, errors={"window": 2.0})]  # old JSON: no "plateau" key
    kappa.figure({"quantum": q, "quantum_config": {"L": 8, "n_max": 2}}, tmp_path / "k.png")
    ax = figs[0].axes[1]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["plateau reached", "no plateau: lower bound"]
    assert ax.get_ylabel() == r"$\kappa$ at $\beta = 0$" and ax.get_xlabel() == "g / U"
    np.testing.assert_array_equal(kappa.plateaus(q), [True, False])
