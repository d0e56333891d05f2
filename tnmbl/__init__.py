"""tnmbl: dynamics of long 1D chains near the atomic limit.

Quantum chains (Bose-Hubbard, disordered XXZ, spin chains with baths) evolved as MPS, with
energy currents and the other local observables derived from one term list per model.

>>> import tnmbl
>>> chain = tnmbl.models.bose_hubbard(L=8, U=1.0, g=0.1, n_max=3)
>>> psi = tnmbl.states.product(chain, occupations=[2, 2, 0, 0, 0, 0, 2, 2])
>>> res = tnmbl.evolve(chain, psi, method="tebd2", dt=0.05, t_final=0.5,
...                    observables=["density", "energy_current"])
>>> res["energy_current"].shape
(4, 6)
"""

import logging

from . import chain, engines, models, observables, states
from .chain import Bond, Chain, OnSite
from .errors import ConfigError, ConvergenceError, ModelError, ObservableError, OptionError, StateError, TnmblError
from .evolution import Evolution, Result, Row, evolve, evolve_classical, load
from .provenance import __version__, versions

logging.getLogger("tnmbl").addHandler(logging.NullHandler())  # silent unless the application configures logging

__all__ = ["Bond", "Chain", "OnSite", "Evolution", "Result", "Row", "evolve", "evolve_classical", "load", "versions",
           "chain", "engines", "models", "observables", "states", "ConfigError", "ConvergenceError",
           "ModelError", "ObservableError", "OptionError", "StateError", "TnmblError", "__version__"]
