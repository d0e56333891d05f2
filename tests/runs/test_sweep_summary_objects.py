"""A sweep summary as an object: ``load_summary`` gives one EnsembleResult per point, which
saves back to the identical file, views as an xarray Dataset over ``point`` (parameters as
coordinates, units kept) and plots with units on the axes."""

import matplotlib
import numpy as np
import pytest
from helpers import assert_same_summary

from tnmbl.evolution import EnsembleResult, resultsio
from tnmbl.runs.sweep_summary import SweepSummary, load_summary, read_summary

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def summary(clean_sweep):
    plan, _ = clean_sweep
    return plan, load_summary(plan.summary_path)


def test_points_are_ensembles_with_the_members_statistics(summary):
    plan, s = summary
    assert len(s.points) == 4 and all(isinstance(p, EnsembleResult) for p in s.points)
    p = s.points[0]
    ms = [m for m in plan.members if m.point == 0]
    from tnmbl import load

    members = np.array([load(m.path)["density"] for m in ms])
    np.testing.assert_allclose(p["density"], members.mean(0), rtol=0, atol=1e-14)
    np.testing.assert_allclose(p.sem["density"], members.std(0, ddof=1) / np.sqrt(len(ms)), rtol=0, atol=1e-14)
    assert np.all(p.lo["density"] <= p["density"] + 1e-12) and np.all(p["density"] <= p.hi["density"] + 1e-12)
    assert p.units["density"] == load(ms[0].path).units["density"] and p.dims["density"] == "site"
    assert p.meta["params"] == plan.points[0] and p.n_samples == len(ms)


def test_save_load_identical(summary, tmp_path):
    plan, s = summary
    path = s.save(tmp_path / "copy.h5")
    back = SweepSummary.load(path)
    assert back.attrs == s.attrs
    for a, b in zip(s.points, back.points):
        same, why = a.same_as(b)
        assert same, why
    assert_same_summary(read_summary(path), read_summary(plan.summary_path), atol=0)
    with pytest.raises(resultsio.ResultsFileError, match="exists"):
        s.save(path)


def test_foreign_file_is_refused_naming_it(summary, tmp_path):
    plan, _ = summary
    with pytest.raises(resultsio.ResultsFileError, match="not a tnmbl sweep summary") as err:
        load_summary(plan.members[0].path)
    assert err.value.key == str(plan.members[0].path)
    import tnmbl

    with pytest.raises(resultsio.ResultsFileError) as err:  # and the results reader points to load_summary
        tnmbl.load(plan.summary_path)
    assert "load_summary" in err.value.fix


def test_to_xarray(summary):
    pytest.importorskip("xarray")
    _, s = summary
    ds = s.to_xarray()
    assert ds.sizes["point"] == 4 and ds["density"].dims == ("point", "time", "site")
    assert ds["time"].attrs["units"] == resultsio.TIME_UNITS
    assert ds["density"].attrs["units"] == s.points[0].units["density"]
    assert ds["sem_density"].attrs["units"] == s.points[0].units["density"]
    np.testing.assert_array_equal(ds["model.W"].values, [p.meta["params"]["model.W"] for p in s.points])
    for k, p in enumerate(s.points):
        np.testing.assert_array_equal(ds["density"].isel(point=k).values, p["density"])
        np.testing.assert_array_equal(ds["hi_density"].isel(point=k).values, p.hi["density"])
        back = EnsembleResult.from_xarray(ds.isel(point=k).assign_attrs(n_samples=p.n_samples))
        np.testing.assert_array_equal(back.sem["density"], p.sem["density"])
    assert ds.attrs["name"] == s.attrs["name"] and "versions" in ds.attrs


def test_plot_has_units_and_one_line_per_point(summary, tmp_path):
    _, s = summary
    fig = s.plot("density")
    ax_t, ax_x = fig.axes
    assert resultsio.TIME_UNITS in ax_t.get_xlabel()
    assert ax_t.get_ylabel() == f"density at the middle site [{s.points[0].units['density']}]"
    assert ax_x.get_xlabel() == "position x of the site [lattice spacing]"
    assert len(ax_t.lines) == 4 and "W=0.5, J=0.2" in [t.get_text() for t in ax_t.get_legend().get_texts()]
    matplotlib.pyplot.close(fig)
    assert s.plot(out=tmp_path / "s.png").stat().st_size > 0
