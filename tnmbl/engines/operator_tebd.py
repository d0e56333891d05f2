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

import numpy as np

from ..chain import LocalOp, energy_densities
from ..errors import ObservableError, OptionError, fail
from .operator_space import (
    _clean,
    _split,
    daoe_mpo,
    mps_from_coefficients,
    mps_tensors,
    operator_basis,
    operator_site,
    superoperator,
)

ORDERS = {"tebd2": 2, "tebd4": 4}
DIRECTIONS = ("heisenberg", "schrodinger")

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
        self._ops, self._psi = ops, None  # the operator MPS, built at its first use (as the DAOE MPO below)
        self._daoe_mpo = None  # the DAOE MPO, built at its first use (validation builds engines it never runs)
        self.engine = None  # TeNPy's TEBD engine, built at the first step (see _start_engine)
        self.step = 0
        self.daoe_truncation_error = 0.0
        self.tebd_truncation_error_before = 0.0  # TEBD discarded weight of engines before a resume
        self.n_daoe = 0

    # -- set-up ----------------------------------------------------------------------------
    @property
    def psi(self):
        """The evolved operator as a TeNPy MPS in operator space (built from the operator at the
        first access: its canonical form costs ~0.2 s at L = 64, d^2 = 16, and validation builds
        engines it never runs)."""
        if self._psi is None:
            self._psi = self._initial_mps(self._ops)
        return self._psi

    @psi.setter
    def psi(self, value):
        self._psi = value

    def _start_engine(self):
        # built lazily (with the bond generators of _model): a TeNPy engine that never runs warns about
        # unused options at deletion, and validation builds drivers it never runs
        self.engine = _light_cone_engine()(self.psi, self._model(),
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
        H_bond, built = [None], {}  # a uniform chain's bulk bonds share one matrix: build it once
        for h in energy_densities(self.chain):
            key = (h.matrix.shape, np.asarray(h.matrix).tobytes())
            if key not in built:
                s = sign * superoperator(self.basis, h.matrix)  # (m0, m1, n0, n1)
                s = _clean(s.transpose(0, 2, 1, 3))  # p0, p0*, p1, p1*
                arr = npc.Array.from_ndarray(s, [leg, leg.conj(), leg, leg.conj()], dtype=complex,
                                             labels=["p0", "p0*", "p1", "p1*"])
                built[key] = arr.transpose(["p0", "p1", "p0*", "p1*"])
            H_bond.append(built[key].copy())
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
            if self.gamma <= 0:
                chunk = n_steps
            else:
                chunk = min(n_steps, self.daoe_every - self.step % self.daoe_every)
            if self.engine is None:
                self._start_engine()
            self.engine.run_evolution(chunk, self.dt)
            self.step += chunk
            n_steps -= chunk
            if self.gamma > 0 and self.step % self.daoe_every == 0:
                self.apply_daoe()

    def apply_daoe(self):
        """Weight every string by ``exp(-gamma max(0, l - l_star))`` now (MPO + SVD compression)."""
        if self._daoe_mpo is None:
            self._daoe_mpo = daoe_mpo(self.sites, self.basis.identity, self.gamma, self.l_star)
        err = self._daoe_mpo.apply(self.psi, {"compression_method": "SVD", "trunc_params": self.trunc_params})
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
