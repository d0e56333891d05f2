r"""Local operators derived from a chain's term list.

Nothing here is written per model: the local energies, the energy current and the charge
current of any nearest-neighbour chain come from its :class:`~tnmbl.chain.Chain` terms.

Conventions
-----------
*Local energies live on bonds* (bond-centred split of the on-site terms):

.. math::
    h_b = H^{\rm bond}_{b,b+1} + \lambda_b\, H^{\rm site}_b + \rho_b\, H^{\rm site}_{b+1},

with :math:`\lambda_b = \rho_b = 1/2`, except on an open chain where the edge sites give
their whole on-site term to their only bond (:math:`\lambda_0 = 1`,
:math:`\rho_{L-2} = 1`). Hence :math:`\sum_b h_b = H` exactly. There are ``n_bonds``
energy densities (``L-1`` open, ``L`` periodic); ``h_b`` sits at position ``b + 1/2``.

*Energy current*: from :math:`\dot h_b = i[H, h_b] = j_{b-1} - j_b` for nearest-neighbour
H (only :math:`h_{b\pm1}` fail to commute with :math:`h_b`),

.. math::
    j_b = i\,[h_b, h_{b+1}],

a three-site operator on sites ``b, b+1, b+2`` at position ``b + 1``: the energy flowing
from bond ``b`` to bond ``b+1`` per unit time. ``L-2`` of them on an open chain.

*Charge current* (particles for bosons, :math:`\sigma^z` for spins): with :math:`q_x` the
density operator, :math:`\dot q_x = J_{x-1} - J_x` with

.. math::
    J_x = i\,[H^{\rm bond}_{x,x+1}, q_{x+1}],

on sites ``x, x+1`` at position ``x + 1/2``. It satisfies the continuity equation only if
the chain conserves the charge (``chain.conserves_charge``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError, ObservableError, fail


@dataclass(frozen=True, eq=False)
class LocalOp:
    """A dense operator on a few sites: ``matrix`` acts on ``sites`` (row = out, col = in).

    The matrix index of sites ``(s0, s1, ...)`` is ``i0 * d**(k-1) + i1 * d**(k-2) + ...``
    (first listed site most significant), as for ``np.kron``.
    """

    sites: tuple
    matrix: np.ndarray

    @property
    def start(self):
        return self.sites[0]

    @property
    def contiguous(self):
        return all(b == a + 1 for a, b in zip(self.sites, self.sites[1:]))


def onsite_matrix(chain, x):
    """Sum of all on-site terms at site ``x`` (``d x d``)."""
    site = chain.site
    m = np.zeros((site.dim, site.dim), dtype=complex)
    for term, s in chain.onsite_terms():
        m += s[x] * site.op(term.op)
    return m


def bond_matrix(chain, b, distance=1):
    """Sum of all bond terms of range ``distance`` on bond ``b`` (``d^2 x d^2``, on sites
    ``chain.bond_sites(b, distance)``)."""
    site = chain.site
    d = site.dim
    m = np.zeros((d * d, d * d), dtype=complex)
    for term, s in chain.bond_terms(distance):
        a, c = (site.op(o) for o in term.ops)
        m += s[b] * np.kron(a, c)
        if term.hc:
            ah, ch = (site.op(site.hc[o]) for o in term.ops)
            m += np.conj(s[b]) * np.kron(ah, ch)
    return m


def _first_non_hermitian(coeffs, mats):
    """The first position ``x`` where ``sum_t coeffs[t][x] mats[t]`` is not Hermitian, or ``None``.

    Vectorized over positions, and over distinct coefficient columns only (a uniform chain has
    one), in chunks of bounded size: the check of L = 100000 sites takes milliseconds."""
    if not mats:
        return None
    c = np.array([np.broadcast_to(np.asarray(k, dtype=complex), np.shape(coeffs[0])) for k in coeffs])
    m = np.array(mats, dtype=complex)
    if c.shape[1] * m[0].size > 1 << 24:  # large blocks: check each distinct coefficient column once
        uniq, inverse = np.unique(c.T, axis=0, return_inverse=True)
        inverse = np.ravel(inverse)
    else:  # small blocks: sorting the columns would cost more than checking them all
        uniq, inverse = c.T, np.arange(c.shape[1])
    chunk = max(1, (1 << 18) // m[0].size)  # a few MB per chunk
    bad = []
    for lo in range(0, len(uniq), chunk):
        h = np.einsum("ut,tij->uij", uniq[lo:lo + chunk], m)
        ok = np.all(np.isclose(h, np.conj(np.swapaxes(h, 1, 2)), rtol=1e-05, atol=1e-12), axis=(1, 2))
        bad += [lo + u for u in np.flatnonzero(~ok)]
    if not bad:
        return None
    return int(np.flatnonzero(np.isin(inverse, bad))[0])


PROBE_DIM = 16
"""Above this site dimension bond blocks are checked by random probes, never built."""


def _first_non_hermitian_probed(coeffs, pairs):
    """:func:`_first_non_hermitian` for bond blocks ``sum_t c_t A_t (x) C_t`` without forming them:
    ``H v`` against ``H^dagger v`` for two random vectors ``v`` (``(A (x) C) vec(V) = vec(A V C^T)``),
    O(d^3) memory-free per term; a non-Hermitian block passes with probability zero."""
    c = np.array([np.broadcast_to(np.asarray(k, dtype=complex), np.shape(coeffs[0])) for k in coeffs])
    uniq, inverse = np.unique(c.T, axis=0, return_inverse=True)
    inverse = np.ravel(inverse)
    d = pairs[0][0].shape[0]
    rng = np.random.default_rng(0)
    probes = [rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)) for _ in range(2)]
    bad = []
    for u, row in enumerate(uniq):
        for v in probes:
            h = sum(k * (a @ v @ b.T) for k, (a, b) in zip(row, pairs))
            hd = sum(np.conj(k) * (a.conj().T @ v @ b.conj()) for k, (a, b) in zip(row, pairs))
            if not np.allclose(h, hd, rtol=1e-9, atol=1e-12 * max(1.0, float(np.max(np.abs(hd))))):
                bad.append(u)
                break
    if not bad:
        return None
    return int(np.flatnonzero(np.isin(inverse, bad))[0])


def check_hermitian(chain):
    """Raise :class:`ModelError` unless every on-site and bond block of H is Hermitian."""
    site = chain.site
    terms = list(chain.onsite_terms())
    x = _first_non_hermitian([s for _, s in terms], [site.op(t.op) for t, _ in terms])
    if x is not None:
        fail(ModelError, "terms", f"on-site part at site {x}", "the Hamiltonian must be Hermitian",
             "use real strengths for Hermitian operators")
    for r in sorted({t.distance for t, _ in chain.bond_terms()}):
        coeffs, pairs = [], []
        for term, s in chain.bond_terms(r):
            coeffs.append(s)
            pairs.append(tuple(site.op(o) for o in term.ops))
            if term.hc:
                coeffs.append(np.conj(np.asarray(s, dtype=complex)))
                pairs.append(tuple(site.op(site.hc[o]) for o in term.ops))
        if site.dim <= PROBE_DIM:
            b = _first_non_hermitian(coeffs, [np.kron(a, c) for a, c in pairs])
        else:  # d^2 x d^2 blocks would take GB (n_max = 64: 285 MB each): probe them with random vectors
            b = _first_non_hermitian_probed(coeffs, pairs)
        if b is not None:
            fail(ModelError, "terms", f"bond part on bond {b} (range {r})",
                 "the Hamiltonian must be Hermitian",
                 "set hc=True on non-Hermitian bond terms such as Bd*B")


def hamiltonian_terms(chain):
    """H as a list of :class:`LocalOp`, term group by term group (not the energy split)."""
    ops = [LocalOp((x,), onsite_matrix(chain, x)) for x in range(chain.L)]
    for r in sorted({t.distance for t, _ in chain.bond_terms()}):
        ops += [LocalOp(chain.bond_sites(b, r), bond_matrix(chain, b, r)) for b in range(chain.n_bonds_at(r))]
    return [op for op in ops if np.any(op.matrix)]


def _require_nearest_neighbour(chain, what):
    if chain.max_range > 1:
        fail(ObservableError, what, f"chain with bond range {chain.max_range}",
             "local energies and currents are derived for nearest-neighbour chains only",
             "measure density / entanglement, or split the longer-range terms by hand")


def energy_densities(chain):
    """The local energies :math:`h_b` (see module docstring), one per bond."""
    _require_nearest_neighbour(chain, "energy_density")
    d = chain.site.dim
    eye = np.eye(d)
    left, right = chain.onsite_shares()
    out = []
    for b in range(chain.n_bonds):
        x, y = chain.bond_sites(b)
        h = (bond_matrix(chain, b) + left[b] * np.kron(onsite_matrix(chain, x), eye)
             + right[b] * np.kron(eye, onsite_matrix(chain, y)))
        out.append(LocalOp((x, y), h))
    return out


def energy_currents(chain):
    r"""The energy currents :math:`j_b = i[h_b, h_{b+1}]`, three-site operators."""
    _require_nearest_neighbour(chain, "energy_current")
    h = energy_densities(chain)
    d = chain.site.dim
    eye = np.eye(d)
    nb = chain.n_bonds
    n_cur = nb if chain.bc == "periodic" else nb - 1
    out = []
    for b in range(n_cur):
        h1 = np.kron(h[b].matrix, eye)
        h2 = np.kron(eye, h[(b + 1) % nb].matrix)
        out.append(LocalOp((b, (b + 1) % chain.L, (b + 2) % chain.L), 1j * (h1 @ h2 - h2 @ h1)))
    return out


def charge_densities(chain):
    """The local charge density (``n_x`` or :math:`\\sigma^z_x`), one per site."""
    q = chain.site.op(chain.site.density_op)
    return [LocalOp((x,), q.astype(complex)) for x in range(chain.L)]


def charge_currents(chain):
    r"""The charge currents :math:`J_x = i[H^{\rm bond}_{x,x+1}, q_{x+1}]`, one per bond."""
    _require_nearest_neighbour(chain, "density_current")
    if not chain.conserves_charge:
        fail(ObservableError, "density_current", chain.name,
             f"the chain does not conserve {chain.site.charge_name}, so its current is not defined "
             "by a continuity equation", "drop this observable for this model")
    d = chain.site.dim
    qr = np.kron(np.eye(d), chain.site.op(chain.site.density_op))
    out = []
    for b in range(chain.n_bonds):
        hb = bond_matrix(chain, b)
        out.append(LocalOp(chain.bond_sites(b), 1j * (hb @ qr - qr @ hb)))
    return out
