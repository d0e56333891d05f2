r"""The float32 rotor strategy of :class:`~tnmbl.engines.classical.ClassicalEngine`
(``precision="float32"``): :class:`RotorIntegrator` with the batch stored in float32 and
advanced by the float32 kernel of :mod:`.kernels_sym` (two-part :math:`\pi` and :math:`2\pi`,
Kahan-compensated angle updates, angles wrapped every ``0.5 / dt`` steps; its docstring has
the measurements behind each of these).

What stays float64: the measurement (the compensated state ``theta - comp``, ``p`` copied to
float64 and measured by the float64 kernel, so the energies and their ensemble sums carry no
float32 rounding of their own), the reference momenta of ``phi`` and the Langevin
thermalization. What float32 costs: the momenta are rounded at every kick, so each chain's
energy random-walks; :meth:`RotorIntegrator32.energy_error_floor` predicts how far
(:data:`ROUNDOFF_WALK`), and the evolution refuses a run whose ``energy_tolerance`` that
walk alone would pass.

A module of its own because :mod:`.kernels_sym` reads :mod:`.integrators` (the DNLS bond
propagators), so :mod:`.integrators` cannot import the float32 kernel.
"""

from __future__ import annotations

import math

import numpy as np

from . import kernels
from .integrators import RotorIntegrator, _aligned, _drift_kick, _from_blocks
from .kernels_sym import PSIN32_CONSTS, WRAP32_CONSTS, rotor_run32

#: the precisions of the classical engine; the method table (``MethodSpec.precisions``) says
#: which a method has kernels for
PRECISIONS = ("float64", "float32")

EPS32 = float(np.finfo(np.float32).eps)

#: measured constant of the float32 energy walk (see :meth:`RotorIntegrator32.energy_error_floor`):
#: the largest per-chain ``|E(t) - E(0)| / L`` over M chains, divided by
#: ``eps32 * sqrt(<(p^2/m)^2> * kicks / L) * sqrt(2 ln M)``: measured 0.16-0.27, flat from 2.5e4 to
#: 2.8e5 kicks per site (the sqrt law), for leapfrog (dt = 0.002 at g = 1, 0.005 at g = 0.3) and
#: ABA864 (dt = 0.1 at g = 1, 0.2 at g = 0.1), beta = 1, L = 64, 256 chains, where the float64
#: error of the same runs is 10x-1e5x smaller; rounded up
ROUNDOFF_WALK = 0.3


class RotorIntegrator32(RotorIntegrator):
    """Rotor chains in float32 (see the module docstring); no velocity-flip noise (the
    engine refuses it with float32)."""

    field_names = ("theta", "theta_comp", "p", "wref")
    comp = 1  # Kahan-compensated angle updates (kernels_sym: compensated="angles")

    def __init__(self, eng, chain, state, spec):
        super().__init__(eng, chain, state, spec)
        self.kin32 = self.kin.astype(np.float32)
        self.gb32 = self.gb.astype(np.float32)
        self._load(self.theta, self.p)
        del self.theta, self.p  # the batch lives in float32 from here
        self.wrap_every = max(1, min(32, int(0.5 / eng.dt)))
        q, p = state.canonical()
        self.p4 = float(np.mean((p * p * self.kin) ** 2))  # <(p^2/m)^2>, the size of the energy rounding

    def _load(self, theta, p):
        """The float32 batch from float64 blocks: angles rounded with what the rounding lost in
        the compensation (the true angle is ``theta32 - comp``); momenta rounded."""
        self.th32 = _aligned(theta.astype(np.float32))
        self.ct = (self.th32.astype(float) - theta).astype(np.float32)
        self.pp32 = _aligned(p.astype(np.float32))
        self.cp = np.zeros_like(self.pp32)  # momentum compensation: unused with comp = 1, kept zero

    def _float64(self):
        return self.th32.astype(float) - self.ct, self.pp32.astype(float) - self.cp

    @property
    def n_blocks(self):
        return self.th32.shape[0]

    def run(self, eng, segs, n_chunks, acc_n, acc_h, acc_j, acc_q, ch_e, ch_q, ch_dw2, ch_jt):
        a, b = _drift_kick(eng.method)
        rotor_run32(self.th32, self.ct, self.pp32, self.cp, self.wref, self.kin32, self.gb32, self.kin, self.gb,
                    a.astype(np.float32), b.astype(np.float32), segs, np.float32(eng.dt), eng.M, n_chunks,
                    eng.left, eng.right, eng.nbonds, eng.ncur, self.wrap_every, acc_n, acc_h, acc_j, acc_q,
                    ch_e, ch_q, ch_dw2, ch_jt, PSIN32_CONSTS, WRAP32_CONSTS, self.comp)

    def langevin(self, eng, beta, n_steps, gamma, dt, seed):
        theta, p = self._float64()
        kernels.rotor_langevin(theta, p, self.kin, self.gb, float(dt), n_steps, float(gamma), float(beta), eng.M,
                               seed, 0)
        self._load(theta, p)

    def state_fields(self, M):
        theta, p = self._float64()
        return {"theta": _from_blocks(theta, M), "w": _from_blocks(p, M)}

    def fields(self):
        return {"theta": self.th32, "theta_comp": self.ct, "p": self.pp32, "wref": self.wref}

    def energy_error_floor(self, eng, n_steps, n_chains):
        r"""Predicted largest per-chain energy error per site, :math:`\max_m |E_m - E_m(0)| / L`,
        from float32 round-off alone after ``n_steps`` steps of ``n_chains`` chains.

        Every kick rounds each momentum to float32 (relative error ~eps32), changing that
        site's energy by ~eps32 :math:`p^2/m`; the roundings are independent, so a chain's
        energy random-walks: after ``k`` kicks per site its error per site is
        ~eps32 :math:`\sqrt{\langle (p^2/m)^2\rangle k / L}`, and the largest of ``M``
        Gaussian walks is :math:`\sqrt{2 \ln M}` standard deviations. The constant
        :data:`ROUNDOFF_WALK` was measured (its comment); the angles' rounding is compensated
        and measured smaller."""
        kicks = n_steps * len(_drift_kick(eng.method)[1])
        return (ROUNDOFF_WALK * EPS32 * math.sqrt(self.p4 * kicks / eng.L)
                * math.sqrt(2 * math.log(max(n_chains, 2))))


#: site type -> float32 strategy (:data:`.integrators.INTEGRATORS` holds the float64 ones)
INTEGRATORS32 = {"rotor": RotorIntegrator32}
