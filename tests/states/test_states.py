"""Product states: patterns, validation, charges."""

import numpy as np
import pytest

import tnmbl
from tnmbl.errors import StateError


@pytest.fixture
def bh():
    return tnmbl.models.bose_hubbard(6, n_max=3)


@pytest.fixture
def spins():
    return tnmbl.models.xxz(6)


def test_occupation_above_n_max_names_the_site(bh):
    with pytest.raises(StateError, match=r"occupations\[4\].*site 4 holds 5 bosons.*n_max = 3"):
        tnmbl.states.product(bh, occupations=[1, 1, 1, 1, 5, 1])


@pytest.mark.parametrize("occ, match", [([1, 1, 1], "one entry per site"), ([1, 1, -1, 1, 1, 1], "site 2"),
                                        ([1, 1, 1.5, 1, 1, 1], "integer")])
def test_bad_occupations(bh, occ, match):
    with pytest.raises(StateError, match=match):
        tnmbl.states.product(bh, occupations=occ)


def test_patterns(bh, spins):
    assert tnmbl.states.neel(spins).basis_indices == [1, 0, 1, 0, 1, 0]  # basis (down, up)
    assert tnmbl.states.domain_wall(spins).basis_indices == [1, 1, 1, 0, 0, 0]
    assert tnmbl.states.product(spins, spins="uddudu").basis_indices == [1, 0, 0, 1, 0, 1]
    assert tnmbl.states.bubble(bh, (2, 4), background=2, inside=0).basis_indices == [2, 2, 0, 0, 2, 2]
    assert tnmbl.states.neel(bh, high=3, low=1).basis_indices == [3, 1, 3, 1, 3, 1]
    assert tnmbl.states.bubble(bh, (2, 4), 2, 0).total_charge == 8
    assert tnmbl.states.neel(spins).total_charge == 0


def test_general_vectors_are_normalized_and_charge_checked(spins):
    v = np.tile([1.0, 1.0], (6, 1))
    st = tnmbl.states.product(spins, vectors=v)
    assert np.allclose(np.linalg.norm(st.vectors, axis=1), 1)
    assert not st.charge_definite and st.total_charge is None and st.basis_indices is None
    with pytest.raises(StateError, match=r"shape \(L, d\) = \(6, 2\)"):
        tnmbl.states.product(spins, vectors=np.ones((6, 3)))


def test_wrong_kind_of_pattern(bh, spins):
    with pytest.raises(StateError, match="occupations are for bosons"):
        tnmbl.states.product(spins, occupations=[0] * 6)
    with pytest.raises(StateError, match="spins are for spin-1/2"):
        tnmbl.states.product(bh, spins="ududud")
    with pytest.raises(StateError, match=r"spins\[1\]"):
        tnmbl.states.product(spins, spins="uxdudu")
    with pytest.raises(StateError, match="exactly one"):
        tnmbl.states.product(spins)
