"""Spreading observables on analytic profiles (Gaussian, step), the excess conventions, the
thermalization distance and eq. 19."""

import numpy as np
import pytest

from tnmbl.errors import ObservableError
from tnmbl.observables import spreading as sp
from tnmbl.observables.classical import bubble_width


def gaussian(x, x0, s, amp=1.0):
    return amp * np.exp(-((x - x0) ** 2) / (2 * s**2))


def test_gaussian_centre_width_and_front():
    x = np.arange(200, dtype=float)
    x0, s, amp, thr = 93.3, 6.5, 2.0, 0.3
    e = gaussian(x, x0, s, amp)
    X, sigma = sp.centre_width(x, e)
    # a sampled Gaussian with sigma >> 1 has the continuum moments to round-off (Poisson summation)
    assert X == pytest.approx(x0, abs=1e-10)
    assert sigma == pytest.approx(s, rel=1e-10)
    reach = s * np.sqrt(2 * np.log(amp / thr))
    # linear interpolation between sites (h = 1): error <= |e''| h^2 / 8 / |e'| at the crossing (0.028 here)
    tol = thr * (reach**2 / s**4 - 1 / s**2) / 8 / (thr * reach / s**2) * 1.1
    assert tol < 0.05
    assert sp.front(x, e, thr, "right") == pytest.approx(x0 + reach, abs=tol)
    assert sp.front(x, e, thr, "left") == pytest.approx(x0 - reach, abs=tol)
    assert sp.front(x, e, thr, "both") == pytest.approx(reach, abs=tol)
    fine = np.arange(0, 200, 0.05)  # a finer grid converges as h^2
    assert sp.front(fine, gaussian(fine, x0, s, amp), thr, "left") == pytest.approx(x0 - reach, abs=tol * 0.01)


def test_step_profile_centre_width_front():
    x = np.arange(30, dtype=float)
    a, b = 11, 18
    e = np.where((x >= a) & (x < b), 1.0, 0.0)
    X, sigma = sp.centre_width(x, e)
    n = b - a
    assert X == (a + b - 1) / 2
    assert sigma == pytest.approx(np.sqrt((n**2 - 1) / 12), rel=1e-14)
    assert sp.front(x, e, 0.5, "right") == b - 0.5  # half-way to the first empty site
    assert sp.front(x, e, 0.5, "left") == a - 0.5
    assert sp.front(x, e, 0.5, "both") == n / 2
    assert sp.front(x, e, 1.0, "right") == b - 1  # the last full site reaches a threshold of 1 exactly
    assert np.isnan(sp.front(x, e, 1.5))


@pytest.mark.filterwarnings("ignore::tnmbl.errors.AnalysisWarning")  # fronts reach the edge; widths checked
def test_width_is_the_issue_4_bubble_width():
    """The spreading centre and width are the classical analysis' bubble_width (one definition)."""
    rng = np.random.default_rng(3)
    prof = rng.random((5, 20)) + 2.0
    x = np.arange(20.0)
    s = sp.spreading(sp.Series(np.arange(5.0), x, prof, "density"), background=2.0, sign=1)
    X, sigma = bubble_width(x, prof, 2.0)
    np.testing.assert_array_equal(s.centre, X)
    np.testing.assert_array_equal(s.width, sigma)


def test_excess_sign_and_backgrounds_of_a_low_density_bubble():
    x = np.arange(12.0)
    prof = np.full((3, 12), 2.0)
    prof[0, 4:8] = 0.0  # empty sites in density 2
    prof[1, 3:9] = 1.0
    prof[2] = 2.0
    t, _, e = sp.excess(sp.Series(np.arange(3.0), x, prof, "density"))  # median background, sign auto
    np.testing.assert_array_equal(e[0], np.where((x >= 4) & (x < 8), 2.0, 0.0))  # a deficit made positive
    np.testing.assert_array_equal(e[2], 0.0)
    _, _, e_init = sp.excess(sp.Series(np.arange(3.0), x, prof, "density"), background="initial", sign=1)
    np.testing.assert_array_equal(e_init[0], 0.0)
    s = sp.spreading(sp.Series(np.arange(3.0), x, prof, "density"), threshold=0.5)
    assert s.width[1] > s.width[0]
    np.testing.assert_array_equal(s.total, [8.0, 6.0, 0.0])
    assert np.isnan(s.width[2])  # nothing left: no width
    with pytest.raises(ObservableError, match="background"):
        sp.excess(sp.Series(np.arange(3.0), x, prof, "density"), background=np.zeros(5))


def test_thermalization_distance_counts_relaxed_sites_from_the_bath():
    L, bath = 10, (0, 3)
    times = np.arange(4.0)
    sz = np.tile(np.where(np.arange(L) % 2 == 0, 1.0, -1.0), (4, 1))
    sz[1, 3] *= 0.4           # t=1: site 3 relaxed by 60 %
    sz[2, 3:5] *= 0.2         # t=2: sites 3, 4
    sz[3, 3:5] *= 0.2
    sz[3, 6] *= 0.1           # t=3: site 6 relaxed but site 5 not: the distance stays 2
    s = sp.Series(times, np.arange(L, dtype=float), sz, "density")
    _, d = sp.thermalization_distance(s, bath=bath, thermal=0.0, level=0.5)
    np.testing.assert_array_equal(d, [0, 1, 2, 2])
    _, d_right = sp.thermalization_distance(s, bath=(7, 10), thermal=0.0, level=0.5)
    np.testing.assert_array_equal(d_right, [0, 0, 0, 1])  # a bath at the right end: site 6 is next to it
    with pytest.raises(ObservableError, match="touch one end"):
        sp.thermalization_distance(s, bath=(3, 5))


def test_l_c_of_eq_19():
    assert sp.l_c(1 / (2 * np.log(2)), 4) == pytest.approx(2.0)  # 1/xi - log2 = log2: l_c = L / 2
    assert sp.l_c(0.5, 6) == pytest.approx(0.5 * np.log(2) / (2 - np.log(2)) * 6)
    assert sp.l_c(1 / np.log(2), 4) == np.inf and sp.l_c(3.0, 4) == np.inf
