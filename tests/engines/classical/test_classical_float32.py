"""``precision="float32"`` of the classical engine (rotor methods): trajectories against
float64, t0 of the relaxation function against float64, the round-off energy walk against its
prediction, resume, and every refusal before compute naming the key."""

import numpy as np
import pytest

import tnmbl
from tnmbl.engines import METHODS
from tnmbl.engines.classical import ClassicalEngine
from tnmbl.errors import ConfigError, OptionError, StateError
from tnmbl.evolution import Evolution
from tnmbl.observables.classical import t0
from tnmbl.runs.build import build_chain, build_evolution, build_state
from tnmbl.runs.config import validate_config
from tnmbl.states import classical as cs


def _wrapped(a, b):
    return np.abs(np.angle(np.exp(1j * (np.asarray(a, float) - np.asarray(b, float)))))


@pytest.mark.parametrize("method,dt", [("leapfrog", 0.01), ("yoshida4", 0.05), ("aba864", 0.2)])
def test_float32_follows_float64_to_the_float32_level_over_short_times(method, dt):
    """Over t = 2 (g = 1, Lyapunov time ~1) the float32 batch stays within a few float32
    ulps (times the chaotic growth) of float64: no further than the float64 flow of the
    float32-rounded initial state moves from the exact start (x 30), and < 1e-5; the energy per
    site of every chain matches to 1e-5."""
    chain = tnmbl.models.rotor(16, 1.0)
    state = cs.gibbs(chain, 8, beta=1.0, seed=3)
    q, w = state.canonical()
    rounded = cs.ClassicalState(chain, {"theta": q.astype(np.float32).astype(float),
                                        "w": w.astype(np.float32).astype(float)}, "rounded")
    out = {}
    for name, st, prec in (("64", state, "float64"), ("32", state, "float32"), ("ref", rounded, "float64")):
        r = tnmbl.evolve(chain, st, method, dt=dt, t_final=2.0, output_dt=1.0, observables=["density"],
                         precision=prec, per_chain=["energy"])
        out[name] = (r.engine.state().canonical(), r.engine.samples["energy"])
    (q64, p64), e64 = out["64"]
    (q32, p32), e32 = out["32"]
    (qr, pr), _ = out["ref"]
    scale = max(_wrapped(qr, q64).max(), np.abs(pr - p64).max())
    diff = max(_wrapped(q32, q64).max(), np.abs(p32 - p64).max())
    assert 0 < diff < 1e-5 and diff < 30 * scale, (diff, scale)
    assert np.abs(e32 - e64).max() / chain.L < 1e-5
    assert np.all(np.abs(q32) <= np.pi + 1e-6)  # the angles stay wrapped


def test_t0_at_g1_agrees_with_float64_within_the_bootstrap_error():
    """t0 at g = 1 (phi, Gibbs state at beta = 1, L = 64, 2048 chains, leapfrog dt = 0.01 as
    in Fig. 2): float32 and float64 from the same chains agree within the bootstrap error
    (the same chains: the difference is the precision's, not the sampling's)."""
    chain = tnmbl.models.rotor(64, 1.0)
    state = cs.gibbs(chain, 2048, beta=1.0, seed=[2022, 1000])
    res = {}
    for prec in ("float64", "float32"):
        r = tnmbl.evolve(chain, state, "leapfrog", dt=0.01, t_final=100.0, n_log=150, observables=["phi"],
                         precision=prec, energy_tolerance=1e-3)
        res[prec] = t0(r.times, r.engine.samples["phi"], level=0.9, window=0.15, n_boot=200, seed=7)[:2]
    (v64, e64), (v32, e32) = res["float64"], res["float32"]
    assert 30 < v64 < 60 and np.isfinite(e64) and np.isfinite(e32)  # docs: t0(1) = 41.9 +- 1.3
    assert abs(v32 - v64) < min(e32, e64), res


def test_the_float32_energy_walk_stays_below_its_prediction():
    """The largest per-chain energy error per site of a float32 run whose time-step error is
    negligible (ABA864, dt = 0.1: float64 ~1e-9) is float32 round-off: larger than float64's,
    and below the engine's prediction (energy_error_floor), which the budget check uses."""
    chain = tnmbl.models.rotor(64, 1.0)
    state = cs.gibbs(chain, 256, beta=1.0, seed=5)
    errs = {}
    for prec in ("float64", "float32"):
        eng = ClassicalEngine.create(chain, state, "aba864", 0.1, precision=prec)
        e = eng.run(np.array([0, 10000, 10000]))["chain_energy"]
        errs[prec] = np.abs(e - e[0]).max() / chain.L
    floor = eng.energy_error_floor(20000)
    assert errs["float64"] < 1e-7 < errs["float32"] < floor < 10 * errs["float32"], (errs, floor)


def test_float32_resumes_bitwise_and_refuses_a_float64_checkpoint():
    chain = tnmbl.models.rotor(12, 0.5)
    state = cs.gibbs(chain, 5, beta=1.0, seed=2)
    straight = ClassicalEngine.create(chain, state, "aba864", 0.1, precision="float32")
    straight.run(np.array([37, 40]))
    first = ClassicalEngine.create(chain, state, "aba864", 0.1, precision="float32")
    first.run(np.array([37]))
    again = ClassicalEngine.create(chain, state, "aba864", 0.1, precision="float32")
    again.set_resume_data(first.get_resume_data())
    again.run(np.array([40]))
    for a, b in zip(straight.state().canonical(), again.state().canonical()):
        assert np.array_equal(a, b)
    with pytest.raises(StateError) as info:
        again.set_resume_data(ClassicalEngine.create(chain, state, "aba864", 0.1).get_resume_data())
    assert info.value.key == "checkpoint" and info.value.value == "float64"


def test_float32_langevin_thermalizes_like_float64():
    """The engine's Langevin step (float64 on the compensated state) also works in float32:
    the same noise gives the same batch to float32 rounding."""
    chain = tnmbl.models.rotor(8, 1.0)
    state = cs.rest(chain, 4)
    out = []
    for prec in ("float64", "float32"):
        eng = ClassicalEngine.create(chain, state, "leapfrog", 0.01, precision=prec)
        eng.thermalize(1.0, 200, gamma=1.0, dt=0.01, seed=9)
        out.append(eng.state().canonical())
    assert np.abs(out[0][1]).max() > 0.1
    assert max(_wrapped(out[0][0], out[1][0]).max(), np.abs(out[0][1] - out[1][1]).max()) < 1e-5


def _refused(chain, state, method, **kw):
    with pytest.raises(OptionError) as info:
        Evolution(chain, state, method, t_final=1000.0, **kw)
    return info.value


def test_bad_precision_is_refused_before_compute_naming_the_key():
    rotor = tnmbl.models.rotor(16, 1.0)
    gibbs = cs.gibbs(rotor, 4, beta=1.0, seed=0)
    err = _refused(rotor, gibbs, "leapfrog", dt=0.01, precision="float16")
    assert err.key == "precision" and err.value == "float16" and "float32" in err.fix
    err = _refused(rotor, gibbs, "leapfrog", dt=0.01, precision="float32", noise_rate=0.5)
    assert err.key == "precision" and "noise" in err.rule and "float64" in err.fix
    # a budget that the float32 walk alone would pass by t = 1000 (1e5 leapfrog steps): ~1.6e-5
    err = _refused(rotor, gibbs, "leapfrog", dt=0.01, precision="float32", energy_tolerance=1e-6)
    assert err.key == "precision" and "energy_tolerance" in err.rule and "float64" in err.fix
    Evolution(rotor, gibbs, "leapfrog", dt=0.01, t_final=1000.0, precision="float32", energy_tolerance=1e-3)
    dnls = tnmbl.models.dnls(8, 0.5, 1.0)
    err = _refused(dnls, cs.gibbs(dnls, 2, density=1.0, seed=0), "split2", dt=0.01, precision="float32")
    assert err.key == "precision" and "split2" in str(err)
    xxz = tnmbl.models.xxz(L=6, g=1.0)
    err = _refused(xxz, tnmbl.states.neel(xxz), "tebd2", dt=0.01, precision="float32")
    assert err.key == "precision"
    # the engine itself (its own callers: thermalization, benchmarks) refuses a DNLS float32 too
    with pytest.raises(OptionError) as info:
        ClassicalEngine.create(dnls, cs.gibbs(dnls, 2, density=1.0, seed=0), "split2", 0.01, precision="float32")
    assert info.value.key == "precision" and "no float32 kernel" in info.value.rule
    assert {m for m, s in METHODS.items() if "float32" in s.precisions} == {
        m for m, s in METHODS.items() if s.sites == ("rotor",)}


def _config(model, evolution, state):
    return {"model": model, "state": state, "evolution": evolution, "observables": {"names": ["density"]},
            "output": {"path": "/tmp/unused_float32.h5", "figure": False}}


@pytest.mark.parametrize("model,state,evolution,rule", [
    ({"name": "dnls", "L": 8, "g": 1.0, "U": 0.5}, {"kind": "gibbs", "M": 2, "density": 1.0},
     {"method": "split2", "dt": 0.01, "t_final": 1.0}, "not taken by method 'split2'"),
    ({"name": "xxz", "L": 6, "g": 1.0}, {"kind": "neel"}, {"method": "tebd2", "dt": 0.05, "t_final": 1.0},
     "applies to classical chains only"),
    ({"name": "rotor", "L": 16, "g": 1.0}, {"kind": "gibbs", "M": 8, "beta": 1.0},
     {"method": "leapfrog", "dt": 0.01, "t_final": 1000.0, "energy_tolerance": 1e-6}, "energy_tolerance"),
    ({"name": "rotor", "L": 16, "g": 1.0}, {"kind": "gibbs", "M": 8, "beta": 1.0},
     {"method": "leapfrog", "dt": 0.01, "t_final": 1.0, "noise_rate": 0.5}, "noise"),
])
def test_config_refuses_float32_at_evolution_precision(model, state, evolution, rule):
    with pytest.raises(ConfigError) as info:
        validate_config(_config(model, {**evolution, "precision": "float32"}, state))
    problems = [p for p in info.value.problems if p.key == "evolution.precision"]
    assert problems and rule in problems[0].rule, info.value.problems


def _built(cfg):
    chain = build_chain(cfg)
    return chain, build_state(cfg, chain)


def test_config_takes_float32_for_the_rotor():
    cfg = validate_config(_config({"name": "rotor", "L": 16, "g": 1.0}, {
        "method": "aba864", "dt": 0.2, "t_final": 10.0, "precision": "float32", "energy_tolerance": 1e-3},
        {"kind": "gibbs", "M": 8, "beta": 1.0}))
    assert cfg.evolution.precision == "float32"
    assert build_evolution(*_built(cfg), cfg.evolution, cfg.observables).engine.precision == "float32"
    with pytest.raises(ConfigError) as info:
        validate_config(_config({"name": "rotor", "L": 16, "g": 1.0}, {
            "method": "aba864", "dt": 0.2, "t_final": 10.0, "precision": "half"}, {"kind": "gibbs", "M": 8,
                                                                                    "beta": 1.0}))
    assert [p.key for p in info.value.problems] == ["evolution.precision"]
