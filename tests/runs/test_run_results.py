"""Results files, checkpoints, resume and extend (in-process runs, L = 6)."""

import h5py
import numpy as np
import pytest
import yaml
from helpers import StopAfter, small_config

import tnmbl
from tnmbl.errors import ConfigError
from tnmbl.runs import runner
from tnmbl.runs.checkpoint import read_checkpoint, write_checkpoint
from tnmbl.runs.cli import info_dict
from tnmbl.runs.config import build_chain, build_state, validate_config
from tnmbl.runs.storage import ResultsWriter, read_results


def assert_same_rows(a, b, tol=1e-12):
    """Rows of two results files agree: same times and steps, observables and health to ``tol``."""
    ra, rb = read_results(a), read_results(b)
    np.testing.assert_array_equal(ra["step"], rb["step"])
    np.testing.assert_allclose(ra["time"], rb["time"], rtol=0, atol=1e-12)
    assert set(ra["observables"]) == set(rb["observables"])
    for k in ra["observables"]:
        np.testing.assert_allclose(ra["observables"][k], rb["observables"][k], rtol=0, atol=tol, err_msg=k)
    for k in ra["health"]:
        np.testing.assert_allclose(ra["health"][k], rb["health"][k], rtol=0, atol=tol, err_msg=k)


def test_results_file_layout_provenance_and_rows_match_evolve(tmp_path):
    cfg = validate_config(small_config(tmp_path), name="small")
    summary = runner.run(cfg)
    assert summary.status == "finished" and summary.n_rows == 7 and summary.checkpoint.exists()
    with h5py.File(summary.results, "r") as f:
        ds = f["observables/energy_current"]
        assert ds.chunks is not None and ds.maxshape == (None, 4)
        assert list(ds.attrs["dims"]) == ["time", "current"] and ds.attrs["units"] == "energy / time"
        assert f["time"].maxshape == (None,) and "units" in f["time"].attrs
        assert f.attrs["status"] == "finished" and f.attrs["seed"] == 5
        assert f.attrs["started"] and f.attrs["ended"] and f.attrs["git_commit"]
        stored = yaml.safe_load(f.attrs["config"])
    assert validate_config(stored, name="small").to_dict() == cfg.to_dict()
    res = read_results(summary.results)
    assert res["attrs"]["versions"]["physics-tenpy"] == tnmbl.versions()["physics-tenpy"]
    # the rows are those of the library call with the same parameters
    chain = build_chain(cfg)
    ref = tnmbl.evolve(chain, build_state(cfg, chain), "tebd2", dt=0.05, t_final=0.6, chi_max=16,
                       observables=["density", "energy_density", "energy_current"], output_dt=0.1)
    np.testing.assert_allclose(res["time"], ref.times, atol=1e-12)
    for k in ref.data:
        np.testing.assert_allclose(res["observables"][k], ref[k], rtol=0, atol=1e-12)
        np.testing.assert_allclose(res["positions"][k], ref.positions[k])
    np.testing.assert_allclose(res["health"]["energy_drift"], ref.health["energy_drift"], atol=1e-12)


@pytest.mark.parametrize("method", ["tebd2", "exact"])
def test_extend_equals_straight_run(tmp_path, method):
    short = validate_config(small_config(tmp_path, method=method, name="short", t_final=0.4), name="short")
    straight = validate_config(small_config(tmp_path, method=method, name="straight", t_final=0.8),
                               name="straight")
    runner.run(short)
    again = runner.resume(short.results_path)           # finished: nothing to do
    assert again.rows_written == 0 and "nothing to do" in again.messages[0]
    ext = runner.resume(short.results_path, t_final=0.8)
    assert ext.status == "finished" and ext.rows_written == 4 and ext.n_rows == 9
    runner.run(straight)
    assert_same_rows(short.results_path, straight.results_path)
    hist = read_results(short.results_path)["attrs"]["history"]
    assert [h["event"] for h in hist] == ["run", "resume"]
    assert yaml.safe_load(read_results(short.results_path)["attrs"]["config"])["evolution"]["t_final"] == 0.8
    with pytest.raises(ConfigError, match="already reached t = 0.8"):
        runner.resume(short.results_path, t_final=0.5)


def test_interrupted_run_reports_progress_and_resumes(tmp_path):
    cfg = validate_config(small_config(tmp_path, name="part", checkpoint_every_outputs=2), name="part")
    with pytest.raises(KeyboardInterrupt):
        runner.run(cfg, progress=StopAfter(4))
    info = info_dict(cfg.results_path)
    assert info["status"] == "interrupted" and info["rows"] == 4
    assert info["t_reached"] == pytest.approx(0.3) and info["progress"] == pytest.approx(0.5)
    assert info["checkpoint"]["rows"] == 2                  # every 2 rows; the 4th was interrupted first
    summary = runner.resume(cfg.results_path)
    assert summary.rows_recomputed == 2 and summary.max_recompute_diff == 0.0
    ref = validate_config(small_config(tmp_path, name="full"), name="full")
    runner.run(ref)
    assert_same_rows(cfg.results_path, ref.results_path)


def test_existing_results_are_not_overwritten(tmp_path):
    cfg = validate_config(small_config(tmp_path, name="once", t_final=0.1), name="once")
    runner.run(cfg)
    with pytest.raises(ConfigError, match="tnmbl resume"):
        runner.run(cfg)
    assert read_results(cfg.results_path)["n_rows"] == 2


def test_uncommitted_entries_are_trimmed_on_append(tmp_path):
    cfg = validate_config(small_config(tmp_path, name="trim", t_final=0.2), name="trim")
    runner.run(cfg)
    with h5py.File(cfg.results_path, "r+") as f:         # a kill between two datasets of one row
        ds = f["observables/density"]
        ds.resize(ds.shape[0] + 1, axis=0)
        ds[-1] = 99.0
    assert read_results(cfg.results_path)["observables"]["density"].shape[0] == 3
    w = ResultsWriter.append(cfg.results_path)
    assert w.f["observables/density"].shape[0] == 3 and w.n_rows == 3
    w.close()


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "c.ckpt"
    write_checkpoint(path, {"step": 1, "psi": np.arange(3.0)})
    import tenpy.tools.hdf5_io as hdf5_io

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(hdf5_io, "save_to_hdf5", broken)
    with pytest.raises(OSError):
        write_checkpoint(path, {"step": 2, "psi": np.arange(3.0)})
    data = read_checkpoint(path)                           # the old one is intact
    assert data["step"] == 1 and np.array_equal(data["psi"], np.arange(3.0))


def test_resume_without_a_checkpoint_recomputes_and_keeps_the_rows(tmp_path):
    """No result lost when a run stopped before its first checkpoint: rows but no checkpoint -> resume
    from t = 0, every stored row checked, none discarded (it used to refuse and
    advise overwrite=true, which discards them)."""
    cfg = validate_config(small_config(tmp_path, name="early", checkpoint_every_s=3600), name="early")
    with pytest.raises(KeyboardInterrupt):
        runner.run(cfg, progress=StopAfter(3))
    cfg.checkpoint_path.unlink()                            # lost (or never written: killed before it)
    assert info_dict(cfg.results_path)["checkpoint"]["missing"]
    summary = runner.resume(cfg.results_path)
    assert summary.status == "finished" and summary.rows_recomputed == 3 and summary.max_recompute_diff == 0.0
    assert "continuing from t = 0" in summary.messages[0] and "none is discarded" in summary.messages[0]
    assert "overwrite" not in " ".join(summary.messages)
    ref = validate_config(small_config(tmp_path, name="full"), name="full")
    runner.run(ref)
    assert_same_rows(cfg.results_path, ref.results_path, tol=0.0)
