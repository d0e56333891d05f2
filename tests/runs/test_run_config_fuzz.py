"""Property-based fuzzing of configs: random mutations of a valid config (wrong types,
unknown keys, negative or zero numbers, missing sections, huge values) either validate or
raise a ConfigError listing the problems, never another exception from deep inside."""

import copy
import re
from pathlib import Path

import pytest
from helpers import small_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tnmbl.errors import ConfigError
from tnmbl.runs.config import TOP_KEYS, validate_config
from tnmbl.runs.runner import make_evolution

BASE = small_config(Path("/nonexistent-tnmbl-fuzz"))
SECTIONS = [k for k in BASE if isinstance(BASE[k], dict)]
LEAVES = [(s, k) for s in SECTIONS for k in BASE[s]] + [
    ("evolution", "conserve"), ("evolution", "backend"), ("evolution", "order"), ("state", "at"),
    ("output", "checkpoint_every_outputs"), ("model", "bc"), ("model", "eps"), ("state", "occupations")]

junk = st.one_of(
    st.none(), st.booleans(),
    st.integers(-3, 12), st.integers(10 ** 6, 10 ** 30), st.integers(-(10 ** 30), -1),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0, 0.0, -1.0, 1e300, 1e-300]),
    st.text(max_size=6), st.sampled_from(["exact", "tebd4", "neel", "auto", "density", "xxz", "periodic"]),
    st.lists(st.integers(-2, 4), max_size=7), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def mutated(draw):
    raw = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["set", "set", "set", "unknown", "delete_key", "delete_section", "section"]))
        if op == "set":
            s, k = draw(st.sampled_from(LEAVES))
            if isinstance(raw.get(s), dict):
                raw[s][k] = draw(junk)
        elif op == "unknown":
            where = draw(st.sampled_from([None] + SECTIONS))
            key = draw(st.text(min_size=1, max_size=8))
            (raw if where is None else raw.get(where, {}) if isinstance(raw.get(where), dict) else {})[key] = 1
        elif op == "delete_key":
            s, k = draw(st.sampled_from(LEAVES))
            if isinstance(raw.get(s), dict):
                raw[s].pop(k, None)
        elif op == "delete_section":
            raw.pop(draw(st.sampled_from(list(TOP_KEYS))), None)
        else:
            raw[draw(st.sampled_from(SECTIONS))] = draw(junk)
    return raw


# TeNPy warns while building bond Hamiltonians with a zero coupling (g = 0): harmless, reported
@pytest.mark.filterwarnings("ignore:can't detect total charge")
@settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_configs_give_config_errors_or_valid_runs(raw):
    try:
        cfg = validate_config(raw, name="fuzz")
    except ConfigError as exc:
        assert exc.problems, "a ConfigError must list its problems"
        for p in exc.problems:
            head = re.split(r": | = ", p, maxsplit=1)[0]
            assert head and len(p) > len(head) + 3, p
            assert head.split(".")[0].split("[")[0] in (*TOP_KEYS, "config") or "unknown section" in p, p
        return
    # valid: building the engine (no evolution) must work or fail with a ConfigError
    try:
        chain, evo = make_evolution(cfg)
    except ConfigError as exc:
        assert exc.problems
        return
    assert evo.engine.step == 0 and chain.L == cfg.model.params["L"]
    evo.engine.advance(1)  # one step: the engine works (and TeNPy sees its options used)
    row = evo.measure()
    assert row.step == 1 and abs(row.health["norm"] - 1) < 1e-8
