"""Mixed bubbles on the exact engine: ``tnmbl.evolve(chain, mixed_bubble(...), "exact")``
evolves the mixture; compared with rho(t) = U rho U^dagger built independently (Kronecker H,
scipy expm, the bubble's one-site density matrices in a Kronecker product) and with the
purification engine on the same chain; the methods that cannot take it say what to use."""

from functools import reduce

import numpy as np
import pytest
from scipy.linalg import expm

import tnmbl
from tnmbl.chain import charge_densities, energy_currents
from tnmbl.evolution import evolve_mixed
from tnmbl.states.bubbles import mixed_bubble
from tnmbl.testing import dense_hamiltonian, embed

OBS = ["density", "energy_density", "energy_current"]
CASES = [
    (tnmbl.models.bose_hubbard(L=5, U=1.0, g=0.4, n_max=2, W=0.6, seed=3), (1, 3), 2, 0.7),
    (tnmbl.models.xxz(L=6, g=1.0, J=0.4, W=1.0, seed=2), (2, 4), "up", 0.0),
]


def dense_reference(chain, mb, times, ops):
    """Tr[rho(t) O] for each LocalOp list in ``ops``, rho(t) = U rho U^dagger, all dense."""
    rho0 = reduce(np.kron, mb.density_matrices())
    H = dense_hamiltonian(chain)
    mats = {k: [embed(o, chain.L, chain.site.dim) for o in v] for k, v in ops.items()}
    out = {k: [] for k in ops}
    for t in times:
        U = expm(-1j * t * H)
        rho = U @ rho0 @ U.conj().T
        for k, ms in mats.items():
            out[k].append([np.trace(rho @ m).real for m in ms])
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("chain, region, background, beta", CASES, ids=["bose_hubbard", "xxz"])
def test_exact_mixture_equals_dense_density_matrix(chain, region, background, beta):
    mb = mixed_bubble(chain, region, background, beta=beta)
    res = tnmbl.evolve(chain, mb, "exact", dt=0.1, t_final=1.5, output_dt=0.5, observables=OBS)
    ref = dense_reference(chain, mb, res.times, {"density": charge_densities(chain),
                                                  "energy_current": energy_currents(chain)})
    for name in ref:
        np.testing.assert_allclose(res[name], ref[name], rtol=0, atol=1e-10, err_msg=name)
    assert res["density"][0, region[0]:region[1]] != pytest.approx(res["density"][0, 0])  # a bubble at t = 0
    assert np.abs(res["density"][-1] - res["density"][0]).max() > 1e-2  # ... that moved
    assert np.all(np.abs(res.health["charge_drift"]) < 1e-10)
    assert np.all(np.abs(res.health["energy_drift"]) < 1e-10)
    np.testing.assert_allclose(res.health["norm"], 1.0, atol=1e-12)


@pytest.mark.parametrize("chain, region, background, beta", CASES, ids=["bose_hubbard", "xxz"])
def test_exact_mixture_equals_purification(chain, region, background, beta):
    mb = mixed_bubble(chain, region, background, beta=beta)
    opts = dict(dt=0.025, t_final=1.0, output_dt=0.25, observables=OBS)
    exact = tnmbl.evolve(chain, mb, "exact", **opts)
    pur = evolve_mixed(chain, mb, "tebd4", chi_max=256, **opts)
    assert pur.health["truncation_error"][-1] < 1e-12
    for name in OBS:  # TEBD4 Trotter error, xxz: 1.8e-6 at dt = 0.05, 1.1e-7 at 0.025 (ratio 16: 4th order)
        np.testing.assert_allclose(pur[name], exact[name], rtol=0, atol=3e-7, err_msg=name)


def test_what_cannot_take_a_mixture_says_what_to_use():
    chain, region, background, beta = CASES[1]
    mb = mixed_bubble(chain, region, background, beta=beta)
    with pytest.raises(tnmbl.StateError) as err:
        tnmbl.evolve(chain, mb, "tebd2", dt=0.1, t_final=0.2)
    assert "method='exact'" in err.value.fix and "evolve_mixed" in err.value.fix
    with pytest.raises(tnmbl.OptionError) as err:
        tnmbl.evolve(chain, mb, "exact", dt=0.1, t_final=0.2, observables=["density", "entanglement"])
    assert err.value.key == "observables" and "evolve_mixed" in err.value.fix
    with pytest.raises(tnmbl.OptionError, match="no definite charge"):
        tnmbl.evolve(chain, mb, "exact", dt=0.1, t_final=0.2, conserve=True)


def test_yaml_mixed_bubble_on_the_exact_engine(tmp_path):
    from tnmbl.runs import runner
    from tnmbl.runs.config import validate_config

    raw = {"model": {"name": "xxz", "L": 6, "g": 1.0, "J": 0.4, "W": 1.0}, "seed": 2,
           "state": {"kind": "mixed_bubble", "region": [2, 4], "background": "up", "beta": 0.0},
           "evolution": {"method": "exact", "dt": 0.1, "t_final": 0.5},
           "observables": {"names": ["density"], "output_dt": 0.5},
           "output": {"path": str(tmp_path / "m.h5"), "figure": False}}
    res = tnmbl.load(runner.run(validate_config(raw, name="m")).results)
    chain = tnmbl.models.xxz(L=6, g=1.0, J=0.4, W=1.0, seed=2)
    api = tnmbl.evolve(chain, mixed_bubble(chain, (2, 4), "up"), "exact", dt=0.1, t_final=0.5, output_dt=0.5,
                       observables=["density"])
    np.testing.assert_allclose(res["density"], api["density"], rtol=0, atol=1e-12)
