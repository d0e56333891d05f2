"""Classical integrators (numba): rotor leapfrog / Yoshida-4 and DNLS exact splits 2 / 4,
for batches of chains, with observables accumulated in the compiled loop.

Use :func:`evolve_classical` or ``tnmbl.evolve`` with a classical chain.
"""

from .engine import ClassicalEngine, langevin_rotor
from .evolution import CLASSICAL_OBSERVABLES, ClassicalEvolution, evolve_classical, output_grid

__all__ = ["CLASSICAL_OBSERVABLES", "ClassicalEngine", "ClassicalEvolution",
           "evolve_classical", "langevin_rotor", "output_grid"]
