"""Engines: one class per (method, backend), all behind :class:`~tnmbl.engines.base.Engine`.

``METHODS`` maps tnmbl's method names to ``{backend: engine class}``; the first backend
listed is the default.
"""

from .base import Engine, EngineOptions
from .exact import ExactEngine, SectorBasis
from .tenpy_tebd import TenpyTEBD

METHODS = {
    "tebd2": {"tenpy": TenpyTEBD},
    "tebd4": {"tenpy": TenpyTEBD},
    "exact": {"scipy": ExactEngine},
}

__all__ = ["METHODS", "Engine", "EngineOptions", "ExactEngine", "SectorBasis", "TenpyTEBD"]
