r"""Real-time evolution of a mixed bubble (:class:`~tnmbl.states.bubbles.MixedBubble`) as a
purification MPS: local Gibbs states on ``[a, b)``, a product state elsewhere.

The purification has a physical leg ``p`` and an ancilla leg ``q`` on every site:

.. math::
    |\Psi\rangle = \bigotimes_{x\in[a,b)} \Bigl(\sum_k \sqrt{p_x(k)}\,|k\rangle_p|k\rangle_q\Bigr)
                   \otimes \bigotimes_{x\notin[a,b)} |\phi_x\rangle_p |0\rangle_q ,
    \qquad {\rm Tr}_q |\Psi\rangle\langle\Psi| = \rho ,

a product over sites, so it is already in canonical form. At ``beta = 0`` the bubble sites are
maximally entangled with their ancillas (entropy :math:`\log d` per site). TeNPy's
``PurificationTEBD`` then applies the TEBD gates to the physical legs only
(``disentangle=None``): ancillas never change, and every physical expectation value is
:math:`{\rm Tr}\,\rho(t) O`. This differs from :mod:`tnmbl.engines.purification`, which
starts from :math:`\mathbb 1/D` (or :math:`e^{-\beta H}`) on the whole chain and computes
two-time correlations; here the state is inhomogeneous and only one-time observables are
needed.

``entanglement`` of a purification is the entropy of the cut in the doubled (p + q) chain:
zero at ``t = 0`` (the bubble's entanglement is with its own ancillas, on-site), growing as
the bubble spreads. It is an operator-space entanglement of :math:`\rho^{1/2}`, not the
entanglement of a pure state.

Use :func:`tnmbl.evolution.evolve_mixed` (the same options and :class:`~tnmbl.Result` as
:func:`tnmbl.evolve`); the charge is not conserved in the MPS (a mixed bubble mixes charges).
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError, fail
from .methods import METHOD_SPECS
from .tenpy_tebd import TebdStepping, TenpyMPSEngine


def purification_of(state, site):
    """The TeNPy ``PurificationMPS`` of a :class:`~tnmbl.states.bubbles.MixedBubble`."""
    from tenpy.linalg import np_conserved as npc
    from tenpy.networks.purification_mps import PurificationMPS

    chain = state.chain
    L, d = chain.L, chain.site.dim
    a, b = state.region
    triv = npc.LegCharge.from_trivial(1)
    Bs = []
    for x in range(L):
        arr = np.zeros((1, d, d, 1), dtype=complex)
        if a <= x < b:
            arr[0, np.arange(d), np.arange(d), 0] = np.sqrt(state.weights[x - a])
        else:
            arr[0, :, 0, 0] = state.background.vectors[x]
        Bs.append(npc.Array.from_ndarray(arr, [triv, site.leg, site.leg.conj(), triv.conj()], dtype=complex,
                                         labels=["vL", "p", "q", "vR"]))
    return PurificationMPS([site] * L, Bs, [np.ones(1)] * (L + 1), bc="finite", form="B",
                           unit_cell_width=L)


class PurificationBubbleTEBD(TebdStepping, TenpyMPSEngine):
    """TEBD (order 2 or 4) of a mixed bubble's purification (module docstring).

    Built by :class:`tnmbl.evolution.MixedEvolution`, which hands over the TeNPy model and site.
    """

    backend = "purification"

    def __init__(self, chain, state, options, model, site):
        from tenpy.algorithms.purification import PurificationTEBD

        if options.method not in ("tebd2", "tebd4"):
            fail(OptionError, "method", options.method, "a mixed bubble runs on 'tebd2' or 'tebd4'")
        if options.extra.get("threads") not in (None, 1):
            fail(OptionError, "threads", options.extra["threads"], "TeNPy's purification TEBD updates one bond "
                 "at a time", "leave threads out for a mixed bubble")
        self.chain, self.options, self.step = chain, options, 0
        self.method = options.method
        self.site, self.model = site, model
        self.psi = purification_of(state, site)
        self._cache = {}
        self.tebd = PurificationTEBD(self.psi, self.model, {
            "order": METHOD_SPECS[options.method].order,
            "trunc_params": {"chi_max": options.chi_max, "svd_min": options.svd_cutoff},
        })
        self.tebd.options.touch("order", "disentangle")
        self.tebd.trunc_params.touch("chi_max", "svd_min")

    def _expectation_values(self, ops, sites):
        from tenpy.networks.mps import MPSEnvironment

        # MPSEnvironment contracts the ancilla legs as a trace, as the correlator of
        # tnmbl.engines.purification does (PurificationMPS.expectation_value wants q labels)
        return MPSEnvironment(self.psi, self.psi).expectation_value(ops, sites=sites)


def __getattr__(name):
    """``evolve_mixed`` and ``MixedEvolution`` moved to :mod:`tnmbl.evolution.mixed` (drivers sit
    above the engines); the old name keeps working for existing code (a shim, listed in tests/test_layers.py)."""
    if name in ("evolve_mixed", "MixedEvolution"):
        from ..evolution import mixed  # shim

        return getattr(mixed, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
