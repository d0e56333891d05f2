"""Green-Kubo integration, tails and error budget on analytic inputs (the decay-rate fit:
tests/evolution/test_decay_rate.py)."""

import numpy as np
import pytest

from tnmbl.errors import ObservableError
from tnmbl.transport import green_kubo, green_kubo_chi, green_kubo_ensemble

T = np.linspace(0, 10, 401)


def test_exponential_integrand_with_and_without_tail():
    C = 0.5 * np.exp(-T / 2)  # kappa = 2 * 0.5 * 2 = 2
    cut = green_kubo(T, C, window=(6, 10))
    assert cut.kappa < 2 and 2 - cut.kappa < 4 * cut.errors["window"] + 0.1  # the cut-off tail shows as window error
    tailed = green_kubo(T, C, window=(6, 10), tail="exponential")
    assert abs(tailed.kappa - 2) < 1e-4
    assert tailed.tail_fit["tau"] == pytest.approx(2.0, rel=1e-9)
    assert tailed.errors["window"] < 1e-4 < tailed.errors["tail"]
    assert tailed.error == pytest.approx(np.sqrt(sum(v**2 for v in tailed.errors.values())))


def test_truncation_error_is_integrated():
    C = np.exp(-T)
    r = green_kubo(T, C, window=(8, 10), C_error=np.full_like(T, 1e-3))
    assert r.errors["truncation"] == pytest.approx(2 * 1e-3 * 10, rel=1e-9)
    assert abs(r.kappa - 2) < 1e-3


def test_window_and_tail_are_checked():
    with pytest.raises(ObservableError, match="window"):
        green_kubo(T, np.exp(-T), window=(5, 20))
    with pytest.raises(ObservableError, match="does not decay"):
        green_kubo(T, np.exp(T / 10), window=(5, 10), tail="exponential")
    with pytest.raises(ObservableError, match="pair"):
        green_kubo(T, np.exp(-T), window=5)


def test_ensemble_statistical_error_matches_sample_spread():
    rng = np.random.default_rng(3)
    M, L = 400, 8
    t = np.linspace(0, 4, 41)
    J0 = rng.normal(size=M) * np.sqrt(L)
    J = J0[None, :] * np.exp(-t)[:, None] + 0.1 * rng.normal(size=(len(t), M))
    res, C, C_err = green_kubo_ensemble(t, J, L, window=(3, 4))
    # kappa = 2 <J0^2>/L * (1 - e^-t) plateau ~ 2 <J0^2>/L; sample mean within 4 sigma of 2
    assert abs(res.kappa - 2 * np.mean(J0**2) / L * 0.97) < 0.1
    assert abs(res.kappa - 2) < 4 * res.errors["statistical"] + 0.1
    assert 0.05 < res.errors["statistical"] < 0.3  # ~ 2 sqrt(2/M) = 0.14
    assert np.all(C_err > 0)


def test_chi_difference_truncation_row_on_known_integrands():
    # C at chi: e^-t (kappa 2); at chi_low: 1.2 e^-t (kappa 2.4): the row is |2 - 2.4| = 0.4
    C, C_low = np.exp(-T), 1.2 * np.exp(-T)
    r = green_kubo(T, C, window=(8, 10), C_low=C_low, chi=64, chi_low=32)
    assert r.truncation == {"estimate": "chi difference", "kappa_low": pytest.approx(1.2 * r.kappa, rel=1e-12),
                            "chi": 64, "chi_low": 32}
    assert r.errors["truncation"] == pytest.approx(0.2 * r.kappa, rel=1e-12)
    assert abs(r.kappa - 2) < 1e-3 and abs(r.errors["truncation"] - 0.4) < 1e-3
    assert r.error == pytest.approx(np.sqrt(sum(v**2 for v in r.errors.values())))  # in the quoted error bar
    assert r.flags and r.flags[0].startswith("truncation") and "raise chi_max" in r.flags[0]  # 0.4 > 0.1 kappa
    assert r.plateau and not r.lower_bound
    close = green_kubo(T, C, window=(8, 10), C_low=1.001 * C)
    assert not close.flags and close.errors["truncation"] == pytest.approx(0.002, rel=1e-3)
    with pytest.raises(ObservableError, match="either the chi difference"):
        green_kubo(T, C, window=(8, 10), C_low=C_low, C_error=np.zeros_like(T))


def test_no_plateau_is_a_lower_bound():
    r = green_kubo(T, np.exp(-T / 4), window=(5, 10))  # still growing by 40 % of kappa over the window
    assert r.lower_bound and any("lower bound" in f for f in r.flags)
    fig = r.plot()
    (ax,) = fig.axes
    assert ax.get_xlabel().startswith("time t [") and ax.get_ylabel() == "kappa(t) [conductivity units]"
    assert any(t.get_text().startswith("lower bound") for t in ax.get_legend().get_texts())


def _corr(values, chi):
    from tnmbl.evolution.correlations import Correlation

    z = np.zeros(len(T))
    return Correlation(T, np.zeros(0), values, z, z, z.astype(int), {"chi_max": chi})


def test_green_kubo_chi_takes_the_two_largest_chi():
    runs = [_corr(0.9 * np.exp(-T), 16), _corr(np.exp(-T), 64), _corr(1.05 * np.exp(-T), 32)]
    r = green_kubo_chi(runs, window=(8, 10))
    assert r.truncation["chi"] == 64 and r.truncation["chi_low"] == 32
    assert r.errors["truncation"] == pytest.approx(0.05 * r.kappa, rel=1e-12)
    same = green_kubo_chi({64: runs[1], 32: runs[2]}, window=(8, 10))
    assert same.kappa == r.kappa and same.errors == r.errors
    with pytest.raises(ObservableError, match="two or more chi_max"):
        green_kubo_chi(runs[:1], window=(8, 10))


def test_chi_difference_bounds_the_real_truncation_error():
    """Bose-Hubbard L = 6 at beta = 0, g = U (truncated hard at chi 6 and 12): kappa converges
    monotonically in chi, so |kappa(12) - kappa(6)| is at least the error of kappa(12) against
    the exact trace, and it is far below the integrated per-time error bound."""
    from tnmbl.evolution.correlations import current_autocorrelation
    from tnmbl.models.quantum import bose_hubbard

    chain = bose_hubbard(6, U=1.0, g=1.0, n_max=2)
    kw = dict(total=False, t_max=1.5, dt=0.1, output_dt=0.1)
    exact = current_autocorrelation(chain, "energy_current", method="exact", **kw)
    k_exact = green_kubo(exact.times, exact.values, window=(1.0, 1.5)).kappa
    runs = {chi: current_autocorrelation(chain, "energy_current", trotter="tebd4", chi_max=chi, **kw)
            for chi in (6, 12)}
    r = green_kubo_chi(runs, window=(1.0, 1.5))
    assert abs(r.kappa - k_exact) > 0.1  # truncation matters here
    error, error_low = abs(r.kappa - k_exact), abs(r.truncation["kappa_low"] - k_exact)
    assert error <= r.errors["truncation"] <= error + error_low
    bound = green_kubo(runs[12].times, runs[12].values, window=(1.0, 1.5), C_error=runs[12].error_estimate)
    assert r.errors["truncation"] < bound.errors["truncation"]


def _ou_currents(rng, n, M, h, tau, sigma):
    """Stationary Ornstein-Uhlenbeck currents sampled exactly (AR(1)): <J(t)J(0)> = sigma^2 e^(-t/tau)."""
    a = np.exp(-h / tau)
    J = np.empty((n, M))
    J[0] = sigma * rng.normal(size=M)
    for k in range(1, n):
        J[k] = a * J[k - 1] + sigma * np.sqrt(1 - a**2) * rng.normal(size=M)
    return J


def test_all_origins_equal_the_direct_time_average_per_chain():
    rng = np.random.default_rng(5)
    L, h = 4, 0.1
    t = h * np.arange(300)
    J = _ou_currents(rng, len(t), 7, h, 1.0, 2.0)
    res, C, C_err = green_kubo_ensemble(t, J, L, window=(2.0, 3.0), origins="all", chunk=3)
    n_lag = 31  # lags 0 ... 3.0
    direct = np.array([[np.mean(J[k:, m] * J[:len(t) - k, m]) / L for m in range(7)] for k in range(n_lag)])
    np.testing.assert_allclose(C, direct.mean(1), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(C_err, direct.std(1, ddof=1) / np.sqrt(7), rtol=1e-9)
    runs = 2 * np.array([np.trapezoid(direct[: k + 1], dx=h, axis=0) for k in range(n_lag)])  # (n_lag, chains)
    plate = runs[20:].mean(0)  # window [2, 3]
    assert res.kappa == pytest.approx(plate.mean(), rel=1e-10)
    assert res.errors["statistical"] == pytest.approx(plate.std(ddof=1) / np.sqrt(7), rel=1e-9)
    np.testing.assert_allclose(res.times, t[:n_lag])


def test_all_origins_on_stationary_currents_with_a_known_kappa():
    rng = np.random.default_rng(6)
    L, h, tau, sigma, M = 8, 0.1, 1.0, 2.0, 40
    t = h * np.arange(6000)
    J = _ou_currents(rng, len(t), M, h, tau, sigma)
    a = np.exp(-h / tau)
    exact = 2 * sigma**2 / L * h / 2 * (1 + a) / (1 - a)  # trapezoid of the exponential to infinity
    first, _, _ = green_kubo_ensemble(t, J, L, window=(8.0, 10.0))
    every, _, _ = green_kubo_ensemble(t, J, L, window=(8.0, 10.0), origins="all")
    assert abs(every.kappa - exact) < 4 * every.errors["statistical"]
    assert every.errors["statistical"] < 0.1 * first.errors["statistical"]  # ~ sqrt(10 / 600) of it
    assert every.plateau


def test_all_origins_need_equal_spacing():
    J = np.ones((5, 3))
    with pytest.raises(ObservableError, match="equally spaced"):
        green_kubo_ensemble(np.array([0, 1, 2, 4, 8.0]), J, 2, window=(1, 2), origins="all")
    with pytest.raises(ObservableError, match="origins"):
        green_kubo_ensemble(np.arange(5.0), J, 2, window=(1, 2), origins="every")
