"""TeNPy adapter: time-dependent variational principle (TDVP), one-site and two-site.

TDVP evolves on the MPO of the chain (:func:`~tnmbl.engines.tenpy_tebd.tenpy_model`), so it
takes bond terms of any range, e.g. a next-nearest-neighbour coupling inside a bath.

Vocabulary translation (tnmbl -> TeNPy):

==================  ==================================================================
``method=tdvp2``    ``TwoSiteTDVPEngine`` (bond dimension grows, truncated by SVD)
``method=tdvp1``    ``TwoSiteTDVPEngine`` while a bond is below its cap, then
                    ``SingleSiteTDVPEngine`` (which never changes the bond dimensions)
``dt``              ``dt`` (TeNPy refuses ``dt > 1``, ``max_dt``)
``chi_max``         ``trunc_params['chi_max']``
``svd_cutoff``      ``trunc_params['svd_min']``
``conserve``        U(1) ``LegCharge`` or trivial
==================  ==================================================================

Growth strategy of ``tdvp1``: one-site TDVP from a product state never leaves bond
dimension 1, so two-site sweeps run until some bond has reached ``chi_max``, or (small
chains) every bond has reached the largest Schmidt rank its cut can have (``d**k`` for ``k``
sites on the smaller side, or the count in the charge sector when ``conserve``, see
:func:`bond_caps`); from then on one-site sweeps (cheaper, exactly energy- and
norm-conserving, bond dimensions frozen). ``engine.growth_steps`` says how many steps were
two-site. Bonds still below ``chi_max`` at the switch keep their dimension: where
entanglement keeps spreading into a region that was nearly product when the switch
happened, prefer ``tdvp2``.

``truncation_error`` is the accumulated discarded weight of the two-site SVDs, as for TEBD
(one-site sweeps truncate nothing).
"""

from __future__ import annotations

import numpy as np

from .tenpy_tebd import TenpyMPSEngine

LANCZOS_PARAMS = {"N_max": 40, "P_tol": 1e-14, "N_min": 2}


def bond_caps(charges, L, Q, chi_max):
    """Largest Schmidt rank of each bond cut, capped at ``chi_max``.

    Without a charge (``Q is None``) a cut with ``k`` sites on its smaller side has rank at
    most ``d**k``; in the sector of total charge ``Q`` it has at most
    ``sum_q min(n_left(q), n_right(Q - q))``, with ``n(q)`` the number of configurations of
    the sites on that side with charge ``q``.
    """
    charges = [int(c) for c in charges]
    d = len(charges)

    def counts(k):
        out = {0: 1}
        for _ in range(k):
            nxt = {}
            for q, n in out.items():
                for c in charges:
                    nxt[q + c] = nxt.get(q + c, 0) + n
            out = nxt
        return out

    caps = []
    for b in range(L - 1):
        k_left, k_right = b + 1, L - b - 1
        if Q is None:
            rank = d ** min(k_left, k_right)
        else:
            left, right = counts(k_left), counts(k_right)
            rank = sum(min(n, right.get(Q - q, 0)) for q, n in left.items())
        caps.append(min(int(chi_max), rank))
    return np.array(caps)


class TenpyTDVP(TenpyMPSEngine):
    """TDVP (``tdvp1`` or ``tdvp2``) through TeNPy; see the module docstring."""

    def __init__(self, chain, state, options):
        super().__init__(chain, state, options)
        if options.method not in ("tdvp1", "tdvp2"):
            raise ValueError(f"method = {options.method!r}: TenpyTDVP runs 'tdvp1' or 'tdvp2'")
        self.method = options.method
        self._tdvp_options = {
            "trunc_params": {"chi_max": options.chi_max, "svd_min": options.svd_cutoff},
            "lanczos_params": dict(LANCZOS_PARAMS),
        }
        Q = state.total_charge if options.conserve else None
        self._caps = bond_caps(chain.site.charges, chain.L, Q, options.chi_max)
        self._eps = 0.0
        self.growth_steps = 0
        self._engine = None
        self._kind = None

    def _engine_for(self, kind):
        from tenpy.algorithms.tdvp import SingleSiteTDVPEngine, TwoSiteTDVPEngine

        if self._kind != kind:
            if self._engine is not None:
                self._eps += float(self._engine.trunc_err.eps)
            opts = dict(self._tdvp_options)
            if kind == 1:  # one-site sweeps truncate nothing; TeNPy warns about unused keys
                opts.pop("trunc_params")
                cls = SingleSiteTDVPEngine
            else:
                cls = TwoSiteTDVPEngine
            self._engine = cls(self.psi, self.model, opts)
            self._kind = kind
        return self._engine

    def grown(self):
        """Whether ``tdvp1`` may run one-site sweeps: some bond has reached ``chi_max``, or
        every bond has reached its cap (the largest rank the cut can have)."""
        chi = np.asarray(self.psi.chi)
        return bool(chi.max() >= self.options.chi_max or np.all(chi >= self._caps))

    def advance(self, n_steps):
        dt = self.options.dt
        if self.method == "tdvp2":
            self._engine_for(2).run_evolution(n_steps, dt)
        else:
            left = n_steps
            while left and not self.grown():
                self._engine_for(2).run_evolution(1, dt)
                self.growth_steps += 1
                left -= 1
            if left:
                self._engine_for(1).run_evolution(left, dt)
        self.step += n_steps

    def health(self):
        eps = self._eps + (float(self._engine.trunc_err.eps) if self._engine is not None else 0.0)
        out = {"truncation_error": eps, "chi": int(max(self.psi.chi)), "norm": float(self.psi.norm)}
        return out
