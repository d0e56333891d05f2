"""Correlation runs (the ``correlation:`` section): operator evolution with DAOE through the run
machinery -- validation with every bad key named before compute, rows against exact
infinite-temperature correlations, the sum rules, an interrupted run resumed == uninterrupted,
extend == straight, the results file as a Result, and a gamma x chi_max sweep."""

import numpy as np
import pytest
from helpers import StopAfter
from test_run_results import assert_same_rows

from tnmbl import load
from tnmbl.chain import charge_densities, energy_densities
from tnmbl.engines.exact_thermal import exact_correlations
from tnmbl.errors import ConfigError
from tnmbl.evolution.correlations import operator_list
from tnmbl.models import xxz
from tnmbl.runs import runner
from tnmbl.runs.config import validate_config
from tnmbl.runs.storage import read_results
from tnmbl.states.mixed import Thermal


def corr_config(tmp_path, name="corr", **changes):
    raw = {"description": "correlation run", "seed": 1,
           "model": {"name": "xxz", "L": 8, "g": 1.0, "J": 0.4, "W": 1.0, "seed": 2},
           "evolution": {"method": "tebd4", "dt": 0.1, "t_final": 1.0, "chi_max": 64, "gamma": 0.2, "l_star": 2},
           "observables": {"names": ["density", "energy_density"], "output_dt": 0.2},
           "correlation": {"b": "density"},
           "output": {"path": str(tmp_path / f"{name}.h5"), "figure": False}}
    for key, value in changes.items():
        section, _, k = key.partition("__")
        if value is None:
            raw[section].pop(k, None)
        else:
            raw[section][k] = value
    return raw


def problem_keys(raw):
    with pytest.raises(ConfigError) as err:
        validate_config(raw, name="bad")
    return {p.key for p in err.value.problems}


@pytest.mark.parametrize("changes, key", [
    ({"evolution__gamma": -0.1}, "evolution.gamma"),
    ({"evolution__l_star": 0}, "evolution.l_star"),
    ({"evolution__l_star": None}, "evolution.l_star"),                  # gamma > 0 needs it
    ({"correlation__b": "onsite:X", "evolution__conserve": True}, "correlation.b"),   # breaks S^z
    ({"correlation__b": "energy_curent"}, "correlation.b"),
    ({"evolution__method": "tdvp2"}, "evolution.method"),
    ({"evolution__threads": 2}, "evolution.threads"),
    ({"observables__names": ["density", "entanglement"]}, "observables.names[1]"),
    ({"correlation__y": 20}, "correlation.y"),
])
def test_bad_input_refused_with_the_key(tmp_path, changes, key):
    assert key in problem_keys(corr_config(tmp_path, **changes))


def test_kappa_of_a_model_without_a_current_and_misplaced_keys_refused(tmp_path):
    raw = corr_config(tmp_path, correlation__b="density_current", observables__names=["density_current"])
    raw["model"] = {"name": "xxz_with_bath", "L": 8, "bath_hx": 0.5, "seed": 2}   # S^z not conserved
    assert "correlation.b" in problem_keys(raw)
    raw = corr_config(tmp_path)
    raw["state"] = {"kind": "neel"}
    assert "state" in problem_keys(raw)
    raw = corr_config(tmp_path)  # DAOE keys in a state run
    del raw["correlation"]
    raw["state"] = {"kind": "neel"}
    assert {"evolution.gamma", "evolution.l_star"} <= problem_keys(raw)
    # a charged site operator is fine without conservation ('auto' resolves to False)
    cfg = validate_config(corr_config(tmp_path, correlation__b="onsite:X"), name="x")
    assert cfg.evolution.conserve is False and cfg.state is None


def test_rows_match_exact_correlations_at_gamma_zero(tmp_path):
    # XXZ L = 8 without truncation: the TEBD4 Trotter error at dt = 1/80 is 7.7e-9 by t = 0.5
    raw = corr_config(tmp_path, evolution__gamma=None, evolution__l_star=None, correlation__b="energy_current",
                      observables__names=["energy_current", "density_current"], observables__output_dt=0.125)
    raw["evolution"].update(dt=1 / 80, t_final=0.5, chi_max=4096, svd_cutoff=1e-14)
    summary = runner.run(validate_config(raw, name="exact"))
    res = load(summary.results)
    chain = xxz(8, g=1.0, J=0.4, W=1.0, seed=2)
    ops, _ = operator_list(chain, "energy_current")
    for name in ("energy_current", "density_current"):
        a, _ = operator_list(chain, name)
        ref = exact_correlations(chain, Thermal(0.0), a, [ops[len(ops) // 2]], res.times)[:, :, 0]
        assert np.abs(ref[-1]).max() > 0.1
        assert np.abs(res[name] - ref.real).max() < 1e-7, name   # measured 1.9e-8
    assert res.meta["b"] == "energy_current" and res.dims["energy_current"] == "distance"
    np.testing.assert_array_equal(res.positions["energy_current"], np.arange(-3.0, 3.0))  # y = 6 // 2


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0])
def test_sum_rules_within_the_reported_truncation(tmp_path, gamma):
    # sum_x <q_x(t) q_0> and Tr[H O(t)]/D stay constant at every gamma (l_star = 2 keeps h_b)
    raw = corr_config(tmp_path, name=f"g{gamma}", evolution__gamma=gamma, evolution__chi_max=24,
                      correlation__b="energy_density", evolution__t_final=2.0)
    res = load(runner.run(validate_config(raw, name="sum")).results)
    h = res.health
    assert h["truncation_error"][-1] > 1e-8      # truncating: the bound is used
    chain = xxz(8, g=1.0, J=0.4, W=1.0, seed=2)
    # bound: the truncation estimate of every term (sum of ||A_x||_HS x overlap_error) + the Trotter
    # allowance (every gate conserves Q exactly; the Trotter circuit conserves H only to its own error,
    # measured 4.8e-5 at dt = 0.1, t = 2 in tests/transport/test_operator_daoe.py)
    for which, ops, allowance in (("charge", charge_densities(chain), 1e-12),
                                  ("energy", energy_densities(chain), 1e-4)):
        bound = allowance + sum(np.linalg.norm(o.matrix) / 2 ** (len(o.sites) / 2) for o in ops) * h["overlap_error"]
        assert np.all(np.abs(h[f"{which}_drift"]) <= bound), which
    assert np.abs(h["energy"][0]) > 0.1
    total = res["energy_density"].sum(axis=1)  # the same sum rule, connected, from the stored profile
    assert np.all(np.abs(total - total[0]) <= 1e-4 + res.meta["a_hs_sum"]["energy_density"] * h["overlap_error"])
    if gamma > 0:
        assert h["n_daoe"][-1] == 20 and h["norm"][-1] < h["norm"][1]


def test_interrupted_run_resumed_equals_uninterrupted_and_extend(tmp_path):
    kw = dict(evolution__daoe_every=2, evolution__t_final=2.0, evolution__chi_max=24)
    raw = corr_config(tmp_path, name="cut", **kw)
    raw["output"]["checkpoint_every_outputs"] = 3
    with pytest.raises(KeyboardInterrupt):
        runner.run(validate_config(raw, name="cut"), progress=StopAfter(8))  # rows after the checkpoint: recomputed
    part = read_results(tmp_path / "cut.h5")
    assert part["n_rows"] == 8 and part["attrs"]["status"] == "interrupted"
    summary = runner.resume(tmp_path / "cut.h5")
    assert summary.status == "finished" and summary.rows_recomputed >= 1 and summary.max_recompute_diff == 0.0
    runner.run(validate_config(corr_config(tmp_path, name="straight", **kw), name="straight"))
    assert_same_rows(tmp_path / "cut.h5", tmp_path / "straight.h5", tol=1e-12)
    # extend: 2.0 -> 3.0 from the checkpoint == a straight run to 3.0
    runner.resume(tmp_path / "straight.h5", t_final=3.0)
    runner.run(validate_config(corr_config(tmp_path, name="long", **dict(kw, evolution__t_final=3.0)), name="l"))
    assert_same_rows(tmp_path / "straight.h5", tmp_path / "long.h5", tol=1e-12)
    res = load(tmp_path / "long.h5")
    assert res.health["truncation_error"][-1] > 1e-10   # the resumed health figures carried over, compared above


def test_result_save_load_xarray_and_budget(tmp_path):
    from tnmbl.runs.budget import error_budget

    summary = runner.run(validate_config(corr_config(tmp_path, evolution__chi_max=16), name="r"))
    res = load(summary.results)
    again = load(res.save(tmp_path / "copy.h5"))
    assert again.same_as(res)[0]
    ds = res.to_xarray()
    assert ds["density"].dims == ("time", "distance") and float(ds.attrs["gamma"]) == 0.2
    b = error_budget(summary.results, chi_check=True)
    assert b["truncation"]["chi_reached"] == 16 and b["truncation"]["chi_effect"] > 0   # reran at chi = 8
    assert b["time_step"]["order"] == 4


# ------------------------------------------------------------- the mixed-field Ising chain (study b)
ISING = {"name": "mixed_field_ising", "L": 8, "J": 1.0, "hx": 1.4, "hz": 0.9045}


def test_mixed_field_ising_energy_rows_match_exact(tmp_path):
    """H = sum Z Z + 1.4 X + 0.9045 Z declared with the chain API, through the YAML run kind: the
    derived energy density and energy current against exact infinite-temperature correlations
    (L = 8, no truncation; TEBD4 at dt = 1/80)."""
    from tnmbl.models import mixed_field_ising

    raw = corr_config(tmp_path, evolution__gamma=None, evolution__l_star=None, correlation__b="energy_density",
                      observables__names=["energy_density", "energy_current", "density"],
                      observables__output_dt=0.25)
    raw["model"] = dict(ISING)
    raw["evolution"].update(dt=1 / 80, t_final=0.5, chi_max=4096, svd_cutoff=1e-14)
    res = load(runner.run(validate_config(raw, name="ising")).results)
    assert res.meta["conserve"] is False  # 'auto': no U(1) charge
    chain = mixed_field_ising(**{k: v for k, v in ISING.items() if k != "name"})
    b, _ = operator_list(chain, "energy_density")
    hb = b[len(b) // 2]
    for name in ("energy_density", "energy_current", "density"):
        a, _ = operator_list(chain, name)
        ref = exact_correlations(chain, Thermal(0.0), a, [hb], res.times)[:, :, 0]
        if name == "energy_density":  # connected: <h_x h_y> - <h_x><h_y>
            ref -= np.array([np.trace(o.matrix).real / 2 ** len(o.sites) for o in a]) * \
                np.trace(hb.matrix).real / 2 ** len(hb.sites)
        moved = np.abs(ref[-1] - ref[0]).max()  # <Z_x(t) h_y> moves little by t = 0.5 (7.6e-3) but is 0.45
        assert moved > 0.05 or (name == "density" and moved > 5e-3 and np.abs(ref).max() > 0.1), name
        assert np.abs(res[name] - ref.real).max() < 1e-7, name
    total = res["energy_density"].sum(axis=1)  # the energy sum rule, exact without truncation
    assert np.abs(total - total[0]).max() < 1e-7 and total[0] > 0.1


def test_mixed_field_ising_energy_sum_rule_and_no_charge(tmp_path):
    raw = corr_config(tmp_path, correlation__b="energy_density", observables__names=["energy_density", "density"],
                      evolution__chi_max=24, evolution__t_final=2.0, evolution__gamma=0.3)
    raw["model"] = dict(ISING)
    res = load(runner.run(validate_config(raw, name="ising_sum")).results)
    h = res.health
    assert h["truncation_error"][-1] > 0 and h["n_daoe"][-1] == 20 and h["norm"][-1] < h["norm"][1]
    total = res["energy_density"].sum(axis=1)
    bound = 1e-4 + res.meta["a_hs_sum"]["energy_density"] * h["overlap_error"]  # Trotter + truncation
    assert np.all(np.abs(total - total[0]) <= bound)
    z = res["density"].sum(axis=1)  # Z is not conserved: its sum moves (the control)
    assert np.abs(z - z[0]).max() > 10 * bound.max()  # measured 1.3e-2 against a bound of 1.0e-4
    for changes, key in (({"evolution__conserve": True}, "evolution.conserve"),
                         ({"correlation__b": "density_current", "observables__names": ["density_current"]},
                          "correlation.b")):
        bad = corr_config(tmp_path, **changes)
        bad["model"] = dict(ISING)
        assert key in problem_keys(bad)
