"""Config validation: defaults written back, every problem at once, safe YAML, overrides."""

import pytest
import yaml
from helpers import small_config, write_config
from pydantic import ValidationError

from tnmbl.errors import ConfigError
from tnmbl.runs.config import load_config, parse_yaml, set_override, validate_config


def problems_of(raw):
    with pytest.raises(ConfigError) as info:
        validate_config(raw)
    return info.value.problems


def test_defaults_are_resolved_and_written_back(tmp_path):
    raw = small_config(tmp_path)
    del raw["seed"], raw["observables"]["output_dt"], raw["model"]["n_max"]
    raw["evolution"]["chi_max"] = 64  # chi * d = 320 (n_max 4): TeNPy (engines.default_backend)
    cfg = validate_config(raw, name="x")
    d = yaml.safe_load(cfg.to_yaml())
    assert d["evolution"]["backend"] == "tenpy" and d["evolution"]["order"] == 2
    assert d["evolution"]["conserve"] is True                      # 'auto' resolved
    assert d["model"]["n_max"] == 4 and d["model"]["bc"] == "open"  # factory defaults
    assert isinstance(d["seed"], int) and d["model"]["seed"] == d["seed"]
    assert d["observables"]["output_dt"] == pytest.approx(0.2)    # 12 steps -> every 4 (timegrid.default_every)
    assert d["output"]["checkpoint_every_s"] == 300.0
    # the resolved config validates to itself
    assert validate_config(d, name="x").to_dict() == cfg.to_dict()


def test_every_problem_at_once_with_path_value_rule_and_hint():
    raw = {"model": {"name": "bose_hubard", "L": 6},
           "state": {"kind": "bubbel", "regon": [1, 2]},
           "evolution": {"method": "tebd3", "ordr": 2, "dt": -0.1, "t_final": "10", "chi_max": 2.5},
           "observables": {"names": ["densty"], "output_dt": 0},
           "outptu": {}, "seed": -3}
    probs = problems_of(raw)
    text = "\n".join(probs)
    for expected in ["evolution.ordr: unknown key; did you mean 'order'?",
                     "outptu: unknown section; did you mean 'output'?",
                     "state.regon: unknown key; did you mean 'region'?",
                     "state.kind = 'bubbel': unknown initial state; did you mean 'bubble'?",
                     "evolution.method = 'tebd3': unknown method; did you mean",
                     "evolution.dt = -0.1: must be greater than 0",
                     "evolution.t_final = '10': must be a valid number",
                     "evolution.chi_max = 2.5",
                     "model.name = 'bose_hubard': unknown model; did you mean 'bose_hubbard'?",
                     "observables.names", "did you mean 'density'?",
                     "observables.output_dt = 0", "seed = -3"]:
        assert expected in text, expected
    assert len(probs) >= 12


def test_model_params_checked_against_factory_signature(tmp_path):
    raw = small_config(tmp_path)
    raw["model"]["UU"] = 2.0
    raw["model"]["g"] = "strong"
    del raw["model"]["L"]
    text = "\n".join(problems_of(raw))
    assert "model.UU: unknown parameter of model 'bose_hubbard'; did you mean 'U'?" in text
    assert "model.g = 'strong': must be a finite number" in text
    assert "model.L: required parameter of model 'bose_hubbard' is missing" in text


def test_problems_found_when_building_chain_state_and_observables(tmp_path):
    raw = small_config(tmp_path)
    raw["state"] = {"kind": "product", "occupations": [3, 0, 0, 0, 0, 0]}
    raw["observables"]["names"] = ["density", "onsite:Q"]
    text = "\n".join(problems_of(raw))
    assert "state.occupations[0] = 3" in text and "n_max = 2" in text
    assert "observables.names[1] = 'onsite:Q'" in text


def test_cross_checks_name_value_and_fix(tmp_path):
    raw = small_config(tmp_path)
    raw["evolution"]["dt"] = 0.07
    raw["state"]["at"] = 3
    raw["evolution"]["order"] = 4
    text = "\n".join(problems_of(raw))
    assert "evolution.t_final = 0.6: evolution.t_final / evolution.dt = 0.6 / 0.07 = 8.57143 must be an integer" \
        in text and "use evolution.t_final = 0.63" in text
    assert "state.at = 3: not used by state kind 'bubble'" in text
    assert "evolution.order = 4: method 'tebd2' is of order 2" in text
    bath = {"model": {"name": "xxz_with_bath", "L": 6, "bath": [0, 3]}, "state": {"kind": "neel"},
            "evolution": {"t_final": 0.1, "conserve": True}}
    assert any("evolution.conserve = True" in p and "does not conserve" in p for p in problems_of(bath))


def test_huge_values_are_refused_before_any_compute(tmp_path):
    raw = small_config(tmp_path)
    raw["model"]["L"] = 10 ** 9
    raw["evolution"].update(dt=1e-9, t_final=1e6, chi_max=10 ** 12)
    text = "\n".join(problems_of(raw))
    assert "model.L = 1000000000: must lie in [2, 100000]" in text
    assert "steps is above the limit" in text
    assert "evolution.chi_max = 1000000000000" in text


def test_config_is_frozen(tmp_path):
    cfg = validate_config(small_config(tmp_path))
    with pytest.raises(ValidationError):
        cfg.evolution.dt = 1.0


def test_python_tags_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    text = f"model: !!python/object/apply:os.system ['touch {marker}']\nstate: {{kind: neel}}\n"
    path = tmp_path / "evil.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "python tags (!!python/...) are refused" in str(info.value)
    assert not marker.exists()
    with pytest.raises(ConfigError):
        parse_yaml("a: !!python/name:os.system\n")


def test_overrides_are_yaml_values(tmp_path):
    raw = small_config(tmp_path)
    path = write_config(tmp_path, raw)
    cfg = load_config(path, ["evolution.chi_max=32", "model.g=0.05", "observables.names=[density]"])
    assert cfg.evolution.chi_max == 32 and cfg.model.params["g"] == 0.05
    assert cfg.observables.names == ["density"]
    with pytest.raises(ConfigError, match="must be key=value"):
        set_override({}, "evolution.chi_max")
    with pytest.raises(ConfigError) as info:
        load_config(path, ["evolution.chi_max=many"])
    assert "evolution.chi_max = 'many'" in str(info.value)


def test_not_a_mapping_and_missing_sections():
    assert problems_of([1, 2]) == ["config = [1, 2]: must be a mapping with sections model, state, evolution, "
                                   "observables, output, correlation, seed, description"]
    probs = problems_of({"evolution": {"t_final": 1.0}})
    assert "model: required section is missing" in probs and "state: required section is missing" in probs


def test_method_must_accept_the_model_and_array_backend_the_backend():
    """accepts() and the array backends are checked at validation, all problems at once."""
    raw = {"model": {"name": "xxz_with_bath", "L": 8, "bath": [0, 4], "bath_J2": 0.3},
           "state": {"kind": "neel"},
           "evolution": {"method": "tebd2", "t_final": 1.0, "backend": "tenpy", "array_backend": "torch"}}
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    text = "\n".join(err.value.problems)
    assert "evolution.method = 'tebd2': tebd2 takes nearest-neighbour terms only" in text and "tdvp" in text
    assert "evolution.array_backend = 'torch': backend 'tenpy' runs on numpy" in text
    raw["evolution"] = {"method": "tdvp2", "t_final": 1.0, "dt": 0.05}
    cfg = validate_config(raw)
    assert cfg.evolution.backend == "tenpy"


def test_problems_carry_their_config_key_value_rule_and_fix(tmp_path):
    """Each problem is a Problem whose attributes say where and what, including those raised by the
    chain, state and engine constructors (moved to their config key, not parsed from the text)."""
    raw = small_config(tmp_path)
    raw["state"] = {"kind": "product", "occupations": [3, 0, 0, 0, 0, 0]}
    raw["observables"]["names"] = ["density", "onsite:Q"]
    raw["evolution"]["ordr"] = 2
    probs = {p.key: p for p in problems_of(raw)}
    assert set(probs) == {"state.occupations[0]", "observables.names[1]", "evolution.ordr"}
    occ = probs["state.occupations[0]"]
    assert occ.value == 3 and "n_max = 2" in occ.rule and occ.fix.startswith("raise n_max")
    assert probs["observables.names[1]"].value == "onsite:Q"
    dnls = {"model": {"name": "dnls", "L": 8}, "seed": 1,
            "state": {"kind": "bubble", "region": [2, 4], "inside": 1.0, "background": "inf"},
            "evolution": {"method": "split2", "dt": 0.05, "t_final": 0.1}}
    (p,) = problems_of(dnls)
    assert (p.key, p.value) == ("state.background", float("inf"))    # the factory's `outside`
    dnls["state"] = {"kind": "langevin", "beta": 1.0, "t_th": 1.0}
    (p,) = problems_of(dnls)
    assert (p.key, p.value) == ("state.kind", "langevin") and "rotor" in p.rule
    assert all(p.key for p in problems_of({"model": {"name": "xxz"}, "state": {"kind": "neel", "x": 1},
                                          "evolution": {"t_final": -1}, "outptu": 1}))


def test_model_parameter_types_come_from_the_factory_annotations():
    from tnmbl.runs.config import model_signature

    sig = {k: kind for k, (kind, _) in model_signature("xxz_with_bath").items()}
    assert sig["L"] == "int" and sig["g"] == "float" and sig["bath"] == "pair"
    assert sig["bath_g"] == "float?" and sig["seed"] == "seed"
    assert model_signature("bose_hubbard")["eps"][0] == "array"


def test_state_kinds_are_read_from_one_table(tmp_path, monkeypatch):
    """A kind added to tnmbl.states.kinds is accepted and built by the config layer."""
    from tnmbl.states import kinds, neel

    calls = []
    monkeypatch.setitem(kinds.STATE_KINDS, "flipped_neel", kinds.StateKind(
        lambda chain, args, seed, preview: calls.append(args) or neel(chain, args.get("low"), args.get("high")),
        ("high", "low")))
    raw = small_config(tmp_path)
    raw["state"] = {"kind": "flipped_neel", "low": 2}
    cfg = validate_config(raw)
    assert cfg.state.kind == "flipped_neel" and calls == [{"low": 2}]
    raw["state"] = {"kind": "flipped_neel", "at": 2}
    assert any(p.key == "state.at" and "not used by state kind 'flipped_neel'" in p for p in problems_of(raw))
