"""The sampled bubble as a YAML state kind: validated, seeded by the run's seed."""

import numpy as np
import pytest

from tnmbl.errors import ConfigError
from tnmbl.runs.config import build_chain, build_state, validate_config


def _cfg(**state):
    return {"model": {"name": "bose_hubbard", "L": 8, "U": 1.0, "g": 0.1, "n_max": 3},
            "state": dict({"kind": "sampled_bubble", "region": [2, 6], "background": 3}, **state),
            "evolution": {"method": "exact", "dt": 0.1, "t_final": 0.2},
            "observables": {"names": ["density"]}, "seed": 5}


def test_sampled_bubble_kind_builds_one_sample_from_the_run_seed():
    occ = {}
    for seed in (5, 6):
        raw = dict(_cfg(beta=0.0), seed=seed)
        cfg = validate_config(raw)
        chain = build_chain(cfg)
        occ[seed] = [np.argmax(np.abs(v)) for v in build_state(cfg, chain).vectors]
        again = [np.argmax(np.abs(v)) for v in build_state(cfg, chain).vectors]
        assert occ[seed] == again  # reproducible from the seed
        assert occ[seed][:2] == [3, 3] and occ[seed][6:] == [3, 3]
    assert occ[5] != occ[6]


@pytest.mark.parametrize("state,needle", [({"beta": -1.0}, "beta"), ({"inside": 0}, "not used by state kind"),
                                          ({"region": None}, "region")])
def test_sampled_bubble_problems_are_reported(state, needle):
    raw = _cfg(**state)
    if state.get("region", 1) is None:
        del raw["state"]["region"]
    with pytest.raises(ConfigError, match=needle):
        validate_config(raw)


def _mixed_cfg(tmp_path, **evolution):
    return {"model": {"name": "xxz", "L": 6, "g": 1.0, "J": 0.4},
            "state": {"kind": "mixed_bubble", "region": [2, 4], "background": "down"},
            "evolution": dict({"method": "tebd2", "backend": "tenpy", "dt": 0.05, "t_final": 0.2,
                               "chi_max": 16}, **evolution),
            "observables": {"names": ["density"], "output_dt": 0.1},
            "output": {"path": str(tmp_path / "mixed.h5"), "figure": False}, "seed": 1}


def test_mixed_bubble_kind_runs_on_the_purification_and_resumes(tmp_path):
    from tnmbl.evolution import evolve_mixed
    from tnmbl.runs import runner
    from tnmbl.runs.storage import read_results
    from tnmbl.states.bubbles import mixed_bubble

    cfg = validate_config(_mixed_cfg(tmp_path))
    summary = runner.run(cfg)
    runner.resume(summary.results, t_final=0.4)
    res = read_results(summary.results)
    chain = build_chain(cfg)
    direct = evolve_mixed(chain, mixed_bubble(chain, (2, 4), "down"), "tebd2", dt=0.05, t_final=0.4,
                          output_dt=0.1, chi_max=16, observables=["density"])
    np.testing.assert_allclose(res["observables"]["density"][0], [-1, -1, 0, 0, -1, -1], atol=1e-12)
    np.testing.assert_allclose(res["time"], direct.times)
    np.testing.assert_allclose(res["observables"]["density"], direct["density"], atol=1e-10)
    assert np.ptp(res["observables"]["density"][:, 1]) > 1e-3  # it moved


def test_mixed_bubble_kind_refuses_a_backend_it_does_not_run_on(tmp_path):
    with pytest.raises(ConfigError, match="evolution.backend = 'quimb': a mixed bubble runs on TeNPy"):
        validate_config(_mixed_cfg(tmp_path, backend="quimb"))  # refused before any compute
    raw = _mixed_cfg(tmp_path)
    del raw["evolution"]["backend"]  # left out: resolved to the purification's backend, not by size
    cfg = validate_config(raw)
    assert cfg.evolution.backend == "tenpy" and cfg.evolution.conserve is False
