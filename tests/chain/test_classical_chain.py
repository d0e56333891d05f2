"""Classical chains on the chain abstraction: models as data, the generic Poisson-bracket
local energies and currents, and the compiled kernels' observables against them."""

import numpy as np
import pytest
from helpers import classical_sample as sample

import tnmbl
from tnmbl import Bond, Chain, ModelError, OnSite
from tnmbl.chain import classical as cc


def chains():
    return [tnmbl.models.rotor(12, 0.8), tnmbl.models.rotor(11, 0.6, bc="open", m=1.3),
            tnmbl.models.dnls(9, 0.4, 0.7, W=1.0, seed=3), tnmbl.models.dnls(10, 0.3, 1.0),
            tnmbl.models.dnls(10, 0.5, 0.5, W=0.8, seed=4, bc="open")]


def test_custom_chain_and_bad_terms_refused():
    site = cc.rotor_site()
    c = Chain(6, site, [OnSite("kinetic", 1.0), Bond(("cos",), np.linspace(0.1, 0.6, 6))], bc="periodic")
    assert c.n_bonds == 6
    with pytest.raises(ModelError, match="one two-site function"):
        Chain(6, site, [Bond(("cos", "cos"), 1.0)])
    with pytest.raises(ModelError, match="not defined on classical site type"):
        Chain(6, site, [OnSite("sin", 1.0)])
    with pytest.raises(ModelError, match="is a bond function"):
        Chain(6, site, [OnSite("cos", 1.0)])
    with pytest.raises(ModelError, match="one value per bond"):
        Chain(6, site, [Bond(("cos",), np.ones(3))])


@pytest.mark.parametrize("chain", chains(), ids=lambda c: f"{c.name}-{c.bc}-L{c.L}")
def test_local_energies_sum_to_H_and_currents_obey_continuity(chain):
    """dh_b/dt = {h_b, H} (directional derivative along Hamilton's flow) = j_{b-1} - j_b."""
    q, p = sample(chain).canonical()
    h = cc.local_energies(chain, q, p)
    np.testing.assert_allclose(h.sum(-1), cc.energy(chain, q, p), rtol=1e-12)
    dq, dp = cc.equations_of_motion(chain, q, p)
    eps = 1e-5
    hdot = (cc.local_energies(chain, q + eps * dq, p + eps * dp)
            - cc.local_energies(chain, q - eps * dq, p - eps * dp)) / (2 * eps)
    j = cc.energy_currents(chain, q, p)
    if chain.bc == "periodic":
        expect = np.roll(j, 1, axis=-1) - j
    else:
        z = np.zeros(j.shape[:-1] + (1,))
        expect = np.concatenate([z, j], -1) - np.concatenate([j, z], -1)
    np.testing.assert_allclose(hdot, expect, atol=1e-7 * np.abs(expect).max())
    # the charge (angular momentum / norm) obeys its own continuity equation
    n = lambda a, b: cc.charge_densities(chain, a, b)  # noqa: E731
    ndot = (n(q + eps * dq, p + eps * dp) - n(q - eps * dq, p - eps * dp)) / (2 * eps)
    J = cc.charge_currents(chain, q, p)
    expect_n = np.roll(J, 1, axis=-1) - J if chain.bc == "periodic" else (
        np.concatenate([np.zeros((J.shape[0], 1)), J], -1) - np.concatenate([J, np.zeros((J.shape[0], 1))], -1))
    np.testing.assert_allclose(ndot, expect_n, atol=1e-7 * max(np.abs(expect_n).max(), 1e-3))


@pytest.mark.parametrize("chain", chains(), ids=lambda c: f"{c.name}-{c.bc}-L{c.L}")
def test_kernel_observables_match_generic_derivation(chain):
    st = sample(chain, M=7, seed=2)
    method = "leapfrog" if chain.site.name == "rotor" else "split2"
    r = tnmbl.evolve_classical(chain, st, method, dt=0.01, t_final=0.3, output_dt=0.1,
                               observables=["density", "energy_density", "energy_current", "density_current"])
    final = r.engine.engine.state()
    for i, fields in ((0, st), (-1, final)):
        q, p = fields.canonical()
        np.testing.assert_allclose(r["energy_density"][i], cc.local_energies(chain, q, p).mean(0), atol=1e-12)
        np.testing.assert_allclose(r["energy_current"][i], cc.energy_currents(chain, q, p).mean(0), atol=1e-12)
        np.testing.assert_allclose(r["density_current"][i], cc.charge_currents(chain, q, p).mean(0), atol=1e-12)
        np.testing.assert_allclose(r["density"][i], cc.charge_densities(chain, q, p).mean(0), atol=1e-12)
    for name in r.observables:
        assert r[name].shape[1] == len(r.positions[name])
    assert r.positions["energy_current"][0] == 1.0 and r.positions["energy_density"][0] == 0.5


@pytest.mark.parametrize("chain", [chains()[1], chains()[2], chains()[4]], ids=["rotor-open", "dnls-odd", "dnls-open"])
def test_continuity_along_a_compiled_trajectory(chain):
    """Central differences of <h_b>(t) from the kernel against its own <j_{b-1} - j_b>."""
    st = sample(chain, M=3, seed=4)
    method = "yoshida4" if chain.site.name == "rotor" else "split4"
    dt = 1e-3
    r = tnmbl.evolve_classical(chain, st, method, dt=dt, t_final=2.0, output_dt=dt, chunk_outputs=10**6,
                               observables=["energy_density", "energy_current", "density", "density_current"])
    h, j = r["energy_density"], r["energy_current"]
    hdot = (h[2:] - h[:-2]) / (2 * dt)
    jj = j[1:-1]
    if chain.bc == "periodic":
        div = np.roll(jj, 1, axis=-1) - jj
    else:
        z = np.zeros((jj.shape[0], 1))
        div = np.concatenate([z, jj], -1) - np.concatenate([jj, z], -1)
    scale = np.abs(div).max()
    assert np.abs(hdot - div).max() < 1e-4 * scale
    n, J = r["density"], r["density_current"]
    ndot = (n[2:] - n[:-2]) / (2 * dt)
    JJ = J[1:-1]
    divJ = np.roll(JJ, 1, axis=-1) - JJ
    if chain.bc == "open":
        z = np.zeros((JJ.shape[0], 1))
        divJ = np.concatenate([z, JJ], -1) - np.concatenate([JJ, z], -1)
    assert np.abs(ndot - divJ).max() < 1e-4 * np.abs(divJ).max()
