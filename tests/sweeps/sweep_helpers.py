"""Helpers of the sweep tests: a small sweep (XXZ L = 6, 2 x 2 grid x 3 seeds) as YAML."""

import numpy as np
import yaml


def sweep_raw(out_dir, members=3, **evolution):
    """A valid sweep dict: 2 swept parameters (model.W, model.J) x ``members`` seeds."""
    return {
        "description": "sweep test",
        "model": {"name": "xxz", "L": 6, "g": 1.0, "J": 0.3, "W": 1.0},
        "state": {"kind": "neel"},
        "evolution": {"method": "tebd2", "dt": 0.1, "t_final": 0.6, "chi_max": 8, **evolution},
        "observables": {"names": ["density", "energy_density"], "output_dt": 0.2},
        "output": {"checkpoint_every_outputs": 1},
        "ensemble": {"members": members, "root_seed": 2026},
        "sweep": {"grid": {"model.W": [0.5, 3.0], "model.J": [0.2, 0.4]}},
        "execution": {"output_dir": str(out_dir)},
        "aggregate": {"n_boot": 200},
    }


def write_yaml(path, raw):
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def assert_same_summary(a, b, atol=1e-12):
    """Two read_summary() dicts hold the same points, times and statistics."""
    assert len(a["points"]) == len(b["points"])
    for pa, pb in zip(a["points"], b["points"]):
        assert pa["params"] == pb["params"]
        assert pa["seeds"] == pb["seeds"]
        np.testing.assert_allclose(pa["time"], pb["time"], rtol=0, atol=1e-12)
        assert set(pa["observables"]) == set(pb["observables"])
        for name, oa in pa["observables"].items():
            for stat in ("mean", "sem", "lo", "hi"):
                np.testing.assert_allclose(oa[stat], pb["observables"][name][stat], rtol=0, atol=atol,
                                           err_msg=f"{pa['params']} {name} {stat}")


def completions(out_dir):
    """{member id: number of completions} from the sweep's completions.log."""
    log = out_dir / "completions.log"
    counts = {}
    if log.exists():
        for line in log.read_text().splitlines():
            mid = line.split()[0]
            counts[mid] = counts.get(mid, 0) + 1
    return counts
