"""Classical integrators (numba): rotor leapfrog / Yoshida-4 and DNLS exact splits 2 / 4,
for batches of chains, with observables accumulated in the compiled loop.

:class:`ClassicalEngine` implements the engine protocol; ``tnmbl.evolve`` drives it.
"""

from .engine import ClassicalEngine


def __getattr__(name):
    """``ClassicalEvolution`` moved to :mod:`tnmbl.evolution` (drivers sit above the engines);
    this keeps ``tnmbl.runs.config`` working until the runs split reads the new place."""
    if name in ("ClassicalEvolution", "evolve_classical"):
        from ... import evolution  # shim: the lead removes it after the runs split merges

        return getattr(evolution, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ClassicalEngine"]
