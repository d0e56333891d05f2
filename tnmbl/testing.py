"""Dense references for tiny chains (``d**L`` up to a few thousand), written independently of
the engines: H from the term list by Kronecker products, and local operators embedded in
the full space. Used by the test suite; handy for checking a new model by hand.
:func:`continuity_check` runs the exact engine (a local conservation law, not a reference)."""

from __future__ import annotations

from functools import reduce

import numpy as np

from .evolution import Evolution


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


def _divergence(current, bc):
    """``<j_{b-1}> - <j_b>`` per bond: no current through the ends of an open chain; on a
    periodic one current ``b`` flows from bond ``b`` to bond ``b + 1`` (mod L)."""
    if bc == "open":
        j = np.concatenate([[0.0], current, [0.0]])
        return j[:-1] - j[1:]
    return np.roll(current, 1) - current


def continuity_check(chain, state, t=0.7, eps=1e-4):
    """The continuity equations at time ``t`` from exact evolution: the centred difference
    (step ``eps``) of the local energies ``d<h_b>/dt`` against ``<j_{b-1}> - <j_b>``, and of
    the charges against the charge current if the chain conserves one.

    Returns ``{"energy": (dh_dt, rhs), "charge": (dn_dt, rhs) or None, "energy_sum_error":
    |sum_b <h_b>(t) - <H>|}``."""
    obs = ["energy_density", "energy_current"] + (["density", "density_current"] if chain.conserves_charge else [])
    n = int(round(t / eps))
    ev = Evolution(chain, state, "exact", dt=eps, t_final=(n + 2) * eps, observables=obs)
    ev.engine.advance(n - 1)
    rows = []
    for _ in range(3):  # t - eps, t, t + eps
        rows.append(ev.measure().values)
        ev.engine.advance(1)
    out = {"energy": ((rows[2]["energy_density"] - rows[0]["energy_density"]) / (2 * eps),
                      _divergence(rows[1]["energy_current"], chain.bc)),
           "charge": None, "energy_sum_error": abs(rows[1]["energy_density"].sum() - ev.engine.energy())}
    if chain.conserves_charge:
        out["charge"] = ((rows[2]["density"] - rows[0]["density"]) / (2 * eps),
                         _divergence(rows[1]["density_current"], chain.bc))
    return out
