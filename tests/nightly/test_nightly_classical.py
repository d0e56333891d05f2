"""Classical convergence: each integrator shows its order on observables at a fixed time, and
the glassy-dynamics t0 at g = 0.5 agrees with the reference (docs/figures/glassy_fig2.json,
the published figure the classical engines reproduce)."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import fit_slope

import tnmbl
from tnmbl.observables.classical import t0
from tnmbl.states import classical as cs

pytestmark = pytest.mark.nightly
OBS = ["density", "energy_density"]
REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "figures" / "glassy_fig2.json"


@pytest.mark.parametrize("method,order", [("leapfrog", 2), ("yoshida4", 4), ("split2", 2), ("split4", 4)])
def test_integrator_order_on_observables(method, order, report):
    if method in ("leapfrog", "yoshida4"):
        chain = tnmbl.models.rotor(16, 1.0)
        state = cs.gibbs(chain, 8, beta=1.0, seed=1)
        ref_method = "yoshida4"
    else:
        chain = tnmbl.models.dnls(16, 0.5, 0.5, W=1.0, seed=2)
        state = cs.gibbs(chain, 8, density=1.0, seed=3)
        ref_method = "split4"
    t_final = 2.0
    ref = tnmbl.evolve_classical(chain, state, ref_method, dt=t_final / 4096, t_final=t_final, output_dt=t_final,
                                 observables=OBS)
    dts = [0.1, 0.05, 0.025, 0.0125]
    errors = []
    for dt in dts:
        r = tnmbl.evolve_classical(chain, state, method, dt=dt, t_final=t_final, output_dt=t_final, observables=OBS)
        errors.append(max(float(np.max(np.abs(r[k][-1] - ref[k][-1]))) for k in OBS))
    slope = fit_slope(dts, errors)
    ok = abs(slope - order) < 0.3
    report.add("classical integrator order (t = 2, vs dt/4096 reference)", f"{chain.name} {method}", dts, errors,
               x_label="dt", slope=slope, expected=str(order), passed=ok)
    assert ok, (slope, errors)


def test_glassy_t0_at_g_half_matches_the_reference(report):
    """t0(g = 0.5) at L = 64, beta = 1 against docs/figures/glassy_fig2.json (8192 chains).

    Lighter than the reference: 1024 chains (independent samples, another seed), so the
    comparison allows twice the combined standard error."""
    ref = next(p for p in json.loads(REFERENCE.read_text())["points"] if p["g"] == 0.5)
    chain = tnmbl.models.rotor(64, 0.5)
    state = cs.gibbs(chain, 1024, beta=1.0, seed=[77, 500])
    r = tnmbl.evolve_classical(chain, state, "leapfrog", dt=0.01, t_final=1800.0, n_log=300, observables=["phi"],
                               energy_tolerance=1e-3)
    value, err, _ = t0(r.times, r.engine.samples["phi"], level=0.9, window=0.15, n_boot=300, seed=7)
    combined = float(np.hypot(err, ref["t0_err"]))
    ok = bool(np.isfinite(value) and abs(value - ref["t0"]) < 2 * combined)
    report.add("glassy t0 (g = 0.5, L = 64, beta = 1)", "rotor leapfrog M=1024", [1024], [abs(value - ref["t0"])],
               x_label="chains", expected=f"abs(t0 - {ref['t0']:.0f}) < 2 x {combined:.0f}", passed=ok,
               note=f"t0 = {value:.0f} +- {err:.0f}; reference {ref['t0']:.0f} +- {ref['t0_err']:.0f} (8192 chains)")
    assert ok, (value, err, ref)
