"""Classical integrators (numba): rotor leapfrog / Yoshida-4 and DNLS exact splits 2 / 4,
for batches of chains, with observables accumulated in the compiled loop.

:class:`ClassicalEngine` implements the engine protocol; ``tnmbl.evolve`` drives it.
"""

from .engine import ClassicalEngine

__all__ = ["ClassicalEngine"]
