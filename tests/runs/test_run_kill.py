"""Kill test: SIGKILL a `tnmbl run` subprocess at a random moment after its first
checkpoint, `tnmbl resume` it, and compare with the same run uninterrupted: identical rows
(to 1e-12) for the deterministic quantum engines, no row lost or duplicated."""

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import small_config, write_config
from test_run_results import assert_same_rows

from tnmbl.runs import runner
from tnmbl.runs.cli import info_dict
from tnmbl.runs.config import validate_config
from tnmbl.runs.storage import read_results

ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def cli(*args):
    return [sys.executable, "-m", "tnmbl.runs.cli", *args]


def start_and_kill(config_path, ckpt, rng, n_rows):
    """Run the config in a subprocess; SIGKILL it after a random row past the first checkpoint,
    at a random moment within that row's work. Returns the row after which it was killed, or
    ``None`` if the run ended first (a heavily loaded machine)."""
    proc = subprocess.Popen(cli("run", str(config_path), "--log"), stderr=subprocess.PIPE, text=True, env=ENV)
    target = None
    try:
        for line in proc.stderr:
            if "event=row" not in line:
                continue
            row = int(line.split(" row=")[1].split("/")[0])
            if target is None and ckpt.exists():
                target = rng.randint(row, n_rows // 2)
            if target is not None and row >= target:
                time.sleep(rng.uniform(0.0, 0.03))       # somewhere in evolving / writing the next rows
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=120)
        proc.stderr.close()
    if proc.returncode == 0:
        return None
    assert proc.returncode == -signal.SIGKILL, proc.returncode
    return target


@pytest.mark.parametrize("method", ["tebd2", "exact"])
def test_sigkill_then_resume_equals_uninterrupted(tmp_path, method):
    seed = random.randrange(10 ** 6)
    rng = random.Random(seed)
    raw = small_config(tmp_path, method=method, name="killed", t_final=3.0, checkpoint_every_outputs=3,
                       overwrite=True)
    raw["observables"]["output_dt"] = 0.05             # 61 rows: many moments to be killed at
    raw["evolution"]["chi_max"] = 24
    n_rows = 61
    cfg_path = write_config(tmp_path, raw)
    ckpt = tmp_path / "killed.h5.ckpt"
    for _ in range(3):
        killed_at = start_and_kill(cfg_path, ckpt, rng, n_rows)
        if killed_at is not None:
            break
    assert killed_at is not None, "the run ended before it could be killed, three times"

    part = info_dict(tmp_path / "killed.h5")           # info on the partial file
    assert part["status"] == "running" and "killed" in part["note"]
    assert 1 <= part["rows"] < n_rows and part["progress"] < 1
    assert part["checkpoint"]["rows"] <= part["rows"]

    out = subprocess.run(cli("resume", str(tmp_path / "killed.h5"), "--log"), capture_output=True, text=True,
                         env=ENV, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "status:     finished, 61 rows" in out.stdout

    raw_ref = small_config(tmp_path, method=method, name="straight", t_final=3.0)
    raw_ref["observables"]["output_dt"] = 0.05
    raw_ref["evolution"]["chi_max"] = 24
    runner.run(validate_config(raw_ref, name="straight"))
    res = read_results(tmp_path / "killed.h5")
    assert res["n_rows"] == n_rows, f"seed {seed}, killed after row {killed_at}"
    assert np.all(np.diff(res["step"]) > 0)            # no row duplicated
    np.testing.assert_array_equal(res["step"], np.arange(n_rows))   # none lost
    assert_same_rows(tmp_path / "killed.h5", tmp_path / "straight.h5", tol=1e-12)
    assert res["attrs"]["status"] == "finished"
