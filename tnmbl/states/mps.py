"""Initial states that are not product states: any MPS (TeNPy ``MPS`` or quimb
``MatrixProductState``) or a dense state vector.

:func:`from_mps` and :func:`from_vector` give states that the TeNPy engines (``tebd2``,
``tebd4``, ``tdvp1``, ``tdvp2`` on ``backend="tenpy"``) and the exact engine (``exact``) take:
both hold the state as MPS tensors ``(vL, p, vR)`` in the chain's local basis (:meth:`arrays`)
and as a dense vector for small chains (:meth:`dense`, Kronecker order: site 0 is the most
significant digit). The physical index runs over ``chain.site``'s basis in its order
(occupation 0..n_max for bosons; the spin site's order for spin chains). Other engines refuse
them with a :class:`~tnmbl.errors.StateError` naming the engines that take them.

An MPS state carries no U(1) charge blocks: ``conserve="auto"`` runs it without
conservation (a dense vector with a definite charge conserves, as a product state does).
"""

from __future__ import annotations

import numpy as np

from ..errors import StateError, fail

#: the backends whose engines take an MPS or vector state
BACKENDS = ("tenpy", "scipy")
#: the largest dense vector built from an MPS (entries)
MAX_DENSE = 1 << 24
NORM_TOLERANCE = 1e-8


class _GeneralState:
    """Shared part of :class:`MPSState` and :class:`VectorState`."""

    kind = "general"
    basis_indices = None
    vectors = None
    meta = {}
    backends = BACKENDS

    def __init__(self, chain, label):
        self.chain, self.label = chain, label

    @property
    def L(self):
        return self.chain.L

    @property
    def d(self):
        return len(self.chain.site.charges)

    def __repr__(self):
        return f"{type(self).__name__}(L={self.L}, label={self.label!r})"


class MPSState(_GeneralState):
    """An MPS as an initial state (:func:`from_mps`); ``arrays()`` are its tensors ``(vL, p, vR)``."""

    kind = "mps"
    charge_definite = False  # no charge blocks are read from the MPS
    total_charge = None

    def __init__(self, chain, arrays, label="mps"):
        super().__init__(chain, label)
        self._arrays = [np.asarray(a, complex) for a in arrays]

    def arrays(self):
        return [a.copy() for a in self._arrays]

    def dense(self):
        if self.d ** self.L > MAX_DENSE:
            fail(StateError, "state", self.label, f"a dense vector of d**L = {self.d}**{self.L} entries is too large",
                 "use an MPS method (tebd2, tdvp2) for this chain")
        out = np.ones((1, 1), complex)
        for a in self._arrays:
            out = np.einsum("xl,lpr->xpr", out, a).reshape(-1, a.shape[2])
        return out[:, 0] if out.shape[1] == 1 else out.sum(1)


class VectorState(_GeneralState):
    """A dense state vector as an initial state (:func:`from_vector`)."""

    kind = "vector"

    def __init__(self, chain, vector, label="vector"):
        super().__init__(chain, label)
        self._vector = np.asarray(vector, complex)
        codes = np.flatnonzero(np.abs(self._vector) > 1e-12)
        place = self.d ** np.arange(self.L - 1, -1, -1, dtype=np.int64)
        digits = (codes[:, None] // place[None, :]) % self.d
        q = np.asarray(chain.site.charges)[digits].sum(1)
        self.charge_definite = len(np.unique(q)) <= 1
        self.total_charge = int(q[0]) if self.charge_definite and len(q) else None

    def dense(self):
        return self._vector.copy()

    def arrays(self, cutoff=1e-14):
        """MPS tensors of the vector (successive SVDs, Schmidt values below ``cutoff`` dropped)."""
        out, rest, chi = [], self._vector.reshape(1, -1), 1
        for _ in range(self.L - 1):
            rest = rest.reshape(chi * self.d, -1)
            u, s, vh = np.linalg.svd(rest, full_matrices=False)
            keep = max(1, int(np.sum(s > cutoff * s[0])))
            out.append(u[:, :keep].reshape(chi, self.d, keep))
            rest = s[:keep, None] * vh[:keep]
            chi = keep
        out.append(rest.reshape(chi, self.d, 1))
        return out


def _check_chain(chain):
    if not hasattr(chain, "site") or getattr(chain.site, "kind", "quantum") != "quantum":
        fail(StateError, "chain", getattr(chain, "name", type(chain).__name__), "an MPS or vector state needs a "
             "quantum chain", "build the chain with tnmbl.models (bose_hubbard, xxz, ...)")


def from_vector(chain, vector, *, label="vector", normalize=False):
    """A dense state vector on ``chain`` (``d**L`` entries, Kronecker order) as an initial state.

    The vector must be normalized (within 1e-8) unless ``normalize``."""
    _check_chain(chain)
    v = np.asarray(vector)
    d = len(chain.site.charges)
    if v.ndim != 1 or v.shape[0] != d ** chain.L:
        fail(StateError, "vector", f"array of shape {v.shape}", f"needs d**L = {d}**{chain.L} = {d ** chain.L} "
             "entries (one per basis state of the chain)", "reshape it to a 1-d vector in Kronecker order")
    if not np.all(np.isfinite(v)):
        fail(StateError, "vector", "array with NaN / inf", "must be finite")
    norm = float(np.linalg.norm(v))
    if normalize and norm > 0:
        v = v / norm
    elif abs(norm - 1) > NORM_TOLERANCE:
        fail(StateError, "vector", f"norm {norm:.6g}", "must be normalized", "divide by its norm, or normalize=True")
    return VectorState(chain, v, label)


def from_mps(chain, psi, *, label="mps"):
    """A TeNPy ``MPS`` or a quimb ``MatrixProductState`` on ``chain`` as an initial state.

    The MPS must be finite, have ``chain.L`` sites with the chain's local dimension, and be
    normalized (within 1e-8); its physical index is the chain's local basis, in its order."""
    _check_chain(chain)
    arrays = _tenpy_arrays(psi) if _is_tenpy(psi) else _quimb_arrays(psi) if _is_quimb(psi) else None
    if arrays is None:
        fail(StateError, "state", type(psi).__name__, "must be a TeNPy MPS or a quimb MatrixProductState",
             "or a dense vector: tnmbl.states.from_vector(chain, psi)")
    d = len(chain.site.charges)
    if len(arrays) != chain.L:
        fail(StateError, "state", f"MPS of {len(arrays)} sites", f"the chain has L = {chain.L} sites")
    bad = [i for i, a in enumerate(arrays) if a.shape[1] != d]
    if bad:
        fail(StateError, "state", f"MPS with local dimension {arrays[bad[0]].shape[1]} at site {bad[0]}",
             f"the chain's sites have dimension {d} ({chain.site.name})", "build the MPS on the chain's local basis")
    state = MPSState(chain, arrays, label)
    norm = _norm(arrays)
    if abs(norm - 1) > NORM_TOLERANCE:
        fail(StateError, "state", f"MPS of norm {norm:.6g}", "must be normalized", "call psi.normalize() first "
             "(quimb) or psi.canonical_form() (TeNPy)")
    return state


def _norm(arrays):
    env = np.ones((1, 1), complex)
    for a in arrays:
        env = np.einsum("ab,apr,bps->rs", env, a.conj(), a)
    return float(np.sqrt(abs(np.trace(env))))


def _is_tenpy(psi):
    return type(psi).__module__.startswith("tenpy.") and hasattr(psi, "get_B")


def _is_quimb(psi):
    return type(psi).__module__.startswith("quimb.") and hasattr(psi, "site_ind")


def _tenpy_arrays(psi):
    if psi.bc != "finite":
        fail(StateError, "state", f"TeNPy MPS with bc={psi.bc!r}", "must be a finite MPS", "bc='finite'")
    out = []
    for i in range(psi.L):
        T = psi.get_B(i, "Th" if i == 0 else "B")  # S B at the left end: the state is the product
        labels = T.get_leg_labels()
        B = np.transpose(T.to_ndarray(), [labels.index(k) for k in ("vL", "p", "vR")])
        perm = getattr(psi.sites[i], "perm", None)
        if perm is not None:  # back from TeNPy's charge-sorted order to the site's own basis order
            orig = np.empty_like(B)
            orig[:, np.asarray(perm), :] = B
            B = orig
        out.append(B)
    return out


def _quimb_arrays(psi):
    L = psi.L
    out = []
    for i in range(L):
        t = psi[i]
        inds = ([psi.bond(i - 1, i)] if i > 0 else []) + [psi.site_ind(i)] + ([psi.bond(i, i + 1)] if i < L - 1 else [])
        a = np.asarray(t.transpose(*inds).data)
        if i == 0:
            a = a[None]
        if i == L - 1:
            a = a[..., None]
        out.append(a)
    return out
