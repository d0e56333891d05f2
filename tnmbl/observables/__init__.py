"""Observables: named measurements derived from the chain, the same for every engine."""

from .registry import ALIASES, OBSERVABLES, Observable, get_observable

__all__ = ["ALIASES", "OBSERVABLES", "Observable", "get_observable"]
