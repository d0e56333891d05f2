"""The quantum models (tnmbl/models/quantum.py): their Hamiltonians, bath segments, seeded disorder
and refused sizes."""

import numpy as np
import pytest

import tnmbl
from tnmbl.errors import ModelError
from tnmbl.testing import dense_hamiltonian as dense_h


def test_bose_hubbard_uses_U_n_squared():
    chain = tnmbl.models.bose_hubbard(2, U=1.0, g=0.0, n_max=3)
    H = dense_h(chain)
    # |2, 1>: energy U (2^2 + 1^2) = 5, not U/2 (2 + 0) = 1
    idx = 2 * 4 + 1
    assert H[idx, idx].real == pytest.approx(5.0)


def test_bath_segment_carries_its_own_parameters():
    chain = tnmbl.models.xxz_with_bath(10, g=1.0, J=0.1, W=5.0, bath=(2, 5), bath_W=0.0, bath_hx=0.7,
                                       bath_g=2.0, seed=1)
    w = np.asarray(chain.params["w"])
    assert np.all(w[2:5] == 0) and np.all(w[[0, 1, 5, 6, 7, 8, 9]] != 0)
    assert np.all(np.abs(w) <= 5.0)
    hx = [s for t, s in chain.onsite_terms() if t.op == "X"][0]
    assert np.array_equal(np.flatnonzero(hx), [2, 3, 4]) and np.allclose(hx[2:5], 0.7)
    hop = [s for t, s in chain.bond_terms() if t.ops == ("Sp", "Sm")][0]
    assert np.allclose(hop[2:4], 4.0) and np.allclose(np.delete(hop, [2, 3]), 2.0)
    assert chain.regions == {"bath": (2, 5)}


def test_disorder_is_seeded():
    a = tnmbl.models.xxz(12, W=3.0, seed=42).params["w"]
    b = tnmbl.models.xxz(12, W=3.0, seed=42).params["w"]
    c = tnmbl.models.xxz(12, W=3.0, seed=43).params["w"]
    assert a == b and a != c
    assert np.all(np.abs(a) <= 3.0)


@pytest.mark.parametrize("L", [1, 0, -3, 2.5, True])
def test_bad_L_is_refused(L):
    with pytest.raises(ModelError, match="L"):
        tnmbl.models.bose_hubbard(L)


def test_mixed_field_ising_hamiltonian_and_no_charge():
    # H = J sum Z Z + hx sum X + hz sum Z (Pauli), against a Kronecker-product construction
    L, J, hx, hz = 5, 0.7, 1.4, 0.9045
    chain = tnmbl.models.mixed_field_ising(L, J=J, hx=hx, hz=hz)
    X, Z, one = np.array([[0, 1], [1, 0]]), np.diag([-1.0, 1.0]), np.eye(2)  # basis (down, up): charge order

    def at(ops):  # Kronecker product of a {site: matrix} dict, site 0 leftmost
        out = np.eye(1)
        for x in range(L):
            out = np.kron(out, ops.get(x, one))
        return out

    H = sum(J * at({x: Z, x + 1: Z}) for x in range(L - 1)) + sum(hx * at({x: X}) + hz * at({x: Z}) for x in range(L))
    assert np.abs(dense_h(chain) - H).max() < 1e-12
    assert not chain.conserves_charge  # X breaks S^z: no U(1) charge
    assert chain.params == {"L": L, "J": J, "hx": hx, "hz": hz, "bc": "open"}
    assert "mixed_field_ising" in tnmbl.models.MODELS
