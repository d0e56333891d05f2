r"""Exact reference engine: full-Hilbert-space evolution in a conserved-charge sector.

The Hamiltonian is built as a sparse matrix from the same term list as every other engine
(:func:`tnmbl.chain.hamiltonian_terms`), restricted to the sector of the initial state's
total charge when the chain conserves it, and the state is evolved with
``scipy.sparse.linalg.expm_multiply`` from output time to output time (exact up to
round-off; ``dt`` only fixes the output grid). Meant for L <= 12 or so: the sector
dimension is checked against ``max_dim`` before anything is built.

A mixed bubble (:class:`~tnmbl.states.bubbles.MixedBubble`) is evolved exactly as the mixture
it is: :math:`\rho = \sum_k p_k |k\rangle\langle k|` over the product states ``k`` of the
bubble sites' occupations (weights :math:`p_k` the product of the local Gibbs weights, the
background's vectors elsewhere), every :math:`|k\rangle` evolved in the full space at once
(``psi`` is then ``(dim, K)``) and :math:`\langle O\rangle = \sum_k p_k \langle k(t)|O|k(t)\rangle
= {\rm Tr}\,\rho(t) O`. Entanglement is not defined for it here (the purification engine
gives the cut entropy of its purification).
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import expm_multiply

from ..chain import hamiltonian_terms
from ..errors import ObservableError, OptionError, fail
from .base import Engine
from .methods import MAX_DIM


class SectorBasis:
    """Basis of product configurations with total charge ``Q`` (all configurations if ``None``).

    A configuration is coded as the integer ``sum_i idx_i d**(L-1-i)`` (site 0 most
    significant); codes are kept sorted so lookups are ``searchsorted``.
    """

    def __init__(self, L, charges, Q=None, max_dim=MAX_DIM):
        charges = np.asarray(charges, dtype=np.int64)
        d = len(charges)
        self.L, self.d, self.Q = L, d, Q
        full = d ** L
        if Q is None and full > max_dim:
            fail(OptionError, "method", "exact", f"the full Hilbert space has {d}^{L} = {full} states, "
                 f"above the limit {max_dim}", "use a smaller chain, or conserve the charge")
        qmin, qmax = charges.min(), charges.max()
        codes = np.zeros(1, dtype=np.int64)
        q = np.zeros(1, dtype=np.int64)
        for i in range(L):
            rem = L - i - 1
            codes = (codes[:, None] * d + np.arange(d)[None, :]).ravel()
            q = (q[:, None] + charges[None, :]).ravel()
            if Q is not None:
                ok = (q + rem * qmin <= Q) & (q + rem * qmax >= Q)
                codes, q = codes[ok], q[ok]
            if len(codes) > 4 * max_dim:
                break
        if len(codes) > max_dim:
            fail(OptionError, "method", "exact", f"the charge sector Q={Q} has more than {max_dim} states",
                 "use a smaller chain or lower density for the exact reference")
        if len(codes) == 0:
            fail(OptionError, "state", f"total charge {Q}", "no configuration of the chain has this charge")
        self.codes = codes
        self.dim = len(codes)
        self.place = d ** np.arange(L - 1, -1, -1, dtype=np.int64)
        self.digits = ((codes[:, None] // self.place[None, :]) % d).astype(np.int64)
        self.charges = charges

    def index(self, codes):
        """Positions of ``codes`` in the basis, and a mask of those that are in it."""
        pos = np.searchsorted(self.codes, codes)
        pos_c = np.minimum(pos, self.dim - 1)
        return pos_c, self.codes[pos_c] == codes

    def operator(self, local_op):
        """Sparse matrix (CSR) of a :class:`LocalOp` restricted to this basis."""
        sites, m = local_op.sites, np.asarray(local_op.matrix)
        k, d = len(sites), self.d
        kplace = d ** np.arange(k - 1, -1, -1)
        loc = self.digits[:, list(sites)] @ kplace
        order = np.argsort(loc, kind="stable")
        bounds = np.searchsorted(loc[order], np.arange(d ** k + 1))
        ldig = (np.arange(d ** k)[:, None] // kplace[None, :]) % d
        gplace = self.place[list(sites)]
        rows, cols, vals = [], [], []
        for lin in range(d ** k):
            members = order[bounds[lin]:bounds[lin + 1]]
            if len(members) == 0:
                continue
            for lout in np.flatnonzero(np.abs(m[:, lin]) > 1e-15):
                delta = int((ldig[lout] - ldig[lin]) @ gplace)
                pos, ok = self.index(self.codes[members] + delta)
                rows.append(pos[ok])
                cols.append(members[ok])
                vals.append(np.full(ok.sum(), m[lout, lin], dtype=complex))
        if not rows:
            return sp.csr_matrix((self.dim, self.dim), dtype=complex)
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(self.dim, self.dim))

    def product_state(self, vectors):
        """Amplitudes of the product state ``vectors`` (shape (L, d)) on this basis."""
        amp = np.ones(self.dim, dtype=complex)
        for i in range(self.L):
            amp *= vectors[i][self.digits[:, i]]
        return amp


#: largest number of amplitudes (product states x dimension) of a mixed bubble (512 MiB complex)
MAX_MIXTURE_AMPLITUDES = 2**25


class ExactEngine(Engine):
    """Exact evolution (``method="exact"``); see the module docstring."""

    method = "exact"
    backend = "scipy"
    #: takes a mixed bubble (``psi`` then holds one column per product state of the mixture)
    takes_mixed = True

    def __init__(self, chain, state, options, max_dim=MAX_DIM):
        super().__init__(chain, state, options)
        Q = state.total_charge if options.conserve else None
        self.basis = SectorBasis(chain.L, chain.site.charges, Q, max_dim=max_dim)
        self.H = self._assemble(hamiltonian_terms(chain))
        self.weights = None  # a pure state
        if getattr(state, "mixed", False):
            self.psi, self.weights = self._mixture(state)
        elif state.vectors is None:  # an MPS or dense vector state (tnmbl.states.mps)
            self.psi = np.asarray(state.dense(), complex)[self.basis.codes]
        else:
            self.psi = self.basis.product_state(state.vectors)
        norm = self._norm()
        if abs(norm - 1) > 1e-10:
            fail(OptionError, "conserve", options.conserve,
                 f"the initial state has weight {norm**2:.3g} in the sector Q={Q}",
                 "use conserve=False for states without a definite charge")
        self._cache = {}

    def _mixture(self, state):
        """Columns ``(dim, K)`` and weights ``(K,)`` of the mixed bubble's product states."""
        a, b = state.region
        occupied = [np.flatnonzero(w > 0) for w in state.weights]
        n_states = int(np.prod([len(o) for o in occupied]))
        if n_states * self.basis.dim > MAX_MIXTURE_AMPLITUDES:
            fail(OptionError, "method", "exact", f"the mixed bubble is {n_states} product states of "
                 f"{self.basis.dim} amplitudes each, above the limit of {MAX_MIXTURE_AMPLITUDES} amplitudes",
                 "use a smaller bubble or chain, or tnmbl.evolution.evolve_mixed (purification)")
        combos = itertools.product(*occupied)
        vectors = np.array(state.background.vectors, complex)
        eye = np.eye(vectors.shape[1])
        columns, weights = [], []
        for combo in combos:
            vectors[a:b] = eye[list(combo)]
            columns.append(self.basis.product_state(vectors))
            weights.append(np.prod([state.weights[x, k] for x, k in enumerate(combo)]))
        return np.array(columns).T, np.array(weights) / np.sum(weights)

    def _norm(self):
        if self.weights is None:
            return np.linalg.norm(self.psi)
        return float(np.sqrt(self.weights @ (np.abs(self.psi) ** 2).sum(0)))

    def _mean(self, m):
        """<m> in the current state (pure) or ``Tr rho m`` (mixture)."""
        if self.weights is None:
            return np.vdot(self.psi, m @ self.psi).real
        return float(((m @ self.psi) * self.psi.conj()).sum(0).real @ self.weights)

    def _assemble(self, local_ops):
        out = sp.csr_matrix((self.basis.dim, self.basis.dim), dtype=complex)
        for op in local_ops:
            out = out + self.basis.operator(op)
        return out

    def advance(self, n_steps):
        tau = n_steps * self.options.dt
        self.psi = expm_multiply(-1j * tau * self.H, self.psi)
        self.step += n_steps

    def _ops(self, key, local_ops):
        if key not in self._cache:
            self._cache[key] = [self.basis.operator(op) for op in local_ops]
        return self._cache[key]

    def expect(self, key, local_ops):
        mats = self._ops(key, local_ops)
        return np.array([self._mean(m) for m in mats])

    def energy(self):
        return self._mean(self.H)

    def schmidt_values(self, cut):
        """Schmidt values across the bond between sites ``cut`` and ``cut + 1``."""
        if self.weights is not None:
            fail(ObservableError, "entanglement", "mixed bubble", "the exact engine evolves a mixture, "
                 "whose entanglement it does not define", "drop entanglement, or use "
                 "tnmbl.evolution.evolve_mixed (the cut entropy of the purification)")
        right_place = self.basis.d ** (self.chain.L - cut - 1)
        left = self.basis.codes // right_place
        right = self.basis.codes % right_place
        if self.basis.Q is None:
            blocks = [np.arange(self.basis.dim)]
        else:
            qleft = self.basis.charges[self.basis.digits[:, :cut + 1]].sum(axis=1)
            blocks = [np.flatnonzero(qleft == q) for q in np.unique(qleft)]
        svals = []
        for idx in blocks:
            lu, li = np.unique(left[idx], return_inverse=True)
            ru, ri = np.unique(right[idx], return_inverse=True)
            mat = np.zeros((len(lu), len(ru)), dtype=complex)
            mat[li, ri] = self.psi[idx]
            svals.append(np.linalg.svd(mat, compute_uv=False))
        return np.sort(np.concatenate(svals))[::-1]

    def entanglement(self):
        out = []
        for cut in range(self.chain.L - 1):
            p = self.schmidt_values(cut) ** 2
            p = p[p > 1e-300]
            out.append(float(-(p * np.log(p)).sum()))
        return np.array(out)

    def health(self):
        return {"truncation_error": 0.0, "chi": 0, "norm": float(self._norm())}

    def get_resume_data(self):
        return {"psi": self.psi.copy(), "step": self.step}

    def set_resume_data(self, data):
        self.psi = np.asarray(data["psi"], dtype=complex)
        self.step = int(data["step"])
