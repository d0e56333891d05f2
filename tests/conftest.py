"""Shared fixtures: the small chains of every quantum model (defined in ``helpers``), for comparisons
with exact evolution."""

import helpers
import pytest
from threadpoolctl import threadpool_limits

# BLAS on one thread for the whole suite: on this 2-core machine, shared with other processes,
# OpenBLAS threads made TeNPy / quimb SVDs up to 12x slower (shared/measured.md, tests/engines)
threadpool_limits(limits=1, user_api="blas")


@pytest.fixture(scope="session")
def small_models():
    """One small chain per quantum model with an initial state, keyed by model name (couplings of
    order one: see ``helpers.small_models``)."""
    return helpers.small_models()


@pytest.fixture(scope="session")
def weak_models():
    """The chains near the atomic limit, with the next-nearest-neighbour ``xxz_nnn`` (see
    ``helpers.weak_models``; ``helpers.WEAK_MODELS`` is the same set, for parametrization)."""
    return helpers.WEAK_MODELS
