"""Bond-parallel TEBD on TeNPy: the two-site updates of one Trotter layer act on disjoint pairs
of sites, so they run on a pool of ``threads`` workers (:func:`bond_parallel_tebd`), with the
block SVDs through ``numpy.linalg.svd`` (it releases the GIL; TeNPy's ``scipy.linalg.svd``
holds it, so threads would not overlap; :func:`install_switchable_svd`). Each bond's update
is the same sequence of operations whatever the thread (a copy of TeNPy 1.1.1's
``update_bond`` returning its norm factor instead of writing it), and the norm factors and
truncation errors are combined in bond order after the layer: ``threads = 1`` and
``threads = n`` give bitwise the same MPS and health figures. Used by
:class:`~tnmbl.engines.tenpy_tebd.TenpyTEBD` for every ``threads`` (default
:func:`default_threads`: the cores the run is allowed; ``threads = 1`` updates the bonds in turn
on the calling thread).
"""

from __future__ import annotations

import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import OptionError, fail

#: a layer runs on the pool only with at least this many bonds and this bond dimension:
#: below, Python overhead per bond (which holds the GIL) outweighs the overlap of the SVDs
#: (measured: 1.75x at L = 64, chi = 256; 1.27x at L = 32, chi = 128)
PARALLEL_MIN_BONDS = 4
PARALLEL_MIN_CHI = 64

_SVD_MODE = threading.local()  # .numpy: this thread's block SVDs go through numpy.linalg.svd
_SVD_LOCK = threading.Lock()
_SVD_ORIGINAL = []  # TeNPy's svd_robust.svd, once replaced in np_conserved


def _switchable_svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
                    lapack_driver="gesdd", warn=True):
    """TeNPy's block SVD (``np_conserved.svd_flat``): ``numpy.linalg.svd`` (gesdd, releases the
    GIL) in threads that set ``_SVD_MODE.numpy``, TeNPy's own ``svd_robust.svd`` (scipy gesdd,
    holds the GIL) everywhere else and as the backup (gesvd) when gesdd fails or on non-finite input."""
    finite = not check_finite or np.isfinite(a).all()
    if getattr(_SVD_MODE, "numpy", False) and lapack_driver == "gesdd" and finite:
        try:
            return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
        except np.linalg.LinAlgError:
            pass
    return _SVD_ORIGINAL[0](a, full_matrices, compute_uv, overwrite_a, check_finite, lapack_driver, warn)


def install_switchable_svd():
    """Route TeNPy's block SVDs through :func:`_switchable_svd` (idempotent; nothing changes for
    threads that do not set ``_SVD_MODE.numpy``)."""
    from tenpy.linalg import np_conserved as npc

    with _SVD_LOCK:
        if npc.svd_flat is not _switchable_svd:
            _SVD_ORIGINAL[:] = [npc.svd_flat]
            npc.svd_flat = _switchable_svd


#: the cores one run is allowed, where set: ``tnmbl run --threads N`` sets it, and a local sweep
#: sets it to ``cores // N`` in each of its ``N`` worker processes (one place for the rule:
#: :func:`default_threads`)
THREADS_ENV = "TNMBL_THREADS"


def allowed_cores():
    """The cores this process may run on (``os.sched_getaffinity``; ``os.cpu_count()`` where the
    platform has no affinity mask): a batch system's or ``taskset``'s limit counts, not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_threads():
    """The default ``threads`` of TEBD on TeNPy: ``$TNMBL_THREADS`` where set, else every core the
    run is allowed (:func:`allowed_cores`). Any value gives bitwise the same state; chains too
    short or bonds too small to gain (``PARALLEL_MIN_BONDS``, ``PARALLEL_MIN_CHI``) run serially."""
    value = os.environ.get(THREADS_ENV)
    if value is None or not value.strip():
        return allowed_cores()
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        fail(OptionError, THREADS_ENV, value, "the cores a run may use: an integer >= 1",
             f"set {THREADS_ENV} to a positive integer, or unset it (every core the run is allowed)")
    return n


def _threads(threads):
    """``threads`` as given (an integer >= 1), or :func:`default_threads` for ``None``."""
    if threads is None:
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        fail(OptionError, "threads", threads, "must be an integer >= 1 (or None: every core the run is allowed, "
             f"${THREADS_ENV} where set)")
    return int(threads)


def bond_parallel_tebd(psi, model, options, threads):
    """A TeNPy ``TEBDEngine`` whose layers update their bonds on ``threads`` workers."""
    from tenpy.algorithms.tebd import TEBDEngine
    from tenpy.algorithms.truncation import TruncationError, svd_theta
    from tenpy.linalg import np_conserved as npc

    install_switchable_svd()

    class BondParallelTEBD(TEBDEngine):
        """``evolve_step`` on a thread pool; ``_update`` is TeNPy 1.1.1's ``update_bond``
        without the write to the shared norm (returned instead, multiplied in bond order)."""

        def __init__(self):
            super().__init__(psi, model, options)
            self.threads = threads
            self.parallel_layers = 0  # layers that ran on the pool (the tests read it)
            self.parallel_measurements = 0  # one-pass measurements that ran on the pool
            self._pool = None

        def _gains(self, bonds):
            return self.threads > 1 and len(bonds) >= PARALLEL_MIN_BONDS and max(self.psi.chi) >= PARALLEL_MIN_CHI

        def _get_pool(self):
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="tnmbl-tebd")
                weakref.finalize(self, self._pool.shutdown, wait=False)
            return self._pool

        def map_sites(self, fn, sites):
            """``map(fn, sites)``, on the pool where it gains (measurement: one task per site)."""
            if self.threads > 1 and len(sites) >= 2 * PARALLEL_MIN_BONDS and max(self.psi.chi) >= PARALLEL_MIN_CHI:
                self.parallel_measurements += 1
                return list(self._get_pool().map(fn, sites))
            return [fn(x) for x in sites]

        def evolve_step(self, U_idx_dt, odd):
            Us = self._U[U_idx_dt]
            bonds = [int(i) for i in np.arange(int(odd) % 2, self.psi.L, 2) if Us[i] is not None]
            if self._gains(bonds):
                results = list(self._get_pool().map(lambda i: self._update(i, Us[i]), bonds))
                self.parallel_layers += 1
            else:
                results = [self._update(i, Us[i]) for i in bonds]
            trunc_err = TruncationError()
            for err, renormalize in results:  # bond order, as the serial sweep
                self.psi.norm *= renormalize
                trunc_err += err
            return trunc_err

        def update_bond(self, i, U_bond):
            err, renormalize = self._update(i, U_bond)
            self.psi.norm *= renormalize
            return err

        def _update(self, i, U_bond):
            # reads S at bond i - 1 and B at sites i - 1, i; writes S at bond i, B at i - 1, i and
            # the record of bond i: disjoint from every other bond of the same parity
            before = getattr(_SVD_MODE, "numpy", False)
            _SVD_MODE.numpy = True
            try:
                psi = self.psi
                i0, i1 = i - 1, i
                C = psi.get_theta(i0, n=2, formL=0.0)
                C = npc.tensordot(U_bond, C, axes=(["p0*", "p1*"], ["p0", "p1"]))
                C.itranspose(["vL", "p0", "p1", "vR"])
                theta = C.scale_axis(psi.get_SL(i0), "vL")
                theta = theta.combine_legs([("vL", "p0"), ("p1", "vR")], qconj=[+1, -1])
                U, S, V, trunc_err, renormalize = svd_theta(theta, self.trunc_params,
                                                            [psi.get_B(i0, None).qtotal, None],
                                                            inner_labels=["vR", "vL"])
                B_R = V.split_legs(1).ireplace_label("p1", "p")
                B_L = npc.tensordot(C.combine_legs(("p1", "vR"), pipes=theta.legs[1]), V.conj(),
                                    axes=["(p1.vR)", "(p1*.vR*)"])
                B_L.ireplace_labels(["vL*", "p0"], ["vR", "p"])
                B_L /= renormalize
                psi.set_SR(i0, S)
                psi.set_B(i0, B_L, form="B")
                psi.set_B(i1, B_R, form="B")
                self._trunc_err_bonds[i] = self._trunc_err_bonds[i] + trunc_err
                return trunc_err, renormalize
            finally:
                _SVD_MODE.numpy = before

    return BondParallelTEBD()
