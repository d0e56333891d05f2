"""With the bonds between bubble and background at zero (tnmbl.states.bubbles.decoupled),
nothing spreads: the excess outside the bubble stays zero, for pure and mixed bubbles, quantum
and classical; with the bonds on, it does not (the control)."""

import numpy as np
import pytest

import tnmbl
from tnmbl.evolution import evolve_mixed
from tnmbl.observables import spreading as sp
from tnmbl.states import classical as cs
from tnmbl.states.bubbles import decoupled, mixed_bubble

REGION = (3, 6)


def _outside(positions, a=REGION[0], b=REGION[1]):
    """Columns entirely outside the bubble (sites, or bonds with both ends outside)."""
    p = np.asarray(positions)
    return (p < a - 0.5) | (p > b - 0.5)


@pytest.mark.parametrize("cut", [True, False], ids=["decoupled", "coupled"])
def test_pure_bubble_in_bose_hubbard(cut):
    chain = tnmbl.models.bose_hubbard(L=8, U=1.0, g=0.4, n_max=2)
    if cut:
        chain = decoupled(chain, REGION)
    hot = tnmbl.states.product(chain, occupations=[1, 1, 1, 2, 0, 2, 1, 1])
    cold = tnmbl.states.product(chain, occupations=[1] * 8)
    kw = dict(dt=0.05, t_final=1.0, output_dt=0.5, chi_max=32, observables=["density", "energy_density",
                                                                               "entanglement"])
    res, ref = tnmbl.evolve(chain, hot, "tebd2", backend="tenpy", **kw), tnmbl.evolve(chain, cold, "tebd2",
                                                                                       backend="tenpy", **kw)
    biggest = 0.0
    for name in ("density", "energy_density"):
        _, x, e = sp.excess(res, name, background=ref, sign=1)
        biggest = max(biggest, np.abs(e[:, _outside(x)]).max())
    n_in = res["density"][:, 3:6].sum(1)
    if cut:
        assert biggest < 1e-12
        np.testing.assert_allclose(n_in, 4.0, atol=1e-12)
        np.testing.assert_allclose(res["entanglement"][:, [2, 5]], 0, atol=1e-12)  # cuts at 2.5 and 5.5
        s = sp.spreading(res, "density", background=ref, sign=1, threshold=1e-6, side="right")
        assert np.nanmax(s.front) < 6.0  # interpolates toward site 6, never reaches it
    else:
        assert biggest > 1e-2 and np.ptp(n_in) > 1e-2


@pytest.mark.parametrize("cut", [True, False], ids=["decoupled", "coupled"])
def test_mixed_bubble_in_xxz(cut):
    chain = tnmbl.models.xxz(L=8, g=1.0, J=0.4, W=1.0, seed=4)
    if cut:
        chain = decoupled(chain, REGION)
    res = evolve_mixed(chain, mixed_bubble(chain, REGION, "down"), dt=0.05, t_final=1.5, output_dt=0.5,
                       observables=["density"])
    _, x, e = sp.excess(res, "density", background=-1.0, sign=1)
    out = np.abs(e[:, _outside(x)]).max()
    assert (out < 1e-12) if cut else (out > 1e-2)


@pytest.mark.parametrize("cut", [True, False], ids=["decoupled", "coupled"])
def test_hot_rotor_bubble(cut):
    chain = tnmbl.models.rotor(16, g=1.0, bc="open")
    if cut:
        chain = decoupled(chain, (6, 10))
    st = cs.bubble(chain, 16, region=(6, 10), inside=0.5, outside=np.inf, seed=2)
    r = tnmbl.evolve_classical(chain, st, "leapfrog", dt=0.01, t_final=2.0, output_dt=0.5,
                               observables=["energy_density"])
    _, x, e = sp.excess(r, "energy_density", background=0.0, sign=1)
    out = np.abs(e[:, _outside(x, 6, 10)]).max()
    assert (out < 1e-12) if cut else (out > 1e-3)
