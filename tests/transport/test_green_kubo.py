"""Green-Kubo integration, tails and error budget on analytic inputs (the decay-rate fit:
tests/evolution/test_decay_rate.py)."""

import numpy as np
import pytest

from tnmbl.errors import ObservableError
from tnmbl.transport import green_kubo, green_kubo_ensemble

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
