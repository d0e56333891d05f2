"""Smoke paths of the analysis scripts that already read standard results: dnls_bubble.py on a
small version of its sweep, plot_run.py on a tiny results file."""

import numpy as np
from helpers import load_script, small_copy

from tnmbl.runs import runner
from tnmbl.runs.config import load_config
from tnmbl.runs.sweep import load_sweep, read_summary


def test_dnls_bubble_on_a_small_sweep(tmp_path):
    path = small_copy("runs/sweeps/dnls_bubble.yaml", tmp_path, {
        "model.L": 16, "state.region": [6, 10], "state.M": 4, "evolution.t_final": 0.4, "observables.n_log": 4,
        "ensemble.members": 2})
    png = tmp_path / "d.png"
    load_script("dnls_bubble").main(str(path), png=str(png))  # runs the missing sweep, then draws
    assert png.exists()
    points = read_summary(load_sweep(path).summary_path)["points"]
    assert [p["params"]["model.W"] for p in points] == [0.0, 2.0]
    for p in points:  # the norm is conserved by the split: the mean density sums to the same total
        total = p["observables"]["density"]["mean"].sum(1)
        np.testing.assert_allclose(total, total[0], rtol=1e-10)


def test_plot_run_on_a_tiny_results_file(tmp_path):
    cfg = small_copy("runs/xxz_neel.yaml", tmp_path, {"model.L": 6, "evolution.t_final": 0.2, "evolution.chi_max": 8,
                                                     "observables.output_dt": 0.1, "output.figure": False})
    summary = runner.run(load_config(cfg))
    out = tmp_path / "fig.png"
    load_script("plot_run").main([str(summary.results), "-o", str(out), "--dpi", "40"])
    assert out.exists() and out.stat().st_size > 0
