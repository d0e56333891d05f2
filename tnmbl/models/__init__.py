"""Models declared as data on the chain abstraction.

Quantum: :func:`bose_hubbard`, :func:`xxz`, :func:`xxz_with_bath`. Each returns a
:class:`tnmbl.chain.Chain`; nothing about a model is written anywhere else.
"""

from .quantum import MODELS, bose_hubbard, xxz, xxz_with_bath

__all__ = ["MODELS", "bose_hubbard", "xxz", "xxz_with_bath"]
