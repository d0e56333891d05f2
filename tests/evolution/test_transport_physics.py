"""Conservation laws seen through current autocorrelations, and the classical integrand.

* XX chain (free fermions): the total spin current commutes with H on a periodic chain, so
  its autocorrelation is constant (exact, L = 8); on an open chain the bulk correlation
  sum_x <J_x(t) j_y(0)> stays at its t = 0 value until the light cone reaches the edges
  (purification, L = 12).
* Clean XXZ: the same for the energy current (conserved for any J); a staggered field
  breaks it and the test sees the decay. The spin current of XXZ at J != 0 decays (a
  control that the conservation checks can fail).
"""

import numpy as np
import pytest
from scipy.special import iv

from tnmbl.evolution.correlations import current_autocorrelation
from tnmbl.models.quantum import xxz

G = 0.5
V_MAX = 4 * G  # largest magnon group velocity of 2g (s+ s- + h.c.)


def exact_total(chain, current):
    c = current_autocorrelation(chain, current, t_max=6.0, dt=0.5, method="exact")
    return c.values


@pytest.mark.parametrize("J, current", [(0.0, "density_current"), (0.0, "energy_current"),
                                        (0.7, "energy_current")])
def test_total_current_conserved_on_periodic_chain(J, current):
    v = exact_total(xxz(8, g=G, J=J, bc="periodic"), current)
    assert abs(v[0]) > 0.1
    assert np.abs(v - v[0]).max() < 1e-10


@pytest.mark.parametrize("chain, current", [
    (xxz(8, g=G, J=0.7, bc="periodic"), "density_current"),  # interacting: spin current not conserved
    (xxz(8, g=G, J=0.7, bc="open"), "energy_current"),  # open: boundary terms
    (xxz(8, g=G, J=0.7, w=0.5 * (-1.0) ** np.arange(8), bc="periodic"), "energy_current"),  # staggered field
])
def test_total_current_decays_when_not_conserved(chain, current):
    v = exact_total(chain, current)
    assert np.abs(v - v[0]).max() > 1e-2


def bulk(J, h, current, L=12, t_max=0.8):
    chain = xxz(L, g=G, J=J, w=h * (-1.0) ** np.arange(L))
    c = current_autocorrelation(chain, current, total=False, t_max=t_max, dt=0.1, output_dt=0.2,
                                chi_max=32, svd_cutoff=1e-8)
    # distance of the middle current's sites to the nearest edge, over the fastest velocity
    n = L - 2 if current == "energy_current" else L - 1
    y = n // 2
    first, last = y, y + (2 if current == "energy_current" else 1)
    t_light = min(first, L - 1 - last) / V_MAX
    return c, t_light


@pytest.mark.parametrize("J, current", [(0.0, "density_current"), (0.35, "energy_current")])
def test_bulk_current_constant_until_light_cone(J, current):
    c, t_light = bulk(J, 0.0, current)
    inside = c.times <= 0.5 * t_light
    assert inside.sum() >= 4
    dev = np.abs(c.values - c.values[0])[inside]
    assert abs(c.values[0]) > 0.5
    assert dev.max() < 1e-4, f"drift {dev.max():.3g} before the light cone (t <= {0.5 * t_light:g})"
    assert np.all(dev <= c.error_estimate[inside] + 1e-5)


def test_staggered_field_makes_energy_current_decay():
    c, t_light = bulk(0.35, 0.5, "energy_current")
    k = int(np.flatnonzero(c.times <= 0.5 * t_light)[-1])
    dev = abs(c.values[k] - c.values[0])
    assert dev > 0.1 and dev > 5 * c.error_estimate[k]


def test_classical_integrand_at_t0_equals_static_value():
    """Rotor chain, open, Gibbs ensemble at beta = 1: C(0) = <J^2>/L against the exact value.

    J is bilinear in the momenta and sin(dtheta): J = sum_x w_x sum_a c_xa sin(phi_a), with
    w_x ~ N(0, 1/beta) and phi_a iid von Mises(beta g) (exact for an open chain), so
    <J^2> = (1/beta) <sin^2 phi> sum c_xa^2, <sin^2 phi> = (1 - I_2(beta g)/I_0(beta g)) / 2.
    The coefficients c_xa are read off the chain's own current function.
    """
    from tnmbl import evolve_classical
    from tnmbl.chain.classical import energy_currents
    from tnmbl.models.classical import rotor
    from tnmbl.states.classical import gibbs
    from tnmbl.transport import green_kubo_ensemble

    L, beta, g = 12, 1.0, 1.0
    chain = rotor(L, g=g, bc="open")
    coef = np.zeros((L, L - 1))
    for x in range(L):
        for a in range(L - 1):
            w = np.zeros((1, L))
            w[0, x] = 1.0
            theta = np.where(np.arange(L) > a, np.pi / 2, 0.0)[None, :]
            coef[x, a] = energy_currents(chain, theta, w).sum()
    sin2 = 0.5 * (1 - iv(2, beta * g) / iv(0, beta * g))
    exact = sin2 * (coef**2).sum() / beta / L
    state = gibbs(chain, 4000, beta=beta, seed=7)
    res = evolve_classical(chain, state, dt=0.05, t_final=0.5, observables=("current_correlation",),
                           output_dt=0.25)
    J = res.engine.samples["total_current"]
    kappa, C, C_err = green_kubo_ensemble(res.times, J, L, window=(0.25, 0.5))
    assert abs(C[0] - exact) < 4 * C_err[0], f"C(0) = {C[0]:.4f} +- {C_err[0]:.4f}, exact {exact:.4f}"
    assert C_err[0] < 0.05 * exact
    assert kappa.errors["statistical"] > 0


def test_xx_local_density_autocorrelation_is_bessel_squared():
    """Free fermions at beta = 0: <s^z_x(t) s^z_x(0)>_c = J_0(4 g t)^2 in the bulk (hopping 2g)."""
    from scipy.special import j0

    from tnmbl.evolution.correlations import local_autocorrelation

    c = local_autocorrelation(xxz(12, g=G, J=0.0), "density", t_max=1.2, dt=0.1, output_dt=0.2,
                              chi_max=32, svd_cutoff=1e-8)
    exact = j0(4 * G * c.times) ** 2
    assert exact.min() < 0.01  # the test spans the first zero
    assert np.abs(c.values[:, 0] - exact).max() < 1e-5
