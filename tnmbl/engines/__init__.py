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


QUIMB_MAX_THETA = ((16, 128), (64, 96))
"""Where TEBD defaults to quimb: ``(L, largest chi * d)`` rows, measured at L = 16 and 64 (and
checked at L = 32; :func:`default_backend`); a chain of ``L`` sites uses the first row whose
``L`` is at least its own, longer chains the last row. ``chi * d`` is the number of rows of the
two-site SVD."""


def quimb_max_theta(L):
    """The largest ``chi * d`` for which TEBD on a chain of ``L`` sites defaults to quimb
    (:data:`QUIMB_MAX_THETA`)."""
    return next((theta for length, theta in QUIMB_MAX_THETA if L <= length), QUIMB_MAX_THETA[-1][1])


def reachable_chi(chain, chi_max):
    """The largest bond dimension a run can reach: ``chi_max``, or the largest Schmidt rank of
    the chain, ``d ** (L // 2)``, where smaller."""
    return min(chi_max, chain.site.dim ** (chain.L // 2))


def default_backend(method, chain, chi_max, array_backend=None):
    """The backend ``evolve`` uses when none is given, from the benchmarks.

    TEBD: ``"quimb"`` when an ``array_backend`` (torch / cupy) is asked for, or when
    ``chi * d <= quimb_max_theta(L)`` with ``chi = reachable_chi(chain, chi_max)``: at most 128
    on chains of up to 16 sites, 96 on longer ones (:data:`QUIMB_MAX_THETA`); ``"tenpy"`` (U(1)
    blocks, bond-parallel on the default threads) otherwise. Other methods have one backend.

    Measured (``benchmarks/bench_backends.py --crossover``, README "Speed: which backend where"):
    time per step of tnmbl's quimb sweep over TeNPy with U(1), same saturated random MPS,
    interleaved, medians; spin-1/2 XXZ (d = 2) and Bose-Hubbard n_max = 2, 3, 4 (d = 3, 4, 5),
    chi 16 - 256. L = 64: quimb / TeNPy 0.12 - 0.43 at chi * d = 32 - 80, 0.74 at 96 (d = 3),
    1.48 and 1.57 at 128 (d = 2, 4), 2.0 at 160, 2.8 - 7 beyond: the crossover lies at
    chi * d = 105 - 117 for every d. L = 32: 1.11 and 1.17 at 128 (d = 2, 4). L = 16 (edge bonds
    below chi_max): 0.70 and 0.71 at chi * d = 128 (d = 2, 4), 1.22 at 160 (d = 5), 1.6 - 2.0 at
    192 - 256: crossover 134 - 171. tebd4 and tebd2 cross at the same chi * d (ratios within the
    noise of each other). Two threads changed a ratio only where the parallel layers apply
    (chi >= 64, long layers: 1.11 -> 1.69 at L = 32, d = 2, chi 64), on TeNPy's side already, so
    the rule does not depend on them (measured on the loaded 2-core machine). Whole runs of the two cases the old rule
    (``chi_max * d <= 64``) sent to TeNPy: XXZ L = 12, chi_max 64, t = 5: quimb 3.3x (tebd2) and
    5x (tebd4) faster; an L = 40 domain wall at chi_max 32: 3.7x (tebd2).
    """
    backends = list(METHODS[method])
    if "quimb" in backends and (array_backend not in (None, "numpy")
                                or reachable_chi(chain, chi_max) * chain.site.dim <= quimb_max_theta(chain.L)):
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
           "quimb_max_theta", "reachable_chi", "supports_conservation"]
