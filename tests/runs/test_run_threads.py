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
    assert evo.engine.threads == (tp.default_threads() if threads is None else threads)  # the key reaches the engine
    return read_results(runner.run(cfg).results)


def test_threads_key_reaches_the_engine_and_gives_the_serial_results(tmp_path, monkeypatch):
    # the chain is short: lower the thresholds so that the layers really run on the pool
    monkeypatch.setattr(tp, "PARALLEL_MIN_BONDS", 1)
    monkeypatch.setattr(tp, "PARALLEL_MIN_CHI", 1)
    monkeypatch.setenv(tp.THREADS_ENV, "3")  # the default: the cores the run is allowed
    default, one, two = _run(tmp_path, "d", None), _run(tmp_path, "one", 1), _run(tmp_path, "two", 2)
    for name in default["observables"]:
        assert np.array_equal(one["observables"][name], two["observables"][name])  # bitwise, any thread count
        assert np.array_equal(default["observables"][name], one["observables"][name])
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


def test_cli_threads_sets_the_runs_cores_and_keeps_blas_at_one(monkeypatch):
    import numba
    from threadpoolctl import threadpool_info

    from tnmbl.runs import cli

    monkeypatch.delenv(tp.THREADS_ENV, raising=False)
    monkeypatch.setattr(tp.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(numba, "set_num_threads", lambda n: seen.append(("numba", n)))  # not this process's pool
    seen = []

    def fake_run(args):
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        seen.append((tp.default_threads(), set(blas)))
        return 0

    monkeypatch.setattr(cli, "cmd_run", fake_run)
    assert cli.main(["run", "x.yaml", "--threads", "2"]) == 0
    assert cli.main(["run", "x.yaml"]) == 0
    assert seen[0] == ("numba", min(2, numba.config.NUMBA_NUM_THREADS)) and seen[1][0] == 2  # --threads N: TEBD, numba
    assert seen[2][0] == 4  # no --threads: every core the run is allowed; numba left alone
    assert all(blas <= {1} for _, blas in seen[1:])  # BLAS at one thread under the thread pool
    assert tp.THREADS_ENV not in tp.os.environ  # restored after the command
    assert cli.main(["run", "x.yaml", "--threads", "0"]) == 1
