"""Bubble initial states: profiles exactly as requested (mixed bubble, its purification, the
sampled ensemble, the decoupled control chain)."""

import numpy as np
import pytest

import tnmbl
from tnmbl.engines.bubble_purification import purification_of
from tnmbl.engines.tenpy_tebd import tenpy_site
from tnmbl.errors import StateError
from tnmbl.evolution import evolve_mixed
from tnmbl.states.bubbles import decoupled, local_gibbs_weights, mixed_bubble, sampled_bubble


def _ancilla_entropy(psi, x):
    """Entropy of site x's physical leg with its own ancilla, from the product purification."""
    m = psi.get_B(x).to_ndarray()[0, :, :, 0]  # (p, q)
    s = np.linalg.svd(m, compute_uv=False) ** 2
    s = s[s > 1e-15]
    return float(-(s * np.log(s)).sum())


def test_infinite_temperature_segment_has_zero_sz_and_maximal_ancilla_entanglement():
    chain = tnmbl.models.xxz(L=8, g=1.0, J=0.4, W=1.0, seed=2)
    state = mixed_bubble(chain, (2, 6), "up")
    psi = purification_of(state, tenpy_site(chain.site, False))
    ent = [_ancilla_entropy(psi, x) for x in range(8)]
    np.testing.assert_allclose(ent[2:6], np.log(2), atol=1e-12)
    np.testing.assert_allclose(ent[:2] + ent[6:], 0, atol=1e-12)
    r = evolve_mixed(chain, state, "tebd2", dt=0.1, t_final=0.0, observables=["density", "entanglement"])
    np.testing.assert_allclose(r["density"][0], [1, 1, 0, 0, 0, 0, 1, 1], atol=1e-12)
    np.testing.assert_allclose(r["entanglement"][0], 0, atol=1e-12)  # on-site only: no cut entropy
    assert r.meta["backend"] == "purification" and r.health["norm"][0] == pytest.approx(1)


def test_finite_temperature_boson_bubble_has_local_gibbs_occupations():
    chain = tnmbl.models.bose_hubbard(L=6, U=1.0, g=0.2, n_max=3)
    beta = 0.7
    state = mixed_bubble(chain, (1, 4), 2, beta=beta)
    n = np.arange(4)
    p = np.exp(-beta * n**2) / np.exp(-beta * n**2).sum()  # U n^2 on-site energies
    np.testing.assert_allclose(local_gibbs_weights(chain, 2, beta), p, rtol=1e-12)
    r = evolve_mixed(chain, state, dt=0.1, t_final=0.0, observables=["density"])
    expected = np.array([2, 0, 0, 0, 2, 2], float)
    expected[1:4] = (n * p).sum()
    np.testing.assert_allclose(r["density"][0], expected, atol=1e-12)
    rho = state.density_matrices()
    np.testing.assert_allclose(np.trace(rho, axis1=1, axis2=2), 1, atol=1e-12)
    # beta = 0: uniform over 0..n_max, mean n_max / 2
    r0 = evolve_mixed(chain, mixed_bubble(chain, (1, 4), 2), dt=0.1, t_final=0.0, observables=["density"])
    np.testing.assert_allclose(r0["density"][0][1:4], 1.5, atol=1e-12)


def test_sampled_ensemble_reproduces_local_gibbs_averages_within_statistics():
    chain = tnmbl.models.bose_hubbard(L=8, U=1.0, g=0.1, n_max=3)
    beta = 0.4
    samples = sampled_bubble(chain, (2, 6), 3, beta, n_samples=4000, seed=11)
    occ = np.array([[int(np.argmax(np.abs(v))) for v in s.vectors] for s in samples])
    np.testing.assert_array_equal(occ[:, [0, 1, 6, 7]], 3)  # background untouched
    p = local_gibbs_weights(chain, 3, beta)
    n = np.arange(4)
    mean, var = (n * p).sum(), (n**2 * p).sum() - (n * p).sum() ** 2
    sem = np.sqrt(var / len(samples))
    assert np.all(np.abs(occ[:, 2:6].mean(0) - mean) < 4 * sem)
    # histogram of every occupation within 4 sigma of its probability
    for k in range(4):
        f = (occ[:, 2:6] == k).mean()
        assert abs(f - p[k]) < 4 * np.sqrt(p[k] * (1 - p[k]) / occ[:, 2:6].size)
    assert all(s.charge_definite for s in samples[:5])
    # and a different seed gives different samples (the test could see a constant draw)
    other = sampled_bubble(chain, (2, 6), 3, beta, n_samples=50, seed=12)
    assert any(not np.allclose(a.vectors, b.vectors) for a, b in zip(samples, other))


def test_decoupled_chain_cuts_exactly_the_bonds_that_leave_the_region():
    chain = tnmbl.models.bose_hubbard(L=8, U=1.0, g=0.3, n_max=2)
    cut = decoupled(chain, (3, 6))
    hop = [s for t, s in cut.bond_terms()][0]
    np.testing.assert_array_equal(hop, [0.3, 0.3, 0.0, 0.3, 0.3, 0.0, 0.3])
    rot = tnmbl.models.rotor(10, g=1.0)  # periodic classical chain: bond 9 joins sites 9 and 0
    cut_rot = decoupled(rot, (0, 4))
    s = [s for t, s in cut_rot.bond_terms()][0]
    assert s[3] == 0 and s[9] == 0 and np.count_nonzero(s) == 8


@pytest.mark.parametrize("region", [(3, 3), (-1, 2), (5, 9)])
def test_bad_region_is_refused(region):
    chain = tnmbl.models.xxz(L=8)
    with pytest.raises(StateError, match="region"):
        mixed_bubble(chain, region, "down")


def test_transverse_field_bubble_at_finite_beta_is_refused():
    chain = tnmbl.models.xxz_with_bath(L=6, bath=(0, 3), bath_hx=0.5, seed=1)
    with pytest.raises(StateError, match="not diagonal"):
        mixed_bubble(chain, (0, 3), "down", beta=1.0)
    assert mixed_bubble(chain, (0, 3), "down").beta == 0.0  # beta = 0 is fine
