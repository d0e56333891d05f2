"""Relaxation-time and Green-Kubo analysis on curves with known answers."""

import numpy as np
import pytest

import tnmbl
from tnmbl.errors import AnalysisWarning
from tnmbl.observables.classical import bubble_width, crossing_time, fit_power_law, green_kubo, smooth_log, t0
from tnmbl.states import classical as cs


def test_crossing_time_and_t0_on_a_known_curve():
    times = np.concatenate([[0.0], np.geomspace(0.1, 1000, 400)])
    curve = 1 - np.exp(-times / 50.0)  # reaches 0.9 at 50 ln 10
    exact = 50 * np.log(10)
    assert abs(crossing_time(times, curve) - exact) / exact < 1e-3
    rng = np.random.default_rng(0)
    chains = curve[:, None] + 0.05 * rng.normal(size=(len(times), 2000))
    est, err, boots = t0(times, chains, window=0.05, n_boot=100)
    assert abs(est - exact) < 5 * err + 0.01 * exact
    assert 0 < err < 0.05 * exact and len(boots) == 100
    with pytest.warns(AnalysisWarning, match="never reaches"):  # not a silent NaN
        never = t0(times, 0.5 * chains, n_boot=10)
    assert np.isnan(never[0]) and np.isnan(never[1])


def test_smoothing_keeps_constants_and_fit_recovers_a_power_law():
    t = np.geomspace(1, 100, 50)
    np.testing.assert_allclose(smooth_log(t, np.full(50, 0.7), 0.3), 0.7)
    g = np.array([1.0, 0.7, 0.5, 0.4, 0.3])
    alpha, err, c = fit_power_law(g, 3.0 * g**-5.5, 0.05 * 3.0 * g**-5.5)
    assert abs(alpha - 5.5) < 1e-10 and abs(np.exp(c) - 3.0) < 1e-9 and 0 < err < 0.2


def test_green_kubo_integrand_at_time_zero_is_the_static_average():
    chain = tnmbl.models.rotor(16, 0.8)
    st = cs.gibbs(chain, 512, beta=1.0, seed=3)
    r = tnmbl.evolve_classical(chain, st, "leapfrog", dt=0.01, t_final=2.0, output_dt=0.1,
                               observables=["current_correlation", "energy_current"])
    from tnmbl.chain import classical as cc

    J0 = cc.energy_currents(chain, *st.canonical()).sum(-1)
    np.testing.assert_allclose(r["current_correlation"][0, 0], np.mean(J0**2) / 16, rtol=1e-12)
    C, err, kappa = green_kubo(r.times, r.engine.samples["total_current"], 16)
    np.testing.assert_allclose(C, r["current_correlation"][:, 0], rtol=1e-12)
    assert kappa[0] == 0 and np.all(err > 0)
    # periodic chain: sum_b j_b is the total energy current; its mean vanishes in equilibrium
    assert abs(r["energy_current"].sum(1).mean()) < 5 * np.sqrt(np.mean(J0**2) / 512)


def test_bubble_width_of_a_gaussian_excess():
    x = np.arange(200.0)
    prof = 0.3 + np.exp(-((x - 80.0) ** 2) / (2 * 7.0**2))[None, :]
    X, sigma = bubble_width(x, prof, 0.3)
    np.testing.assert_allclose([X[0], sigma[0]], [80.0, 7.0], rtol=1e-6)
