"""Classical batches (rotor, DNLS) through the run machinery: `tnmbl run` / resume / extend,
the same results as the direct API, energy_tolerance stops with the rows intact, and bad
input refused before any compute (the classical engines under the run machinery the quantum
runs use, so a classical run is stored, resumed and checked like a quantum one)."""

import numpy as np
import pytest
from helpers import StopAfter, write_config

import tnmbl
from tnmbl.errors import ConfigError, ConvergenceError
from tnmbl.runs import runner
from tnmbl.runs.cli import main
from tnmbl.runs.config import validate_config
from tnmbl.runs.storage import read_results
from tnmbl.states import classical as cs


def rotor_config(tmp_path, name="rotor", **evolution):
    return {
        "seed": 11,
        "model": {"name": "rotor", "L": 12, "g": 0.5},
        "state": {"kind": "gibbs", "beta": 1.0, "M": 40},
        "evolution": {"method": "leapfrog", "dt": 0.02, "t_final": 6.0, **evolution},
        "observables": {"names": ["density", "energy_density", "energy_current", "phi", "current_correlation"],
                        "output_dt": 0.4, "per_chain": ["phi", "energy"]},
        "output": {"path": str(tmp_path / f"{name}.h5"), "figure": False, "checkpoint_every_outputs": 1},
    }


def dnls_config(tmp_path, name="dnls"):
    return {
        "seed": 3,
        "model": {"name": "dnls", "L": 16, "g": 1.0, "U": 0.5, "W": 1.0},
        "state": {"kind": "bubble", "region": [6, 10], "inside": 2.0, "background": 0.2, "M": 8},
        "evolution": {"method": "split4", "dt": 0.02, "t_final": 4.0},
        "observables": {"names": ["density", "energy_density", "energy_current", "density_current"],
                        "output_dt": 0.2},
        "output": {"path": str(tmp_path / f"{name}.h5"), "figure": False},
    }


def test_rotor_run_equals_the_direct_api(tmp_path):
    cfg = validate_config(rotor_config(tmp_path))
    res = read_results(runner.run(cfg).results)
    chain = tnmbl.models.rotor(12, 0.5)
    state = cs.gibbs(chain, 40, beta=1.0, seed=11)
    ref = tnmbl.evolve_classical(chain, state, "leapfrog", dt=0.02, t_final=6.0, output_dt=0.4,
                                 observables=list(cfg.observables.names))
    np.testing.assert_allclose(res["time"], ref.times)
    for name in cfg.observables.names:
        np.testing.assert_array_equal(res["observables"][name], ref[name], err_msg=name)
    # per-chain series: their batch mean is the stored observable / health figure
    np.testing.assert_allclose(res["per_chain"]["phi"].mean(1), res["observables"]["phi"][:, 0], rtol=1e-12)
    np.testing.assert_allclose(res["per_chain"]["energy"].mean(1), res["health"]["energy"], rtol=1e-12)
    assert res["per_chain"]["phi"].shape == (len(res["time"]), 40)
    assert res["attrs"]["status"] == "finished" and res["attrs"]["config_json"]["state"]["M"] == 40
    assert res["health"]["energy_error"].max() < 1e-3


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_killed_classical_run_resumes_to_the_uninterrupted_result(tmp_path, noise):
    """A kill after row 5 and a resume give the rows of a straight run exactly (velocity flips
    included: their random numbers are counter-based on (seed, chain, site, step))."""
    straight = read_results(runner.run(validate_config(rotor_config(tmp_path, "a", noise_rate=noise))).results)
    cfg = validate_config(rotor_config(tmp_path, "b", noise_rate=noise))
    with pytest.raises(KeyboardInterrupt):
        runner.run(cfg, progress=StopAfter(5))
    part = read_results(cfg.results_path)
    assert part["n_rows"] == 5 and part["attrs"]["status"] == "interrupted"
    summary = runner.resume(cfg.results_path)
    res = read_results(summary.results)
    assert res["n_rows"] == straight["n_rows"] and res["attrs"]["status"] == "finished"
    for name, col in straight["observables"].items():
        np.testing.assert_array_equal(res["observables"][name], col, err_msg=name)
    np.testing.assert_array_equal(res["per_chain"]["phi"], straight["per_chain"]["phi"])
    if noise:  # the flips act: the noisy run differs from the clean one
        clean = tnmbl.evolve_classical(tnmbl.models.rotor(12, 0.5), cs.gibbs(tnmbl.models.rotor(12, 0.5), 40,
                                       beta=1.0, seed=11), dt=0.02, t_final=6.0, output_dt=0.4, observables=["phi"])
        assert np.abs(clean["phi"][-1] - res["observables"]["phi"][-1]).max() > 1e-3


def test_extend_equals_a_longer_run_dnls_norm_kept(tmp_path):
    raw = dnls_config(tmp_path, "short")
    runner.run(validate_config(raw))
    runner.resume(tmp_path / "short.h5", t_final=8.0)
    ext = read_results(tmp_path / "short.h5")
    raw_long = dnls_config(tmp_path, "long")
    raw_long["evolution"]["t_final"] = 8.0
    long = read_results(runner.run(validate_config(raw_long)).results)
    np.testing.assert_array_equal(ext["time"], long["time"])
    for name in long["observables"]:
        np.testing.assert_array_equal(ext["observables"][name], long["observables"][name], err_msg=name)
    # split4: every part norm-exact; the density columns sum to the conserved total norm
    n = long["observables"]["density"].sum(1)
    assert np.abs(n - n[0]).max() < 1e-12 * n[0]
    assert long["health"]["charge_error"].max() < 1e-12 * n[0]


def test_energy_tolerance_stops_with_a_convergence_error_and_keeps_written_rows(tmp_path):
    ok = read_results(runner.run(validate_config(rotor_config(tmp_path, "ok", dt=0.1))).results)
    err = ok["health"]["energy_error"]
    tol = float(err[4] * 1.0001)  # passed first somewhere after row 4
    first_bad = int(np.argmax(err > tol))
    assert first_bad > 4
    cfg = validate_config(rotor_config(tmp_path, "tol", dt=0.1, energy_tolerance=tol))
    with pytest.raises(ConvergenceError, match="energy_error .* above energy_tolerance"):
        runner.run(cfg)
    res = read_results(cfg.results_path)
    assert res["attrs"]["status"] == "failed" and "energy_tolerance" in res["attrs"]["error"]
    assert res["n_rows"] == first_bad
    for name in ok["observables"]:
        np.testing.assert_array_equal(res["observables"][name], ok["observables"][name][:first_bad])
    # the command line says so, with exit status 1
    path = write_config(tmp_path, dict(rotor_config(tmp_path, "cli", dt=0.1, energy_tolerance=tol)))
    assert main(["run", str(path), "--log"]) == 1


BAD = [
    ({"state": {"kind": "gibbs", "beta": 0.0, "M": 4}}, "state.beta = 0.0"),
    ({"state": {"kind": "gibbs", "beta": 1.0, "M": 0}}, "state.M = 0"),
    ({"evolution": {"method": "leapfrog", "dt": 2.0, "t_final": 6.0}, "observables": {"output_dt": 2.0}},
     "evolution.dt = 2.0: above the leapfrog"),
    ({"evolution": {"method": "leapfrog", "dt": -0.1, "t_final": 6.0}}, "evolution.dt = -0.1"),
    ({"evolution": {"method": "tebd2", "dt": 0.02, "t_final": 6.0}}, "evolution.method = 'tebd2'"),
    ({"evolution": {"method": "split2", "dt": 0.02, "t_final": 6.0}}, "split2 integrates classical dnls"),
    ({"evolution": {"method": "leapfrog", "dt": 0.02, "t_final": 6.0, "chi_max": 8}}, "evolution.chi_max = 8"),
    ({"state": {"kind": "neel", "M": 4}}, "state.kind = 'neel': not a state of a classical chain"),
    ({"observables": {"names": ["entanglement"]}}, "observables.names[0] = 'entanglement'"),
    ({"state": {"kind": "wave_packet", "center": 2}}, "state.kind = 'wave_packet': wave packets are DNLS states"),
    ({"observables": {"names": ["phi"], "per_chain": ["spin"]}}, "per_chain = 'spin'"),
]


@pytest.mark.parametrize("change,message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_classical_configs_are_refused_before_compute(tmp_path, monkeypatch, change, message):
    from tnmbl.engines.classical import kernels

    def no_compute(*a, **k):
        raise AssertionError("compute started during validation")

    for name in ("rotor_run", "dnls_run", "rotor_langevin"):
        monkeypatch.setattr(kernels, name, no_compute)
    raw = rotor_config(tmp_path)
    raw.update(change)
    with pytest.raises(ConfigError) as info:
        validate_config(raw)
    assert any(message in p for p in info.value.problems), info.value.problems


def test_langevin_state_validates_without_thermalizing_and_runs(tmp_path, monkeypatch):
    """The paper's preparation (rest, then a Langevin bath at beta for t_th) is not run by
    validation; the run starts from it, at the Gibbs energy per site
    1/(2 beta) + g (1 - I1(beta g) / I0(beta g)) within the statistical error."""
    from scipy.special import i0, i1

    from tnmbl.engines.classical import kernels

    raw = rotor_config(tmp_path, "lv")
    beta, g = 2.0, 0.5
    raw["state"] = {"kind": "langevin", "beta": beta, "t_th": 40.0, "gamma": 1.0, "langevin_dt": 0.02, "M": 512}
    raw["observables"] = {"names": ["density", "energy_density"], "output_dt": 0.4, "per_chain": ["energy"]}
    calls = []
    real = kernels.rotor_langevin
    monkeypatch.setattr(kernels, "rotor_langevin", lambda *a: calls.append(1) or real(*a))
    cfg = validate_config(raw)
    assert calls == []
    res = read_results(runner.run(cfg).results)
    assert calls == [1] and res["n_rows"] == 16
    e = res["per_chain"]["energy"][0] / 12  # energy per site of each chain at t = 0
    exact = 1 / (2 * beta) + g * (1 - i1(beta * g) / i0(beta * g))
    assert abs(e.mean() - exact) < 5 * e.std() / np.sqrt(len(e)), (e.mean(), exact)


def test_classical_ensemble_sweep_members_differ_and_the_summary_is_their_mean(tmp_path):
    """A sweep over g with 3 members per point: each member a batch with its own seed."""
    from tnmbl.runs.sweep import plan_sweep, read_summary, run_sweep

    raw = rotor_config(tmp_path)
    raw["observables"] = {"names": ["density", "energy_density", "phi"], "output_dt": 0.4}
    raw["output"] = {"figure": False}
    raw.update(ensemble={"members": 3, "root_seed": 4}, sweep={"grid": {"model.g": [0.5, 1.0]}},
               execution={"output_dir": str(tmp_path / "sw"), "workers": 0})
    plan = plan_sweep(raw, name="rotor_sweep")
    out = run_sweep(plan)
    assert not out["failed"] and len(out["actions"]) == 6
    summary = read_summary(out["summary"])
    for k, point in enumerate(summary["points"]):
        members = [read_results(m.path) for m in plan.members if m.point == k]
        phis = np.stack([r["observables"]["phi"] for r in members])
        assert np.abs(phis[0] - phis[1]).max() > 1e-3  # different Gibbs samples
        np.testing.assert_allclose(point["observables"]["phi"]["mean"], phis.mean(0), rtol=1e-12)
