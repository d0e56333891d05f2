r"""Thermal correlations with TeNPy's purification MPS: :math:`\langle A(t) B(0)\rangle_\beta`.

The Gibbs state is a pure state in a doubled space (physical ``p`` and ancilla ``q`` legs
on every site): :math:`|\rho^{1/2}\rangle \propto e^{-\beta H/2}\, |I\rangle` with
:math:`|I\rangle = \sum_p |p\rangle_P |p\rangle_Q` (TeNPy ``PurificationMPS.from_infiniteT``,
grand canonical; ``from_infiniteT_canonical`` for a fixed charge, Barthel 2016). Then

.. math::
    \langle A(t) B(0)\rangle_\beta
      = {\rm Tr}\,\rho\, e^{iHt}A e^{-iHt} B
      = \langle \psi(t)|\, A\, |\phi(t)\rangle,\qquad
    |\psi(t)\rangle = e^{-iHt}|\rho^{1/2}\rangle,\quad |\phi(t)\rangle = e^{-iHt} B|\rho^{1/2}\rangle .

**Entanglement trick used: backwards evolution of the ancillas** (Karrasch, Bardarson,
Moore 2012; TeNPy ``PurificationTEBD(disentangle='backwards')``). Every TEBD gate
:math:`U` applied to the physical legs is followed by :math:`U^*` on the ancilla legs of
the same bond. Unitaries on the ancillas do not change any physical expectation value as
long as bra and ket receive the same ones (they do: the gate sequence is deterministic).
On :math:`|I\rangle` the two cancel exactly (:math:`(U\otimes U^*)|I\rangle = |I\rangle`),
so at ``beta = 0`` the bra never changes and is not evolved at all, and in the ket only the
light cone of :math:`B` carries entanglement. At ``beta > 0`` the bra is evolved with the
same gates. ``disentangle=None`` switches the trick off (for the benchmark).

Imaginary time: ``PurificationTEBD.run_imaginary`` (second-order Trotter sweeps, the only
order TeNPy provides for it) with step ``dbeta`` to :math:`\beta/2`; its Trotter error is
:math:`O(\beta\, d\beta^2)` (measured, XXZ L = 8, g = 0.5, beta = 1: 4.9e-7 at
``dbeta = 0.005``, 1.2e-7 at 0.0025 in the t = 0 energy-current correlation). The last
few thermal states are cached per (chain object, ensemble, dbeta, truncation), so several
correlations in the same ensemble pay for the imaginary time once. Real time: TEBD of order 2 or 4 (``method``).

Error estimate reported with every result: ``truncation_error`` is the discarded weight
:math:`\epsilon` accumulated in bra and ket (TeNPy ``trunc_err.eps``, including the
imaginary-time part), and ``error_estimate``
:math:`= \|A\|\,\|\phi\|\,(\sqrt{\epsilon_\phi} + \sqrt{\epsilon_\psi})`, the size of the
change of :math:`\langle\psi|A|\phi\rangle` when the states move by the discarded norm. It
is an estimate (first order, no Trotter error), not a bound.
"""

from __future__ import annotations

import numpy as np

from ..chain.sites import charge_change
from ..errors import ObservableError, OptionError, fail
from .methods import METHOD_SPECS
from .tenpy_tebd import local_op_to_npc, tenpy_model, tenpy_site

DISENTANGLERS = ("backwards", None)
_THERMAL_CACHE = []  # (chain, key, (psi, imaginary-time truncation error)): the last few beta > 0 states
_THERMAL_CACHE_SIZE = 4


def _charge_steps(site, conserve):
    """Charge change ``q_out - q_in`` of every matrix element of a site operator."""
    q = np.asarray(site.charges) if conserve else np.zeros(site.dim, dtype=int)
    return q[:, None] - q[None, :]


def op_charge(op, site):
    """Total charge change of a :class:`LocalOp` (``None`` if it mixes charges)."""
    return charge_change(op.matrix, site.charges, len(op.sites), tol=1e-13)


def _decompose(op, qsite, conserve, tol=1e-13):
    """MPO factors of a k-site operator with definite charges.

    Returns a list of ``k`` arrays ``W[j]`` of shape ``(r_j, r_{j+1}, d, d)`` with
    ``r_0 = r_k = 1``, and the charges of the inner channels (``q_{j+1}`` accumulated charge
    change of sites ``0..j``), so that ``W`` has charge 0 on the legs
    ``(+wL, -wR, +p, -p*)``. Each channel is an SVD vector inside one charge block.
    """
    k, d = len(op.sites), qsite.dim
    m = np.asarray(op.matrix, dtype=complex).reshape((d,) * (2 * k))
    m = m.transpose([i for j in range(k) for i in (j, j + k)])  # (o0, i0, o1, i1, ...)
    dq = _charge_steps(qsite, conserve).ravel()
    Ws, chan_q = [], [np.zeros(1, dtype=int)]
    rest = m.reshape(1, -1)  # (channel, remaining sites)
    for _ in range(k - 1):
        r = rest.shape[0]
        mat = rest.reshape(r * d * d, -1)
        row_q = (chan_q[-1][:, None] + dq[None, :]).ravel()
        cols, qs, lefts = [], [], []
        for qv in np.unique(row_q):
            rows = np.flatnonzero(row_q == qv)
            u, s, vh = np.linalg.svd(mat[rows], full_matrices=False)
            keep = s > tol * max(1.0, np.abs(mat).max())
            if not keep.any():
                continue
            left = np.zeros((r * d * d, keep.sum()), dtype=complex)
            left[rows] = u[:, keep]
            lefts.append(left)
            cols.append(s[keep, None] * vh[keep])
            qs.append(np.full(keep.sum(), qv))
        if not lefts:  # the operator is zero
            lefts = [np.zeros((r * d * d, 1), dtype=complex)]
            cols = [np.zeros((1, mat.shape[1]), dtype=complex)]
            qs = [np.zeros(1, dtype=int)]
        left = np.concatenate(lefts, axis=1)
        Ws.append(left.reshape(r, d, d, -1).transpose(0, 3, 1, 2))
        rest = np.concatenate(cols, axis=0)
        chan_q.append(np.concatenate(qs))
    Ws.append(rest.reshape(rest.shape[0], d, d)[:, None])
    return Ws, chan_q


def sum_mpo(local_ops, chain, site, conserve, coefficients=None):
    r"""TeNPy MPO of :math:`\sum_k c_k O_k` for a list of contiguous :class:`LocalOp`.

    Finite-state construction: channel 0 = "nothing placed yet" (identities), channel 1 =
    "done", and the inner channels of every operator that crosses a bond. Every operator
    must have a definite total charge change of 0 when ``conserve`` is set.
    """
    from tenpy.linalg import np_conserved as npc
    from tenpy.networks.mpo import MPO

    L, d, qsite = chain.L, chain.site.dim, chain.site
    if coefficients is None:
        coefficients = np.ones(len(local_ops))
    decomposed = []
    for n, op in enumerate(local_ops):
        if not op.contiguous:
            fail(ObservableError, "operator sites", op.sites, "only operators on adjacent sites can be summed")
        if conserve and op_charge(op, qsite) != 0:
            fail(ObservableError, "operator", f"on sites {op.sites}",
                 f"does not conserve {qsite.charge_name}", "use conserve=False")
        Ws, chan_q = _decompose(op, qsite, conserve)
        Ws[0] = Ws[0] * coefficients[n]
        decomposed.append((op.start, Ws, chan_q))
    # channel layout of every bond i (left of site i): [0: left-id, 1: done, inner channels...]
    offsets = [dict() for _ in range(L + 1)]
    qbond = [[0, 0] for _ in range(L + 1)]
    for n, (s, Ws, chan_q) in enumerate(decomposed):
        for j in range(1, len(Ws)):
            b = s + j
            offsets[b][n] = len(qbond[b])
            qbond[b].extend(chan_q[j].tolist())
    dims = [len(q) for q in qbond]
    Wnp = [np.zeros((dims[i], dims[i + 1], d, d), dtype=complex) for i in range(L)]
    eye = np.eye(d)
    for i in range(L):
        Wnp[i][0, 0] = eye
        Wnp[i][1, 1] = eye
    for n, (s, Ws, _) in enumerate(decomposed):
        k = len(Ws)
        for j, W in enumerate(Ws):
            i = s + j
            rows = [0] if j == 0 else list(range(offsets[i][n], offsets[i][n] + W.shape[0]))
            cols = [1] if j == k - 1 else list(range(offsets[i + 1][n], offsets[i + 1][n] + W.shape[1]))
            Wnp[i][np.ix_(rows, cols)] += W
    chinfo = site.leg.chinfo
    legs = []
    for i in range(L + 1):
        qf = np.zeros((dims[i], chinfo.qnumber), int)  # extra (ancilla) charges of the canonical ensemble stay 0
        if conserve:
            qf[:, 0] = qbond[i]
        legs.append(npc.LegCharge.from_qflat(chinfo, qf, qconj=+1))
    Wnp[0] = Wnp[0][:1]  # finite MPO: start in "left-id", end in "done"
    Wnp[-1] = Wnp[-1][:, 1:2]
    legs[0] = npc.LegCharge.from_qflat(chinfo, np.zeros((1, chinfo.qnumber), int), qconj=+1)
    legs[-1] = npc.LegCharge.from_qflat(chinfo, np.zeros((1, chinfo.qnumber), int), qconj=+1)
    Ws = []
    for i in range(L):
        Wnp[i][np.abs(Wnp[i]) < 1e-14] = 0.0  # SVD round-off outside the charge blocks
        Ws.append(npc.Array.from_ndarray(Wnp[i], [legs[i], legs[i + 1].conj(), site.leg, site.leg.conj()],
                                         dtype=complex, labels=["wL", "wR", "p", "p*"]))
    return MPO([site] * L, Ws, bc="finite", IdL=0, IdR=0, max_range=None, mps_unit_cell_width=L)


class PurificationCorrelator:
    r"""Purification of :math:`\rho_\beta` and real-time correlations from it.

    Parameters
    ----------
    chain : Chain
        An open quantum chain with nearest-neighbour terms.
    ensemble : Thermal
        The ensemble (:mod:`tnmbl.states.mixed`).
    dt : float
        Real-time step.
    method : {"tebd2", "tebd4"}
        Trotter order of the real-time evolution.
    chi_max, svd_cutoff : int, float
        Truncation (as for pure-state TEBD).
    dbeta : float
        Imaginary-time step (second order); shrunk so that ``beta / 2`` is a multiple.
    disentangle : {"auto", "backwards", None}
        The entanglement trick (module docstring); ``None`` switches it off. ``"auto"``:
        ``"backwards"`` for the grand-canonical ensemble, ``None`` for the canonical one
        (TeNPy's canonical purification carries no charges on its ancilla legs, so the
        backwards gates cannot be applied there; bra and ket are then both evolved).
    conserve : bool, optional
        Use the U(1) charge (required for the canonical ensemble); default: whether the
        chain conserves it.
    """

    def __init__(self, chain, ensemble, *, dt=0.05, method="tebd4", chi_max=128, svd_cutoff=1e-10,
                 dbeta=0.01, disentangle="auto", conserve=None):
        from tenpy.algorithms.purification import PurificationTEBD
        from tenpy.networks.purification_mps import PurificationMPS

        ensemble.check(chain)
        if conserve is None:
            conserve = chain.conserves_charge
        if conserve and not chain.conserves_charge:
            fail(OptionError, "conserve", conserve, f"{chain.name} does not conserve {chain.site.charge_name}",
                 "use conserve=False (or leave it None: automatic)")
        if chain.bc != "open" or chain.max_range > 1:
            fail(OptionError, "method", "purification",
                 f"purification TEBD takes open nearest-neighbour chains (got bc={chain.bc!r}, "
                 f"range {chain.max_range})", "use method='exact' for small periodic chains")
        if method not in ("tebd2", "tebd4"):
            fail(OptionError, "method", method, "purification real-time evolution is 'tebd2' or 'tebd4'")
        if disentangle == "auto":
            disentangle = "backwards" if ensemble.ensemble == "grand_canonical" else None
        if disentangle not in DISENTANGLERS:
            fail(OptionError, "disentangle", disentangle, f"must be one of {DISENTANGLERS} or 'auto'")
        if disentangle == "backwards" and ensemble.ensemble == "canonical":
            fail(OptionError, "disentangle", disentangle,
                 "TeNPy's canonical purification has uncharged ancilla legs, on which the backwards gates "
                 "cannot act", "use disentangle='auto' (None for the canonical ensemble) or the grand-canonical one")
        if not dt > 0 or not dbeta > 0:
            fail(OptionError, "dt / dbeta", (dt, dbeta), "time steps must be > 0")
        if ensemble.ensemble == "canonical" and not conserve:
            fail(OptionError, "conserve", conserve, "the canonical ensemble is built with the U(1) charge",
                 "use conserve=True")
        self.chain, self.ensemble = chain, ensemble
        self.dt, self.method, self.order = float(dt), method, METHOD_SPECS[method].order
        self.trunc_params = {"chi_max": int(chi_max), "svd_min": float(svd_cutoff)}
        self.disentangle, self.conserve = disentangle, conserve
        self.site = tenpy_site(chain.site, conserve)
        self.model = tenpy_model(chain, self.site)
        sites = [self.site] * chain.L
        if ensemble.ensemble == "canonical":
            psi = PurificationMPS.from_infiniteT_canonical(sites, [int(ensemble.charge)], dtype=complex,
                                                           unit_cell_width=chain.L)
        else:
            psi = PurificationMPS.from_infiniteT(sites, bc="finite", dtype=complex, unit_cell_width=chain.L)
        self.imag_truncation_error = 0.0
        self.dbeta = 0.0
        half = ensemble.beta / 2
        if half > 0:
            n = int(np.ceil(half / dbeta - 1e-9))
            self.dbeta = half / n
            key = (ensemble, self.dbeta, chi_max, svd_cutoff, conserve)
            hit = [v for c, k, v in _THERMAL_CACHE if c is chain and k == key]
            if hit:
                psi, self.imag_truncation_error = hit[0][0].copy(), hit[0][1]
            else:
                eng = PurificationTEBD(psi, self.model, {"dt": self.dbeta, "trunc_params": self.trunc_params})
                eng.run_imaginary(half)
                psi.canonical_form()  # normalise: rho = e^{-beta H} / Z
                self.imag_truncation_error = float(eng.trunc_err.eps)
                _THERMAL_CACHE.append((chain, key, (psi.copy(), self.imag_truncation_error)))
                del _THERMAL_CACHE[:-_THERMAL_CACHE_SIZE]
        self.psi = psi
        self._PurificationTEBD = PurificationTEBD

    # -- operators -------------------------------------------------------------------
    def npc_op(self, op):
        """The TeNPy form of a contiguous :class:`LocalOp` (labels ``p0, p0*, ...``)."""
        return local_op_to_npc(op, self.site, self.chain.site.charge_name)

    def apply(self, b):
        """``B |rho^1/2>`` for a :class:`LocalOp` ``b``, or the sum of a list of them (an MPO)."""
        ket = self.psi.copy()
        if isinstance(b, (list, tuple)):
            mpo = sum_mpo(list(b), self.chain, self.site, self.conserve)
            mpo.apply_naively(ket)
            ket.canonical_form_finite(renormalize=False, cutoff=1e-15)  # keeps the norm of B|psi>
        else:
            ket.apply_local_op(b.start, self.npc_op(b), unitary=False, renormalize=False)
        return ket

    # -- correlations ----------------------------------------------------------------
    def _engine(self, psi):
        opts = {"order": self.order, "trunc_params": self.trunc_params}
        if self.disentangle is not None:
            opts["disentangle"] = self.disentangle
        return self._PurificationTEBD(psi, self.model, opts)

    def correlate(self, a_ops, b, n_out, steps_per_out, callback=None, max_truncation_error=None):
        r""":math:`\langle A_k(t) B(0)\rangle_\beta` at ``t = i * steps_per_out * dt``.

        Parameters
        ----------
        a_ops : list of LocalOp
            The :math:`A_k` (measured at every output time).
        b : LocalOp or list of LocalOp
            :math:`B` (a list means the sum, applied as an MPO).
        n_out, steps_per_out : int
            Number of output times (including ``t = 0``) and TEBD steps between them.
        callback : callable, optional
            Called with ``(i, values_i, health_i)`` after every output; if it returns ``True``
            the evolution stops there (results up to and including output ``i``), e.g. at a
            CPU-time budget.
        max_truncation_error : float, optional
            Stop early when the accumulated discarded weight passes it (results up to then).

        Returns
        -------
        values : complex array (n_times, n_a)
        health : dict of arrays (``truncation_error``, ``error_estimate``, ``chi``)
        """
        from tenpy.networks.mps import MPSEnvironment

        a_npc = [self.npc_op(a) for a in a_ops]
        a_norm = np.array([np.linalg.norm(a.matrix, 2) for a in a_ops])
        starts = [a.start for a in a_ops]
        ket = self.apply(b)
        bra = self.psi.copy()
        ket_eng = self._engine(ket)
        evolve_bra = not (self.ensemble.beta == 0 and self.disentangle == "backwards")
        bra_eng = self._engine(bra) if evolve_bra else None
        vals, errs, eps, chis = [], [], [], []
        for i in range(n_out):
            if i > 0:
                ket_eng.run_evolution(steps_per_out, self.dt)
                if bra_eng is not None:
                    bra_eng.run_evolution(steps_per_out, self.dt)
            env = MPSEnvironment(bra, ket)
            v = np.asarray(env.expectation_value(a_npc, sites=starts), dtype=complex)
            e_ket = float(ket_eng.trunc_err.eps) + self.imag_truncation_error
            e_bra = (float(bra_eng.trunc_err.eps) if bra_eng else 0.0) + self.imag_truncation_error
            vals.append(v)
            eps.append(e_ket + e_bra)
            errs.append(a_norm * abs(ket.norm) * (np.sqrt(e_ket) + np.sqrt(e_bra)))
            chis.append(max(max(ket.chi), max(bra.chi)))
            if callback is not None and callback(i, v, {"truncation_error": eps[-1], "chi": chis[-1]}) is True:
                break
            if max_truncation_error is not None and eps[-1] > max_truncation_error:
                break
        health = {"truncation_error": np.array(eps), "error_estimate": np.array(errs), "chi": np.array(chis)}
        return np.array(vals), health
