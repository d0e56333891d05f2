"""Ensembles of pure-state runs: :func:`ensemble_average` evolves each state with the one
driver and averages (e.g. over the samples of :func:`tnmbl.states.bubbles.sampled_bubble`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import StateError, fail
from .driver import evolve


@dataclass
class EnsembleResult:
    """Mean and standard error of every observable over an ensemble of runs; ``samples[name]``
    holds the members' series ``(n_samples, n_times, n_columns)`` (for bootstrap error bars,
    e.g. of :func:`tnmbl.observables.spreading.spreading`)."""

    times: np.ndarray
    data: dict
    sem: dict
    positions: dict
    n_samples: int
    results: list
    samples: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.data[name]


def ensemble_average(chain, states, *, keep_results=False, **evolve_kwargs):
    """Evolve each state with :func:`tnmbl.evolve` and average the observables.

    The returned :class:`EnsembleResult` has ``times``, ``data``, ``positions`` like a
    :class:`~tnmbl.Result`, so every spreading observable takes it; ``sem`` holds the
    standard errors of the means. For large ensembles or disorder, use the sweeps of
    :mod:`tnmbl.runs.sweep` instead (parallel, resumable).
    """
    states = list(states)
    if not states:
        fail(StateError, "states", "[]", "need at least one state")
    runs = [evolve(chain, s, **evolve_kwargs) for s in states]
    names = runs[0].observables
    stack = {k: np.array([r[k] for r in runs]) for k in names}
    n = len(runs)
    sem = {k: (v.std(0, ddof=1) / np.sqrt(n) if n > 1 else np.full(v.shape[1:], np.nan)) for k, v in stack.items()}
    return EnsembleResult(runs[0].times, {k: v.mean(0) for k, v in stack.items()}, sem, runs[0].positions, n,
                          runs if keep_results else [], stack)
