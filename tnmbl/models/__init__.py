"""Models declared as data on the chain abstraction.

Quantum: :func:`bose_hubbard`, :func:`xxz`, :func:`xxz_with_bath`, :func:`mixed_field_ising`. Each returns a
:class:`tnmbl.chain.Chain`; nothing about a model is written anywhere else.
"""

from .classical import MODELS as _CLASSICAL_MODELS
from .classical import dnls, rotor
from .quantum import MODELS, bose_hubbard, mixed_field_ising, xxz, xxz_with_bath

MODELS.update(_CLASSICAL_MODELS)  # classical chains: rotor, dnls

__all__ = ["MODELS", "bose_hubbard", "xxz", "xxz_with_bath", "mixed_field_ising", "rotor", "dnls"]
