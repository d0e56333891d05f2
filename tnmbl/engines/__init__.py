"""Engines: one class per (method, backend), all behind :class:`~tnmbl.engines.base.Engine`.

``METHODS`` is the method table (:mod:`tnmbl.engines.methods`): ``METHODS[name]`` is a
:class:`~tnmbl.engines.methods.MethodSpec` (order, stability limits, site types, options, and,
as a mapping, ``{backend: engine class}`` with the general default first).
:func:`default_backend` refines the backend by size from ``benchmarks/bench_backends.py``
(README, "Backends"): TeNPy with U(1) charges wins once the two-site matrices are large, the
dense quimb path wins on small ones, where TeNPy's per-call overhead dominates.
:func:`accepts` says whether a method can evolve a given chain, for config validation.
The classical batch integrators (:mod:`tnmbl.engines.classical`) are engines like the others;
``tnmbl.evolve`` and ``tnmbl run`` drive every method through one :class:`~tnmbl.Evolution`.
"""

import numbers

from .base import Engine, EngineOptions
from .classical import ClassicalEngine
from .exact import ExactEngine, SectorBasis
from .methods import MAX_DIM, METHOD_SPECS, MethodSpec, default_method, methods_for
from .quimb_tebd import QuimbTEBD
from .tenpy_tdvp import TenpyTDVP
from .tenpy_tebd import TenpyTEBD

METHODS = METHOD_SPECS
"""The method table: name -> :class:`~tnmbl.engines.methods.MethodSpec`."""

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
    return METHODS[method].accepts(chain, backend)


__all__ = ["ARRAY_BACKENDS", "MAX_DIM", "METHODS", "QUIMB_MAX_THETA", "ClassicalEngine",
           "Engine", "EngineOptions", "ExactEngine", "MethodSpec", "QuimbTEBD", "SectorBasis", "TenpyTDVP",
           "TenpyTEBD", "accepts", "default_backend", "default_method", "methods_for", "resolve_backend",
           "supports_conservation"]
