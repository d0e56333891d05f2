"""The on-the-fly Green-Kubo accumulator of classical runs (``observables.green_kubo``,
tnmbl/engines/classical/correlator.py): equal to the all-origin estimate from the stored
per-step series, exact across a stop and resume, and bad keys refused before compute."""

import numpy as np
import pytest
from helpers import StopAfter

import tnmbl
from tnmbl.errors import ConfigError, OptionError
from tnmbl.runs import runner
from tnmbl.runs.config import validate_config
from tnmbl.runs.storage import read_results
from tnmbl.states import classical as cs
from tnmbl.transport import green_kubo_accumulated, green_kubo_ensemble

L, M, G, DT = 12, 16, 0.5, 0.25


def config(tmp_path, name, *, t_final=60.0, green_kubo=None, output_dt=5.0, per_chain=None):
    obs = {"names": ["current_correlation"], "output_dt": output_dt}
    if green_kubo is not None:
        obs["green_kubo"] = green_kubo
    if per_chain is not None:
        obs["per_chain"] = per_chain
    return {"seed": 7, "model": {"name": "rotor", "L": L, "g": G, "bc": "periodic"},
            "state": {"kind": "gibbs", "beta": 1.0, "M": M},
            "evolution": {"method": "aba864", "dt": DT, "t_final": t_final}, "observables": obs,
            "output": {"path": str(tmp_path / f"{name}.h5"), "figure": False, "checkpoint_every_outputs": 2}}


@pytest.mark.parametrize("block", [1, 4])
def test_accumulator_equals_the_all_origin_estimate_from_the_stored_series(tmp_path, block):
    """Same run twice: once storing J_m at every step (the existing path, FFT over all origins),
    once accumulating on the fly; per-chain C, kappa and its errors agree to 1e-10. With
    ``block`` steps per sample the reference is the stored series averaged over those blocks."""
    sample_dt, lag_max = block * DT, 10.0
    series = read_results(runner.run(validate_config(config(tmp_path, "series", output_dt=DT,
                                                                  per_chain=["total_current"]))).results)
    acc = read_results(runner.run(validate_config(config(
        tmp_path, "acc", green_kubo={"lag_max": lag_max, "sample_dt": sample_dt}))).results)
    J = series["per_chain"]["total_current"][1:]  # after each step (the start is no sample)
    J = J.reshape(-1, block, M).mean(1)
    gk = acc["extra"]["green_kubo"]
    assert gk["sums"].shape == (round(lag_max / sample_dt) + 1, M) and int(gk["step"]) == round(60.0 / DT)
    assert gk["counts"][0] == len(J) and float(gk["lag_dt"]) == sample_dt
    direct = np.array([[np.dot(J[k:, m], J[:len(J) - k, m]) for m in range(M)] for k in range(len(gk["counts"]))])
    np.testing.assert_allclose(gk["sums"], direct, rtol=1e-10, atol=1e-10 * np.abs(direct).max())
    window = (lag_max / 2, lag_max)
    times = np.arange(len(J)) * sample_dt
    ref, C_ref, err_ref = green_kubo_ensemble(times, J, L, window=window, origins="all")
    k, C, err = green_kubo_accumulated(gk, L, window=window)
    np.testing.assert_allclose(C, C_ref, rtol=1e-10, atol=1e-10 * np.abs(C_ref).max())
    np.testing.assert_allclose(err, err_ref, rtol=1e-10)
    assert k.kappa == pytest.approx(ref.kappa, rel=1e-10)
    for key in ("window", "statistical"):
        assert k.errors[key] == pytest.approx(ref.errors[key], rel=1e-10)
    # the observables at the rows are the same trajectory's (per-step segments in both runs)
    rows = np.isin(series["step"], acc["step"])
    np.testing.assert_array_equal(acc["observables"]["current_correlation"],
                                  series["observables"]["current_correlation"][rows])


def test_stopped_and_resumed_run_equals_the_uninterrupted_one(tmp_path):
    """A stop at a row between samples of a block (output_dt 1.25 = 5 steps, sample_dt 1.0 = 4
    steps) and a resume from the checkpoint: the accumulated sums equal a straight run's bitwise."""
    gk = {"lag_max": 8.0, "sample_dt": 1.0}
    straight = read_results(runner.run(validate_config(config(tmp_path, "a", green_kubo=gk,
                                                              output_dt=1.25))).results)
    cfg = validate_config(config(tmp_path, "b", green_kubo=gk, output_dt=1.25))
    with pytest.raises(KeyboardInterrupt):
        runner.run(cfg, progress=StopAfter(7))
    part = read_results(cfg.results_path)
    assert part["attrs"]["status"] == "interrupted" and int(part["extra"]["green_kubo"]["step"]) < 240
    runner.resume(cfg.results_path)
    res = read_results(cfg.results_path)
    for key in ("sums", "counts", "n_samples", "step"):
        np.testing.assert_array_equal(res["extra"]["green_kubo"][key], straight["extra"]["green_kubo"][key],
                                      err_msg=key)
    np.testing.assert_array_equal(res["observables"]["current_correlation"],
                                  straight["observables"]["current_correlation"])


def test_engine_resume_data_carries_the_accumulator():
    chain = tnmbl.models.rotor(8, 1.0)
    state = cs.gibbs(chain, 4, beta=1.0, seed=2)
    opts = dict(dt=0.2, t_final=8.0, output_dt=1.0, green_kubo={"lag_max": 2.0, "sample_dt": 0.4})
    ref = tnmbl.evolve(chain, state, "aba864", **opts).engine.green_kubo()
    first = tnmbl.Evolution(chain, state, "aba864", **dict(opts, t_final=3.0))
    list(first)
    second = tnmbl.Evolution(chain, state, "aba864", **opts)
    second.engine.set_resume_data(first.engine.get_resume_data())
    second.engine.advance(second.steps[-1] - second.engine.step)
    np.testing.assert_array_equal(second.green_kubo()["sums"], ref["sums"])
    plain = tnmbl.Evolution(chain, state, "aba864", dt=0.2, t_final=8.0)
    with pytest.raises(Exception, match="green_kubo"):
        plain.engine.set_resume_data(first.engine.get_resume_data())


BAD = [
    ({"lag_max": 0.0, "sample_dt": 0.5}, "observables.green_kubo.lag_max"),
    ({"lag_max": -4.0, "sample_dt": 0.5}, "observables.green_kubo.lag_max"),
    ({"lag_max": 4.0, "sample_dt": 0.3}, "observables.green_kubo.sample_dt = 0.3"),
    ({"lag_max": 4.1, "sample_dt": 0.5}, "observables.green_kubo.lag_max = 4.1"),
    ({"lag_max": 4.0}, "observables.green_kubo.sample_dt"),
    ({"lag_max": 4.0, "sample_dt": 0.5, "tau": 1}, "observables.green_kubo.tau"),
]


@pytest.mark.parametrize("gk,message", BAD, ids=[m for _, m in BAD])
def test_bad_green_kubo_keys_are_refused_before_compute(tmp_path, monkeypatch, gk, message):
    from tnmbl.engines.classical import kernels

    def no_compute(*a, **k):
        raise AssertionError("compute started during validation")

    monkeypatch.setattr(kernels, "rotor_run", no_compute)
    with pytest.raises(ConfigError) as info:
        validate_config(config(tmp_path, "bad", green_kubo=gk))
    assert any(message in p for p in info.value.problems), info.value.problems


def test_green_kubo_refused_on_quantum_chains_and_bad_api_values(tmp_path):
    raw = {"model": {"name": "xxz", "L": 6}, "state": {"kind": "neel"},
           "evolution": {"method": "tebd2", "dt": 0.1, "t_final": 1.0},
           "observables": {"names": ["density"], "green_kubo": {"lag_max": 1.0, "sample_dt": 0.1}},
           "output": {"path": str(tmp_path / "q.h5"), "figure": False}}
    with pytest.raises(ConfigError, match="observables.green_kubo"):
        validate_config(raw)
    chain = tnmbl.models.rotor(8, 1.0)
    state = cs.gibbs(chain, 4, beta=1.0, seed=2)
    with pytest.raises(OptionError, match="green_kubo.lag_max = 1.0: green_kubo.lag_max / green_kubo.sample_dt"):
        tnmbl.Evolution(chain, state, "aba864", dt=0.2, t_final=4.0, green_kubo={"lag_max": 1.0, "sample_dt": 0.4})
    with pytest.raises(OptionError, match="green_kubo = 3"):
        tnmbl.Evolution(chain, state, "aba864", dt=0.2, t_final=4.0, green_kubo=3)
