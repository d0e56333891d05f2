"""quimb and TeNPy TEBD on the same long chain: equal within the truncation error they report."""

import numpy as np
import pytest

import tnmbl
from tnmbl.chain import charge_densities, energy_currents, energy_densities
from tnmbl.engines import EngineOptions, QuimbTEBD, TenpyTEBD


@pytest.mark.parametrize("chi_max", [8, 6])
def test_quimb_and_tenpy_agree_at_L32(chi_max):
    chain = tnmbl.models.xxz(L=32, g=0.5, J=0.2, W=1.0, seed=7)
    state = tnmbl.states.neel(chain)
    opts = EngineOptions(method="tebd2", dt=0.05, chi_max=chi_max, svd_cutoff=1e-10)
    q, t = QuimbTEBD(chain, state, opts), TenpyTEBD(chain, state, opts)
    q.advance(20)
    t.advance(20)
    eps_q, eps_t = q.health()["truncation_error"], t.health()["truncation_error"]
    assert eps_q > 1e-6 and eps_t > 1e-6  # both truncate
    assert abs(eps_q - eps_t) < 0.01 * eps_t  # and report the same discarded weight
    for key, ops in (("n", charge_densities(chain)), ("h", energy_densities(chain)), ("j", energy_currents(chain))):
        diff = np.abs(q.expect(key, ops) - t.expect(key, ops)).max()
        assert diff < eps_q + eps_t, f"{key}: max difference {diff:.2e}, truncation errors {eps_q:.2e}, {eps_t:.2e}"
    assert np.abs(q.entanglement() - t.entanglement()).max() < 10 * np.sqrt(eps_q + eps_t)
    assert q.health()["chi"] == t.health()["chi"] == chi_max
