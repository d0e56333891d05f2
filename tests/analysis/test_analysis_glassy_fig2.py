"""analysis/glassy_fig2.py: t0 and the power-law fit on synthetic relaxation curves with a
known answer, and the script end to end on a small version of runs/sweeps/glassy_fig2.yaml."""

import json

import numpy as np
import pytest
from helpers import StopAfter, load_script, small_copy

from tnmbl.runs import runner
from tnmbl.runs.config import validate_config
from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import load_sweep, run_sweep

fig2 = load_script("glassy_fig2")


def test_t0_and_the_exponent_of_synthetic_curves():
    rng = np.random.default_rng(0)
    rows = []
    for g in (1.0, 0.7, 0.5, 0.4):
        tau = 5.0 * g ** -3.0  # phi = 1 - exp(-t / tau): t0 = tau ln 10 at level 0.9
        times = np.concatenate([[0.0], np.geomspace(0.01 * tau, 10 * tau, 300)])
        chains = (1 - np.exp(-times / tau))[:, None] + 0.02 * rng.standard_normal((len(times), 64))
        rows.append(dict(g=g, times=times, phi=chains.mean(1), phi_chains=chains))
    fit = fig2.analyse(rows, level=0.9, window=0.15, n_boot=50)
    for r in rows:
        assert r["t0"] == pytest.approx(5.0 * r["g"] ** -3.0 * np.log(10), rel=0.02)
        assert 0 < r["t0_err"] < 0.05 * r["t0"]
    assert fit["alpha"] == pytest.approx(3.0, abs=0.05)


def _curves(taus, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for g, tau in taus.items():  # phi = 1 - exp(-t / tau): t0 = tau ln 10 at level 0.9
        times = np.concatenate([[0.0], np.geomspace(0.01 * tau, 10 * tau, 300)])
        chains = (1 - np.exp(-times / tau))[:, None] + 0.02 * rng.standard_normal((len(times), 64))
        rows.append(dict(g=g, times=times, phi=chains.mean(1), phi_chains=chains, L=64, M=64))
    return rows


@pytest.mark.parametrize("law,family", [(lambda g: 0.5 * np.exp(2.0 / g), "super-polynomial"),
                                        (lambda g: 5.0 * g ** -3.0, "power law")])
def test_the_comparison_of_synthetic_curves_finds_their_law_and_is_drawn(tmp_path, law, family):
    """t0 from relaxation curves whose t0 follows exp(2/g) or g^-3 exactly: the comparison
    weighted by the bootstrap errors prefers the family of the law; the local exponents
    between neighbours match the law's; the figure is written with the fits."""
    g = (1.0, 0.8, 0.6, 0.5, 0.4, 0.33, 0.28)
    rows = _curves({x: law(x) for x in g})
    fit = fig2.analyse(rows, level=0.9, window=0.15, n_boot=50)
    comparison, slopes = fig2.compare(rows)
    assert comparison["preferred"] == family, (comparison["delta_aic"], comparison["delta_bic"])
    exact = [-np.log(law(s["g_lo"]) / law(s["g_hi"])) / np.log(s["g_lo"] / s["g_hi"]) for s in slopes]
    assert len(slopes) == len(g) - 1
    assert all(abs(s["alpha"] - x) < 4 * s["alpha_err"] for s, x in zip(slopes, exact)), (slopes, exact)
    png = tmp_path / "fig2.png"
    fig2.plot(rows, fit, 0.9, 0.15, png, comparison, slopes)
    assert png.stat().st_size > 0


def test_script_reads_the_members_of_a_small_fig2_sweep(tmp_path):
    path = small_copy("runs/sweeps/glassy_fig2.yaml", tmp_path, {
        "model.L": 8, "state.M": 64, "evolution.dt": 0.05, "evolution.stop_when.above": 0.7,
        "observables.n_log": 40,
        "sweep.points": [{"model.g": 1.0, "evolution.t_final": 200.0, "seed": 1},
                         {"model.g": 0.7, "evolution.t_final": 400.0, "seed": 2, "state.M": 32}]})
    plan = load_sweep(path, workers=0)
    out = run_sweep(plan)
    assert not out["failed"]
    png = tmp_path / "fig2.png"
    summary = fig2.main([str(path), "--png", str(png), "--n-boot", "20"])
    assert png.exists() and json.loads((tmp_path / "fig2.json").read_text())["level"] == 0.7
    assert [p["g"] for p in summary["points"]] == [1.0, 0.7] and [p["M"] for p in summary["points"]] == [64, 32]
    written = json.loads((tmp_path / "fig2.json").read_text())
    assert written["comparison"] is None  # two points: too few for the three-parameter form
    assert [s["g_mid"] for s in written["local_slopes"]] == [pytest.approx(np.sqrt(0.7))]
    for p, m in zip(summary["points"], plan.members):
        res = read_results(m.path)
        assert p["stopped_early"] == json.loads(res["attrs"]["stopped_early"])
        level_t0, _, _ = fig2.t0(res["time"], res["per_chain"]["phi"], level=0.7, window=0.15, n_boot=2)
        assert p["t0"] == pytest.approx(level_t0, nan_ok=True)


def test_an_interrupted_and_rerun_fig2_sweep_gives_the_t0_of_a_straight_one(tmp_path):
    changes = {"model.L": 8, "state.M": 64, "evolution.dt": 0.05, "evolution.stop_when.above": 0.7,
               "observables.n_log": 40, "output.checkpoint_every_s": None, "output.checkpoint_every_outputs": 1,
               "sweep.points": [{"model.g": 0.7, "evolution.t_final": 400.0, "seed": 2}]}
    straight = small_copy("runs/sweeps/glassy_fig2.yaml", tmp_path / "a", changes)
    broken = small_copy("runs/sweeps/glassy_fig2.yaml", tmp_path / "b", changes)
    assert run_sweep(load_sweep(straight, workers=0))["actions"] == {"p000_m000": "run"}
    plan = load_sweep(broken, workers=0)
    member = plan.members[0]
    member.path.parent.mkdir(parents=True)
    with pytest.raises(KeyboardInterrupt):
        runner.run(validate_config(member.config), progress=StopAfter(27))
    cut = read_results(member.path)
    assert cut["attrs"]["status"] == "interrupted"
    assert run_sweep(plan)["actions"] == {"p000_m000": "resumed"}
    a = fig2.main([str(straight), "--png", str(tmp_path / "a.png"), "--n-boot", "20"])["points"][0]
    b = fig2.main([str(broken), "--png", str(tmp_path / "b.png"), "--n-boot", "20"])["points"][0]
    assert np.isfinite(a["t0"]) and a["t0"] == b["t0"] and a["t0_err"] == b["t0_err"]
    assert a["stopped_early"] == b["stopped_early"] and a["stopped_early"]["t_stop"] is not None
    # interrupted between the crossing and the stop: the resumed run replayed the stored crossing
    assert a["stopped_early"]["t_cross"] < cut["time"][-1] < a["stopped_early"]["t_stop"]


def test_compare_pairs_t0_of_the_same_chains_from_two_integrators(tmp_path):
    """--compare: the same sweep run with ABA864 and with leapfrog (the same seeded chains)
    gives per g both t0, their difference in combined errors; against itself the difference is 0."""
    changes = {"model.L": 8, "state.M": 64, "evolution.dt": 0.05, "evolution.stop_when.above": 0.7,
               "observables.n_log": 40,
               "sweep.points": [{"model.g": 1.0, "evolution.t_final": 200.0, "seed": 1},
                                {"model.g": 0.7, "evolution.t_final": 400.0, "seed": 2}]}
    path = small_copy("runs/sweeps/glassy_fig2.yaml", tmp_path, changes)
    assert run_sweep(load_sweep(path, workers=0))["actions"] == {"p000_m000": "run", "p001_m000": "run"}
    other = tmp_path / "lf"
    plan = load_sweep(path, [f"execution.output_dir={other}", "evolution.method=leapfrog", "evolution.dt=0.01"],
                      workers=0)
    assert not run_sweep(plan)["failed"]
    summary = fig2.main([str(path), "--png", str(tmp_path / "f.png"), "--n-boot", "20", "--compare", str(other)])
    check = summary["integrator_check"]["points"]
    assert [c["g"] for c in check] == [1.0, 0.7]
    assert {(c["method"], c["other_method"], c["other_dt"]) for c in check} == {("aba864", "leapfrog", 0.01)}
    for c, p in zip(check, summary["points"]):
        assert c["t0"] == p["t0"] and c["diff"] == pytest.approx(c["t0"] - c["other_t0"])
        assert c["other_t0"] != c["t0"]  # another integrator: another trajectory
    own = fig2.main([str(path), "--png", str(tmp_path / "g.png"), "--n-boot", "20",
                     "--compare", str(tmp_path / "sweep")])
    assert own["integrator_check"]["points"] == []  # the same runs: no check
