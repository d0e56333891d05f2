"""Classical integrators (numba): rotor leapfrog / Yoshida-4 / ABA864 / SRKN schemes and DNLS exact
splits 2 / 4 and their optimized compositions (coefficients: :mod:`.schemes`),
for batches of chains, with observables accumulated in the compiled loop.

:class:`ClassicalEngine` implements the engine protocol; ``tnmbl.evolve`` drives it.
"""

from .engine import ClassicalEngine

__all__ = ["ClassicalEngine"]
