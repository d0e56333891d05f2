"""Output grids: the default measures at most every few steps, an explicit
``output_dt`` is exact, and ``n_log`` log-spaced output times work for every method."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tnmbl
from tnmbl.engines import METHODS
from tnmbl.timegrid import DEFAULT_ROWS, MIN_STRIDE, default_every, output_grid


@given(st.integers(0, 10**7))
def test_default_grid_rule(n_total):
    steps = output_grid(n_total)
    gaps = np.diff(steps)
    assert steps[0] == 0 and steps[-1] == n_total
    assert len(steps) <= DEFAULT_ROWS + 1  # the start and at most DEFAULT_ROWS rows after it
    assert np.all(gaps[:-1] >= MIN_STRIDE)  # only the last interval (to the final time) can be shorter
    assert np.all(gaps[:-1] == default_every(n_total))


def test_default_grid_examples():
    assert list(output_grid(10)) == [0, 4, 8, 10]  # a short run: every 4 steps, not every step
    assert len(output_grid(4000)) == 101 and default_every(4000) == 40
    assert list(output_grid(3)) == [0, 3]


def test_explicit_output_dt_is_exact():
    chain = tnmbl.models.xxz(L=4, g=1.0)
    psi = tnmbl.states.neel(chain)
    res = tnmbl.evolve(chain, psi, "exact", dt=0.05, t_final=0.3, output_dt=0.05, observables=["density"])
    assert np.allclose(res.times, np.arange(7) * 0.05)


@pytest.mark.parametrize("method", ["exact", "tebd2", "tdvp2"])
def test_log_spaced_outputs_on_quantum_engines(method):
    chain = tnmbl.models.xxz(L=6, g=1.0)
    psi = tnmbl.states.neel(chain)
    opts = dict(dt=0.05, t_final=2.0, observables=["density", "entanglement"])
    log = tnmbl.evolve(chain, psi, method, n_log=6, **opts)
    every = tnmbl.evolve(chain, psi, method, output_dt=0.05, **opts)
    steps = log.steps
    assert steps[0] == 0 and steps[-1] == 40 and len(steps) == len(np.unique(steps)) >= 5
    assert np.all(np.diff(np.diff(steps)) >= 0)  # log-spaced: growing intervals
    for name in ("density", "entanglement"):  # the same states as an every-step run at those steps
        np.testing.assert_allclose(log[name], every[name][steps], atol=1e-10)


def test_every_method_takes_n_log():
    assert all("n_log" in spec.takes for spec in METHODS.values())


def test_n_log_and_output_dt_together_are_refused():
    chain = tnmbl.models.xxz(L=4, g=1.0)
    with pytest.raises(tnmbl.OptionError) as err:
        tnmbl.Evolution(chain, tnmbl.states.neel(chain), "exact", dt=0.05, t_final=1.0, n_log=4, output_dt=0.1)
    assert err.value.key == "n_log" and "not both" in err.value.rule


def test_quantum_run_config_takes_n_log(tmp_path):
    import yaml

    from tnmbl.runs.cli import main

    raw = {"seed": 1, "model": {"name": "xxz", "L": 6, "g": 1.0},
           "state": {"kind": "neel"}, "evolution": {"method": "tebd2", "dt": 0.05, "t_final": 2.0, "chi_max": 16},
           "observables": {"names": ["density"], "n_log": 6},
           "output": {"path": str(tmp_path / "log.h5"), "figure": False}}
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    assert main(["run", str(cfg)]) == 0
    res = tnmbl.load(tmp_path / "log.h5")
    assert res.steps[0] == 0 and res.steps[-1] == 40 and np.all(np.diff(np.diff(res.steps)) >= 0)
