"""Every MPS method and backend against exact evolution, for every quantum model it accepts.

One suite, enumerated from the method table (``tnmbl.engines.METHODS`` and ``accepts``):
methods x models x backends. The models are the two sets of ``helpers``: ``small_models``
(couplings of order one, L = 8-10; every observable moves by more than 1e-2 by t = 2, so the
comparison is not vacuous) and ``weak_models`` (near the atomic limit at L = 8, with the
next-nearest-neighbour ``xxz_nnn`` that only TDVP and exact evolution take), named here
``weak_<model>``. Every local observable of the chain at t = 2 (the densities; local energies and
the energy and charge currents on nearest-neighbour chains, where they are defined) must agree with
``method="exact"`` within 1e-6, with no truncation (chi above the full rank, svd_cutoff 1e-14)
and the norm kept. The entanglement entropy is compared on the small models only: near the
atomic limit the Schmidt spectrum holds tiny weights p, and S = -sum p log p amplifies their
time-step error by |log p| (TDVP2 at dt = 0.05 on weak_bose_hubbard: densities, energies and
currents within 3.4e-7 of exact, the entropy 1.4e-6).

The time step is each method's own (``DT``): small enough that its time-step error is below
1e-6, measured at larger dt (error ~ C dt^order). 4th-order TEBD at dt = 0.1 on the weak
models and 0.02-0.05 on the small ones; two-site TDVP at dt = 0.05 or 0.025; the 2nd-order
methods need dt ~ 0.0004-0.0025 (thousands of steps) and mostly run under ``-m slow`` (with two
of the two-site TDVP cases, for time); in the default suite the 2nd-order methods are pinned
by their convergence order instead (``test_tebd2_is_second_order`` here,
``test_trotter_error_scales_with_order`` in test_evolve.py).
"""

import helpers
import numpy as np
import pytest
from helpers import WEAK_MODELS, exact_densities, run_engine

import tnmbl
from tnmbl.engines import METHODS, accepts

TOL = 1e-6
T_FINAL = 2.0

#: every chain the suite runs, by name: the small models and the weak ones (``weak_`` prefix)
MODELS = {**helpers.small_models(), **{f"weak_{name}": m for name, m in WEAK_MODELS.items()}}
SMALL = set(helpers.small_models())

#: dt per method and model: below 1e-6 at t = 2 (see the module docstring). tebd2 on xxz: dt = 0.0005
#: (the old estimate) left the energy current 1.02e-6 off, on both backends; dt = 0.0004 gives 6.5e-7
DT = {
    "tebd2": {"bose_hubbard": 0.00125, "xxz": 0.0004, "xxz_with_bath": 0.0008,
              "weak_bose_hubbard": 0.0025, "weak_xxz": 0.0025, "weak_xxz_with_bath": 0.0025},
    "tebd4": {"bose_hubbard": 0.05, "xxz": 0.02, "xxz_with_bath": 0.025,
              "weak_bose_hubbard": 0.1, "weak_xxz": 0.1, "weak_xxz_with_bath": 0.1},
    "tdvp1": {"weak_bose_hubbard": 0.0025, "weak_xxz": 0.0025, "weak_xxz_with_bath": 0.0025,
              "weak_xxz_nnn": 0.0025},
    "tdvp2": {"weak_bose_hubbard": 0.05, "weak_xxz": 0.025, "weak_xxz_with_bath": 0.05, "weak_xxz_nnn": 0.025},
}
#: the cases in the default suite; every other one is marked slow (2nd-order methods need
#: thousands of steps; TDVP2 on weak_xxz and weak_xxz_with_bath takes ~15-25 s a case on 2 shared cores)
FAST = {("bose_hubbard", "tebd2", "tenpy")} | {
    (name, method, backend) for name in MODELS for method, backend in
    [("tebd4", "tenpy"), ("tebd4", "quimb"), ("tdvp2", "tenpy")]} - {
    ("weak_xxz", "tdvp2", "tenpy"), ("weak_xxz_with_bath", "tdvp2", "tenpy")}


def _mps_methods():
    """The methods of the table that run quantum chains and are not the reference."""
    chain = MODELS["xxz"][0]
    return [m for m in METHODS if m != "exact" and any(accepts(m, chain, b)[0] for b in METHODS[m])]


def _all_cases():
    """(model, method, backend) for every combination the method table accepts."""
    return [(name, method, backend) for name, (chain, _) in MODELS.items() for method in _mps_methods()
            for backend in METHODS[method] if accepts(method, chain, backend)[0]]


def _cases():
    out = []
    for name, method, backend in _all_cases():
        if name not in DT[method]:
            continue
        marks = [] if (name, method, backend) in FAST else [pytest.mark.slow]
        out.append(pytest.param(name, method, backend, marks=marks, id=f"{name}-{method}-{backend}"))
    return out


def observables_for(name, chain):
    """The observables compared on model ``name`` (see the module docstring)."""
    obs = ["density"]
    if chain.max_range == 1:  # local energies and currents are derived for nearest-neighbour chains
        obs += ["energy_density", "energy_current"] + (["density_current"] if chain.conserves_charge else [])
    return obs + (["entanglement"] if name in SMALL else [])


_EXACT = {}


def exact_run(name):
    """``method="exact"`` on model ``name`` to t = 2 (cached)."""
    if name not in _EXACT:
        chain, st = MODELS[name]
        _EXACT[name] = tnmbl.evolve(chain, st, "exact", dt=0.05, t_final=T_FINAL, output_dt=T_FINAL,
                                    observables=observables_for(name, chain))
    return _EXACT[name]


def test_cases_cover_every_model_and_nnn_only_on_tdvp():
    ids = {(p.values[0], p.values[1]) for p in _cases()}
    assert {name for name, _ in ids} == set(MODELS)
    assert {m for name, m in ids if name == "weak_xxz_nnn"} == {"tdvp1", "tdvp2"}
    assert ("weak_bose_hubbard", "tebd4") in ids
    assert set(DT) == set(_mps_methods())  # a new method fails here until it has a step table


def test_cases_not_run_are_the_tdvp_ones_on_the_small_models():
    """The small models' TDVP steps are not measured yet: every other accepted case has a dt."""
    missing = {(name, method) for name, method, _ in _all_cases() if name not in DT[method]}
    assert missing == {(name, m) for name in SMALL for m in ("tdvp1", "tdvp2")}


@pytest.mark.parametrize("name, method, backend", _cases())
def test_matches_exact(name, method, backend):
    chain, st = MODELS[name]
    dt = DT[method][name]
    res = tnmbl.evolve(chain, st, method, backend=backend, dt=dt, t_final=T_FINAL, chi_max=512, svd_cutoff=1e-14,
                       output_dt=T_FINAL, observables=observables_for(name, chain))
    ex = exact_run(name)
    assert np.allclose(res.times, ex.times)
    assert res.health["truncation_error"][-1] < 1e-12  # chi large enough to be exact
    assert abs(res.health["norm"][-1] - 1) < 1e-10
    if name in SMALL:  # the comparison is not vacuous: every observable moved
        for k in res.observables:
            if k != "density" or name != "xxz_with_bath":
                assert np.abs(ex[k][-1] - ex[k][0]).max() > 1e-2, k
    errs = {k: np.abs(res[k] - ex[k]).max() for k in res.observables}
    assert max(errs.values()) < TOL, f"{name} {method}/{backend} dt={dt}: max |error| {errs}"


@pytest.mark.parametrize("backend", list(METHODS["tebd2"]))
def test_tebd2_is_second_order(backend):
    errs = [np.abs(run_engine("xxz", "tebd2", backend, dt, t=1.0)[1] - exact_densities("xxz", 1.0)).max()
            for dt in (0.1, 0.05)]
    slope = np.log2(errs[0] / errs[1])
    assert 1.8 < slope < 2.2, f"tebd2/{backend}: errors {errs}, slope {slope:.2f}"


def test_tdvp1_grows_then_converges_on_nnn_model():
    """tdvp1 from a product state: two-site growth to the full rank, then one-site sweeps."""
    errs = []
    for dt in (0.1, 0.05):
        eng, dens = run_engine("xxz_nnn", "tdvp1", "tenpy", dt, t=1.0)
        assert eng.grown() and 0 < eng.growth_steps < round(1.0 / dt)
        errs.append(np.abs(dens - exact_densities("xxz_nnn", 1.0)).max())
    assert errs[1] < 1e-3
    assert np.log2(errs[0] / errs[1]) > 1.7, f"tdvp1 errors {errs}"
