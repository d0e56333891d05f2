"""Engines: one class per (method, backend), all behind :class:`~tnmbl.engines.base.Engine`.

``METHODS`` maps tnmbl's method names to ``{backend: engine class}``; the first backend
listed is the general default. :func:`default_backend` refines it by size from
``benchmarks/bench_backends.py`` (README, "Backends"): TeNPy with U(1) charges wins once the
two-site matrices are large, the dense quimb path wins on small ones, where TeNPy's
per-call overhead dominates. :func:`accepts` says whether a method can evolve a given
chain, for config validation.

=========  =====================  ==========================================================
method     backends               accepts
=========  =====================  ==========================================================
tebd2      tenpy, quimb           open chains with nearest-neighbour terms only
tebd4      tenpy, quimb           same as tebd2
tdvp1      tenpy                  open chains, bond terms of any range (MPO)
tdvp2      tenpy                  same as tdvp1
exact      scipy                  any chain (open or periodic, any range) with a small
                                  enough Hilbert space (charge sector) for full evolution
leapfrog   numba                  classical rotor chains (Stormer-Verlet), batches of M chains
yoshida4   numba                  classical rotor chains (4th-order Yoshida composition)
split2     numba                  classical DNLS chains (exact-flow Strang split)
split4     numba                  classical DNLS chains (4th-order composition of split2)
=========  =====================  ==========================================================

The classical engines (:mod:`tnmbl.engines.classical`) are driven through
:class:`~tnmbl.engines.classical.ClassicalEvolution`; ``tnmbl.evolve`` and ``tnmbl run``
pick it for a classical chain.
"""

import numbers

from .base import Engine, EngineOptions
from .classical import CLASSICAL_METHODS, ClassicalEngine
from .exact import MAX_DIM, ExactEngine, SectorBasis
from .quimb_tebd import QuimbTEBD
from .tenpy_tdvp import TenpyTDVP
from .tenpy_tebd import TenpyTEBD

METHODS = {
    "tebd2": {"tenpy": TenpyTEBD, "quimb": QuimbTEBD},
    "tebd4": {"tenpy": TenpyTEBD, "quimb": QuimbTEBD},
    "tdvp1": {"tenpy": TenpyTDVP},
    "tdvp2": {"tenpy": TenpyTDVP},
    "exact": {"scipy": ExactEngine},
}
METHODS.update({m: {"numba": ClassicalEngine} for m in CLASSICAL_METHODS})  # issue 4

ARRAY_BACKENDS = {"quimb": ("numpy", "torch", "cupy")}
"""Array libraries each backend can run on (``array_backend`` option); others run on NumPy."""


QUIMB_MAX_THETA = 64
"""Largest ``chi_max * d`` (rows of the two-site SVD) for which TEBD defaults to quimb."""


def default_backend(method, chain, chi_max, array_backend=None):
    """The backend ``evolve`` uses when none is given, from the benchmarks.

    TEBD: ``"quimb"`` when an ``array_backend`` (torch / cupy) is asked for, or when
    ``chi_max * d <= QUIMB_MAX_THETA`` (small SVDs, TeNPy's per-call overhead dominates:
    quimb 2.8x faster on XXZ L=64 chi 32, 7x on Bose-Hubbard L=8 chi 8); ``"tenpy"``
    otherwise (U(1) blocks: 1.4x faster on XXZ L=64 chi 64, 1.5x on Bose-Hubbard L=32 chi 32,
    5-7x at chi 64-128 and 22x on Bose-Hubbard L=32 chi 128). Other methods have one backend.
    """
    backends = list(METHODS[method])
    if "quimb" in backends and (array_backend not in (None, "numpy")
                                or chi_max * chain.site.dim <= QUIMB_MAX_THETA):
        return "quimb"
    return backends[0]


def supports_conservation(engine_cls):
    """Whether an engine class can use the chain's U(1) charge (its ``supports_conservation``)."""
    return getattr(engine_cls, "supports_conservation", True)


def resolve_backend(method, chain, chi_max, backend=None, array_backend=None, conserve="auto"):
    """The backend a run uses: ``backend`` if given, else :func:`default_backend`, except that
    an explicit ``conserve=True`` prefers a backend with U(1) blocks (``supports_conservation``).
    The one place both ``evolve`` and config validation resolve it."""
    if backend is not None or method not in METHODS:
        return backend
    numeric = isinstance(chi_max, numbers.Real) and not isinstance(chi_max, bool)
    backends = METHODS[method]
    backend = default_backend(method, chain, chi_max if numeric else 10**9, array_backend)
    if conserve is True and not supports_conservation(backends[backend]):
        backend = next((b for b, cls in backends.items() if supports_conservation(cls)), backend)
    return backend


def accepts(method, chain, backend=None):
    """Whether ``method`` (on ``backend``, default: any) can evolve ``chain``.

    Returns
    -------
    (bool, str)
        ``(True, "")``, or ``(False, reason)`` with the reason and the fix, for config
        validation messages.
    """
    if method not in METHODS:
        return False, f"unknown method {method!r}; known: {', '.join(METHODS)}"
    if backend is not None and backend not in METHODS[method]:
        return False, f"method {method!r} runs on backend(s) {', '.join(METHODS[method])}, not {backend!r}"
    kind = getattr(chain.site, "kind", "quantum")
    if method in CLASSICAL_METHODS:
        site = CLASSICAL_METHODS[method][0]
        if kind != "classical" or chain.site.name != site:
            return False, (f"{method} integrates classical {site} chains, not a {kind} {chain.site.name} chain; "
                           f"use one of {', '.join(_methods_for(chain))}")
        if chain.max_range > 1:
            return False, f"{method} takes nearest-neighbour bonds only"
        return True, ""
    if kind == "classical":
        return False, (f"{method} evolves quantum states; a classical {chain.site.name} chain takes "
                       f"{', '.join(_methods_for(chain))}")
    if method == "exact":
        d, L = chain.site.dim, chain.L
        if d ** L > MAX_DIM and not chain.conserves_charge:
            return False, (f"exact evolution needs the full space of {d}^{L} states (above {MAX_DIM}) "
                           "and the chain conserves no charge; use a smaller chain or an MPS method")
        return True, ""
    if chain.bc != "open":
        return False, f"{method} runs on open chains (bc={chain.bc!r}); use method='exact' for small periodic chains"
    if method in ("tebd2", "tebd4") and chain.max_range > 1:
        return False, (f"{method} takes nearest-neighbour terms only; this chain has range-{chain.max_range} "
                       "terms; use method='tdvp1' or 'tdvp2'")
    return True, ""


def _methods_for(chain):
    if getattr(chain.site, "kind", "quantum") == "classical":
        return [m for m, v in CLASSICAL_METHODS.items() if v[0] == chain.site.name]
    return [m for m in METHODS if m not in CLASSICAL_METHODS]


__all__ = ["ARRAY_BACKENDS", "CLASSICAL_METHODS", "METHODS", "QUIMB_MAX_THETA", "ClassicalEngine", "Engine",
           "EngineOptions", "ExactEngine", "QuimbTEBD", "SectorBasis", "TenpyTDVP", "TenpyTEBD", "accepts",
           "default_backend", "resolve_backend", "supports_conservation"]
