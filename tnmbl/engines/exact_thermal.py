r"""Exact thermal correlations by full diagonalisation (the reference for small chains).

.. math::
    \langle A(t) B(0)\rangle_\beta = \frac1Z \sum_{mn} e^{-\beta E_m}\,
        e^{i(E_m - E_n)t}\, A_{mn} B_{nm},\qquad Z = \sum_m e^{-\beta E_m},

with the eigenbasis of H built from the chain's term list (:class:`SectorBasis`). When the
chain conserves its charge and every operator is charge-neutral, H and the operators are
block-diagonal and the sum runs sector by sector (grand canonical: all sectors; canonical:
the one sector ``Q``); otherwise the full space is diagonalised (``d**L`` up to
``max_dim``). Open and periodic chains alike. Exact up to round-off.
"""

from __future__ import annotations

import numpy as np

from ..chain import LocalOp, hamiltonian_terms
from ..errors import OptionError, fail
from .exact import SectorBasis
from .purification import op_charge

MAX_DENSE = 8000


def _sectors(chain, ensemble, ops):
    charges = np.asarray(chain.site.charges)
    neutral = chain.conserves_charge and all(op_charge(op, chain.site) == 0 for op in ops)
    if ensemble.ensemble == "canonical":
        if not neutral:
            fail(OptionError, "ensemble", "canonical",
                 "the exact canonical reference needs charge-neutral operators", "use the grand-canonical ensemble")
        return [int(ensemble.charge)]
    if not neutral:
        return [None]
    lo, hi = chain.L * charges.min(), chain.L * charges.max()
    return list(range(int(lo), int(hi) + 1))


def exact_correlations(chain, ensemble, a_ops, b_ops, times):
    r"""``C[t, k, l] = <A_k(t) B_l(0)>_beta`` (complex), exact.

    ``b_ops`` entries are a :class:`LocalOp` or a list of them (their sum).
    """
    ensemble.check(chain)
    b_lists = [b if isinstance(b, (list, tuple)) else [b] for b in b_ops]
    all_ops = list(a_ops) + [op for bl in b_lists for op in bl]
    times = np.asarray(times, float)
    terms = hamiltonian_terms(chain)
    blocks = []
    for Q in _sectors(chain, ensemble, all_ops):
        try:
            basis = SectorBasis(chain.L, chain.site.charges, Q, max_dim=MAX_DENSE)
        except OptionError as exc:
            if Q is not None and "no configuration" in str(exc):
                continue
            raise
        H = sum(basis.operator(t) for t in terms).toarray()
        E, V = np.linalg.eigh(H)
        A = [V.conj().T @ basis.operator(a).toarray() @ V for a in a_ops]
        B = [V.conj().T @ sum(basis.operator(op) for op in bl).toarray() @ V for bl in b_lists]
        blocks.append((E, A, B))
    e0 = min(E.min() for E, _, _ in blocks)
    Z = sum(np.exp(-ensemble.beta * (E - e0)).sum() for E, _, _ in blocks)
    out = np.zeros((len(times), len(a_ops), len(b_lists)), dtype=complex)
    for E, A, B in blocks:
        w = np.exp(-ensemble.beta * (E - e0)) / Z
        for ti, t in enumerate(times):
            ph = np.exp(1j * E * t)
            left = w * ph  # weight e^{-beta E_m} e^{i E_m t}
            for k, a in enumerate(A):
                at = left[:, None] * a * np.conj(ph)[None, :]  # (m, n)
                for m, b in enumerate(B):
                    out[ti, k, m] += np.sum(at * b.T)
    return out


def exact_expectations(chain, ensemble, ops):
    """Static ``<O_k>_beta`` (real parts), exact."""
    one = [np.eye(chain.site.dim)]

    ident = LocalOp((0,), one[0].astype(complex))
    return exact_correlations(chain, ensemble, ops, [ident], [0.0])[0, :, 0].real
