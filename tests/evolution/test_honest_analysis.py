"""Honest analysis outputs: t0 warns when phi never reaches its level, a
front at the chain's edge warns, spreading() stores its threshold and gives an ensemble
bootstrap error bars."""

import warnings

import numpy as np
import pytest

import tnmbl
from tnmbl.errors import AnalysisWarning
from tnmbl.evolution import ensemble_average
from tnmbl.observables import spreading as sp
from tnmbl.observables.classical import t0


def test_t0_warns_when_phi_never_reaches_the_level():
    times = np.concatenate([[0.0], np.geomspace(0.1, 100, 60)])
    chains = np.tile((0.5 * (1 - np.exp(-times / 10)))[:, None], (1, 8))
    with pytest.warns(AnalysisWarning) as rec:
        value, err, _ = t0(times, chains, n_boot=5)
    assert np.isnan(value)
    w = rec[0].message
    assert w.key == "level" and w.value == 0.9 and "never reaches" in w.rule and "t_final" in w.fix
    assert "lower bound" in w.rule


def test_t0_warns_when_some_resamples_never_cross():
    times = np.concatenate([[0.0], np.geomspace(0.1, 100, 60)])
    curve = 1 - np.exp(-times / 10)
    chains = np.column_stack([curve] * 3 + [0.5 * curve] * 5)  # the mean barely crosses
    with pytest.warns(AnalysisWarning, match="bootstrap resamples never reach"):
        value, err, _ = t0(times, chains, level=0.6, n_boot=50, seed=1)
    assert np.isfinite(value) and err == np.inf


def test_t0_is_silent_when_it_crosses():
    times = np.concatenate([[0.0], np.geomspace(0.1, 1000, 200)])
    chains = np.tile((1 - np.exp(-times / 10))[:, None], (1, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, err, _ = t0(times, chains, n_boot=10)
    assert value == pytest.approx(10 * np.log(10), rel=1e-2)


def test_front_at_the_edge_warns_and_is_marked():
    x = np.arange(10.0)
    e = np.zeros((3, 10))
    e[0, 4:6] = 1.0
    e[1, 2:8] = 0.5
    e[2, :] = 0.3  # the bubble has reached both ends
    with pytest.warns(AnalysisWarning) as rec:
        fr = sp.front(x, e, 0.2, "right")
    assert "edge" in rec[0].message.rule and rec[0].message.key == "front"
    assert fr[2] == 9.0  # a lower bound
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sp.front(x, e[:2], 0.2, "right")  # inside the chain: silent
    np.testing.assert_array_equal(sp.at_edge(e, 0.2), [False, False, True])
    with pytest.warns(AnalysisWarning):
        s = sp.spreading(sp.Series(np.arange(3.0), x, e, "density"), background=0.0, sign=1, threshold=0.2)
    np.testing.assert_array_equal(s.at_edge, [False, False, True])


def test_spreading_stores_the_threshold():
    x = np.arange(20.0)
    prof = np.zeros((2, 20))
    prof[0, 8:12] = 1.0
    prof[1, 6:14] = 0.5
    s = sp.spreading(sp.Series(np.arange(2.0), x, prof, "density"), background=0.0, sign=1)
    assert s.threshold == pytest.approx(0.1) and s.n_members == 1 and s.front_err is None
    s2 = sp.spreading(sp.Series(np.arange(2.0), x, prof, "density"), background=0.0, sign=1, threshold=0.3)
    assert s2.threshold == 0.3


@pytest.fixture(scope="module")
def ensemble():
    chain = tnmbl.models.xxz(L=10, g=1.0, J=0.4, W=1.0, seed=2)
    states = tnmbl.states.sampled_bubble(chain, (4, 6), "down", n_samples=12, seed=5)
    return ensemble_average(chain, states, method="exact", dt=0.1, t_final=0.6, output_dt=0.2,
                            observables=["density"], keep_results=True)


def test_spreading_of_an_ensemble_has_bootstrap_errors(ensemble):
    s = sp.spreading(ensemble, "density", background="initial", sign=1, threshold=0.05, n_boot=100)
    assert s.n_members == 12 and s.n_boot == 100 and s.threshold == 0.05
    for err in (s.centre_err, s.width_err, s.front_err, s.total_err):
        assert err.shape == s.times.shape and np.all(np.isfinite(err[1:])) and np.all(err[1:] >= 0)
    assert s.width_err[-1] > 0
    # the bootstrap error of the mean width is about the members' spread / sqrt(n)
    per_member = np.array([sp.spreading(r, "density", background="initial", sign=1, threshold=0.05).width[-1]
                           for r in ensemble.results])
    assert s.width_err[-1] < 3 * per_member.std(ddof=1) / np.sqrt(12) + 1e-12
    # the same from the list of member results, and the mean profile's values
    s_list = sp.spreading(ensemble.results, "density", background="initial", sign=1, threshold=0.05, n_boot=100)
    np.testing.assert_allclose(s_list.width, s.width)
    np.testing.assert_allclose(s_list.width_err, s.width_err)
    single = sp.spreading(ensemble, "density", background="initial", sign=1, threshold=0.05, n_boot=100)
    np.testing.assert_allclose(single.width, sp.spreading(sp.Series(ensemble.times, ensemble.positions["density"],
                                                                   ensemble["density"], "density"),
                                                         background="initial", sign=1, threshold=0.05).width)
