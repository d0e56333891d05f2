"""Every MPS method and backend against exact evolution, for every quantum model it accepts.

Models near the atomic limit at L = 8 (see ``helpers.weak_models``); densities at t = 2
must agree with ``method="exact"`` within 1e-6. The time step is each method's own: small
enough that its time-step error is below 1e-6 (4th-order TEBD at dt = 0.1, two-site TDVP at
dt = 0.05 or 0.025). The 2nd-order methods need dt ~ 0.003 for 1e-6 and run under
``-m slow`` (with two of the two-site TDVP cases, for time); in the default suite the
2nd-order methods are pinned by their convergence order instead.
"""

import numpy as np
import pytest
from helpers import WEAK_MODELS, exact_densities, run_engine

from tnmbl.engines import METHODS, accepts

TOL = 1e-6
DT_FOR_1E6 = {"tebd4": 0.1, "tdvp2": 0.05, "tebd2": 0.0025, "tdvp1": 0.0025}
DT_OVERRIDE = {("xxz_nnn", "tdvp2"): 0.025, ("xxz", "tdvp2"): 0.025}
SLOW = {"tebd2", "tdvp1"}
SLOW_CASES = {("xxz", "tdvp2"), ("xxz_with_bath", "tdvp2")}  # ~15-25 s each on 2 shared cores


def _cases():
    out = []
    for name, (chain, _) in WEAK_MODELS.items():
        for method in ("tebd2", "tebd4", "tdvp1", "tdvp2"):
            for backend in METHODS[method]:
                if accepts(method, chain, backend)[0]:
                    marks = [pytest.mark.slow] if method in SLOW or (name, method) in SLOW_CASES else []
                    out.append(pytest.param(name, method, backend, marks=marks, id=f"{name}-{method}-{backend}"))
    return out


def test_cases_cover_every_model_and_nnn_only_on_tdvp():
    ids = {(p.values[0], p.values[1]) for p in _cases()}
    assert {name for name, _ in ids} == set(WEAK_MODELS)
    assert {m for name, m in ids if name == "xxz_nnn"} == {"tdvp1", "tdvp2"}
    assert ("bose_hubbard", "tebd4") in ids


@pytest.mark.parametrize("name, method, backend", _cases())
def test_agrees_with_exact(name, method, backend):
    dt = DT_OVERRIDE.get((name, method), DT_FOR_1E6[method])
    eng, dens = run_engine(name, method, backend, dt)
    err = np.abs(dens - exact_densities(name)).max()
    assert err < TOL, f"{name} {method}/{backend} dt={dt}: max |d<n_x>| = {err:.2e}"
    assert eng.health()["truncation_error"] < 1e-12
    assert abs(eng.health()["norm"] - 1) < 1e-10


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
