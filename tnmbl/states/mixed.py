r"""Mixed (thermal) states as data: the Gibbs ensemble a correlation is taken in.

A :class:`Thermal` says *which* ensemble, not how it is represented; the purification
engine (:mod:`tnmbl.engines.purification`) and the exact reference
(:mod:`tnmbl.engines.exact_thermal`) each build their own form of it, from the chain's
term list.

.. math::
    \rho_\beta = \frac{e^{-\beta H}}{Z}                 \quad\text{(grand canonical)},\qquad
    \rho_\beta = \frac{P_Q e^{-\beta H} P_Q}{Z_Q}       \quad\text{(canonical, charge } Q),

with :math:`P_Q` the projector on total charge :math:`Q` (``N`` for bosons, the sum of the
Pauli :math:`\sigma^z` for spins). ``beta = 0`` is the infinite-temperature state
:math:`\rho = 1/D` (for bosons: uniform over all occupations ``0..n_max``, so the mean
density is ``n_max / 2``: the cutoff *is* part of the ensemble at ``beta = 0``). A chemical
potential is not a separate option: add an ``OnSite("N", -mu)`` term to the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import StateError, fail

ENSEMBLES = ("grand_canonical", "canonical")


@dataclass(frozen=True)
class Thermal:
    """The Gibbs ensemble at inverse temperature ``beta``.

    Attributes
    ----------
    beta : float
        Inverse temperature, ``>= 0``.
    ensemble : {"grand_canonical", "canonical"}
        Whether the conserved charge is free (default) or fixed to ``charge``.
    charge : int, optional
        Total charge of the canonical ensemble (sum of the site charges: ``N``, or the sum of
        :math:`\\sigma^z` eigenvalues ``+-1`` for spins). Required for ``canonical``.
    """

    beta: float = 0.0
    ensemble: str = "grand_canonical"
    charge: int | None = None

    def __post_init__(self):
        b = self.beta
        if isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating)) or not np.isfinite(b):
            fail(StateError, "beta", b, "must be a finite number", "e.g. beta=0 (infinite temperature) or beta=1")
        if b < 0:
            fail(StateError, "beta", b, "negative temperatures are not supported", "use beta >= 0")
        if self.ensemble not in ENSEMBLES:
            fail(StateError, "ensemble", self.ensemble, f"must be one of {ENSEMBLES}")
        if self.ensemble == "canonical" and self.charge is None:
            fail(StateError, "charge", None, "the canonical ensemble needs its total charge",
                 "e.g. charge=0 (S^z = 0 for spins) or charge=L (one boson per site)")
        if self.ensemble == "grand_canonical" and self.charge is not None:
            fail(StateError, "charge", self.charge, "a charge is given but the ensemble is grand canonical",
                 "use ensemble='canonical' to fix the charge")
        object.__setattr__(self, "beta", float(b))

    def check(self, chain):
        """Raise :class:`StateError` if the ensemble cannot be formed for ``chain``."""
        if self.ensemble == "canonical":
            if not chain.conserves_charge:
                fail(StateError, "ensemble", "canonical",
                     f"{chain.name} does not conserve {chain.site.charge_name}",
                     "use the grand-canonical ensemble")
            q = np.asarray(chain.site.charges)
            lo, hi = chain.L * q.min(), chain.L * q.max()
            steps = set(np.diff(q).tolist())
            parity_ok = not (steps == {2} and (self.charge - lo) % 2)
            if not lo <= self.charge <= hi or not parity_ok:
                fail(StateError, "charge", self.charge,
                     f"no configuration of {chain.L} sites of type {chain.site.name} has this total charge",
                     f"choose a value in [{lo}, {hi}]" + (" with the parity of L" if steps == {2} else ""))
        return self

    @property
    def label(self):
        ens = "GC" if self.ensemble == "grand_canonical" else f"canonical Q={self.charge}"
        return f"thermal(beta={self.beta:g}, {ens})"


def thermal(beta=0.0, ensemble="grand_canonical", charge=None):
    """Shorthand for :class:`Thermal`."""
    return Thermal(beta, ensemble, charge)
