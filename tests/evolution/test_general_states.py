"""Initial states that are not product states: a TeNPy MPS, a quimb MPS or a
dense vector, on the TeNPy engines (TEBD, TDVP) and the exact engine."""

import numpy as np
import pytest

import tnmbl
from tnmbl.errors import StateError

OCC = [2, 2, 0, 0, 1, 0]
OPTS = dict(dt=0.05, t_final=0.5, output_dt=0.1, observables=["density", "energy_current", "entanglement"])


@pytest.fixture(scope="module")
def chain():
    return tnmbl.models.bose_hubbard(L=6, U=1.0, g=0.3, n_max=2)


def tenpy_product_mps(chain, occ, conserve=True):
    from tenpy.networks.mps import MPS

    from tnmbl.engines.tenpy_tebd import tenpy_site

    site = tenpy_site(chain.site, conserve)
    return MPS.from_product_state([site] * chain.L, occ, bc="finite", unit_cell_width=chain.L)


def quimb_product_mps(chain, occ):
    import quimb.tensor as qtn

    d = len(chain.site.charges)
    return qtn.MPS_product_state([np.eye(d)[o] for o in occ])


def ways(chain):
    prod = tnmbl.states.product(chain, occupations=OCC)
    return {"tenpy": tnmbl.states.from_mps(chain, tenpy_product_mps(chain, OCC)),
            "quimb": tnmbl.states.from_mps(chain, quimb_product_mps(chain, OCC)),
            "vector": tnmbl.states.from_vector(chain, prod.dense())}


@pytest.mark.parametrize("method", ["exact", "tebd2", "tdvp2"])
@pytest.mark.parametrize("way", ["tenpy", "quimb", "vector"])
def test_same_product_state_given_both_ways(chain, method, way):
    prod = tnmbl.states.product(chain, occupations=OCC)
    state = ways(chain)[way]
    np.testing.assert_allclose(state.dense(), prod.dense(), atol=1e-14)
    a = tnmbl.evolve(chain, prod, method, **OPTS)
    b = tnmbl.evolve(chain, state, method, **OPTS)
    assert b.meta["state"] == state.label
    for name in OPTS["observables"]:
        np.testing.assert_allclose(b[name], a[name], atol=1e-10, err_msg=f"{way} {method} {name}")


def test_an_entangled_mps_evolves_as_its_vector(chain):
    """A state that is no product state (the MPS after a TEBD run) evolves on TEBD as its dense
    vector does on the exact engine (to the Trotter error)."""
    prod = tnmbl.states.product(chain, occupations=OCC)
    first = tnmbl.evolve(chain, prod, "tebd2", dt=0.02, t_final=1.0, output_dt=1.0, observables=["density"],
                         backend="tenpy")
    mps = tnmbl.states.from_mps(chain, first.engine.psi, label="after t=1")
    assert first.engine.psi.entanglement_entropy().max() > 0.1
    vec = tnmbl.states.from_vector(chain, mps.dense())
    opts = dict(dt=0.02, t_final=0.4, output_dt=0.2, observables=["density", "entanglement"])
    ref = tnmbl.evolve(chain, vec, "exact", **opts)
    via_mps_exact = tnmbl.evolve(chain, mps, "exact", **opts)
    via_tebd = tnmbl.evolve(chain, mps, "tebd2", **opts)
    np.testing.assert_allclose(via_mps_exact["density"], ref["density"], atol=1e-12)
    np.testing.assert_allclose(via_tebd["density"], ref["density"], atol=1e-4)
    np.testing.assert_allclose(via_tebd["entanglement"], ref["entanglement"], atol=1e-4)
    assert np.abs(ref["density"][-1] - ref["density"][0]).max() > 1e-3  # it moved


def test_refused_where_not_taken(chain):
    state = ways(chain)["tenpy"]
    with pytest.raises(StateError) as err:
        tnmbl.evolve(chain, state, "tebd2", backend="quimb", **OPTS)
    assert err.value.key == "state" and "tenpy" in err.value.fix


def test_bad_states_are_refused(chain):
    prod = tnmbl.states.product(chain, occupations=OCC)
    with pytest.raises(StateError, match="entries"):
        tnmbl.states.from_vector(chain, prod.dense()[:-1])
    with pytest.raises(StateError, match="normalized"):
        tnmbl.states.from_vector(chain, 2 * prod.dense())
    assert tnmbl.states.from_vector(chain, 2 * prod.dense(), normalize=True).charge_definite
    other = tnmbl.models.bose_hubbard(L=5, U=1.0, g=0.3, n_max=2)
    with pytest.raises(StateError, match="L = 5"):
        tnmbl.states.from_mps(other, tenpy_product_mps(chain, OCC))
    with pytest.raises(StateError, match="TeNPy MPS or a quimb"):
        tnmbl.states.from_mps(chain, prod.dense())
    bigger = tnmbl.models.bose_hubbard(L=6, U=1.0, g=0.3, n_max=3)
    with pytest.raises(StateError, match="dimension"):
        tnmbl.states.from_mps(bigger, tenpy_product_mps(chain, OCC))


def test_conservation_follows_the_state(chain):
    vec = ways(chain)["vector"]
    mps = ways(chain)["tenpy"]
    assert vec.charge_definite and vec.total_charge == sum(OCC)
    assert tnmbl.evolve(chain, vec, "exact", **OPTS).meta["conserve"] is True
    assert tnmbl.evolve(chain, mps, "tebd2", **OPTS).meta["conserve"] is False
    with pytest.raises(tnmbl.OptionError) as err:
        tnmbl.evolve(chain, mps, "tebd2", conserve=True, **OPTS)
    assert err.value.key == "conserve"
