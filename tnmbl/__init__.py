"""tnmbl: dynamics of long 1D chains near the atomic limit.

Quantum chains (Bose-Hubbard, disordered XXZ, spin chains with baths) evolved as MPS, with
energy currents and the other local observables derived from one term list per model.

>>> import tnmbl
>>> chain = tnmbl.models.bose_hubbard(L=8, U=1.0, g=0.1, n_max=3)
>>> psi = tnmbl.states.product(chain, occupations=[2, 2, 0, 0, 0, 0, 2, 2])
>>> res = tnmbl.evolve(chain, psi, method="tebd2", dt=0.05, t_final=0.5,
...                    observables=["density", "energy_current"])
>>> res["energy_current"].shape
(11, 6)
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from . import chain, engines, models, observables, states
from .chain import Bond, Chain, OnSite
from .engines.classical import evolve_classical  # noqa: E402, I001  (issue 4)
from .errors import ConfigError, ConvergenceError, ModelError, ObservableError, OptionError, StateError, TnmblError
from .evolution import Evolution, Result, Row, evolve

try:
    __version__ = _version("tnmbl")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"


def versions():
    """Versions of tnmbl and the libraries it runs on (for provenance)."""
    out = {"tnmbl": __version__}
    for pkg in ("physics-tenpy", "quimb", "numpy", "scipy", "numba", "h5py"):
        try:
            out[pkg] = _version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


__all__ = ["Bond", "Chain", "OnSite", "Evolution", "Result", "Row", "evolve", "evolve_classical", "versions",
           "chain", "engines", "models", "observables", "states", "ConfigError", "ConvergenceError",
           "ModelError", "ObservableError", "OptionError", "StateError", "TnmblError"]
