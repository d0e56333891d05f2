"""Users' own physics from YAML: a model, an initial state and observables named by import
path (``"module:callable"``) or registered in Python, validated against their signatures
before compute, run, stored, resumed, and aggregated in sweep summaries like the built-in ones."""

import sys
import textwrap

import h5py
import numpy as np
import pytest
import yaml
from helpers import StopAfter, small_config

import tnmbl
from tnmbl.chain import LocalOp, boson
from tnmbl.errors import ConfigError, ModelError, ObservableError
from tnmbl.observables import OBSERVABLES, register, unregister
from tnmbl.runs import runner
from tnmbl.runs.cli import main
from tnmbl.runs.config import build_chain, validate_config
from tnmbl.runs.storage import read_results

MODULE = "tnmbl_user_physics"
SOURCE = textwrap.dedent('''
    """A user's own model, state and observable (an extended Bose-Hubbard chain)."""
    import numpy as np

    from tnmbl.chain import Bond, Chain, LocalOp, OnSite, boson
    from tnmbl.observables import observable
    from tnmbl.states.product import product

    BUILT = []

    def extended_bh(L: int, U: float = 1.0, g: float = 0.3, V: float = 0.2, n_max: int = 2):
        """Bose-Hubbard with a nearest-neighbour density interaction V n_x n_x+1."""
        BUILT.append(L)
        site = boson(n_max).with_ops(P=np.diag((-1.0) ** np.arange(n_max + 1)))
        terms = [OnSite("NN", U), Bond(("Bd", "B"), g, hc=True), Bond(("N", "N"), V)]
        return Chain(L, site, terms, name="extended_bh", params=dict(L=L, U=U, g=g, V=V, n_max=n_max))

    def left_filled(chain, n: int = 1, width: int = 2):
        """n bosons on each of the first `width` sites, none elsewhere."""
        return product(chain, [n if x < width else 0 for x in range(chain.L)])

    def _staggered(chain):
        n = chain.site.op("N")
        return [LocalOp((x,), (-1.0) ** x * n.astype(complex)) for x in range(chain.L)]

    STAGGERED = observable("staggered", _staggered, description="(-1)^x <n_x>", units="particles", dim="site")

    NOT_A_FUNCTION = 3
''')


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """The module above, importable as ``tnmbl_user_physics`` for this test only."""
    (tmp_path / f"{MODULE}.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    yield __import__(MODULE)
    sys.modules.pop(MODULE, None)


def user_config(tmp_path, name="user", **output):
    raw = small_config(tmp_path, name=name, **output)
    raw["model"] = {"factory": f"{MODULE}:extended_bh", "L": 6, "V": 0.4, "g": 0.25}
    raw["state"] = {"factory": f"{MODULE}:left_filled", "args": {"n": 2, "width": 3}}
    raw["observables"]["names"] = ["density", "energy_current", f"{MODULE}:STAGGERED", "onsite:P"]
    return raw


def test_user_factories_run_from_yaml_and_match_the_chain_built_in_python(tmp_path, user_module):
    cfg = validate_config(user_config(tmp_path), name="user")
    assert cfg.model.factory == f"{MODULE}:extended_bh" and cfg.model.params["U"] == 1.0  # default filled in
    summary = runner.run(cfg)
    assert summary.status == "finished"
    res = read_results(summary.results)
    assert {"density", "energy_current", f"{MODULE}:STAGGERED", "onsite:P"} <= set(res["observables"])
    # the same chain and state built in Python, evolved by the library
    chain = user_module.extended_bh(6, V=0.4, g=0.25)
    state = user_module.left_filled(chain, n=2, width=3)
    ref = tnmbl.evolve(chain, state, "tebd2", dt=0.05, t_final=0.6, chi_max=16, output_dt=0.1,
                       observables=["density", "energy_current", f"{MODULE}:STAGGERED", "onsite:P"])
    assert not np.allclose(ref["density"][-1], ref["density"][0])  # something moved
    for k in ref.data:
        np.testing.assert_allclose(res["observables"][k], ref[k], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res["observables"][f"{MODULE}:STAGGERED"],
                               res["observables"]["density"] * (-1.0) ** np.arange(6), atol=1e-12)
    with h5py.File(summary.results, "r") as f:
        assert f[f"observables/{MODULE}:STAGGERED"].attrs["units"] == "particles"
        stored = yaml.safe_load(f.attrs["config"])
    # the resolved config records the factories, so the stored config rebuilds the same run
    assert stored["model"]["factory"] == f"{MODULE}:extended_bh" and "name" not in stored["model"]
    assert stored["state"]["factory"] == f"{MODULE}:left_filled"
    assert validate_config(stored, name="user").to_dict() == cfg.to_dict()
    assert build_chain(cfg).params == chain.params


def test_user_factories_resume_to_the_uninterrupted_run(tmp_path, user_module):
    part = validate_config(user_config(tmp_path, name="part", checkpoint_every_outputs=2), name="part")
    with pytest.raises(KeyboardInterrupt):
        runner.run(part, progress=StopAfter(4))
    summary = runner.resume(part.results_path)
    assert summary.status == "finished"
    full = validate_config(user_config(tmp_path, name="full"), name="full")
    runner.run(full)
    a, b = read_results(part.results_path), read_results(full.results_path)
    for k in b["observables"]:
        np.testing.assert_allclose(a["observables"][k], b["observables"][k], rtol=0, atol=1e-12)


@pytest.mark.parametrize("where, value, key, says", [
    ("model.factory", "tnmbl_user_physic:extended_bh", "model.factory", "does not import"),
    ("model.factory", f"{MODULE}:extended_hb", "model.factory", "did you mean 'tnmbl_user_physics:extended_bh'"),
    ("model.factory", f"{MODULE}:NOT_A_FUNCTION", "model.factory", "not a callable"),
    ("model.factory", f"{MODULE}.extended_bh", "model.factory", "must have the form"),
    ("model.Vv", 0.3, "model.Vv", "did you mean 'V'"),
    ("model.V", "strong", "model.V", "must be a finite number"),
    ("state.factory", f"{MODULE}:left_fill", "state.factory", "did you mean"),
    ("state.args", {"n": 2, "widht": 3}, "state.args.widht", "did you mean 'width'"),
    ("state.args", {"n": 2.5}, "state.args.n", "must be an integer"),
])
def test_a_misspelled_factory_or_parameter_is_refused_before_compute(tmp_path, user_module, monkeypatch, capsys,
                                                                      where, value, key, says):
    raw = user_config(tmp_path)
    section, k = where.split(".")
    raw[section][k] = value
    with pytest.raises(ConfigError) as err:
        validate_config(raw, name="user")
    problems = [p for p in err.value.problems if p.key == key]
    assert problems and says in problems[0], err.value
    # the command refuses it too, before any compute: no chain of the model is built, no file written
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setattr("tnmbl.runs.cli.run", lambda *a, **kw: pytest.fail("computed an invalid config"))
    assert main(["run", str(path)]) != 0
    assert key in capsys.readouterr().err
    assert not (tmp_path / "user.h5").exists()


def test_model_needs_exactly_one_of_name_and_factory(tmp_path, user_module):
    raw = user_config(tmp_path)
    raw["model"]["name"] = "bose_hubbard"
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    assert "model.factory" in err.value.keys and "not both" in str(err.value)
    raw["model"].pop("factory")
    raw["model"].pop("name")
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    assert "model.name" in err.value.keys and "model.factory" in str(err.value)


def test_a_factory_that_does_not_return_a_chain_is_refused(tmp_path, user_module):
    user_module.not_a_chain = lambda L: [L]
    raw = user_config(tmp_path)
    raw["model"] = {"factory": f"{MODULE}:not_a_chain", "L": 6}
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    assert err.value.keys == ["model.factory"] and "not a tnmbl.chain.Chain" in str(err.value)


def test_a_state_factory_that_raises_is_refused_at_its_key(tmp_path, user_module):
    def broken(chain, n: int = 1):
        raise RuntimeError("no such filling")
    user_module.broken = broken
    raw = user_config(tmp_path)
    raw["state"] = {"factory": f"{MODULE}:broken", "args": {"n": 2}}
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    assert err.value.keys == ["state.factory"] and "RuntimeError: no such filling" in str(err.value)


def test_an_unknown_observable_path_is_refused_at_its_key(tmp_path, user_module):
    raw = user_config(tmp_path)
    raw["observables"]["names"] = ["density", f"{MODULE}:STAGERED"]
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    assert err.value.keys == ["observables.names"] and "did you mean" in str(err.value)
    raw["observables"]["names"] = ["density", f"{MODULE}:left_filled"]  # a function, not an Observable
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    assert "not a tnmbl Observable" in str(err.value)


@pytest.fixture
def parity():
    """A registered observable: the boson parity (-1)^n_x on each site."""
    def ops(chain):
        p = np.diag((-1.0) ** np.arange(chain.site.dim)).astype(complex)
        return [LocalOp((x,), p) for x in range(chain.L)]
    obs = register("parity", ops, description="(-1)^n_x", units="1", dim="site")
    yield obs
    unregister("parity")


def test_a_registered_observable_appears_in_results_and_sweep_summary(tmp_path, user_module, parity):
    from tnmbl.runs.sweep import plan_sweep, read_summary, run_sweep

    raw = user_config(tmp_path)
    raw["observables"]["names"] = ["density", "parity", f"{MODULE}:STAGGERED"]
    raw["output"] = {"figure": True}
    raw.update(ensemble={"members": 2, "root_seed": 3}, sweep={"grid": {"model.V": [0.0, 0.5]}},
               execution={"output_dir": str(tmp_path / "sw"), "workers": 0})
    plan = plan_sweep(raw, name="user_sweep")
    out = run_sweep(plan)
    assert not out["failed"] and len(out["actions"]) == 4
    summary = read_summary(out["summary"])
    for k, point in enumerate(summary["points"]):
        members = [read_results(m.path) for m in plan.members if m.point == k]
        for name in ("parity", f"{MODULE}:STAGGERED"):
            assert name in members[0]["observables"]
            np.testing.assert_allclose(point["observables"][name]["mean"],
                                       np.mean([r["observables"][name] for r in members], axis=0), rtol=1e-12)
        # parity of a product state with 2 bosons on sites 0..2 and 0 elsewhere: +1 everywhere at t = 0
        np.testing.assert_allclose(members[0]["observables"]["parity"][0], 1.0, atol=1e-12)
        assert members[0]["units"]["parity"] == "1"
        assert not np.allclose(members[0]["observables"]["parity"][-1], 1.0)
    # the figure shows it like a built-in observable
    assert any(p.suffix == ".png" for p in (tmp_path / "sw").rglob("*.png"))


def test_register_refuses_builtin_and_twice(parity):
    with pytest.raises(ObservableError) as err:
        register("density", parity.local_ops)
    assert err.value.key == "observable" and "built-in" in str(err.value)
    with pytest.raises(ObservableError) as err:
        register("parity", parity.local_ops)
    assert "replace=True" in str(err.value)
    assert register("parity", parity.local_ops, replace=True) is OBSERVABLES["parity"]
    with pytest.raises(ObservableError) as err:
        register("bad", parity.local_ops, dim="plaquette")
    assert err.value.key == "bad.dim"


def test_with_ops_adds_operators_and_checks_conjugates():
    site = boson(2)
    m = np.diag([1.0, 2.0], k=1)  # not Hermitian
    new = site.with_ops(C=m, Cd=m.T)
    assert new.hc["C"] == "Cd" and new.hc["Cd"] == "C" and "C" not in site.ops
    assert new.with_ops(P=np.eye(3)).hc["P"] == "P"  # Hermitian: its own conjugate
    assert site.with_ops(A=2 * site.ops["B"] / 2).hc["A"] == "Bd"  # an existing operator is its conjugate
    with pytest.raises(ModelError) as err:
        site.with_ops(C=m * 3)
    assert err.value.key == "ops.C" and "Hermitian conjugate" in str(err.value)
    with pytest.raises(ModelError) as err:
        site.with_ops(C=m, Cd=m.T, hc={"C": "N"})
    assert err.value.key == "hc.C"
    with pytest.raises(ModelError) as err:
        site.with_ops(N=np.eye(3))
    assert err.value.key == "ops.N"
    with pytest.raises(ModelError) as err:
        site.with_ops(Q=np.eye(2))
    assert err.value.key == "ops.Q" and "3 x 3" in str(err.value)
