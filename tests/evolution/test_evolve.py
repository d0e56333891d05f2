"""Engines against the exact reference: Trotter orders, conservation, continuity equation,
energy bookkeeping, and option validation (every observable against exact evolution, for every
method, model and backend: test_matches_exact.py)."""

import numpy as np
import pytest

import tnmbl
from tnmbl.errors import ObservableError, OptionError, StateError
from tnmbl.testing import continuity_check

ALL_OBS = ["density", "energy_density", "energy_current", "entanglement"]


def observables_for(chain):
    return ALL_OBS + (["density_current"] if chain.conserves_charge else [])


def run(chain, state, method, dt, t_final=2.0, **kw):
    kw.setdefault("observables", observables_for(chain))
    if method != "exact":
        kw.setdefault("backend", "tenpy")  # these tests pin TeNPy's TEBD; tests/engines covers quimb
    return tnmbl.evolve(chain, state, method, dt=dt, t_final=t_final, chi_max=512, svd_cutoff=1e-14,
                        output_dt=t_final, **kw)


@pytest.fixture(scope="module")
def exact_runs(small_models):
    return {name: run(chain, st, "exact", 0.05) for name, (chain, st) in small_models.items()}


def max_err(a, b):
    return max(np.abs(a[k] - b[k]).max() for k in a.observables)


@pytest.mark.parametrize("method, order, dts", [("tebd2", 2, (0.2, 0.1, 0.05)), ("tebd4", 4, (0.2, 0.1, 0.05))])
def test_trotter_error_scales_with_order(small_models, exact_runs, method, order, dts):
    chain, st = small_models["xxz"]
    ex = exact_runs["xxz"]
    errs = [max_err(run(chain, st, method, dt, observables=["density", "energy_density"]),
                    ex) for dt in dts]
    slopes = np.diff(np.log(errs)) / np.diff(np.log(dts))
    assert np.all(np.abs(slopes - order) < 0.35), (errs, slopes)


@pytest.mark.parametrize("name, method", [("bose_hubbard", "tebd2"), ("xxz", "tebd2"), ("xxz", "exact")])
def test_conservation_on_and_off_agree(small_models, name, method):
    chain, st = small_models[name]
    on = run(chain, st, method, 0.1, t_final=1.0, conserve=True)
    off = run(chain, st, method, 0.1, t_final=1.0, conserve=False)
    assert on.meta["conserve"] is True and off.meta["conserve"] is False
    assert max_err(on, off) < 1e-8


@pytest.mark.parametrize("name", ["bose_hubbard", "xxz", "xxz_with_bath"])
@pytest.mark.parametrize("bc", ["open", "periodic"])
def test_continuity_equation_from_exact_evolution(small_models, name, bc):
    """Finite-difference d<h_b>/dt equals <j_{b-1}> - <j_b> (and the same for the charge)."""
    chain, st = small_models[name]
    if bc == "periodic":
        if name == "xxz_with_bath":
            chain = tnmbl.models.xxz(chain.L, g=1.0, J=0.3, W=3.0, seed=3, bc="periodic")
        else:
            chain = tnmbl.Chain(chain.L, chain.site, chain.terms, bc="periodic", name=chain.name)
        st = tnmbl.states.product(chain, vectors=st.vectors)
    check = continuity_check(chain, st, t=0.7, eps=1e-4)
    dh, rhs = check["energy"]
    assert np.abs(dh).max() > 1e-2  # the energy does flow
    assert np.abs(dh - rhs).max() < 1e-6
    if chain.conserves_charge:
        dn, rhs = check["charge"]
        assert np.abs(dn).max() > 1e-2
        assert np.abs(dn - rhs).max() < 1e-6


@pytest.mark.parametrize("method", ["exact", "tebd2"])
@pytest.mark.parametrize("name", ["bose_hubbard", "xxz", "xxz_with_bath"])
def test_local_energies_sum_to_H(small_models, name, method):
    chain, st = small_models[name]
    ev = tnmbl.Evolution(chain, st, method, dt=0.1, t_final=0.5, chi_max=256, observables=["energy_density"],
                         backend=None if method == "exact" else "tenpy")
    for row in ev:
        assert abs(row.values["energy_density"].sum() - ev.engine.energy()) < 1e-10
    assert row.time == pytest.approx(0.5)


def test_energy_and_charge_drifts_are_reported(small_models):
    chain, st = small_models["bose_hubbard"]
    res = tnmbl.evolve(chain, st, "tebd2", dt=0.05, t_final=1.0, chi_max=4, observables=["density"],
                       backend="tenpy")
    h = res.health
    assert h["truncation_error"][-1] > 1e-6  # chi = 4 truncates, and it shows
    assert np.all(np.diff(h["truncation_error"]) >= 0)
    assert h["chi"].max() == 4
    # U(1) TEBD keeps N in its sector; the measured drift comes only from the approximate
    # canonical form after truncation, so it is bounded by the discarded weight
    assert abs(h["charge_drift"][-1]) <= h["truncation_error"][-1]
    assert h["energy_drift"][0] == 0.0
    assert h["charge"][0] == pytest.approx(sum([2, 2, 0, 0, 1, 0, 2, 1]))


def test_issue_example_runs_and_shapes():
    chain = tnmbl.models.bose_hubbard(L=12, U=1.0, g=0.1, n_max=4)
    psi = tnmbl.states.product(chain, occupations=[2] * 4 + [0] * 4 + [2] * 4)
    res = tnmbl.evolve(chain, psi, method="tebd2", dt=0.05, t_final=0.5, chi_max=32,
                       observables=["density", "energy_density", "energy_current", "entanglement"])
    assert res.meta["backend"] == "tenpy" and res.meta["conserve"] is True  # chi_max * d = 160: TeNPy, U(1)
    # the default grid of 10 steps: every 4 steps (timegrid.default_every) and the final time
    assert np.allclose(res.times, [0.0, 0.2, 0.4, 0.5])
    assert res["density"].shape == (4, 12)
    assert res["energy_density"].shape == (4, 11)
    assert res["energy_current"].shape == (4, 10)
    assert res["entanglement"].shape == (4, 11)
    assert np.allclose(res.positions["energy_current"], np.arange(1, 11))
    # the bubble's edges carry energy: current nonzero only near sites 3-4 and 7-8
    assert np.allclose(res["energy_current"][0], 0)
    assert np.abs(res["energy_current"][-1]).max() > 1e-4
    assert res["entanglement"][0].max() == 0.0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(dt=0.0), OptionError, r"dt = 0.0: must be > 0"),
    (dict(dt=-0.1), OptionError, r"dt = -0.1: must be > 0"),
    (dict(chi_max=0), OptionError, r"chi_max = 0: must be >= 1"),
    (dict(chi_max=16.5), OptionError, r"chi_max = 16.5: must be an integer"),
    (dict(t_final=1.03), OptionError, r"t_final / dt = 1.03 / 0.05 = 20.6 must be an integer"),
    (dict(output_dt=0.07), OptionError, r"output_dt / dt"),
    (dict(observables=["densty"]), ObservableError, r"unknown observable.*did you mean 'density'"),
    (dict(observables=["onsite:Q"]), Exception, r"not defined on site type"),
    (dict(method="tebd3"), OptionError, r"method = 'tebd3': unknown method"),
    (dict(backend="itensor"), OptionError, r"backend = 'itensor'"),
    (dict(conserve="yes"), OptionError, r"conserve = 'yes'"),
    (dict(svd_cutoff=2.0), OptionError, r"svd_cutoff"),
])
def test_bad_options_are_refused_before_compute(small_models, kwargs, error, match):
    chain, st = small_models["xxz"]
    args = dict(dt=0.05, t_final=1.0, observables=["density"])
    args.update(kwargs)
    method = args.pop("method", "tebd2")
    with pytest.raises(error, match=match):
        tnmbl.evolve(chain, st, method, **args)


def test_conserve_true_on_a_model_that_breaks_it(small_models):
    chain, st = small_models["xxz_with_bath"]
    with pytest.raises(OptionError, match="does not conserve Sz"):
        tnmbl.evolve(chain, st, "tebd2", dt=0.1, t_final=0.2, conserve=True)
    with pytest.raises(ObservableError, match="does not conserve"):
        tnmbl.evolve(chain, st, "tebd2", dt=0.1, t_final=0.2, observables=["spin_current"])


def test_state_of_another_chain_is_refused(small_models):
    chain, _ = small_models["xxz"]
    other = tnmbl.models.xxz(4)
    with pytest.raises(StateError, match="another chain"):
        tnmbl.evolve(chain, tnmbl.states.neel(other), "tebd2", dt=0.1, t_final=0.2)


def test_conservation_follows_the_backend(small_models):
    chain, st = small_models["xxz"]
    small = tnmbl.evolve(chain, st, "tebd2", dt=0.1, t_final=0.2, chi_max=8, observables=["density"])
    assert small.meta["backend"] == "quimb" and small.meta["conserve"] is False  # dense backend: auto -> off
    asked = tnmbl.evolve(chain, st, "tebd2", dt=0.1, t_final=0.2, chi_max=8, conserve=True, observables=["density"])
    assert asked.meta["backend"] == "tenpy" and asked.meta["conserve"] is True
    with pytest.raises(OptionError, match="no U\\(1\\) charge blocks"):
        tnmbl.evolve(chain, st, "tebd2", dt=0.1, t_final=0.2, backend="quimb", conserve=True)


def test_zero_hamiltonian_and_unused_engines():
    chain = tnmbl.models.bose_hubbard(4, U=0.0, g=0.0, n_max=2)
    st = tnmbl.states.product(chain, occupations=[1, 0, 2, 1])
    with pytest.raises(OptionError, match="H = 0.*method='exact'"):
        tnmbl.evolve(chain, st, "tebd2", dt=0.1, t_final=0.2, backend="tenpy")
    res = tnmbl.evolve(chain, st, "exact", dt=0.1, t_final=0.2, observables=["density"])
    assert np.allclose(res["density"], [1, 0, 2, 1])  # nothing moves
    import gc
    import warnings

    xxz = tnmbl.models.xxz(4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ev = tnmbl.Evolution(xxz, tnmbl.states.neel(xxz), "tebd2", dt=0.1, t_final=0.2, backend="tenpy")
        del ev
        gc.collect()
    assert not [w for w in caught if "unused option" in str(w.message)]  # built, never run: no warning


@pytest.mark.parametrize("backend", ["tenpy", "quimb"])
def test_resume_continues_state_and_truncation_error(small_models, backend):
    """An engine resumed from get_resume_data() continues exactly, its truncation error included."""
    chain, st = small_models["xxz"]
    kw = dict(dt=0.1, t_final=2.0, chi_max=6, observables=["density"], backend=backend)
    straight = tnmbl.Evolution(chain, st, "tebd2", **kw)
    straight.engine.advance(10)  # runs split at output times; so does the resumed one
    straight.engine.advance(10)
    first = tnmbl.Evolution(chain, st, "tebd2", **kw)
    first.engine.advance(10)
    data = first.engine.get_resume_data()
    resumed = tnmbl.Evolution(chain, st, "tebd2", **kw)
    resumed.engine.set_resume_data(data)
    resumed.engine.advance(10)
    h0, h1 = straight.engine.health(), resumed.engine.health()
    assert h0["truncation_error"] > 1e-6  # chi = 6 truncates
    assert h1["truncation_error"] == pytest.approx(h0["truncation_error"], rel=1e-10)
    assert np.allclose(resumed.measure().values["density"], straight.measure().values["density"], atol=1e-12)


def test_tebd_refuses_periodic_chains():
    chain = tnmbl.models.xxz(6, bc="periodic")
    with pytest.raises(OptionError, match="open chains.*method='exact'"):
        tnmbl.evolve(chain, tnmbl.states.neel(chain), "tebd2", dt=0.1, t_final=0.2)
