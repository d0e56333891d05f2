"""Shared helpers of the backend tests: small chains near the atomic limit, exact references."""

import tnmbl
from tnmbl.chain import charge_densities
from tnmbl.engines import METHODS, EngineOptions, ExactEngine

T_FINAL = 2.0


def weak_models():
    """One chain per quantum model near the atomic limit (L = 8), with an initial state.

    ``xxz_nnn`` is the bath model with a next-nearest-neighbour sz sz coupling inside the
    bath (range 2): only TDVP and exact evolution take it.
    """
    bh = tnmbl.models.bose_hubbard(L=8, U=1.0, g=0.1, n_max=3, W=0.5, seed=1)
    xxz = tnmbl.models.xxz(L=8, g=0.3, J=0.1, W=1.0, seed=2)
    bath = tnmbl.models.xxz_with_bath(L=8, g=0.3, J=0.1, W=1.0, bath=(0, 3), bath_hx=0.2, seed=3)
    nnn = tnmbl.models.xxz_with_bath(L=8, g=0.3, J=0.1, W=1.0, bath=(0, 5), bath_hx=0.0, bath_W=0.2,
                                     bath_J2=0.2, seed=4)
    return {
        "bose_hubbard": (bh, tnmbl.states.product(bh, occupations=[2, 2, 0, 0, 1, 0, 2, 1])),
        "xxz": (xxz, tnmbl.states.neel(xxz)),
        "xxz_with_bath": (bath, tnmbl.states.domain_wall(bath)),
        "xxz_nnn": (nnn, tnmbl.states.neel(nnn)),
    }


MODELS = weak_models()
_EXACT = {}


def options(method, dt, chain, chi_max=256, svd_cutoff=1e-12, **kw):
    return EngineOptions(method=method, dt=dt, chi_max=chi_max, svd_cutoff=svd_cutoff,
                         conserve=chain.conserves_charge, **kw)


def exact_densities(name, t=T_FINAL):
    """<n_x> or <sigma^z_x> at time ``t`` from exact evolution (cached)."""
    if (name, t) not in _EXACT:
        chain, state = MODELS[name]
        eng = ExactEngine(chain, state, options("exact", t, chain))
        eng.advance(1)
        _EXACT[name, t] = eng.expect("density", charge_densities(chain))
    return _EXACT[name, t]


def run_engine(name, method, backend, dt, t=T_FINAL, **kw):
    """(engine, densities) after evolving model ``name`` to ``t``."""
    chain, state = MODELS[name]
    eng = METHODS[method][backend](chain, state, options(method, dt, chain, **kw))
    eng.advance(int(round(t / dt)))
    return eng, eng.expect("density", charge_densities(chain))
