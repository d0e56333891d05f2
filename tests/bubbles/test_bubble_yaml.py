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
