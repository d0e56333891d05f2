"""Evolution of a mixed bubble (:class:`~tnmbl.states.bubbles.MixedBubble`) as a purification
MPS: the one :class:`~tnmbl.evolution.Evolution` driver, with the purification engine
(:class:`~tnmbl.engines.bubble_purification.PurificationBubbleTEBD`) swapped in for the pure
TeNPy TEBD engine it sets up on the bubble's background (so that the validation, the output
grid, the observables, the health figures and the TeNPy model are those of every run, built
once by the same code).
"""

from __future__ import annotations

from ..engines.bubble_purification import PurificationBubbleTEBD
from ..errors import OptionError, StateError, fail
from ..states.bubbles import MixedBubble
from .driver import Evolution
from .rows import collect

#: options a mixed bubble fixes: TeNPy's purification TEBD, dense, on NumPy (allowed values)
FIXED = {"backend": (None, "tenpy"), "conserve": ("auto", False), "array_backend": (None, "numpy")}


class MixedEvolution(Evolution):
    """:class:`~tnmbl.Evolution` of a :class:`~tnmbl.states.bubbles.MixedBubble` (module docstring)."""

    def __init__(self, chain, state, method="tebd2", **kwargs):
        if not isinstance(state, MixedBubble):
            fail(StateError, "state", getattr(state, "label", state), "is not a mixed bubble",
                 "build one with tnmbl.states.bubbles.mixed_bubble, or use tnmbl.evolve for pure states")
        for key, ok in FIXED.items():
            if kwargs.get(key, ok[0]) not in ok:
                fail(OptionError, key, kwargs[key], "a mixed bubble runs on TeNPy's purification TEBD, dense, "
                     "on NumPy", f"use {key}: {ok[-1] if key != 'conserve' else 'auto'} (or leave it out)")
            kwargs.pop(key, None)
        super().__init__(chain, state.background, method, backend="tenpy", conserve=False, **kwargs)
        pure = self.engine
        self.engine = PurificationBubbleTEBD(chain, state, self.options, pure.model, pure.site)
        self.engine.step = self.step0
        self.initial_state, self.backend = state, "purification"


def evolve_mixed(chain, state, method="tebd2", *, callback=None, **kwargs):
    """:func:`tnmbl.evolve` for a :class:`~tnmbl.states.bubbles.MixedBubble`: same options
    (``dt``, ``t_final``, ``chi_max``, ``svd_cutoff``, ``observables``, ``output_dt``) and
    the same :class:`~tnmbl.Result`; ``meta["backend"]`` is ``"purification"``."""
    return collect(MixedEvolution(chain, state, method, **kwargs), callback)
