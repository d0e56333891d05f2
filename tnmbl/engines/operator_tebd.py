r"""Heisenberg-picture operator evolution on TeNPy, with dissipation-assisted truncation (DAOE).

An operator on the chain is a vector in operator space: with an orthonormal local operator
basis :math:`\{B_\mu\}` (Hilbert-Schmidt, :math:`{\rm Tr} B_\mu^\dagger B_\nu = \delta_{\mu\nu}`)
that contains the identity, :math:`B_{\rm id} = I/\sqrt d`,

.. math::
    O = \sum_{\mu_1\ldots\mu_L} c_{\mu_1\ldots\mu_L}\, \sqrt{D}\; B_{\mu_1}\otimes\cdots\otimes B_{\mu_L},
    \qquad c_{\mu} = {\rm Tr}\big[(B_{\mu_1}\otimes\cdots)^\dagger O\big] / \sqrt{D},
    \quad D = d^L,

and ``c`` is stored as an MPS of local dimension :math:`d^2` (a TeNPy ``MPS``). With this
normalisation the identity on a site has coefficient 1 and the infinite-temperature
inner product is the plain overlap, :math:`{\rm Tr}[A^\dagger O]/D = \langle c_A | c_O\rangle`.

**Basis** (:class:`OperatorBasis`): the off-diagonal matrix units :math:`|a\rangle\langle b|`
(charge :math:`q_a - q_b`) and, in the charge-0 block, the diagonal matrix units rotated by a
real orthogonal matrix whose first row is :math:`(1, \ldots, 1)/\sqrt d`, so the identity is a
basis element. Every element has a definite U(1) charge (the charge of the ket minus that of
the bra), so with ``conserve=True`` the operator MPS carries TeNPy ``LegCharge`` s and its total
charge (that of the initial operator) is conserved by the evolution. The basis is ordered by
charge (TeNPy's sort is then the identity); :attr:`OperatorBasis.identity` is the index of the
identity. The number of non-identity sites of a basis string does not depend on how the
non-identity part of the basis is chosen, so DAOE below is basis independent.

**Evolution**: :math:`O(t) = e^{iHt} O e^{-iHt}` (``direction="heisenberg"``) or
:math:`e^{-iHt} O e^{iHt}` (``"schrodinger"``, what :func:`infinite_t_correlations` uses).
The generator in coefficient space, :math:`\mp{\rm ad}_H`, is a sum of Hermitian two-site
superoperators :math:`{\rm ad}_{h_b}`, with :math:`h_b` the bond energies of
:func:`tnmbl.chain.energy_densities` (so :math:`\sum_b h_b = H`). Its exponential on a bond,
:math:`e^{\mp i\,dt\,{\rm ad}_{h_b}} = U_b^\dagger\otimes U_b^T` (Heisenberg) is the TEBD gate
on the doubled site; TeNPy's ``TEBDEngine`` applies them (Suzuki-Trotter order 2 or 4) on a
``NearestNeighborModel`` whose bond "Hamiltonians" are these superoperators, and truncates
with ``chi_max`` / ``svd_cutoff``. The norm of the operator is tracked (TeNPy ``psi.norm``),
never renormalised: truncation and DAOE lower it, and overlaps include it.

**DAOE** (Rakovszky, von Keyserlingk, Pollmann, PRB 105, 075131 (2022), arXiv:2004.05177):
every ``daoe_every`` steps each basis string is multiplied by
:math:`e^{-\gamma\max(0,\,\ell-\ell_*)}`, :math:`\ell` its number of non-identity sites; this is
the MPO :func:`daoe_mpo`, diagonal in the basis, of bond dimension :math:`\ell_*+1` (a counter
of non-identity sites that saturates at :math:`\ell_*`, each further non-identity site costing
:math:`e^{-\gamma}`), applied with TeNPy's ``MPO.apply`` (SVD compression with the same
``chi_max`` / ``svd_cutoff``). ``gamma = 0`` is plain unitary operator evolution (no MPO applied).

What DAOE biases, and what not to use it for:

* It is an artificial dissipation on long operator strings. It leaves every string with
  at most :math:`\ell_*` non-identity sites untouched in the step it is applied, so a
  conserved density (:math:`\ell = 1`) and a two-site energy density (:math:`\ell = 2`, needs
  ``l_star >= 2``) keep their sums exactly; correlations of few-body operators converge as
  :math:`\gamma \to 0` and the error is controlled in chaotic (diffusive) chains where
  information in long strings does not flow back.
* It damps every *quasi-local conserved quantity* with support beyond :math:`\ell_*`: near
  integrability (the XX / XXZ chain, weakly perturbed integrable chains, the Bose-Hubbard
  chain deep in the atomic limit where the local :math:`n_x` are almost conserved) it turns
  ballistic or anomalously slow transport into diffusion and so **manufactures a diffusion
  constant** that depends on :math:`\gamma, \ell_*` (Yoo, White, Swingle, arXiv:2210.06494).
  Always extrapolate :math:`\gamma \to 0` and vary :math:`\ell_*`; a :math:`D` that does not
  converge is an artefact, not a result. Measured on the free XX chain (``tests/transport/
  test_operator_daoe.py``, against free fermions): with :math:`\ell_* = 1`, :math:`\gamma = 0.5`
  the ballistic :math:`\sigma^2 = 8g^2t^2` becomes :math:`\approx 0.4\,t` (a diffusion constant
  :math:`\approx 0.2` that the chain does not have); with :math:`\ell_* = 2` the variance stays
  ballistic but the profile changes by up to 0.27 at :math:`t = 4` (:math:`g = 0.25`).
* Do not use it for integrable or many-body-localised chains (the l-bits are quasi-local
  conserved quantities: DAOE delocalises them), for revivals, echoes, out-of-time-order
  correlators or operator growth (it removes exactly the long strings those measure), for
  finite-temperature correlations (the error control above is for overlaps in the
  infinite-temperature inner product; a Gibbs weight pairs the operator with long strings),
  or for anything needing the long-string weight, e.g. the operator norm after long times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..chain import LocalOp, energy_densities
from ..errors import ObservableError, OptionError, fail

ORDERS = {"tebd2": 2, "tebd4": 4}
DIRECTIONS = ("heisenberg", "schrodinger")
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
    from functools import reduce

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


# ----------------------------------------------------------------------------------------------
# the engine
# ----------------------------------------------------------------------------------------------
def _light_cone_engine():
    r"""TeNPy's ``TEBDEngine`` that skips a bond whose two sites hold exactly the identity with
    bond dimension 1 around them: :math:`{\rm ad}_{h}(I\otimes I) = 0`, so the gate is the identity
    there (exact). Outside the operator's light cone nothing is computed, which makes long
    chains cost what the operator's support costs. The skip test is exact (zero components),
    so round-off anywhere just means the bond is updated as usual."""
    from tenpy.algorithms.tebd import TEBDEngine
    from tenpy.algorithms.truncation import TruncationError

    class LightConeTEBD(TEBDEngine):
        identity = 0

        def _is_identity(self, i):
            B = self.psi.get_B(i, None)
            if B.shape[0] != 1 or B.shape[2] != 1:
                return False
            b = B.to_ndarray().reshape(-1)
            return b[self.identity] != 0 and np.count_nonzero(b) == 1

        def update_bond(self, i, U_bond):
            if self._is_identity(i - 1) and self._is_identity(i):
                return TruncationError()
            return super().update_bond(i, U_bond)

    return LightConeTEBD


def check_options(chain, *, dt, method, chi_max, svd_cutoff, gamma, l_star, daoe_every, direction, conserve):
    """Refuse bad options before any compute (each error names its key)."""
    if getattr(chain.site, "kind", "quantum") != "quantum":
        fail(OptionError, "model", chain.name, "operator evolution needs a quantum chain")
    if chain.bc != "open" or chain.max_range > 1:
        fail(OptionError, "method", "operator_tebd",
             f"operator TEBD takes open nearest-neighbour chains (got bc={chain.bc!r}, range {chain.max_range})",
             "use method='exact' for small periodic chains, or drop the longer-range terms")
    if method not in ORDERS:
        fail(OptionError, "method", method, f"must be one of {tuple(ORDERS)}")
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating, np.integer)) or not np.isfinite(dt) \
            or not dt > 0:
        fail(OptionError, "dt", dt, "the time step must be a finite number > 0", "e.g. dt=0.05")
    if isinstance(chi_max, bool) or not isinstance(chi_max, (int, np.integer)) or chi_max < 1:
        fail(OptionError, "chi_max", chi_max, "must be an integer >= 1", "e.g. chi_max=128")
    if not isinstance(svd_cutoff, (int, float, np.floating)) or not (svd_cutoff >= 0) or not np.isfinite(svd_cutoff):
        fail(OptionError, "svd_cutoff", svd_cutoff, "must be a finite number >= 0", "e.g. svd_cutoff=1e-10")
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.floating, np.integer)) \
            or not np.isfinite(gamma) or gamma < 0:
        fail(OptionError, "gamma", gamma, "the DAOE damping rate must be a finite number >= 0",
             "gamma=0 is plain unitary operator evolution")
    if gamma > 0:
        if isinstance(l_star, bool) or not isinstance(l_star, (int, np.integer)) or l_star < 1:
            fail(OptionError, "l_star", l_star,
                 "the DAOE string length must be an integer >= 1 (2 or more to keep the energy density)",
                 "e.g. l_star=2")
    elif l_star is not None and (isinstance(l_star, bool) or not isinstance(l_star, (int, np.integer))
                                 or l_star < 1):
        fail(OptionError, "l_star", l_star, "must be an integer >= 1 (or None with gamma=0)")
    if isinstance(daoe_every, bool) or not isinstance(daoe_every, (int, np.integer)) or daoe_every < 1:
        fail(OptionError, "daoe_every", daoe_every, "must be an integer >= 1 (apply DAOE every k steps)")
    if direction not in DIRECTIONS:
        fail(OptionError, "direction", direction, f"must be one of {DIRECTIONS}")
    if conserve and not chain.conserves_charge:
        fail(OptionError, "conserve", conserve, f"{chain.name} does not conserve {chain.site.charge_name}",
             "use conserve=False (or leave it None: automatic)")


class OperatorTEBD:
    r"""An operator evolved as an MPS in operator space by TEBD, with optional DAOE.

    Parameters
    ----------
    chain : Chain
        An open nearest-neighbour quantum chain.
    operator : LocalOp or list of LocalOp
        The initial operator (a list means the sum; each on contiguous sites).
    dt : float
        Time step.
    method : {"tebd2", "tebd4"}
        Suzuki-Trotter order.
    chi_max, svd_cutoff : int, float
        Truncation of the operator MPS (TeNPy ``trunc_params`` ``chi_max`` / ``svd_min``).
    gamma : float
        DAOE damping rate (0: no DAOE).
    l_star : int
        DAOE string length left undamped (required when ``gamma > 0``).
    daoe_every : int
        Apply DAOE after every ``daoe_every`` steps.
    direction : {"heisenberg", "schrodinger"}
        :math:`O(t) = e^{iHt}Oe^{-iHt}` or :math:`e^{-iHt}Oe^{iHt}`.
    conserve : bool, optional
        Keep the U(1) charge of the operator (default: whether the chain conserves it). An
        operator without a definite charge is refused then.
    """

    def __init__(self, chain, operator, *, dt=0.05, method="tebd4", chi_max=128, svd_cutoff=1e-10, gamma=0.0,
                 l_star=None, daoe_every=1, direction="heisenberg", conserve=None):
        if conserve is None:
            conserve = chain.conserves_charge
        check_options(chain, dt=dt, method=method, chi_max=chi_max, svd_cutoff=svd_cutoff, gamma=gamma,
                      l_star=l_star, daoe_every=daoe_every, direction=direction, conserve=conserve)
        ops = list(operator) if isinstance(operator, (list, tuple)) else [operator]
        self.chain, self.dt, self.method, self.order = chain, float(dt), method, ORDERS[method]
        self.gamma, self.l_star, self.daoe_every = float(gamma), l_star, int(daoe_every)
        self.direction, self.conserve = direction, bool(conserve)
        # svd_cutoff = 0: keep every non-zero value (TeNPy takes log(svd_min), so 0 is passed as None)
        self.trunc_params = {"chi_max": int(chi_max), "svd_min": float(svd_cutoff) if svd_cutoff > 0 else None}
        self.basis = operator_basis(chain.site, conserve)
        self.charge = self._check_operator(ops)
        self.site = operator_site(self.basis, chain.site.charge_name, conserve)
        self.sites = [self.site] * chain.L
        self.psi = self._initial_mps(ops)
        self.model = self._model()
        self._daoe = daoe_mpo(self.sites, self.basis.identity, self.gamma, l_star) if self.gamma > 0 else None
        self.engine = None  # TeNPy's TEBD engine, built at the first step (see _start_engine)
        self.step = 0
        self.daoe_truncation_error = 0.0
        self.tebd_truncation_error_before = 0.0  # TEBD discarded weight of engines before a resume
        self.n_daoe = 0

    # -- set-up ----------------------------------------------------------------------------
    def _start_engine(self):
        # built lazily: a TeNPy engine that never runs warns about unused options at deletion
        self.engine = _light_cone_engine()(self.psi, self.model,
                                           {"order": self.order, "trunc_params": self.trunc_params,
                                            "preserve_norm": False})
        self.engine.identity = self.basis.identity

    def _check_operator(self, ops):
        from .purification import op_charge

        if not ops or not all(isinstance(o, LocalOp) for o in ops):
            fail(ObservableError, "operator", type(ops).__name__, "must be a LocalOp or a non-empty list of LocalOp")
        charges = set()
        for o in ops:
            if not o.contiguous or min(o.sites) < 0 or max(o.sites) >= self.chain.L:
                fail(ObservableError, "operator sites", o.sites,
                     f"must be adjacent sites inside the chain (0..{self.chain.L - 1})")
            charges.add(op_charge(o, self.chain.site))
        if self.conserve and (None in charges or len(charges) > 1):
            fail(ObservableError, "operator", f"on sites {[o.sites for o in ops]}",
                 f"has no definite {self.chain.site.charge_name} charge (change {sorted(charges, key=str)}), "
                 f"so it cannot be evolved with conserve=True", "use conserve=False")
        return charges.pop() if self.conserve else None

    def _local_mps(self, op):
        L, n = self.chain.L, self.basis.n
        k = len(op.sites)
        e = np.zeros((1, n, 1), dtype=complex)
        e[0, self.basis.identity, 0] = 1.0
        coeff = self.basis.coefficients(op.matrix, k)
        return [e] * op.start + _split(coeff, n, self.basis.charges) + [e] * (L - op.start - k)

    def _initial_mps(self, ops):
        tensors = self._local_mps(ops[0])
        # a sum: direct sum of the bond spaces (block-diagonal tensors), then compressed
        for op in ops[1:]:
            other = self._local_mps(op)
            new = []
            for i, (a, b) in enumerate(zip(tensors, other)):
                if i == 0:
                    new.append(np.concatenate([a, b], axis=2))
                elif i == len(tensors) - 1:
                    new.append(np.concatenate([a, b], axis=0))
                else:
                    t = np.zeros((a.shape[0] + b.shape[0], a.shape[1], a.shape[2] + b.shape[2]), dtype=complex)
                    t[: a.shape[0], :, : a.shape[2]] = a
                    t[a.shape[0]:, :, a.shape[2]:] = b
                    new.append(t)
            tensors = new
        return mps_from_coefficients(self.sites, tensors)

    def _model(self):
        from tenpy.linalg import np_conserved as npc
        from tenpy.models.lattice import Chain as TenpyChain
        from tenpy.models.model import NearestNeighborModel

        sign = -1.0 if self.direction == "heisenberg" else 1.0  # d c/dt = -i (sign ad_H) c
        leg = self.site.leg
        H_bond = [None]
        for h in energy_densities(self.chain):
            s = sign * superoperator(self.basis, h.matrix)  # (m0, m1, n0, n1)
            s = _clean(s.transpose(0, 2, 1, 3))  # p0, p0*, p1, p1*
            arr = npc.Array.from_ndarray(s, [leg, leg.conj(), leg, leg.conj()], dtype=complex,
                                         labels=["p0", "p0*", "p1", "p1*"])
            H_bond.append(arr.transpose(["p0", "p1", "p0*", "p1*"]))
        lat = TenpyChain(self.chain.L, self.site, bc="open", bc_MPS="finite")
        return NearestNeighborModel(lat, H_bond)

    # -- evolution ---------------------------------------------------------------------------
    @property
    def time(self):
        return self.step * self.dt

    def advance(self, n_steps):
        """``n_steps`` TEBD steps, with DAOE after every ``daoe_every``-th step (counted from 0)."""
        n_steps = int(n_steps)
        while n_steps > 0:
            if self._daoe is None:
                chunk = n_steps
            else:
                chunk = min(n_steps, self.daoe_every - self.step % self.daoe_every)
            if self.engine is None:
                self._start_engine()
            self.engine.run_evolution(chunk, self.dt)
            self.step += chunk
            n_steps -= chunk
            if self._daoe is not None and self.step % self.daoe_every == 0:
                self.apply_daoe()

    def apply_daoe(self):
        """Weight every string by ``exp(-gamma max(0, l - l_star))`` now (MPO + SVD compression)."""
        err = self._daoe.apply(self.psi, {"compression_method": "SVD", "trunc_params": self.trunc_params})
        self.daoe_truncation_error += float(err.eps)
        self.n_daoe += 1

    # -- measurements ------------------------------------------------------------------------
    @property
    def truncation_error(self):
        """Discarded weight so far: TEBD (per-bond record; TeNPy's ``trunc_err`` counts twice)
        plus the DAOE compressions."""
        tebd = 0.0 if self.engine is None else float(sum(e.eps for e in self.engine._trunc_err_bonds))
        return tebd + self.tebd_truncation_error_before + self.daoe_truncation_error

    def norm(self):
        r""":math:`\sqrt{{\rm Tr}[O^\dagger O]/D}` of the current operator."""
        return float(abs(self.psi.norm))

    def health(self):
        """``truncation_error`` (TEBD + DAOE compression), ``chi``, ``norm``, ``n_daoe``."""
        return {"truncation_error": self.truncation_error, "chi": int(max(self.psi.chi)),
                "norm": self.norm(), "n_daoe": self.n_daoe}

    def entanglement(self):
        """Operator entanglement entropy (natural log) on every bond, of the normalised operator."""
        return np.asarray(self.psi.entanglement_entropy(), float)

    def get_resume_data(self):
        """What a checkpoint needs (TeNPy ``hdf5_io`` can store it): the operator MPS, the step and
        the accumulated health figures."""
        return {"psi": self.psi.copy(), "step": self.step, "n_daoe": self.n_daoe,
                "tebd_truncation_error": self.truncation_error - self.daoe_truncation_error,
                "daoe_truncation_error": self.daoe_truncation_error}

    def set_resume_data(self, data):
        """Continue from :meth:`get_resume_data` (same chain and options)."""
        self.psi = data["psi"].copy()
        self.step, self.n_daoe = int(data["step"]), int(data["n_daoe"])
        self.daoe_truncation_error = float(data["daoe_truncation_error"])
        if self.engine is not None:  # its record is in the resume data: start a new one at the next step
            self.engine = None
        self.tebd_truncation_error_before = float(data["tebd_truncation_error"])

    def overlaps(self, local_ops):
        r""":math:`{\rm Tr}[A_k\, O]/D` for every :class:`LocalOp` ``A_k`` (contiguous sites),
        by one sweep of left and right environments over the identity components."""
        ts = mps_tensors(self.psi)
        L, idn = self.chain.L, self.basis.identity
        left = [np.ones(1, dtype=complex)]
        for t in ts:
            left.append(left[-1] @ t[:, idn, :])
        right = [np.ones(1, dtype=complex)]
        for t in reversed(ts):
            right.append(t[:, idn, :] @ right[-1])
        right = right[::-1]  # right[i] = contraction of sites i..L-1
        out = np.zeros(len(local_ops), dtype=complex)
        for j, a in enumerate(local_ops):
            k = len(a.sites)
            if not a.contiguous or a.start < 0 or a.start + k > L:
                fail(ObservableError, "operator sites", a.sites, "must be adjacent sites inside the chain")
            # Tr[A O]/D = <c_{A^dag} | c_O>; c_{A^dag} = conj of the coefficients of A^T ... computed directly:
            # Tr[A O]/D = sum_mu c_O[mu] Tr[A sqrt(D) B_mu]/D, and Tr[A B_mu] = conj(coeff of A^dag)
            ca = self.basis.coefficients(np.asarray(a.matrix).conj().T, k).conj()
            v = left[a.start]
            for i in range(k):
                v = np.tensordot(v, ts[a.start + i], axes=([-1], [0]))  # (..., mu_i, vR)
            v = np.tensordot(v, right[a.start + k], axes=([-1], [0]))
            out[j] = np.sum(v * ca)
        return out


# ----------------------------------------------------------------------------------------------
# infinite-temperature correlations
# ----------------------------------------------------------------------------------------------
def infinite_t_correlations(chain, a_ops, b, *, t_max, dt=0.05, output_dt=None, connected=False, **options):
    r""":math:`C_k(t) = \langle A_k(t) B\rangle_{\beta=0} = {\rm Tr}[A_k(t) B]/D` for every ``k``.

    One evolution: :math:`{\rm Tr}[A_k(t)B] = {\rm Tr}[A_k\, e^{-iHt}Be^{iHt}]`, so ``B`` is
    evolved (``direction="schrodinger"``) and overlapped with every ``A_k`` at each output time.

    Parameters
    ----------
    a_ops : list of LocalOp
    b : LocalOp or list of LocalOp (their sum)
    t_max, dt, output_dt : float
        Final time, step, output interval (multiples of ``dt``; default ``output_dt = dt``).
    connected : bool
        Subtract :math:`\langle A_k\rangle\langle B\rangle = ({\rm Tr}A_k/D)({\rm Tr}B/D)`.
    **options
        :class:`OperatorTEBD` options (``method``, ``chi_max``, ``svd_cutoff``, ``gamma``,
        ``l_star``, ``daoe_every``, ``conserve``).

    Returns
    -------
    times : array (n_t,)
    values : complex array (n_t, n_a)
    health : dict of arrays (``truncation_error``, ``chi``, ``norm``) per output time, and
        ``error_estimate`` (n_t, n_a): :math:`\|A_k\|_{HS}\,\|O\|\,\sqrt{2\epsilon}`, the size of
        the change of the overlap when the operator moves by the discarded weight
        :math:`\epsilon` (an estimate, first order, no Trotter error).
    """
    from ..timegrid import n_steps

    if "direction" in options:
        fail(OptionError, "direction", options["direction"], "set by infinite_t_correlations (schrodinger)")
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating, np.integer)) or not np.isfinite(dt) \
            or not dt > 0:
        fail(OptionError, "dt", dt, "the time step must be a finite number > 0", "e.g. dt=0.05")
    output_dt = dt if output_dt is None else output_dt
    steps = n_steps("output_dt", output_dt, dt, minimum=1)
    times = np.arange(n_steps("t_max", t_max, output_dt) + 1) * output_dt
    ev = OperatorTEBD(chain, b, dt=dt, direction="schrodinger", **options)
    d = chain.site.dim
    a_hs = np.array([np.linalg.norm(a.matrix) / np.sqrt(d) ** len(a.sites) for a in a_ops])
    vals, health = [], {"truncation_error": [], "chi": [], "norm": []}
    for i in range(len(times)):
        if i > 0:
            ev.advance(steps)
        vals.append(ev.overlaps(a_ops))
        h = ev.health()
        for key in health:
            health[key].append(h[key])
    health = {k: np.array(v) for k, v in health.items()}
    health["error_estimate"] = np.outer(health["norm"] * np.sqrt(2 * health["truncation_error"]), a_hs)
    vals = np.array(vals)
    if connected:
        bl = list(b) if isinstance(b, (list, tuple)) else [b]
        tr_b = sum(np.trace(o.matrix) / d ** len(o.sites) for o in bl)
        tr_a = np.array([np.trace(a.matrix) / d ** len(a.sites) for a in a_ops])
        vals = vals - tr_a[None, :] * tr_b
    return times, vals, health


def operator_correlations(chain, a, b=None, *, t_max, dt=0.05, output_dt=None, y=None, connected=True, **options):
    r""":math:`\langle A_x(t) B_y\rangle_{\beta=0}` for every ``x`` and one ``y``, by operator
    TEBD (+ DAOE): the operator-engine twin of :func:`tnmbl.observables.correlations.correlations`
    (same names ``density``, ``energy_density``, ... , same positions and ``distance``), at
    infinite temperature only, connected by default.

    Returns
    -------
    Correlation
        ``values[t, x]``, ``distance[x]``, ``error_estimate``, ``truncation_error``, ``chi``,
        ``meta`` (options, ``norm`` of the evolved operator per time).
    """
    from ..observables.correlations import Correlation, operator_list

    a_ops, a_pos = operator_list(chain, a)
    b_ops, b_pos = operator_list(chain, a if b is None else b)
    y = len(b_ops) // 2 if y is None else y
    if isinstance(y, bool) or not isinstance(y, (int, np.integer)) or not 0 <= y < len(b_ops):
        fail(OptionError, "y", y, f"must index the {len(b_ops)} operators B")
    times, v, health = infinite_t_correlations(chain, a_ops, b_ops[y], t_max=t_max, dt=dt, output_dt=output_dt,
                                               connected=connected, **options)
    meta = dict(options, engine="operator_tebd", ensemble="beta=0",
                a=a if isinstance(a, str) else f"{len(a_ops)} LocalOps", y=y, dt=dt, connected=connected,
                norm=health["norm"])
    return Correlation(times, a_pos - b_pos[y], v, health["error_estimate"], health["truncation_error"],
                       health["chi"], meta)
