"""Observables: named measurements derived from the chain, the same for every engine; users
add their own with :func:`register` (or name one by import path in a config)."""

from .registry import ALIASES, OBSERVABLES, Observable, get_observable, observable, register, unregister

__all__ = ["ALIASES", "OBSERVABLES", "Observable", "get_observable", "observable", "register", "unregister"]
