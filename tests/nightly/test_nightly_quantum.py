"""Quantum convergence: for each model and method, the observables at a fixed time converge
to exact (full-space) evolution as dt shrinks, with the method's order, and as chi grows."""

import numpy as np
import pytest
from helpers import fit_slope

import tnmbl

pytestmark = pytest.mark.nightly
OBS = ["density", "energy_density"]


def case(name):
    if name == "bose_hubbard":
        ch = tnmbl.models.bose_hubbard(L=6, U=1.0, g=0.3, n_max=2, W=0.5, seed=1)
        return ch, tnmbl.states.product(ch, occupations=[2, 0, 1, 2, 0, 1])
    if name == "xxz":
        ch = tnmbl.models.xxz(L=8, g=1.0, J=0.4, W=1.0, seed=2)
        return ch, tnmbl.states.neel(ch)
    ch = tnmbl.models.xxz_with_bath(L=8, g=1.0, J=0.3, W=2.0, bath=(0, 3), bath_hx=0.6, seed=3)
    return ch, tnmbl.states.domain_wall(ch)


def max_error(res, ref):
    return max(float(np.max(np.abs(res[k][-1] - ref[k][-1]))) for k in OBS)


# TEBD: |slope - order| < 0.3. TDVP (chi_max above the full bond dimension): the symmetric
# sweep is of order 2; on the XXZ chains the dt ladder of TDVP2 sees a steeper, pre-asymptotic
# slope (about 3, measured), so the test asks for at least the order (minus 0.3).
METHODS = {"tebd2/tenpy": (2, [0.2, 0.1, 0.05], "=="), "tebd2/quimb": (2, [0.2, 0.1, 0.05], "=="),
           "tebd4/tenpy": (4, [0.25, 0.125, 0.0625], "=="), "tebd4/quimb": (4, [0.25, 0.125, 0.0625], "=="),
           "tdvp2/tenpy": (2, [0.2, 0.1, 0.05], ">="), "tdvp1/tenpy": (2, [0.2, 0.1, 0.05], ">=")}


@pytest.mark.parametrize("method_backend", list(METHODS))
@pytest.mark.parametrize("model", ["bose_hubbard", "xxz", "xxz_with_bath"])
def test_dt_convergence_with_the_method_order(model, method_backend, report):
    order, dts, rule = METHODS[method_backend]
    method, backend = method_backend.split("/")
    chain, state = case(model)
    t_final = 1.0
    ref = tnmbl.evolve(chain, state, "exact", dt=t_final, t_final=t_final, observables=OBS, output_dt=t_final)
    errors = [max_error(tnmbl.evolve(chain, state, method, dt=dt, t_final=t_final, chi_max=64, observables=OBS,
                                     output_dt=t_final, backend=backend), ref) for dt in dts]
    slope = fit_slope(dts, errors)
    ok = abs(slope - order) < 0.3 if rule == "==" else slope > order - 0.3
    report.add("dt convergence (t = 1, vs exact)", f"{model} {method_backend}", dts, errors, x_label="dt", slope=slope,
               expected=str(order) if rule == "==" else f">= {order - 0.3:g}", passed=ok)
    assert ok, (slope, errors)
    assert all(b < a for a, b in zip(errors, errors[1:])), errors


CHI_CASES = {"xxz_tebd4": ("xxz", "tebd4", 10, [2, 4, 8, 16, 32]),
             "bose_hubbard_tebd4": ("bose_hubbard", "tebd4", 8, [2, 4, 8, 16, 32]),
             "bose_hubbard_tdvp2": ("bose_hubbard", "tdvp2", 8, [2, 4, 8, 16])}


@pytest.mark.parametrize("name", list(CHI_CASES))
def test_chi_convergence(name, report):
    model, method, L, chis = CHI_CASES[name]
    if model == "xxz":
        chain = tnmbl.models.xxz(L=L, g=1.0, J=0.4, W=0.5, seed=2)
        state = tnmbl.states.neel(chain)
    else:
        chain = tnmbl.models.bose_hubbard(L=L, U=1.0, g=0.3, n_max=2, W=0.5, seed=1)
        state = tnmbl.states.product(chain, occupations=[2, 0, 1, 2, 0, 1, 1, 1][:L])
    t_final, dt = 2.0, 0.05
    ref = tnmbl.evolve(chain, state, "exact", dt=t_final, t_final=t_final, observables=OBS, output_dt=t_final)
    errors = [max_error(tnmbl.evolve(chain, state, method, dt=dt, t_final=t_final, chi_max=chi, observables=OBS,
                                     output_dt=t_final), ref) for chi in chis]
    monotone = all(b <= a * 1.05 for a, b in zip(errors, errors[1:]))
    ok = monotone and errors[-1] < 1e-4 and errors[-1] < errors[0] / 100
    report.add("chi convergence (t = 2, dt = 0.05, vs exact)", f"{model} L={L} {method}", chis, errors,
               x_label="chi_max", expected="decreasing, last < 1e-4", passed=ok)
    assert ok, errors
