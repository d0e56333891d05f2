"""Integrator orders, conservation laws and the two-rotor pendulum."""

import numpy as np
import pytest
from scipy.special import ellipk

import tnmbl
from tnmbl.states import classical as cs


def max_energy_error(chain, state, method, dt, t_final):
    r = tnmbl.evolve_classical(chain, state, method, dt=dt, t_final=t_final, output_dt=4 * dt,
                               observables=["density"])
    e = r.engine.samples["energy"]
    return np.max(np.abs(e - e[0]))


@pytest.mark.parametrize("method,order", [("leapfrog", 2), ("yoshida4", 4)])
def test_rotor_energy_error_shrinks_with_the_order(method, order):
    chain = tnmbl.models.rotor(16, 1.0)
    st = cs.gibbs(chain, 8, beta=1.0, seed=1)
    dt = 0.04 if order == 2 else 0.08
    e1 = max_energy_error(chain, st, method, dt, 8.0)
    e2 = max_energy_error(chain, st, method, dt / 2, 8.0)
    assert abs(np.log2(e1 / e2) - order) < 0.4, (e1, e2, np.log2(e1 / e2))


@pytest.mark.parametrize("method,order", [("split2", 2), ("split4", 4)])
def test_dnls_energy_error_shrinks_with_the_order(method, order):
    chain = tnmbl.models.dnls(16, 0.5, 0.5, W=1.0, seed=2)
    st = cs.gibbs(chain, 8, density=1.0, seed=3)
    dt = 0.02 if order == 2 else 0.04
    e1 = max_energy_error(chain, st, method, dt, 4.0)
    e2 = max_energy_error(chain, st, method, dt / 2, 4.0)
    assert abs(np.log2(e1 / e2) - order) < 0.4, (e1, e2, np.log2(e1 / e2))


@pytest.mark.parametrize("method", ["split2", "split4"])
def test_dnls_norm_conserved_to_1e12_over_1e5_steps(method):
    """Every part of the split is norm-exact; what remains is round-off, unbiased so that it
    adds up as a random walk (measured 1.2e-13 relative for both; a bias of 1e-17 per site and
    step in the on-site rotation used to make it 7e-13 for split2 and 1.6e-12 for split4,
    growing linearly with the number of steps)."""
    tol = 1e-12
    chain = tnmbl.models.dnls(16, 0.5, 1.0, W=1.0, seed=2, bc="periodic")
    st = cs.gibbs(chain, 32, density=2.0, seed=4)
    r = tnmbl.evolve_classical(chain, st, method, dt=0.01, t_final=1000.0, output_dt=100.0, observables=["density"])
    n = r.engine.samples["charge"]
    assert n.shape == (11, 32)
    rel = np.abs(n - n[0]) / n[0]
    assert rel.max() < tol, rel.max()
    assert r.health["charge_error"][-1] < tol * n[0].max()
    # no bias common to the chains: unbiased round-off averages out over the 32 of them
    # (measured |mean| <= 2e-14; the old on-site bias gave -3.5e-13 for split2)
    bias = np.mean((n[-1] - n[0]) / n[0])
    assert abs(bias) < 1e-13, bias


@pytest.mark.parametrize("method", ["leapfrog", "yoshida4"])
def test_rotor_angular_momentum_conserved_to_round_off(method):
    chain = tnmbl.models.rotor(32, 0.7)
    st = cs.gibbs(chain, 16, beta=1.0, seed=5)
    r = tnmbl.evolve_classical(chain, st, method, dt=0.01, t_final=200.0, output_dt=20.0, observables=["density"])
    P = r.engine.samples["charge"]
    scale = np.abs(st.w).sum(1).max()
    assert np.abs(P - P[0]).max() < 1e-12 * scale * 100  # 2e4 steps of round-off
    np.testing.assert_allclose(r["density"].sum(1), P.mean(1), atol=1e-12)


def crossings(t, y):
    """Times of downward zero crossings of y, by a local quintic through 6 points."""
    out = []
    for i in np.flatnonzero((y[:-1] > 0) & (y[1:] <= 0)):
        if i < 2 or i + 4 > len(y):
            continue
        sl = slice(i - 2, i + 4)
        tc = t[i]
        poly = np.polynomial.Polynomial.fit(t[sl] - tc, y[sl], 5)
        roots = [r.real for r in poly.roots() if abs(r.imag) < 1e-12 and -1e-9 <= r.real <= t[i + 1] - tc + 1e-9]
        out.append(tc + roots[0])
    return np.array(out)


@pytest.mark.parametrize("phi0", [0.5, 2.0, 3.0])
def test_two_rotors_are_a_pendulum_with_the_exact_period(phi0):
    """phi = theta_1 - theta_0 obeys phi'' = -2 g sin(phi): T = 4 K(sin^2(phi0/2)) / sqrt(2 g)."""
    g = 0.7
    chain = tnmbl.models.rotor(2, g, bc="open")
    st = cs.explicit(chain, theta=[[0.0, phi0]], w=[[0.3, 0.3]])
    T = 4 * ellipk(np.sin(phi0 / 2) ** 2) / np.sqrt(2 * g)
    dt = 2e-3
    t_final = round(3.2 * T / dt) * dt
    r = tnmbl.evolve_classical(chain, st, "yoshida4", dt=dt, t_final=t_final, output_dt=dt,
                               observables=["density_current"], chunk_outputs=10**6)
    J = r["density_current"][:, 0]  # = -g sin(phi): crosses zero downward when phi does upward
    tc = crossings(r.times, -J)
    periods = np.diff(tc)
    assert len(periods) >= 2
    np.testing.assert_allclose(periods, T, rtol=1e-6)
    np.testing.assert_allclose(r["density_current"][0, 0], -g * np.sin(phi0))
