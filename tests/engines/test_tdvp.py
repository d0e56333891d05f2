"""TeNPy TDVP: growth of tdvp1, energy conservation, next-nearest-neighbour terms."""

import numpy as np
import pytest

import tnmbl
from tnmbl.chain.local import bond_matrix, onsite_matrix
from tnmbl.engines import EngineOptions, TenpyTDVP
from tnmbl.engines.tenpy_tdvp import bond_caps


def _local_norm_sum(chain):
    """sum of operator norms of the local terms: a scale of <H> changes."""
    total = sum(np.linalg.norm(onsite_matrix(chain, x), 2) for x in range(chain.L))
    for r in sorted({t.distance for t, _ in chain.bond_terms()}):
        total += sum(np.linalg.norm(bond_matrix(chain, b, r), 2) for b in range(chain.n_bonds_at(r)))
    return total


def test_bond_caps():
    assert list(bond_caps([-1, 1], 6, None, 100)) == [2, 4, 8, 4, 2]
    assert list(bond_caps([-1, 1], 6, 2, 100)) == [2, 4, 5, 4, 2]  # 4 up, 2 down: middle 1 + 3 + 1
    assert list(bond_caps([0, 1, 2], 6, 3, 5)) == [3, 5, 5, 5, 3]


def _drift_run(method, L, chi_max, dt, n_blocks, steps_per_block, **model):
    chain = tnmbl.models.xxz(L=L, seed=8, **model)
    eng = TenpyTDVP(chain, tnmbl.states.neel(chain), EngineOptions(method=method, dt=dt, chi_max=chi_max,
                                                                   svd_cutoff=1e-10))
    e0 = eng.energy()
    drift = []
    for _ in range(n_blocks):
        eng.advance(steps_per_block)
        drift.append(eng.energy() - e0)
    return eng, np.array(drift), _local_norm_sum(chain)


def test_tdvp1_energy_drift_is_the_growth_truncation_only():
    """tdvp1 truncates only while growing; afterwards <H> is conserved to round-off."""
    eng, drift, scale = _drift_run("tdvp1", 10, 6, 0.2, 5, 5, g=1.0, J=0.4, W=1.0)
    eps = eng.health()["truncation_error"]
    assert eng.grown() and eng.growth_steps < 5
    assert eps > 1e-7  # the growth truncated
    assert np.ptp(drift) < 1e-9, drift  # one-site sweeps: exact conservation up to t = 5
    assert abs(drift[-1]) < scale * eps, (drift[-1], eps, scale)


@pytest.mark.slow
def test_tdvp2_energy_drift_within_truncation_error_long_time():
    eng, drift, scale = _drift_run("tdvp2", 12, 16, 0.1, 10, 20, g=0.5, J=0.2, W=1.0)
    eps = eng.health()["truncation_error"]
    assert eps > 1e-8
    assert np.abs(drift).max() < scale * eps, (np.abs(drift).max(), eps, scale)


def test_tdvp_runs_nnn_model_through_evolve():
    chain = tnmbl.models.xxz_with_bath(L=8, g=0.3, J=0.1, W=1.0, bath=(0, 5), bath_hx=0.0, bath_W=0.2,
                                       bath_J2=0.2, seed=4)
    state = tnmbl.states.neel(chain)
    assert chain.max_range == 2
    kw = dict(dt=0.05, t_final=1.0, output_dt=0.5, observables=["density", "entanglement"], chi_max=64)
    res = tnmbl.evolve(chain, state, "tdvp2", **kw)
    ref = tnmbl.evolve(chain, state, "exact", **kw)
    # dt = 0.05: the time-step error of two-site TDVP is ~3e-6 at t = 2 (1e-6 needs dt = 0.025,
    # tests/evolution/test_matches_exact.py); here the point is the NNN chain through evolve and its health figures
    assert np.abs(res["density"] - ref["density"]).max() < 1e-5
    assert np.abs(res["entanglement"] - ref["entanglement"]).max() < 1e-4
    assert np.abs(res.health["energy_drift"]).max() < 1e-10  # no truncation: <H> conserved
    assert res.meta["method"] == "tdvp2" and res.meta["backend"] == "tenpy"
