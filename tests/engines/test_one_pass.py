"""One-pass measurement of the TeNPy MPS engines (``expect_many``) against the per-operator
path (``expect``: TeNPy's ``expectation_value``, one contraction per operator), and the cache
of TeNPy operator arrays per chain.

The states are random MPS with truncated bonds (TeNPy's ``RandomUnitaryEvolution`` at a
small ``chi_max``), so the ``B`` tensors are right-canonical only up to the discarded weight:
the one-pass values must still agree within 1e-12 (they use the same ``theta`` of exactly the
operator's sites; a partial trace of a longer ``theta`` would differ at the truncation level).
"""

import numpy as np
import pytest

import tnmbl
from tnmbl.engines import EngineOptions, TenpyTDVP, TenpyTEBD
from tnmbl.engines import tenpy_parallel as tp
from tnmbl.engines import tenpy_tebd as tt
from tnmbl.errors import ObservableError, TnmblError
from tnmbl.evolution import Evolution
from tnmbl.observables import OBSERVABLES, get_observable


def models():
    """Every quantum model (nearest-neighbour ones, and the bath model with a range-2 term)."""
    bh = tnmbl.models.bose_hubbard(L=10, U=1.0, g=0.3, n_max=3, W=0.5, seed=1)
    xxz = tnmbl.models.xxz(L=12, g=1.0, J=0.4, W=2.0, seed=2)
    bath = tnmbl.models.xxz_with_bath(L=10, g=1.0, J=0.3, W=3.0, bath=(0, 4), bath_hx=0.6, seed=3)
    nnn = tnmbl.models.xxz_with_bath(L=10, g=0.3, J=0.1, W=1.0, bath=(0, 5), bath_hx=0.0, bath_W=0.2,
                                     bath_J2=0.2, seed=4)
    return {
        "bose_hubbard": (bh, tnmbl.states.product(bh, occupations=[2, 2, 0, 0, 1, 0, 2, 1, 3, 0])),
        "xxz": (xxz, tnmbl.states.neel(xxz)),
        "xxz_with_bath": (bath, tnmbl.states.domain_wall(bath)),
        "xxz_nnn": (nnn, tnmbl.states.neel(nnn)),
    }


MODELS = models()
assert {c.name for c, _ in MODELS.values()} >= {name for name, f in tnmbl.models.MODELS.items()
                                               if name in ("bose_hubbard", "xxz", "xxz_with_bath")}


def random_engine(name, seed, chi=6, conserve=None):
    """A TeNPy engine of model ``name`` whose MPS is random with truncated bonds."""
    from tenpy.algorithms.tebd import RandomUnitaryEvolution

    chain, state = MODELS[name]
    conserve = chain.conserves_charge if conserve is None else conserve
    method, cls = ("tebd2", TenpyTEBD) if chain.max_range == 1 else ("tdvp2", TenpyTDVP)
    eng = cls(chain, state, EngineOptions(method=method, dt=0.1, chi_max=chi, conserve=conserve))
    np.random.seed(seed)
    rue = RandomUnitaryEvolution(eng.psi, {"N_steps": 4, "trunc_params": {"chi_max": chi, "svd_min": 1e-14}})
    rue.run()
    assert max(eng.psi.chi) == chi and float(rue.trunc_err.eps) > 1e-6  # bonds truncated
    return eng


def observable_names(chain):
    names = [n for n, o in OBSERVABLES.items() if "quantum" in o.kinds and o.local_ops is not None]
    return names + [f"onsite:{op}" for op in chain.site.ops if op != "Id"]


def requests_of(chain, conserve):
    """Every observable's operator list that both paths can measure (Hermitian, charge-conserving
    when conserving), and the names of the rest."""
    requests, refused = {}, []
    for name in observable_names(chain):
        try:
            ops = get_observable(name, chain).local_ops(chain)
        except TnmblError:
            refused.append(name)
            continue
        requests[name] = ops
    return requests, refused


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", list(MODELS))
def test_one_pass_equals_per_operator(name, seed):
    eng = random_engine(name, seed)
    requests, _ = requests_of(eng.chain, eng.options.conserve)
    charged = {}
    if eng.options.conserve:  # charged operators: both paths refuse them
        for key in list(requests):
            try:
                eng.expect(key, requests[key])
            except ObservableError:
                charged[key] = requests.pop(key)
    assert "density" in requests
    if eng.chain.max_range == 1:  # local energies and currents are defined for nearest-neighbour chains
        assert {"energy_density", "energy_current"} <= set(requests)
        assert max(len(op.sites) for ops in requests.values() for op in ops) == 3
    one = eng.expect_many(requests)
    for key, ops in requests.items():
        per_op = eng.expect(key, ops)
        assert one[key].shape == per_op.shape
        np.testing.assert_allclose(one[key], per_op, rtol=0, atol=1e-12, err_msg=key)
    assert np.ptp(one["density"]) > 1e-3  # not a trivial state
    for key, ops in charged.items():
        with pytest.raises(ObservableError, match="does not conserve"):
            eng.expect_many({key: ops})


def test_one_pass_without_conservation():
    eng = random_engine("xxz", 3, conserve=False)
    requests, _ = requests_of(eng.chain, False)
    assert "onsite:X" in requests  # charged operators are measured without conservation
    one = eng.expect_many(requests)
    for key, ops in requests.items():
        np.testing.assert_allclose(one[key], eng.expect(key, ops), rtol=0, atol=1e-12, err_msg=key)


def test_probe_rows_measure_in_one_pass_and_build_no_operator_arrays(monkeypatch):
    chain, state = MODELS["bose_hubbard"]
    calls = []
    monkeypatch.setattr(TenpyTEBD, "expect", lambda self, key, ops: calls.append(key))
    before = tt.NPC_BUILDS["count"]
    ev = Evolution(chain, state, "tebd2", t_final=0.2, dt=0.1, backend="tenpy", chi_max=8,
                   observables=["density", "energy_density", "energy_current", "entanglement"])
    rows = list(ev)
    assert len(rows) > 1 and not calls and tt.NPC_BUILDS["count"] == before


def test_operator_arrays_are_built_once_per_chain():
    chain = tnmbl.models.bose_hubbard(L=6, U=1.0, g=0.3, n_max=3, seed=5)  # a chain no other test measured
    state = tnmbl.states.product(chain, occupations=[1, 2, 0, 3, 1, 0])
    ops = get_observable("energy_current", chain).local_ops(chain)

    def builds_of_one_evolution(chain, state):
        before = tt.NPC_BUILDS["count"]
        ev = Evolution(chain, state, "tebd2", t_final=0.1, dt=0.1, backend="tenpy", observables=["density"])
        ev.engine.expect("energy_current", ops)
        ev.engine.expect("energy_current", ops)
        return tt.NPC_BUILDS["count"] - before

    assert builds_of_one_evolution(chain, state) == len(ops)
    assert builds_of_one_evolution(chain, state) == 0  # a second Evolution on the same chain
    other = tnmbl.models.bose_hubbard(L=6, U=1.0, g=0.3, n_max=3, seed=5)  # equal, but another chain object
    assert builds_of_one_evolution(other, tnmbl.states.product(other, occupations=[1, 2, 0, 3, 1, 0])) == len(ops)


def test_one_pass_on_the_pool_equals_serial_bitwise(monkeypatch):
    monkeypatch.setattr(tp, "PARALLEL_MIN_BONDS", 2)
    monkeypatch.setattr(tp, "PARALLEL_MIN_CHI", 1)
    chain, state = MODELS["bose_hubbard"]
    opts = EngineOptions(method="tebd2", dt=0.1, chi_max=8, conserve=True, extra={"threads": 2})
    eng = TenpyTEBD(chain, state, opts)
    eng.advance(10)
    requests, _ = requests_of(chain, True)
    pooled = eng.expect_many(requests)
    assert eng.tebd.parallel_measurements == 1
    monkeypatch.setattr(eng.tebd, "threads", 1)  # same engine, same MPS, sites in turn
    serial = eng.expect_many(requests)
    assert eng.tebd.parallel_measurements == 1
    for key, ops in requests.items():
        assert np.array_equal(pooled[key], serial[key]), key
        np.testing.assert_allclose(pooled[key], eng.expect(key, ops), rtol=0, atol=1e-12, err_msg=key)
