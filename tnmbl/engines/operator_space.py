"""The operator space of :mod:`.operator_tebd`: the charge-graded orthonormal local operator
basis with the identity, bond superoperators, TeNPy sites and MPS built from coefficients, and
the DAOE MPO (its definition and what it biases: :mod:`.operator_tebd`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import numpy as np

_TINY = 1e-13  # matrix elements below this are SVD / basis-change round-off

# ----------------------------------------------------------------------------------------------
# local operator basis
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class OperatorBasis:
    """An orthonormal basis of the ``d x d`` matrices with the identity as an element.

    Attributes
    ----------
    matrices : complex array (d*d, d, d)
        :math:`B_\\mu`, orthonormal under :math:`{\\rm Tr} A^\\dagger B`.
    charges : int array (d*d,)
        Charge of each element (:math:`q_a - q_b` of the matrix units it is built from),
        non-decreasing; all zero for a basis built without conservation.
    identity : int
        Index of :math:`I/\\sqrt d`.
    """

    matrices: np.ndarray
    charges: np.ndarray
    identity: int

    @property
    def d(self):
        return self.matrices.shape[1]

    @property
    def n(self):
        return self.matrices.shape[0]

    def coefficients(self, matrix, n_sites=1):
        r"""Coefficients :math:`{\rm Tr}[(B_{\mu_1}\otimes\cdots)^\dagger M]/\sqrt{d^k}` of a
        ``k``-site matrix (kron order), as an array of shape ``(n,) * k``."""
        d, k = self.d, n_sites
        m = np.asarray(matrix, dtype=complex).reshape((d,) * (2 * k))
        m = m.transpose([i for j in range(k) for i in (j, j + k)]).reshape((d * d,) * k)  # (o0 i0, o1 i1, ..)
        t = self.matrices.reshape(self.n, d * d).conj()
        for j in range(k):
            m = np.moveaxis(np.tensordot(t, m, axes=([1], [j])), 0, j)
        return m / np.sqrt(d) ** k

    def matrix(self, coefficients):
        """Inverse of :meth:`coefficients`: the ``d^k x d^k`` matrix of a coefficient tensor."""
        c = np.asarray(coefficients, dtype=complex)
        k, d = c.ndim, self.d
        t = self.matrices.reshape(self.n, d * d)
        for j in range(k):
            c = np.moveaxis(np.tensordot(t, c, axes=([0], [j])), 0, j)
        m = c.reshape((d,) * (2 * k))  # (o0, i0, o1, i1, ...)
        m = m.transpose([2 * j for j in range(k)] + [2 * j + 1 for j in range(k)])
        return m.reshape(d**k, d**k) * np.sqrt(d) ** k


def operator_basis(qsite, conserve):
    """The :class:`OperatorBasis` of a :class:`~tnmbl.chain.QuantumSite` (see module docstring)."""
    d = qsite.dim
    q = np.asarray(qsite.charges, dtype=int) if conserve else np.zeros(d, dtype=int)
    elems = []  # (charge, matrix)
    # diagonal block: rotate the d diagonal units so that the first is I / sqrt(d)
    first = np.ones((d, 1)) / np.sqrt(d)
    rot, _ = np.linalg.qr(np.hstack([first, np.eye(d)[:, : d - 1]]))
    rot[:, 0] *= np.sign(rot[0, 0])  # +I / sqrt(d), not its negative
    diag = [np.diag(rot[:, j]).astype(complex) for j in range(d)]
    offdiag = []
    for a in range(d):
        for b in range(d):
            if a != b:
                e = np.zeros((d, d), dtype=complex)
                e[a, b] = 1.0
                offdiag.append((int(q[a] - q[b]), e))
    charges = sorted({c for c, _ in offdiag} | {0})
    identity = None
    for c in charges:
        if c == 0:
            identity = len(elems)
            elems += [(0, m) for m in diag]
        elems += [(cc, m) for cc, m in offdiag if cc == c]
    mats = np.array([m for _, m in elems])
    gram = np.einsum("mab,nab->mn", mats.conj(), mats)
    assert np.allclose(gram, np.eye(d * d), atol=1e-12), "operator basis is not orthonormal"
    return OperatorBasis(mats, np.array([c for c, _ in elems], dtype=int), identity)


def superoperator(basis, h):
    r"""Matrix of :math:`X \mapsto [h, X]` on ``k`` sites in the basis's coefficient space.

    ``h`` is a ``d^k x d^k`` matrix (kron order). Returns an array of shape
    ``(n,)*k + (n,)*k`` (out indices first).
    """
    d, n = basis.d, basis.n
    k = int(round(np.log(h.shape[0]) / np.log(d)))
    mats = [basis.matrices]
    for _ in range(k - 1):
        mats.append(basis.matrices)
    # all k-site basis products P[nu] (n^k, d^k, d^k)
    prods = reduce(lambda A, B: np.einsum("iab,jcd->ijacbd", A, B).reshape(A.shape[0] * B.shape[0],
                                                                            A.shape[1] * B.shape[1],
                                                                            A.shape[2] * B.shape[2]), mats)
    comm = np.einsum("ab,nbc->nac", h, prods) - np.einsum("nab,bc->nac", prods, h)
    m = np.einsum("mab,nab->mn", prods.conj(), comm)
    return m.reshape((n,) * (2 * k))


# ----------------------------------------------------------------------------------------------
# TeNPy pieces
# ----------------------------------------------------------------------------------------------
def operator_site(basis, charge_name, conserve):
    """A TeNPy ``Site`` of local dimension ``d^2`` with the charges of the basis elements."""
    from tenpy.linalg import np_conserved as npc
    from tenpy.networks.site import Site

    if conserve:
        chinfo = npc.ChargeInfo([1], [charge_name])
        leg = npc.LegCharge.from_qflat(chinfo, basis.charges.reshape(-1, 1))
    else:
        leg = npc.LegCharge.from_trivial(basis.n)
    site = Site(leg, sort_charge=True)
    if not np.array_equal(site.perm, np.arange(basis.n)):
        raise AssertionError(f"TeNPy permuted the operator basis: {site.perm}")
    return site


def _clean(a):
    a = np.array(a, dtype=complex)
    a[np.abs(a) < _TINY * max(1.0, np.abs(a).max())] = 0.0
    return a


def daoe_weights(n_sites, basis_size, identity, gamma, l_star):
    """Dense reference: the DAOE weight of every basis string, shape ``(n,) * n_sites``
    (``exp(-gamma * max(0, l - l_star))``, ``l`` = number of non-identity indices)."""
    idx = np.indices((basis_size,) * n_sites)
    ell = (idx != identity).sum(axis=0)
    return np.exp(-gamma * np.maximum(0, ell - l_star))


def daoe_mpo(sites, identity, gamma, l_star):
    r"""The DAOE MPO on operator-space ``sites`` (TeNPy ``MPO``, bond dimension ``l_star + 1``).

    Channel ``k`` = number of non-identity sites so far, saturated at ``l_star``; an identity
    index keeps ``k``, a non-identity one moves ``k -> k + 1`` (``k < l_star``) or stays at
    ``l_star`` with the factor :math:`e^{-\gamma}`. Diagonal in the basis and charge neutral.
    """
    from tenpy.linalg import np_conserved as npc
    from tenpy.networks.mpo import MPO

    L = len(sites)
    n = sites[0].leg.ind_len
    chi = l_star + 1
    W = np.zeros((chi, chi, n, n), dtype=complex)
    for k in range(chi):
        for mu in range(n):
            if mu == identity:
                W[k, k, mu, mu] = 1.0
            elif k < l_star:
                W[k, k + 1, mu, mu] = 1.0
            else:
                W[k, k, mu, mu] = np.exp(-gamma)
    chinfo = sites[0].leg.chinfo
    zero = np.zeros((chi, chinfo.qnumber), int)
    leg = npc.LegCharge.from_qflat(chinfo, zero, qconj=+1)
    one = npc.LegCharge.from_qflat(chinfo, zero[:1], qconj=+1)
    Ws = []
    for i in range(L):
        w = W
        lL, lR = leg, leg
        if i == 0:
            w, lL = w[:1], one
        if i == L - 1:
            w, lR = w.sum(axis=1, keepdims=True), one
        p = sites[i].leg
        Ws.append(npc.Array.from_ndarray(w, [lL, lR.conj(), p, p.conj()], dtype=complex,
                                         labels=["wL", "wR", "p", "p*"]))
    return MPO(list(sites), Ws, bc="finite", IdL=0, IdR=0, max_range=None, mps_unit_cell_width=L)


def mps_from_coefficients(sites, tensors):
    """A finite TeNPy MPS from dense tensors ``(vL, p, vR)``; their norm is kept in ``psi.norm``
    (TeNPy's canonical form normalises the tensors and would drop it)."""
    from tenpy.networks.mps import MPS

    env = np.ones((1, 1), dtype=complex)
    for t in tensors:
        env = np.einsum("ab,apc,bpd->cd", env, t.conj(), t)
    norm = float(np.sqrt(abs(env[0, 0])))
    Bflat = [np.transpose(t, (1, 0, 2)) for t in tensors]
    psi = MPS.from_Bflat(sites, Bflat, SVs=None, bc="finite", dtype=complex, permute=False, form=None,
                         unit_cell_width=len(sites))
    psi.canonical_form_finite(renormalize=True, cutoff=1e-15)
    psi.norm = norm
    return psi


def _split(coeff, n, charges=None):
    """Dense coefficient tensor ``(n,)*k`` -> list of ``k`` tensors ``(vL, n, vR)`` by SVDs.

    With the basis ``charges``, every left singular vector is cleaned to the one charge sector
    it belongs to (SVD round-off outside it would make TeNPy refuse the tensor), and the rest
    is recomputed as the projection on the cleaned vectors, so the split stays exact.
    """
    k = coeff.ndim
    qb = np.zeros(n, dtype=int) if charges is None else np.asarray(charges, dtype=int)
    out = []
    rest = coeff.reshape(1, -1)
    left_q = np.zeros(1, dtype=int)
    for _ in range(k - 1):
        r = rest.shape[0]
        mat = rest.reshape(r * n, -1)
        row_q = (left_q[:, None] + qb[None, :]).ravel()
        u, s, _ = np.linalg.svd(mat, full_matrices=False)
        keep = max(1, int((s > _TINY * max(s[0], 1e-300)).sum()))
        u = u[:, :keep].copy()
        col_q = row_q[np.argmax(np.abs(u), axis=0)]
        u[row_q[:, None] != col_q[None, :]] = 0.0
        u, _ = np.linalg.qr(u)  # re-orthonormalise (the cleaned part is round-off)
        out.append(u.reshape(r, n, keep))
        rest = u.conj().T @ mat
        left_q = col_q
    out.append(rest.reshape(rest.shape[0], n, 1))
    return out


def mps_tensors(psi):
    """Dense tensors ``(vL, p, vR)`` whose contraction is the operator's coefficient vector
    (``psi.norm`` folded into the first)."""
    ts = []
    for i in range(psi.L):
        B = psi.get_B(i, "Th" if i == 0 else "B")
        ts.append(B.to_ndarray() if B.get_leg_labels() == ["vL", "p", "vR"]
                  else B.transpose(["vL", "p", "vR"]).to_ndarray())
    ts[0] = ts[0] * psi.norm
    return ts


def dense_coefficients(psi):
    """The full coefficient tensor ``(n,)*L`` of an operator MPS (small chains only)."""
    ts = mps_tensors(psi)
    c = ts[0]
    for t in ts[1:]:
        c = np.tensordot(c, t, axes=([-1], [0]))
    return c.reshape(c.shape[1:-1])
