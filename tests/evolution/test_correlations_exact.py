"""Purification correlations against the exact thermal trace at L = 8 (tolerance 1e-6).

The reference (:mod:`tnmbl.engines.exact_thermal`) diagonalises H sector by sector; the
purification runs with a chi large enough to be exact up to ``svd_cutoff`` and a 4th-order
real-time Trotter step, so the remaining differences are the 2nd-order imaginary-time step
(``dbeta``) and the cutoff. The beta = 1 cases not in the default suite are marked slow.
"""

import numpy as np
import pytest

from tnmbl.evolution.correlations import correlations, current_autocorrelation, local_autocorrelation
from tnmbl.models.quantum import bose_hubbard, xxz
from tnmbl.states.mixed import Thermal

TOL = 1e-6
CHAIN = xxz(8, g=0.5, J=0.35, w=0.5 * np.linspace(-0.5, 0.4, 8))
OPTS = dict(chi_max=256, svd_cutoff=1e-9)
LOCAL = ["energy_current", "density_current", "density", "energy_density"]
CURRENTS = ["energy_current", "density_current"]


def grid(beta):
    # beta > 0: the bra is evolved too and dbeta sets the error; keep it short
    if beta == 0:
        return dict(t_max=0.4, dt=0.1, output_dt=0.1)
    return dict(t_max=0.2, dt=0.05, output_dt=0.1, dbeta=0.0025)


def check_local(chain, name, beta, ensemble=None, t_max=None):
    kw = dict(grid(beta), beta=beta, ensemble=ensemble)
    if t_max is not None:
        kw["t_max"] = t_max
    dbeta = kw.pop("dbeta", None)
    extra = {} if dbeta is None else {"dbeta": dbeta}
    p = correlations(chain, name, **kw, **OPTS, **extra)
    e = correlations(chain, name, **kw, method="exact")
    assert p.values.shape == e.values.shape == (len(p.times), len(p.distance))
    assert np.abs(e.values).max() > 0.1  # a non-trivial correlation
    err = np.abs(p.values - e.values).max()
    assert err < TOL, f"{name} beta={beta}: max |purification - exact| = {err:.3g}"
    return p, e


def check_total(chain, name, beta):
    kw = dict(grid(beta), beta=beta)
    dbeta = kw.pop("dbeta", None)
    extra = {} if dbeta is None else {"dbeta": dbeta}
    p = current_autocorrelation(chain, name, **kw, **OPTS, **extra)
    e = current_autocorrelation(chain, name, **kw, method="exact")
    assert abs(e.values[0]) > 0.1
    err = np.abs(p.values - e.values).max()
    assert err < TOL, f"total {name} beta={beta}: max |purification - exact| = {err:.3g}"


@pytest.mark.parametrize("name", LOCAL)
def test_local_correlations_beta0(name):
    p, e = check_local(CHAIN, name, 0.0)
    # distance of the centre column is 0 and the t = 0 value there is <B_y B_y> > 0
    k = int(np.argmin(np.abs(p.distance)))
    assert p.distance[k] == 0 and e.values[0, k].real > 0


@pytest.mark.parametrize("name", CURRENTS)
def test_total_current_autocorrelation_beta0(name):
    check_total(CHAIN, name, 0.0)


def test_energy_current_correlation_beta1():
    check_local(CHAIN, "energy_current", 1.0)


def test_total_energy_current_beta1():
    check_total(CHAIN, "energy_current", 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["density_current", "density", "energy_density"])
def test_local_correlations_beta1(name):
    check_local(CHAIN, name, 1.0)


@pytest.mark.slow
def test_total_density_current_beta1():
    check_total(CHAIN, "density_current", 1.0)


def test_canonical_ensemble_beta0():
    # S^z = 0 sector: <n_x(t) n_y(0)> differs from the grand-canonical one (1/D vs 1/D_Q)
    ens = Thermal(0.0, "canonical", 0)
    p, e = check_local(CHAIN, "density", 0.0, ensemble=ens, t_max=0.2)  # no trick here: bra evolves too
    gc = correlations(CHAIN, "density", t_max=0.0, method="exact")
    assert np.abs(e.values[0] - gc.values[0]).max() > 1e-2


@pytest.mark.slow
def test_canonical_ensemble_beta1():
    check_local(CHAIN, "energy_current", 1.0, ensemble=Thermal(1.0, "canonical", 0))


@pytest.mark.slow
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_bose_hubbard_energy_current(beta):
    chain = bose_hubbard(6, U=1.0, g=0.3, n_max=2)  # d^2 = 9 per site: L = 8 needs chi > 256
    check_local(chain, "energy_current", beta)


def test_local_autocorrelation_connected_matches_exact():
    kw = dict(t_max=0.4, dt=0.1, output_dt=0.1, sites=[2, 5])
    p = local_autocorrelation(CHAIN, "density", **kw, **OPTS)
    e = local_autocorrelation(CHAIN, "density", **kw, method="exact")
    assert p.values.shape == (5, 2)
    assert np.abs(p.values - e.values).max() < TOL
    # connected at beta = 0: <n_x n_x> - <n_x>^2 = 1 for Pauli sigma^z at t = 0
    assert np.allclose(e.values[0], 1.0, atol=1e-12)


def test_chain_without_charge_conservation():
    """Spin chain with an ergodic bath (transverse field breaks S^z): dense purification, full-space exact."""
    from tnmbl.models.quantum import xxz_with_bath

    chain = xxz_with_bath(6, g=0.5, J=0.3, W=1.0, bath=(0, 3), bath_hx=0.4, seed=1)
    assert not chain.conserves_charge
    kw = dict(t_max=0.4, dt=0.05, output_dt=0.2)
    p = correlations(chain, "energy_current", **kw, **OPTS)
    e = correlations(chain, "energy_current", **kw, method="exact")
    assert np.abs(p.values - e.values).max() < TOL
