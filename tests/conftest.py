"""Shared fixtures: small chains of every quantum model, for comparisons with exact evolution."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import tnmbl

# BLAS on one thread for the whole suite: on this 2-core machine, shared with other processes,
# OpenBLAS threads made TeNPy / quimb SVDs up to 12x slower (shared/measured.md, tests/backends)
threadpool_limits(limits=1, user_api="blas")


@pytest.fixture(scope="session")
def small_models():
    """One small chain per quantum model with an initial state, keyed by model name."""
    bh = tnmbl.models.bose_hubbard(L=8, U=1.0, g=0.3, n_max=3, W=0.5, seed=1)
    xxz = tnmbl.models.xxz(L=10, g=1.0, J=0.4, W=2.0, seed=2)
    bath = tnmbl.models.xxz_with_bath(L=8, g=1.0, J=0.3, W=3.0, bath=(0, 3), bath_hx=0.6, seed=3)
    return {
        "bose_hubbard": (bh, tnmbl.states.product(bh, occupations=[2, 2, 0, 0, 1, 0, 2, 1])),
        "xxz": (xxz, tnmbl.states.neel(xxz)),
        "xxz_with_bath": (bath, tnmbl.states.domain_wall(bath)),
    }


def rng(seed=0):
    return np.random.default_rng(seed)
