"""analysis/bh_L128_demo.py end to end on a small copy of the L = 128 run and its companions:
the budget rows it reports are the companion comparisons, the bubble filling is the density
summed over the bubble."""

import json

import numpy as np
import pytest
from helpers import load_script, small_copy

from tnmbl.runs.config import load_config
from tnmbl.runs.runner import run
from tnmbl.runs.storage import read_results

demo = load_script("bh_L128_demo")


def small(tmp_path, name, **changes):
    path = small_copy("runs/bose_hubbard_bubble_L128.yaml", tmp_path / name, {
        "model.L": 10, "model.n_max": 2, "model.g": 0.3, "state.region": [4, 6], "evolution.t_final": 0.8,
        "evolution.chi_max": 8, "observables.output_dt": 0.4, "output.figure": False, **changes})
    return str(run(load_config(path)).results)


def test_demo_script_on_a_small_copy(tmp_path):
    ref = small(tmp_path, "ref")
    lo = small(tmp_path, "lo", **{"evolution.chi_max": 3})
    fine = small(tmp_path, "fine", **{"evolution.chi_max": 3, "evolution.dt": 0.1})
    png = tmp_path / "demo.png"
    report = demo.main([ref, "--chi", lo, "--dt-fine", fine, "--dt-base", lo, "--png", str(png), "--zoom", "2",
                        "--front-margin", "1"])
    assert png.exists() and json.loads(png.with_suffix(".json").read_text())["budget"]["rows"] == 3
    a, b = read_results(ref)["observables"], read_results(lo)["observables"]
    chi_effect = max(np.max(np.abs(a[k] - b[k])) for k in a)
    assert chi_effect > 1e-6                                   # chi 3 truncates on this chain
    assert report["budget"]["truncation"]["chi_effect"] == pytest.approx(chi_effect, rel=1e-12)
    c = read_results(fine)["observables"]
    dt_effect = max(np.max(np.abs(b[k] - c[k])) for k in b) * 16 / 15   # TEBD4, dt / 2
    assert report["budget"]["time_step"]["dt_effect"] == pytest.approx(dt_effect, rel=1e-12)
    assert report["runs"][0]["bosons_in_bubble_end"] == pytest.approx(float(a["density"][-1, 4:6].sum()), rel=1e-12)
    assert report["runs"][0]["bosons_in_bubble_end"] > 1e-3   # bosons entered the bubble
