"""TeNPy adapter: the chain's terms as a TeNPy model, evolved by TeNPy's TEBD.

Vocabulary translation (tnmbl -> TeNPy):

==================  =====================================================
``method=tebd2/4``  ``TEBDEngine`` option ``order = 2 / 4``
``dt``              ``dt``
``chi_max``         ``trunc_params['chi_max']``
``svd_cutoff``      ``trunc_params['svd_min']`` (absolute Schmidt value)
``conserve``        ``LegCharge`` with the chain's U(1) charge, or trivial
==================  =====================================================

``threads`` (tebd2 / tebd4; default :func:`~tnmbl.engines.tenpy_parallel.default_threads`, the
cores the run is allowed): ``BondParallelTEBD`` (:mod:`~tnmbl.engines.tenpy_parallel`) updates
the bonds of one Trotter layer (disjoint pairs of sites) on ``threads`` worker threads (in turn
on the calling thread for ``threads = 1``, or where the chain is too short or chi too small to
gain), with the block SVDs through ``numpy.linalg.svd`` (it releases the GIL; TeNPy's
``scipy.linalg.svd`` holds it, so threads would not overlap). Each bond's
update is the same sequence of operations whatever the thread, and the norm factor and
truncation errors are combined in bond order after the layer, so ``threads = 1`` and
``threads = n`` give bitwise the same MPS and health figures.

Measurement (:meth:`TenpyMPSEngine.expect_many`) is one pass over the chain: for a pure MPS
in canonical form the reduced density matrix of sites ``x .. x+k-1`` is ``theta theta^dagger``
with ``theta = S_x B_x ... B_{x+k-1}`` (no environments beyond the Schmidt values), so one
``theta`` per site, grown one tensor at a time, serves every requested operator starting
there, evaluated on the dense ``d^k x d^k`` density matrix (no TeNPy arrays of the operators).
The density matrix of ``k`` sites is taken from ``theta`` of exactly those sites, as TeNPy's
``expectation_value`` does, not by a partial trace of a longer one: after truncation the
``B`` are right-canonical only to ~ the discarded weight, and the two differ at that level
(1e-9 at a truncation error of 4e-8, measured).

``truncation_error`` is the sum of the discarded Schmidt weights over all truncations so
far, read from TeNPy's per-bond record ``_trunc_err_bonds``. Not from ``trunc_err.eps``:
in TeNPy 1.1.1 ``TEBDEngine.run_evolution`` adds each call's error to ``trunc_err`` twice
(once in ``evolve``, once in ``run_evolution``), so that figure is 2x the discarded weight.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref

import numpy as np

from ..errors import ObservableError, OptionError, fail
from .base import Engine
from .general_states import is_general, tenpy_mps
from .methods import METHOD_SPECS
from .tenpy_parallel import _threads, bond_parallel_tebd

log = logging.getLogger(__name__)


def tenpy_site(qsite, conserve):
    """A TeNPy ``Site`` with the operators and basis of a :class:`QuantumSite`."""
    from tenpy.linalg import np_conserved as npc
    from tenpy.networks.site import Site

    if conserve:
        chinfo = npc.ChargeInfo([1], [qsite.charge_name])
        leg = npc.LegCharge.from_qflat(chinfo, np.asarray(qsite.charges).reshape(-1, 1))
    else:
        leg = npc.LegCharge.from_trivial(qsite.dim)
    inv = {v: k for k, v in qsite.labels.items()}
    site = Site(leg, state_labels=[inv.get(i) for i in range(qsite.dim)], sort_charge=True)
    if not np.array_equal(site.perm, np.arange(qsite.dim)):  # our bases are ordered by charge
        raise AssertionError(f"TeNPy permuted the basis of {qsite.name}: {site.perm}")
    added = []
    for name, m in qsite.ops.items():
        if name == "Id" or (conserve and qsite.op_charge(name) is None):
            continue
        site.add_op(name, np.asarray(m), hc=False)
        added.append(name)
    for name in added:
        if qsite.hc[name] in added:
            site.hc_ops[name] = qsite.hc[name]
    return site


def tenpy_model(chain, site):
    """A TeNPy model (MPO, plus bond Hamiltonians for nearest-neighbour chains)."""
    from tenpy.models.lattice import Chain as TenpyChain
    from tenpy.models.model import CouplingModel, MPOModel, NearestNeighborModel

    class TermModel(CouplingModel, NearestNeighborModel, MPOModel):
        def __init__(self):
            lat = TenpyChain(chain.L, site, bc="open", bc_MPS="finite")
            CouplingModel.__init__(self, lat)
            for term, s in chain.onsite_terms():
                self.add_onsite(s, 0, term.op)
            for term, s in chain.bond_terms():
                a, b = term.ops
                self.add_coupling(s, 0, a, 0, b, term.distance)
                if term.hc:
                    self.add_coupling(np.conj(s), 0, chain.site.hc[a], 0, chain.site.hc[b], term.distance)
            MPOModel.__init__(self, lat, self.calc_H_MPO())
            if chain.max_range == 1:
                NearestNeighborModel.__init__(self, lat, self.calc_H_bond())

    return TermModel()


def _labels(k):
    if k == 1:
        return ["p", "p*"]
    return [lab for i in range(k) for lab in (f"p{i}", f"p{i}*")]


def local_op_to_npc(op, site, charge_name="charge"):
    """The TeNPy form of a contiguous :class:`~tnmbl.chain.LocalOp` on TeNPy ``site``s
    (legs ``p0, p0*, p1, p1*, ...``; ``p, p*`` for one site), charges detected."""
    from tenpy.linalg import np_conserved as npc

    k, d = len(op.sites), site.leg.ind_len
    if not op.contiguous:
        fail(ObservableError, "operator sites", op.sites, "TeNPy measures operators on adjacent sites")
    arr = np.asarray(op.matrix, dtype=complex).reshape((d,) * (2 * k))
    arr = arr.transpose([i for j in range(k) for i in (j, j + k)])
    legs = [leg for _ in range(k) for leg in (site.leg, site.leg.conj())]
    try:
        return npc.Array.from_ndarray(arr, legs, dtype=complex, labels=_labels(k))
    except ValueError as exc:
        fail(ObservableError, "operator", f"on sites {op.sites}", f"does not conserve {charge_name} ({exc})",
             "run with conserve=False to measure it")


#: operator arrays built so far (:func:`local_op_to_npc` calls; the tests count them)
NPC_BUILDS = {"count": 0}
# TeNPy arrays of local operators, per chain (weakly: they go with the chain), keyed by the
# operator's content and the charge rule, so a second Evolution on the chain reuses them
_NPC_CACHE = weakref.WeakKeyDictionary()
_NPC_LOCK = threading.Lock()


def cached_npc(chain, op, site, conserve):
    """:func:`local_op_to_npc` of ``op``, built once per (chain, conservation, operator)."""
    key = (bool(conserve), op.sites, np.asarray(op.matrix, dtype=complex).tobytes())
    with _NPC_LOCK:
        per_chain = _NPC_CACHE.setdefault(chain, {})
        if key not in per_chain:
            NPC_BUILDS["count"] += 1
            per_chain[key] = local_op_to_npc(op, site, chain.site.charge_name)
        return per_chain[key]


def _charge_problem(op, qsite):
    """Refuse (as the TeNPy array would) an operator that changes the chain's charge."""
    q = np.asarray(qsite.charges, dtype=float)
    total = q
    for _ in range(len(op.sites) - 1):
        total = np.add.outer(total, q).ravel()
    m = np.asarray(op.matrix)
    if np.any(np.abs(m[total[:, None] != total[None, :]]) > 0):
        fail(ObservableError, "operator", f"on sites {op.sites}", f"does not conserve {qsite.charge_name}",
             "run with conserve=False to measure it")


def _density_matrix_t(theta, k):
    """``rho_t[i, j] = sum_{a, b} conj(theta[a, i, b]) theta[a, j, b]`` (``i, j``: product-basis
    indices of the ``k`` physical legs, C order), dense, from the blocks of the TeNPy array
    ``theta`` (legs ``vL, p0 .. p{k-1}, vR``). Blocks that share their virtual charges are
    stacked into one matrix and multiplied once (one BLAS call per pair of virtual sectors;
    densifying a 2k-leg density matrix of d-dimensional legs costs thousands of tiny blocks)."""
    theta = theta.copy(deep=False)
    theta.itranspose(["vL"] + [f"p{i}" for i in range(k)] + ["vR"])
    legs = theta.legs
    dims = [leg.ind_len for leg in legs[1:k + 1]]
    strides = np.cumprod([1] + dims[::-1])[:-1][::-1]
    groups, flats = {}, {}
    for q, block in zip(theta._qdata, theta._data):
        phys = tuple(q[1:k + 1])
        if phys not in flats:  # product-basis indices of this block's physical part
            ranges = [strides[n] * np.arange(legs[n + 1].slices[p], legs[n + 1].slices[p + 1])
                      for n, p in enumerate(phys)]
            flats[phys] = functools.reduce(np.add, np.ix_(*ranges)).ravel()
        flat = flats[phys]
        m = block.reshape(block.shape[0], len(flat), block.shape[-1]).transpose(1, 0, 2).reshape(len(flat), -1)
        groups.setdefault((q[0], q[-1]), ([], []))
        groups[q[0], q[-1]][0].append(flat)
        groups[q[0], q[-1]][1].append(m)
    rho_t = np.zeros((int(np.prod(dims)),) * 2, dtype=complex)
    for idx, mats in groups.values():
        idx = np.concatenate(idx)
        X = mats[0] if len(mats) == 1 else np.concatenate(mats, axis=0)
        rho_t[np.ix_(idx, idx)] += X.conj() @ X.T
    return rho_t


class TenpyMPSEngine(Engine):
    """Shared part of the TeNPy engines: model, MPS, measurement of local operators."""

    backend = "tenpy"

    def __init__(self, chain, state, options):
        super().__init__(chain, state, options)
        from tenpy.networks.mps import MPS

        if chain.bc != "open":
            fail(OptionError, "bc", chain.bc, f"TeNPy {options.method} runs on open chains",
                 "use bc='open', or method='exact' for small periodic chains")
        if not any(np.any(chain.strength(i) != 0) for i in range(len(chain.terms))):
            fail(OptionError, "model", chain.name, "every term has strength 0 (H = 0); TeNPy cannot build an MPO "
                 "for a zero Hamiltonian", "give a non-zero coupling, or use method='exact'")
        self.site = tenpy_site(chain.site, options.conserve)
        self.model = tenpy_model(chain, self.site)
        if is_general(state):  # an MPS or dense vector given as the initial state (tnmbl.states.mps)
            self.psi = tenpy_mps(state, self.site, chain.L)
        else:
            idx = state.basis_indices
            p_state = idx if idx is not None else [np.asarray(v) for v in state.vectors]
            self.psi = MPS.from_product_state([self.site] * chain.L, p_state, bc="finite",
                                              dtype=complex, unit_cell_width=chain.L)
        self._cache = {}  # key -> (TeNPy arrays, sites): the per-operator path
        self._checked = set()  # keys whose operators expect_many checked (adjacent, charge)

    def _npc(self, op):
        return cached_npc(self.chain, op, self.site, self.options.conserve)

    def expect_many(self, requests):
        """``{key: expect(key, ops)}`` for every ``key, ops`` of ``requests``, in one pass over
        the chain (see the module doc): at each site ``x`` one ``theta = S_x B_x B_x+1 ...``,
        grown one tensor at a time, gives the ``k``-site reduced density matrix of every ``k``
        requested there, shared by every operator of that size and start. Engines on other MPS
        kinds (which override ``_expectation_values``) measure operator by operator."""
        if type(self)._expectation_values is not TenpyMPSEngine._expectation_values:
            return super().expect_many(requests)
        from tenpy.linalg import np_conserved as npc

        qsite = self.chain.site
        at = {}  # start -> {k: [(key, index, matrix)]}
        for key, ops in requests.items():
            if key not in self._checked:
                for op in ops:
                    if not op.contiguous:
                        fail(ObservableError, "operator sites", op.sites, "TeNPy measures operators on adjacent sites")
                    if self.options.conserve:
                        _charge_problem(op, qsite)
                self._checked.add(key)
            for n, op in enumerate(ops):
                at.setdefault(op.start, {}).setdefault(len(op.sites), []).append((key, n, op.matrix))
        out = {key: np.empty(len(ops)) for key, ops in requests.items()}

        def site(x):  # every value of the operators that start at x (independent of other sites)
            values, theta = [], None
            for k in range(1, max(at[x]) + 1):
                if theta is None:
                    theta = self.psi.get_theta(x, n=1)  # S_x B_x, legs vL p0 vR
                else:
                    B = self.psi.get_B(x + k - 1, form="B").replace_label("p", f"p{k - 1}")
                    theta = npc.tensordot(theta, B, axes=("vR", "vL"))
                if k in at[x]:
                    rho_t = _density_matrix_t(theta, k)
                    values += [(key, n, np.real(np.sum(np.asarray(m) * rho_t))) for key, n, m in at[x][k]]  # tr(O rho)
            return values

        # the sites on the TEBD engine's pool where it has one (threads > 1): the same values
        mapper = getattr(getattr(self, "tebd", None), "map_sites", map)
        for values in mapper(site, sorted(at)):
            for key, n, v in values:
                out[key][n] = v
        return out

    def expect(self, key, local_ops):
        if key not in self._cache:
            self._cache[key] = ([self._npc(op) for op in local_ops], [op.start for op in local_ops])
        ops, sites = self._cache[key]
        if not ops:
            return np.zeros(0)
        return np.real(self._expectation_values(ops, sites))

    def _expectation_values(self, ops, sites):
        """<psi| ops[i] |psi> at ``sites[i]`` (TeNPy arrays); engines on other MPS kinds override it."""
        return self.psi.expectation_value(ops, sites=sites)

    def entanglement(self):
        return np.asarray(self.psi.entanglement_entropy(), dtype=float)

    def energy(self):
        return float(np.real(self.model.H_MPO.expectation_value(self.psi)))

    def get_resume_data(self):
        return {"psi": self.psi, "step": self.step}


class TebdStepping:
    """Stepping, health and resume of engines that drive a TeNPy TEBD algorithm ``self.tebd``
    on the MPS ``self.psi`` (:class:`TenpyTEBD`, the purification engines)."""

    def advance(self, n_steps):
        self.tebd.run_evolution(n_steps, self.options.dt)
        self.step += n_steps

    _truncation_before = 0.0  # accumulated before a resume (the per-bond record restarts at 0)

    def health(self):
        # TeNPy 1.1.1 adds the truncation error twice in run_evolution (verified exactly 2x):
        # sum its per-bond record instead of trusting trunc_err.eps
        eps = self._truncation_before + sum(float(e.eps) for e in self.tebd._trunc_err_bonds)
        return {"truncation_error": eps, "chi": int(max(self.psi.chi)), "norm": float(self.psi.norm)}

    def get_resume_data(self):
        err = self.tebd.trunc_err
        return {"psi": self.psi, "step": self.step, "truncation_error": self.health()["truncation_error"],
                "trunc_err": [float(err.eps), float(err.ov)]}

    def set_resume_data(self, data):
        """Continue from ``get_resume_data()`` output: MPS, step and accumulated truncation error."""
        from tenpy.algorithms.truncation import TruncationError

        self.psi = self.tebd.psi = data["psi"]
        self.step = int(data["step"])
        self.tebd.evolved_time = self.step * self.options.dt
        eps, ov = data.get("trunc_err", (0.0, 1.0))
        self.tebd.trunc_err = TruncationError(float(eps), float(ov))
        fresh = sum(float(e.eps) for e in self.tebd._trunc_err_bonds)
        self._truncation_before = float(data.get("truncation_error", eps / 2)) - fresh


class TenpyTEBD(TebdStepping, TenpyMPSEngine):
    """TEBD of 2nd or 4th order through TeNPy's ``TEBDEngine``."""

    def __init__(self, chain, state, options):
        if chain.max_range > 1:
            fail(OptionError, "method", options.method,
                 f"TEBD takes nearest-neighbour chains; this one has range-{chain.max_range} terms",
                 "use method='exact' (small L)")
        super().__init__(chain, state, options)
        self.method = options.method
        self.threads = _threads(options.extra.get("threads"))  # None: the cores the run is allowed
        order = METHOD_SPECS[options.method].order
        tebd_options = {"order": order, "trunc_params": {"chi_max": options.chi_max, "svd_min": options.svd_cutoff}}
        self.tebd = bond_parallel_tebd(self.psi, self.model, tebd_options, self.threads)
        # TeNPy reads these on the first step; mark them used so an engine that is built but
        # never advanced does not warn about "unused options" when garbage-collected
        self.tebd.options.touch("order")
        self.tebd.trunc_params.touch("chi_max", "svd_min")

