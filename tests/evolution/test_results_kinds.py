"""Ensembles and correlations are results too: saved in the one results-file format (a
``kind`` attribute and their own arrays beside the observables), loaded by ``tnmbl.load``,
viewed with ``to_xarray`` (coordinates with units, provenance in attrs) and plotted with
units on the axes."""

import matplotlib
import numpy as np
import pytest

import tnmbl
from tnmbl.evolution import EnsembleResult, ensemble_average, resultsio
from tnmbl.evolution.correlations import Correlation, correlations, current_autocorrelation
from tnmbl.runs.storage import read_results

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def ensemble():
    chain = tnmbl.models.xxz(L=6, g=1.0, J=0.4, W=1.0, seed=2)
    states = tnmbl.states.sampled_bubble(chain, (2, 4), "down", n_samples=3, seed=5)
    return ensemble_average(chain, states, method="exact", dt=0.1, t_final=0.4, output_dt=0.2,
                            observables=["density", "energy_current"], keep_results=True)


@pytest.fixture(scope="module")
def profile():
    chain = tnmbl.models.xxz(L=6, g=1.0, J=0.5)
    return correlations(chain, "density", beta=0.0, t_max=0.4, dt=0.1, method="exact")


@pytest.fixture(scope="module")
def autocorrelation():
    chain = tnmbl.models.bose_hubbard(L=4, U=1.0, g=0.5, n_max=2)
    return current_autocorrelation(chain, "energy_current", t_max=0.4, dt=0.1, total=False, trotter="tebd2",
                                   chi_max=16)


def labels(fig):
    return [ax.get_xlabel() for ax in fig.axes] + [ax.get_ylabel() for ax in fig.axes] + \
        [im.colorbar.ax.get_ylabel() for ax in fig.axes for im in ax.collections if im.colorbar is not None]


def test_ensemble_is_a_result_of_the_means(ensemble):
    members = np.array([r["density"] for r in ensemble.results])
    np.testing.assert_allclose(ensemble["density"], members.mean(0), rtol=0, atol=1e-15)
    np.testing.assert_allclose(ensemble.sem["density"], members.std(0, ddof=1) / np.sqrt(3), rtol=0, atol=1e-15)
    assert ensemble.units["density"] == ensemble.results[0].units["density"]
    assert ensemble.meta["ensemble"]["n_samples"] == 3 and ensemble.meta["method"] == "exact"
    worst = np.max([np.abs(r.health["energy_drift"]) for r in ensemble.results], axis=0)
    np.testing.assert_array_equal(ensemble.health["energy_drift"], worst)


def test_ensemble_save_load_identical(ensemble, tmp_path):
    path = ensemble.save(tmp_path / "e.h5")
    back = tnmbl.load(path)
    assert isinstance(back, EnsembleResult) and back.n_samples == 3
    same, why = ensemble.same_as(back)
    assert same, why
    for name in ensemble.data:  # bitwise
        assert np.array_equal(back.samples[name], ensemble.samples[name])
        assert np.array_equal(back.sem[name], ensemble.sem[name])
    assert back.meta["file"]["kind"] == "ensemble"
    # the same file is a results file of the one format: the run layer's reader gives the means
    np.testing.assert_array_equal(read_results(path)["observables"]["density"], ensemble["density"])
    assert not ensemble.same_as(tnmbl.Result.load(path))[0]  # a plain Result has no samples


def test_ensemble_to_xarray_round_trip(ensemble):
    pytest.importorskip("xarray")
    ds = ensemble.to_xarray()
    assert ds.attrs["kind"] == "ensemble" and ds.attrs["n_samples"] == 3
    assert ds["time"].attrs["units"] == resultsio.TIME_UNITS
    assert ds["sem_density"].attrs["units"] == ensemble.units["density"]
    assert ds["samples_density"].dims == ("sample", "time", "site")
    np.testing.assert_array_equal(ds["sem_density"].coords["site"].values, ensemble.positions["density"])
    back = EnsembleResult.from_xarray(ds)
    same, why = back.same_as(ensemble)
    assert same, why


def test_ensemble_plot(ensemble):
    fig = ensemble.plot()
    assert any(resultsio.TIME_UNITS in text for text in labels(fig))
    assert "mean of 3 runs" in fig._suptitle.get_text()
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("which", ["profile", "autocorrelation"])
def test_correlation_save_load_identical(which, request, tmp_path):
    corr = request.getfixturevalue(which)
    path = corr.save(tmp_path / "c.h5")
    back = tnmbl.load(path)
    assert isinstance(back, Correlation) and back.scalar == corr.scalar
    for what in ("times", "distance", "values", "error_estimate", "truncation_error", "chi"):
        a, b = getattr(corr, what), getattr(back, what)
        assert np.array_equal(a, b) and np.shape(a) == np.shape(b), what
    assert back.values.dtype == complex
    assert {k: v for k, v in back.meta.items() if k not in ("file", "versions")} == \
        resultsio.jsonable(corr.meta)
    assert back.meta["versions"]["tnmbl"] == tnmbl.__version__


@pytest.mark.parametrize("which", ["profile", "autocorrelation"])
def test_correlation_to_xarray_round_trip(which, request):
    pytest.importorskip("xarray")
    corr = request.getfixturevalue(which)
    ds = corr.to_xarray()
    assert ds.attrs["kind"] == "correlation" and ds["time"].attrs["units"] == resultsio.TIME_UNITS
    assert ds["C_re"].attrs["units"] == corr.meta["units"]
    if not corr.scalar:
        np.testing.assert_array_equal(ds["C_re"].coords["distance"].values, corr.distance)
        assert ds["distance"].attrs["units"].startswith("lattice spacing")
    back = Correlation.from_xarray(ds)
    np.testing.assert_array_equal(back.values, corr.values)
    np.testing.assert_array_equal(back.distance, corr.distance)


def test_correlation_units_and_plot(profile, autocorrelation, tmp_path):
    assert profile.meta["units"] == "(charge)^2"
    assert autocorrelation.meta["units"] == "(energy / time)^2"
    for corr, axis in ((profile, "distance x - y [lattice spacing]"), (autocorrelation, "Re C(t) [(energy / time)^2]")):
        fig = corr.plot()
        text = labels(fig)
        assert axis in text and any(resultsio.TIME_UNITS in x for x in text)
        # exact correlations truncate nothing: no health panel
        assert ("truncation error (accumulated discarded weight)" in text) == (corr is autocorrelation)
        matplotlib.pyplot.close(fig)
    assert "bose_hubbard(L=4" in autocorrelation.as_result().title()
    out = autocorrelation.plot(tmp_path / "c.png")
    assert out.stat().st_size > 0
