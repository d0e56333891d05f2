"""Results as objects: ``Result.save`` / ``tnmbl.load`` in the run's HDF5
format (one reader for files of ``tnmbl run`` and of the API), ``to_xarray``, ``plot``."""

import h5py
import numpy as np
import pytest

import tnmbl
from tnmbl.evolution import resultsio
from tnmbl.runs.cli import main
from tnmbl.runs.storage import read_results


def write_config(tmp_path):
    """The run config of ``api_result`` (Bose-Hubbard L=6 bubble)."""
    import yaml

    raw = {"seed": 5, "model": {"name": "bose_hubbard", "L": 6, "U": 1.0, "g": 0.3, "n_max": 2, "W": 0.4},
           "state": {"kind": "bubble", "region": [2, 4], "background": 2, "inside": 0},
           "evolution": {"method": "tebd2", "dt": 0.05, "t_final": 0.6, "chi_max": 16},
           "observables": {"names": ["density", "energy_density", "energy_current"], "output_dt": 0.1},
           "output": {"path": str(tmp_path / "small.h5"), "figure": False}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def api_result():
    chain = tnmbl.models.bose_hubbard(L=6, U=1.0, g=0.3, n_max=2, W=0.4, seed=5)
    psi = tnmbl.states.bubble(chain, (2, 4), 2, 0)
    return tnmbl.evolve(chain, psi, "tebd2", dt=0.05, t_final=0.6, chi_max=16, output_dt=0.1,
                        observables=["density", "energy_density", "energy_current"])


def test_save_load_identical(api_result, tmp_path):
    path = api_result.save(tmp_path / "r.h5")
    back = tnmbl.load(path)
    same, why = api_result.same_as(back)
    assert same, why
    for name in api_result.data:  # bitwise: nothing is recomputed
        assert np.array_equal(back[name], api_result[name])
        assert np.array_equal(back.positions[name], api_result.positions[name])
    assert back.units == api_result.units and back.dims == api_result.dims
    assert np.array_equal(back.steps, api_result.steps)
    assert back.meta["file"]["status"] == "finished"
    assert back.meta["file"]["history"][-1]["event"] == "save"
    # the run layer's reader reads the API's file too (one format)
    raw = read_results(path)
    assert np.array_equal(raw["observables"]["density"], api_result["density"])


def test_save_refuses_to_replace(api_result, tmp_path):
    path = api_result.save(tmp_path / "r.h5")
    with pytest.raises(resultsio.ResultsFileError) as err:
        api_result.save(path)
    assert err.value.key == str(path) and "overwrite=True" in err.value.fix
    api_result.save(path, overwrite=True)
    assert not list(tmp_path.glob(".*.tmp"))


def test_load_names_the_file(tmp_path):
    missing = tmp_path / "nope.h5"
    with pytest.raises(resultsio.ResultsFileError) as err:
        tnmbl.load(missing)
    assert err.value.key == str(missing) and "does not exist" in err.value.rule
    text = tmp_path / "x.h5"
    text.write_text("not hdf5")
    with pytest.raises(resultsio.ResultsFileError, match="cannot be opened as HDF5"):
        tnmbl.load(text)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "something-else"
    with pytest.raises(resultsio.ResultsFileError, match="not a tnmbl results file"):
        tnmbl.load(other)


def test_run_file_loads_as_the_api_result(api_result, tmp_path):
    cfg = write_config(tmp_path)
    assert main(["run", str(cfg)]) == 0
    from_run = tnmbl.load(tmp_path / "small.h5")
    same, why = from_run.same_as(api_result, rtol=0, atol=1e-12)
    assert same, why
    assert from_run.meta["file"]["config"]  # the run's provenance comes along
    assert from_run.meta["file"]["status"] == "finished"
    # ... and saving it again keeps the run's provenance
    again = tnmbl.load(from_run.save(tmp_path / "again.h5"))
    assert again.meta["file"]["config"] == from_run.meta["file"]["config"]
    assert [e["event"] for e in again.meta["file"]["history"]][-1] == "save"


def test_a_killed_row_is_not_read(api_result, tmp_path):
    path = api_result.save(tmp_path / "r.h5")
    with h5py.File(path, "r+") as f:  # a row half written: observables grown, /time not
        ds = f["observables"]["density"]
        ds.resize(ds.shape[0] + 1, axis=0)
    back = tnmbl.load(path)
    assert back["density"].shape == api_result["density"].shape


def test_to_xarray_round_trip(api_result):
    xr = pytest.importorskip("xarray")
    ds = api_result.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds["time"].attrs["units"] == resultsio.TIME_UNITS
    np.testing.assert_array_equal(ds["time"].values, api_result.times)
    np.testing.assert_array_equal(ds["density"].coords["site"].values, api_result.positions["density"])
    assert ds["density"].attrs["units"] == api_result.units["density"]
    assert ds["energy_current"].dims[0] == "time"
    np.testing.assert_array_equal(ds["energy_current"][ds["energy_current"].dims[1]].values,
                                  api_result.positions["energy_current"])
    assert ds.attrs["method"] == "tebd2" and ds.attrs["model"] == "bose_hubbard"
    assert "L=6" in ds.attrs["title"]
    back = tnmbl.Result.from_xarray(ds)
    same, why = back.same_as(api_result)
    assert same, why
    assert back.units == api_result.units


def test_to_xarray_without_xarray(api_result, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(tnmbl.OptionError) as err:
        api_result.to_xarray()
    assert "tnmbl[xarray]" in err.value.fix


def test_plot_labels(api_result, tmp_path):
    fig = api_result.plot()
    labels = [ax.get_xlabel() for ax in fig.axes] + [ax.get_ylabel() for ax in fig.axes]
    assert any(resultsio.TIME_UNITS in text for text in labels)
    assert "U=1" in fig._suptitle.get_text() and "tebd2" in fig._suptitle.get_text()
    import matplotlib.pyplot as plt

    plt.close(fig)
    out = api_result.plot(tmp_path / "fig.png")
    assert out.exists() and out.stat().st_size > 0


def test_classical_batch_round_trip_with_per_chain_series(tmp_path):
    from tnmbl.states import classical as cs

    chain = tnmbl.models.rotor(8, 1.0)
    res = tnmbl.evolve(chain, cs.gibbs(chain, 4, beta=1.0, seed=0), "leapfrog", dt=0.05, t_final=1.0, n_log=6,
                       observables=["density", "phi"], per_chain=["energy"])
    assert res.per_chain["energy"].shape == (len(res.times), 4)
    back = tnmbl.load(res.save(tmp_path / "c.h5"))
    same, why = back.same_as(res)
    assert same, why
    pytest.importorskip("xarray")
    same, why = tnmbl.Result.from_xarray(res.to_xarray()).same_as(res)
    assert same, why
