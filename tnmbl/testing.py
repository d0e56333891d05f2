"""Dense references for tiny chains (``d**L`` up to a few thousand), written independently of
the engines: H from the term list by Kronecker products, and local operators embedded in
the full space. Used by the test suite; handy for checking a new model by hand."""

from __future__ import annotations

from functools import reduce

import numpy as np


def embed(local_op, L, d):
    """Dense ``d**L x d**L`` matrix of a :class:`~tnmbl.chain.LocalOp` on the full chain."""
    sites = list(local_op.sites)
    rest = [x for x in range(L) if x not in sites]
    full = np.kron(local_op.matrix, np.eye(d ** len(rest))).reshape((d,) * (2 * L))
    order = sites + rest  # axis i of `full` is site order[i]
    perm = [order.index(x) for x in range(L)]
    return full.transpose(perm + [L + p for p in perm]).reshape(d**L, d**L)


def dense_hamiltonian(chain):
    """H written out term by term with Kronecker products (no shared code with the engines)."""
    L, d, site = chain.L, chain.site.dim, chain.site
    eye = np.eye(d)

    def place(ops_at):
        return reduce(np.kron, [ops_at.get(x, eye) for x in range(L)])

    H = np.zeros((d**L, d**L), dtype=complex)
    for t, s in chain.onsite_terms():
        for x in range(L):
            H += s[x] * place({x: site.op(t.op)})
    for t, s in chain.bond_terms():
        for b in range(chain.n_bonds_at(t.distance)):
            x, y = chain.bond_sites(b, t.distance)
            H += s[b] * place({x: site.op(t.ops[0]), y: site.op(t.ops[1])})
            if t.hc:
                H += np.conj(s[b]) * place({x: site.op(site.hc[t.ops[0]]), y: site.op(site.hc[t.ops[1]])})
    return H
