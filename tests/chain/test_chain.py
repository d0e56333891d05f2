"""Chain abstraction: validation, derived local operators, and the energy split."""

import numpy as np
import pytest

import tnmbl
from tnmbl.chain import (
    Bond,
    Chain,
    OnSite,
    boson,
    charge_currents,
    energy_currents,
    energy_densities,
    hamiltonian_terms,
    spin_half,
)
from tnmbl.errors import ModelError
from tnmbl.testing import dense_hamiltonian as dense_h
from tnmbl.testing import embed

TINY = {
    "bose_hubbard": lambda bc: tnmbl.models.bose_hubbard(4, U=1.3, g=0.4, n_max=2, W=1.0, seed=5, bc=bc),
    "xxz": lambda bc: tnmbl.models.xxz(5, g=0.7, J=0.3, W=1.5, seed=6, bc=bc),
    "xxz_with_bath": lambda bc: tnmbl.models.xxz_with_bath(5, g=0.7, J=0.3, W=1.5, bath=(1, 3), bath_hx=0.4, seed=7),
}


@pytest.mark.parametrize("name, bc", [("bose_hubbard", "open"), ("bose_hubbard", "periodic"), ("xxz", "open"),
                                      ("xxz", "periodic"), ("xxz_with_bath", "open")])
def test_energy_densities_sum_to_H(name, bc):
    chain = TINY[name](bc)
    L, d = chain.L, chain.site.dim
    H = dense_h(chain)
    assert np.allclose(H, H.conj().T)
    h_sum = sum(embed(op, L, d) for op in energy_densities(chain))
    assert np.abs(h_sum - H).max() < 1e-12
    h_terms = sum(embed(op, L, d) for op in hamiltonian_terms(chain))
    assert np.abs(h_terms - H).max() < 1e-12


@pytest.mark.parametrize("name", TINY)
def test_operator_continuity_equation(name):
    """i[H, h_b] = j_{b-1} - j_b as operators, with j_{-1} = j_{L-1} = 0 on an open chain."""
    chain = TINY[name]("open")
    L, d = chain.L, chain.site.dim
    H = dense_h(chain)
    h = [embed(op, L, d) for op in energy_densities(chain)]
    j = [embed(op, L, d) for op in energy_currents(chain)]
    zero = np.zeros_like(H)
    jj = [zero] + j + [zero]
    for b, hb in enumerate(h):
        dh = 1j * (H @ hb - hb @ H)
        assert np.abs(dh - (jj[b] - jj[b + 1])).max() < 1e-12


@pytest.mark.parametrize("name", ["bose_hubbard", "xxz"])
def test_charge_current_continuity(name):
    chain = TINY[name]("open")
    L, d = chain.L, chain.site.dim
    H = dense_h(chain)
    q = chain.site.op(chain.site.density_op)
    J = [embed(op, L, d) for op in charge_currents(chain)]
    zero = np.zeros_like(H)
    JJ = [zero] + J + [zero]
    for x in range(L):
        qx = embed(tnmbl.chain.LocalOp((x,), q), L, d)
        assert np.abs(1j * (H @ qx - qx @ H) - (JJ[x] - JJ[x + 1])).max() < 1e-12


def test_xx_spin_current_is_the_textbook_one():
    """For H = g sum (sx sx + sy sy) the sigma^z current is 2g (sx_x sy_{x+1} - sy_x sx_{x+1})."""
    chain = tnmbl.models.xxz(3, g=0.8, J=0.0)
    s = chain.site
    J = charge_currents(chain)[0].matrix
    expected = 2 * 0.8 * (np.kron(s.op("X"), s.op("Y")) - np.kron(s.op("Y"), s.op("X")))
    assert np.abs(J - expected).max() < 1e-12


def test_conserves_charge_is_derived_from_terms():
    assert tnmbl.models.bose_hubbard(4, n_max=2).conserves_charge
    assert tnmbl.models.xxz(4, W=1.0, seed=0).conserves_charge
    assert not tnmbl.models.xxz_with_bath(6, bath=(0, 2), bath_hx=0.5).conserves_charge
    assert tnmbl.models.xxz_with_bath(6, bath=(0, 2), bath_hx=0.0, bath_W=0.5).conserves_charge


def test_disorder_array_of_wrong_length_is_refused():
    with pytest.raises(ModelError, match=r"eps.*shape \(6,\)"):
        tnmbl.models.bose_hubbard(6, eps=[0.1] * 5)
    with pytest.raises(ModelError, match=r"w.*shape \(6,\)"):
        tnmbl.models.xxz(6, w=np.zeros(7))
    with pytest.raises(ModelError, match=r"one value per bond.*\(5,\)"):
        Chain(6, spin_half(), [Bond(("Z", "Z"), np.ones(6))])


def test_bad_terms_are_refused():
    with pytest.raises(ModelError, match="not defined on site type"):
        Chain(4, boson(2), [OnSite("Q", 1.0)])
    with pytest.raises(ModelError, match="Hermitian.*hc=True"):
        Chain(4, boson(2), [Bond(("Bd", "B"), 1.0)])
    with pytest.raises(ModelError, match="finite"):
        Chain(4, boson(2), [OnSite("N", [0.0, np.nan, 0.0, 0.0])])
    with pytest.raises(ModelError, match="n_max"):
        boson(0)
