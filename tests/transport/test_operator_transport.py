"""Transport from correlation runs (:mod:`tnmbl.transport.operator_transport`): the Green-Kubo
integrand of an operator run against exact infinite-temperature evolution, the gamma -> 0
extrapolation on synthetic data with known answers, and the sweep budget on synthetic profiles
(known D) and end to end on a small gamma x chi_max sweep."""

import numpy as np
import pytest

from tnmbl.engines.exact_thermal import exact_correlations
from tnmbl.errors import ObservableError
from tnmbl.evolution.correlations import operator_list
from tnmbl.evolution.operator_correlations import operator_evolution
from tnmbl.models import xxz
from tnmbl.runs.storage import read_results
from tnmbl.runs.sweep import plan_sweep, run_sweep
from tnmbl.states.mixed import Thermal
from tnmbl.transport import conductivity, current_autocorrelation, daoe_budget, gamma_extrapolation, green_kubo
from tnmbl.transport.diffusion import diffusion_constant


def test_current_autocorrelation_and_kappa_against_exact():
    # XXZ L = 8, gamma = 0, no truncation: only the TEBD4 Trotter error (7.7e-9 by t = 0.5 at dt = 1/80)
    chain = xxz(8, g=1.0, J=0.4, W=1.0, seed=2)
    res = operator_evolution(chain, "energy_current", t_final=0.5, dt=1 / 80, output_dt=0.0625, chi_max=4096,
                             svd_cutoff=1e-14)
    t, C, C_err = current_autocorrelation(res)
    ops, _ = operator_list(chain, "energy_current")
    ref = exact_correlations(chain, Thermal(0.0), ops, [ops[len(ops) // 2]], t)[:, :, 0].real.sum(axis=1)
    assert abs(C[0] - ref[0]) < 1e-10 and C[0] > 1
    assert np.abs(C - ref).max() < 1e-7
    assert np.all(C_err < 1e-9)                       # svd_cutoff = 1e-14 only: the bound is tiny (2e-11)
    k = conductivity(res, window=(0.25, 0.5))
    k_ref = green_kubo(t, ref, window=(0.25, 0.5))
    assert abs(k.kappa - k_ref.kappa) < 1e-7 and k.errors["truncation"] < 1e-9
    with pytest.raises(ObservableError) as err:       # a density run has no current autocorrelation
        current_autocorrelation(operator_evolution(chain, "density", t_final=0.1, dt=0.05))
    assert err.value.key == "current"


def test_current_error_bound_covers_truncation():
    chain = xxz(8, g=1.0, J=0.4, W=1.0, seed=2)
    kw = dict(t_final=1.0, dt=0.05, output_dt=0.25, gamma=0.0)
    exact = operator_evolution(chain, "energy_current", chi_max=4096, svd_cutoff=1e-14, **kw)
    cut = operator_evolution(chain, "energy_current", chi_max=12, **kw)
    _, C, err = current_autocorrelation(cut)
    _, C0, _ = current_autocorrelation(exact)
    assert np.abs(C - C0).max() > 1e-6                 # truncation matters here
    assert np.all(np.abs(C - C0) <= err + 1e-12)


# ---------------------------------------------------------------------------------- gamma -> 0
def test_gamma_extrapolation_exact_line_and_its_error():
    g = np.array([0.05, 0.1, 0.2, 0.4])
    e = np.array([0.01, 0.01, 0.02, 0.02])
    ex = gamma_extrapolation(g, 0.7 + 1.3 * g, e)
    assert abs(ex.value - 0.7) < 1e-12 and ex.chi2 < 1e-20
    w = 1 / e**2  # the intercept's standard error of a weighted straight-line fit
    var = (w * g**2).sum() / (w.sum() * (w * g**2).sum() - (w * g).sum() ** 2)
    assert abs(ex.error - np.sqrt(var)) < 1e-12


def test_gamma_extrapolation_noisy_and_quadratic():
    rng = np.random.default_rng(5)
    g = np.linspace(0.05, 0.5, 6)
    hits = 0
    for _ in range(200):
        y = 0.4 - 0.8 * g + rng.normal(0, 0.01, g.size)
        ex = gamma_extrapolation(g, y, np.full(g.size, 0.01))
        hits += abs(ex.value - 0.4) < ex.error
    assert 0.55 < hits / 200 < 0.85                    # ~68% coverage of one standard error
    y = 0.4 - 0.8 * g + 2.0 * g**2
    assert abs(gamma_extrapolation(g, y, degree=2).value - 0.4) < 1e-12
    biased = gamma_extrapolation(g, y)                 # a line through a parabola: off, and says so
    assert abs(biased.value - 0.4) > 0.05 and biased.error > 0.01
    for bad in ([0.1, 0.2], [0.0, 0.1, 0.2]):          # two gammas; gamma = 0 is not an extrapolation
        with pytest.raises(ObservableError):
            gamma_extrapolation(bad, np.ones(len(bad)))


# ---------------------------------------------------------------------------------- the budget
def synthetic_summary(D):
    """A read_summary dict whose density profiles are Gaussians of variance 2 D(gamma, chi) t."""
    t = np.linspace(1.0, 5.0, 9)
    x = np.arange(-30.0, 31.0)
    points = []
    for gamma in (0.1, 0.2, 0.3):
        for chi in (16, 32):
            var = 2 * D(gamma, chi) * t[:, None]
            prof = np.exp(-x[None, :] ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)
            points.append({"params": {"evolution.gamma": gamma, "evolution.chi_max": chi}, "time": t,
                           "observables": {"density": {"mean": prof, "positions": x}},
                           "health_worst": {"truncation_error": np.full(t.size, 1e-9 * 32 / chi),
                                            "charge_drift": np.full(t.size, 1e-10)}})
    return {"attrs": {}, "base": {"l_star": 2}, "points": points}


def test_budget_on_synthetic_profiles_with_a_known_D():
    b = daoe_budget(synthetic_summary(lambda g, chi: 0.5 + 0.4 * g + (0.01 if chi == 16 else 0.0)), "D",
                    "density", t=3.0)
    rows = b["rows"]
    assert abs(b["value"] - 0.5) < 1e-6                # the line through D(gamma) at chi = 32, at gamma = 0
    assert rows["gamma_extrapolation"]["chi_max"] == 32 and len(rows["gamma_extrapolation"]["gammas"]) == 3
    assert abs(rows["chi"]["error"] - 0.01) < 1e-6 and rows["chi"]["compared"] == [16, 32]
    assert rows["l_star"]["error"] is None and rows["gamma_extrapolation"]["l_star"] == 2  # not varied
    assert abs(rows["truncation"]["max_discarded_weight"] - 2e-9) < 1e-20
    assert abs(b["error"] - np.hypot(rows["gamma_extrapolation"]["error"], 0.01)) < 1e-12


def test_budget_end_to_end_on_a_small_sweep(tmp_path):
    raw = {"seed": 1, "model": {"name": "xxz", "L": 8, "g": 1.0, "J": 1.5},
           "evolution": {"method": "tebd2", "dt": 0.1, "t_final": 1.0, "chi_max": 16, "l_star": 2, "gamma": 0.1},
           "observables": {"names": ["density"], "output_dt": 0.2}, "correlation": {"b": "density"},
           "output": {"figure": False},
           "sweep": {"grid": {"evolution.gamma": [0.1, 0.2, 0.4], "evolution.chi_max": [8, 16]}},
           "execution": {"output_dir": str(tmp_path / "sw"), "workers": 0}}
    plan = plan_sweep(raw, name="daoe")
    out = run_sweep(plan)
    assert not out["failed"], out["failed"]
    b = daoe_budget(out["summary"], "D", "density", t=1.0)
    by = {(m.config["evolution"]["gamma"], m.config["evolution"]["chi_max"]): read_results(m.path)
          for m in plan.members}
    D = {k: diffusion_constant(r["time"], r["positions"]["density"], r["observables"]["density"]).D[-1]
         for k, r in by.items()}
    ex = gamma_extrapolation([0.1, 0.2, 0.4], [D[g, 16] for g in (0.1, 0.2, 0.4)])
    assert abs(b["value"] - ex.value) < 1e-12
    assert abs(b["rows"]["chi"]["error"] - max(abs(D[g, 16] - D[g, 8]) for g in (0.1, 0.2, 0.4))) < 1e-12
    sr = b["rows"]["sum_rule"]
    assert sr["max_charge_drift"] == max(np.abs(r["health"]["charge_drift"]).max() for r in by.values())
    assert sr["max_energy_drift"] == max(np.abs(r["health"]["energy_drift"]).max() for r in by.values())
    assert b["error"] >= b["rows"]["gamma_extrapolation"]["error"] > 0
    assert b["rows"]["gamma_extrapolation"]["l_star"] == 2   # read from the members' config


def test_agreement_time_rule_on_synthetic_series():
    """t_conv: last time up to which |v - r| <= rtol |r| holds continuously (t = 0 skipped)."""
    from tnmbl.transport import agreement_time

    t = np.arange(8) * 0.5
    ref = 1.0 + t
    v = ref.copy()
    v[0] = 99.0                                  # t = 0 is not checked (D(0) may be 0/0)
    v[3] = ref[3] * (1 + 0.9e-3)                 # within 1e-3
    v[5] = ref[5] * (1 + 2e-3)                   # first failure at t = 2.5
    v[7] = ref[7] * (1 + 5e-3)
    assert agreement_time(t, v, ref, rtol=1e-3) == (2.0, False)
    assert agreement_time(t, v, ref, rtol=1e-2) == (3.5, True)
    v[1] = np.nan                                # non-finite: disagrees
    assert agreement_time(t, v, ref, rtol=1e-2) == (0.0, False)
    with pytest.raises(ObservableError, match="rtol"):
        agreement_time(t, v, ref, rtol=0)
