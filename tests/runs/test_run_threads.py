"""``evolution.threads`` of run configs: TEBD on TeNPy updates the bonds of a Trotter layer on
that many threads (tnmbl.engines.tenpy_tebd), the same state as the serial update; a method
that does not take the key refuses it at validation."""

import numpy as np
import pytest
from helpers import small_config

from tnmbl.engines import tenpy_parallel as tp
from tnmbl.errors import ConfigError
from tnmbl.runs import runner
from tnmbl.runs.config import validate_config
from tnmbl.runs.storage import read_results


def _run(tmp_path, name, threads):
    raw = small_config(tmp_path, name=name)
    raw["evolution"].update(backend="tenpy", chi_max=4)  # chi 4 < the largest bond: truncation active
    if threads is not None:
        raw["evolution"]["threads"] = threads
    cfg = validate_config(raw, name=name)
    _, evo = runner.make_evolution(cfg)
    assert evo.engine.threads == threads  # the key reaches the engine
    return read_results(runner.run(cfg).results)


def test_threads_key_reaches_the_engine_and_gives_the_serial_results(tmp_path, monkeypatch):
    # the chain is short: lower the thresholds so that the layers really run on the pool
    monkeypatch.setattr(tp, "PARALLEL_MIN_BONDS", 1)
    monkeypatch.setattr(tp, "PARALLEL_MIN_CHI", 1)
    serial, one, two = _run(tmp_path, "s", None), _run(tmp_path, "one", 1), _run(tmp_path, "two", 2)
    for name in serial["observables"]:
        assert np.array_equal(one["observables"][name], two["observables"][name])  # bitwise, any thread count
        # against TeNPy's own serial engine: numpy's and scipy's SVD may round differently
        assert np.allclose(serial["observables"][name], two["observables"][name], rtol=0, atol=1e-12)
    assert np.array_equal(one["health"]["truncation_error"], two["health"]["truncation_error"])
    assert two["health"]["truncation_error"][-1] > 0


@pytest.mark.parametrize("method", ["tdvp2", "exact"])
def test_threads_on_a_method_that_does_not_take_it_is_refused(tmp_path, method):
    raw = small_config(tmp_path, method=method)
    raw["evolution"]["threads"] = 2
    with pytest.raises(ConfigError) as err:
        validate_config(raw, name="x")
    assert err.value.keys == ["evolution.threads"]
    assert "tebd2" in str(err.value)  # the fix names the methods that take it
