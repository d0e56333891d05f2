"""The exact engine against dense linear algebra built independently (Kronecker products)."""

import numpy as np
import pytest
from scipy.linalg import expm

import tnmbl
from tnmbl.engines import EngineOptions, ExactEngine, SectorBasis
from tnmbl.errors import OptionError
from tnmbl.testing import dense_hamiltonian as dense_h


@pytest.mark.parametrize("chain, pattern", [
    (tnmbl.models.bose_hubbard(5, U=1.0, g=0.4, n_max=2, W=0.8, seed=3), dict(occupations=[2, 0, 1, 0, 2])),
    (tnmbl.models.xxz(6, g=1.0, J=0.5, W=1.0, seed=4), dict(spins="uudduu")),
    (tnmbl.models.xxz_with_bath(6, bath=(0, 2), bath_hx=0.5, W=2.0, seed=5), dict(spins="ududud")),
    (tnmbl.models.xxz(5, g=1.0, J=0.5, W=1.0, seed=4, bc="periodic"), dict(spins="uudud")),
])
def test_sector_evolution_equals_dense_expm(chain, pattern):
    st = tnmbl.states.product(chain, **pattern)
    eng = ExactEngine(chain, st, EngineOptions("exact", dt=0.1, conserve=chain.conserves_charge))
    eng.advance(13)  # t = 1.3
    psi_dense = expm(-1j * 1.3 * dense_h(chain)) @ st.dense()
    full = np.zeros(chain.site.dim ** chain.L, dtype=complex)
    full[eng.basis.codes] = eng.psi
    assert np.abs(full - psi_dense).max() < 1e-10
    # Schmidt values across every cut agree with a dense SVD
    d, L = chain.site.dim, chain.L
    for cut in range(L - 1):
        s_dense = np.linalg.svd(psi_dense.reshape(d ** (cut + 1), -1), compute_uv=False)
        s = eng.schmidt_values(cut)
        n = min(len(s), len(s_dense))
        assert np.abs(s[:n] - s_dense[:n]).max() < 1e-10
        assert np.abs(s_dense[n:]).max(initial=0) < 1e-10


def test_sector_dimension_is_binomial():
    basis = SectorBasis(10, [-1, 1], Q=0)
    assert basis.dim == 252  # 10 choose 5
    basis = SectorBasis(4, [0, 1, 2], Q=4)  # bosons n_max = 2: compositions of 4 into 4 parts <= 2
    assert basis.dim == 19
    assert np.all(np.diff(basis.codes) > 0)


def test_too_large_spaces_are_refused():
    with pytest.raises(OptionError, match="above the limit"):
        SectorBasis(30, [-1, 1], Q=None)
    with pytest.raises(OptionError, match="more than"):
        SectorBasis(30, [-1, 1], Q=0)
