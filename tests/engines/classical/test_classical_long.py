"""Long classical studies, outside the default suite (pytest -m slow / -m nightly)."""

import numpy as np
import pytest

import tnmbl
from tnmbl.observables.classical import smooth_log
from tnmbl.states import classical as cs


@pytest.mark.slow
def test_phi_saturates_at_one_minus_one_over_L():
    """Total angular momentum is conserved, so phi(t -> inf) = 1 - 1/L (g = 1 relaxes fast)."""
    L = 16
    chain = tnmbl.models.rotor(L, 1.0)
    st = cs.gibbs(chain, 4096, beta=1.0, seed=8)
    r = tnmbl.evolve_classical(chain, st, "leapfrog", dt=0.02, t_final=4000.0, n_log=100, observables=["phi"])
    late = smooth_log(r.times, r["phi"][:, 0], 0.5)[-10:]
    err = r.engine.samples["phi"][-1].std() / np.sqrt(4096)
    assert abs(late.mean() - (1 - 1 / L)) < 5 * err + 0.005


@pytest.mark.nightly
@pytest.mark.parametrize("method,order", [("leapfrog", 2), ("yoshida4", 4), ("split2", 2), ("split4", 4)])
def test_energy_error_order_over_a_dt_ladder(method, order):
    if method in ("leapfrog", "yoshida4"):
        chain = tnmbl.models.rotor(32, 1.0)
        st = cs.gibbs(chain, 16, beta=1.0, seed=1)
    else:
        chain = tnmbl.models.dnls(32, 0.5, 0.5, W=1.0, seed=2)
        st = cs.gibbs(chain, 16, density=1.0, seed=3)
    dts = [0.04, 0.02, 0.01, 0.005]
    errs = []
    for dt in dts:
        r = tnmbl.evolve_classical(chain, st, method, dt=dt, t_final=20.0, output_dt=4 * dt, observables=["density"])
        e = r.engine.samples["energy"]
        errs.append(np.max(np.abs(e - e[0])))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert abs(slope - order) < 0.3, (slope, errs)
