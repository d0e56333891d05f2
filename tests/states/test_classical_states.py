"""Initial conditions: exact Gibbs sampling against closed forms, stationarity, Langevin,
DNLS samplers, explicit states, seeding."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import i0e, i1e

import tnmbl
from tnmbl.chain import classical as cc
from tnmbl.evolution import langevin
from tnmbl.states import classical as cs


def bond_energy_exact(g, beta):
    return g * (1 - i1e(beta * g) / i0e(beta * g))


def check_gibbs(chain, w, theta, beta, g, nsig=4.5):
    w2 = w**2
    assert abs(w2.mean() - 1 / beta) < nsig * w2.std() / np.sqrt(w2.size)
    dth = np.roll(theta, -1, -1) - theta
    if chain.bc == "open":
        dth = dth[:, :-1]
    eb = g * (1 - np.cos(dth))
    assert abs(eb.mean() - bond_energy_exact(g, beta)) < nsig * eb.std() / np.sqrt(eb.size)


@pytest.mark.parametrize("bc,beta,g", [("periodic", 1.0, 1.0), ("periodic", 2.0, 0.3), ("open", 0.5, 2.0)])
def test_gibbs_rotor_matches_exact_averages(bc, beta, g):
    chain = tnmbl.models.rotor(32, g, bc=bc)
    st = cs.gibbs(chain, 4000, beta=beta, seed=11)
    assert st.M == 4000 and st.meta["beta"] == beta
    check_gibbs(chain, st.w, st.theta, beta, g)
    assert np.all(np.abs(st.theta) <= np.pi)


def test_gibbs_is_stationary_under_the_isolated_dynamics():
    beta, g = 1.0, 0.5
    chain = tnmbl.models.rotor(32, g)
    st = cs.gibbs(chain, 2048, beta=beta, seed=12)
    r = tnmbl.evolve_classical(chain, st, "leapfrog", dt=0.02, t_final=40.0, observables=["energy_density"])
    end = r.engine.engine.state()
    check_gibbs(chain, end.w, end.theta, beta, g)
    # and the mean local energy stays <w^2>/2 + g (1 - I1/I0)
    h = r["energy_density"].mean(1)
    np.testing.assert_allclose(h, 0.5 / beta + bond_energy_exact(g, beta), atol=0.02)


def test_langevin_thermalizes_a_cold_chain():
    beta, g = 2.0, 1.0
    chain = tnmbl.models.rotor(16, g)
    cold = cs.explicit(chain, theta=np.zeros((512, 16)), w=np.zeros((512, 16)))
    st = langevin(chain, cold, beta, 60.0, gamma=1.0, dt=0.02, seed=3)
    assert st.meta["t_th"] == 60.0
    check_gibbs(chain, st.w, st.theta, beta, g, nsig=5)
    again = langevin(chain, cold, beta, 60.0, gamma=1.0, dt=0.02, seed=3, threads=1)
    np.testing.assert_array_equal(st.w, again.w)  # counter-based noise: thread count irrelevant


def test_dnls_gibbs_infinite_temperature():
    chain = tnmbl.models.dnls(16, 0.1, 1.0)
    st = cs.gibbs(chain, 5000, density=1.5, seed=1)
    n = np.abs(st.psi) ** 2
    assert abs(n.mean() - 1.5) < 5 * n.std() / np.sqrt(n.size)
    assert abs((n**2).mean() - 2 * 1.5**2) < 5 * (n**2).std() / np.sqrt(n.size)


def test_dnls_metropolis_matches_the_single_site_marginal():
    """At g = 0, n = |psi|^2 has density exp(-beta (U n^2 - mu n)) on n >= 0."""
    beta, U, mu = 1.0, 0.5, 1.0
    chain = tnmbl.models.dnls(8, 0.0, U)
    st = cs.dnls_metropolis(chain, 400, beta, mu, sweeps=300, step=0.8, seed=2)
    n = np.abs(st.psi) ** 2
    Z = quad(lambda x: np.exp(-beta * (U * x * x - mu * x)), 0, np.inf)[0]
    mean = quad(lambda x: x * np.exp(-beta * (U * x * x - mu * x)), 0, np.inf)[0] / Z
    assert abs(n.mean() - mean) < 0.03 * mean
    assert 0.2 < st.meta["acceptance"] < 0.9


def test_bubbles_wave_packets_and_seeds():
    rot = tnmbl.models.rotor(20, 0.1, bc="open")
    b = cs.bubble(rot, 3, region=(8, 12), inside=0.1, outside=np.inf, seed=5)
    assert np.all(b.w[:, :8] == 0) and np.all(b.w[:, 8:12] != 0)
    np.testing.assert_array_equal(b.w, cs.bubble(rot, 3, region=(8, 12), inside=0.1, outside=np.inf, seed=5).w)
    d = tnmbl.models.dnls(20, 0.1, 1.0)
    bd = cs.bubble(d, 2, region=(5, 10), inside=4.0, outside=0.5, seed=1)
    np.testing.assert_allclose(np.abs(bd.psi[:, 5:10]) ** 2, 4.0)
    wp = cs.wave_packet(d, center=10, width=2.0, norm=3.0)
    np.testing.assert_allclose((np.abs(wp.psi) ** 2).sum(), 3.0)
    g1 = cs.gibbs(rot, 5, beta=1.0, seed=9)
    g2 = cs.gibbs(rot, 5, beta=1.0, seed=9)
    np.testing.assert_array_equal(g1.theta, g2.theta)
    assert not np.array_equal(g1.w, cs.gibbs(rot, 5, beta=1.0, seed=10).w)
    q, p = g1.canonical()
    np.testing.assert_allclose(cc.energy(rot, q, p), 0.5 * (p**2).sum(1) + 0.1 * (1 - np.cos(np.diff(q))).sum(1))


@pytest.mark.parametrize("factory", ["gibbs", "rest", "wave_packet"])
def test_a_batch_larger_than_memory_is_refused_naming_M(factory):
    """The Python API bounds M like the config layer: an error naming M and a size that fits,
    before numpy tries to allocate terabytes (issue: 'no allocation of terabytes, in the CLI
    and in the Python API alike')."""
    chain = tnmbl.models.dnls(64, 0.5) if factory == "wave_packet" else tnmbl.models.rotor(64, 1.0)
    kwargs = {"gibbs": dict(beta=1.0, seed=1), "rest": {}, "wave_packet": dict(center=3)}[factory]
    with pytest.raises(tnmbl.OptionError) as err:
        getattr(cs, factory)(chain, M=10**12, **kwargs)
    assert err.value.key == "M" and "use M <=" in err.value.fix
    most = int(err.value.fix.split("<=")[1].split(",")[0])
    assert getattr(cs, factory)(chain, M=4, **kwargs).M == 4 and most >= 4
