"""The engine interface every backend implements.

An engine owns one evolving state. The driver (:mod:`tnmbl.evolution`) only calls:

``advance(n_steps)``
    evolve by ``n_steps * dt``;
``expect(key, local_ops)``
    real expectation values of a list of :class:`~tnmbl.chain.LocalOp` (Hermitian),
    ``key`` naming the list so an engine can cache its own form of the operators;
``entanglement()``
    von Neumann entropies (natural log) of every bond cut;
``health()``
    a dict of health figures (``truncation_error``: accumulated discarded weight,
    ``chi``: largest bond dimension, ``norm``);
``get_resume_data()`` / ``from_resume_data(...)``
    what a checkpoint needs.

Observables are defined outside the engines (:mod:`tnmbl.observables`) as lists of local
operators derived from the chain, so a new engine gets every observable for free.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class EngineOptions:
    """Options every engine understands, in tnmbl's vocabulary (translated per adapter).

    Attributes
    ----------
    method : str
        ``"tebd2"``, ``"tebd4"``, ``"tdvp1"``, ``"tdvp2"`` or ``"exact"``.
    dt : float
        Time step (the exact engine evolves exactly; ``dt`` only sets its output grid).
    chi_max : int
        Largest MPS bond dimension.
    svd_cutoff : float
        Schmidt values below this are discarded (absolute, for a normalized state).
    conserve : bool
        Use the U(1) charge (N or S^z) of the chain.
    array_backend : str, optional
        Array library of backends that run on several (``quimb``: ``"numpy"``, ``"torch"``,
        ``"cupy"``); ``None`` means NumPy.
    """

    method: str
    dt: float
    chi_max: int = 128
    svd_cutoff: float = 1e-10
    conserve: bool = True
    array_backend: str | None = None


class Engine(ABC):
    """Base class of all engines. Subclasses set ``self.time`` and ``self.step``."""

    method: str = ""
    backend: str = ""

    def __init__(self, chain, state, options: EngineOptions):
        self.chain = chain
        self.options = options
        self.step = 0

    @property
    def time(self):
        return self.step * self.options.dt

    @abstractmethod
    def advance(self, n_steps: int):
        """Evolve by ``n_steps * dt``."""

    @abstractmethod
    def expect(self, key, local_ops):
        """Expectation values of ``local_ops`` (array of floats)."""

    @abstractmethod
    def entanglement(self):
        """Entanglement entropy of each bond cut (natural log)."""

    @abstractmethod
    def health(self) -> dict:
        """Health figures: ``truncation_error``, ``chi``, ``norm``."""

    def energy(self):
        """<H> computed directly from H (not from the local energies); for checks."""
        raise NotImplementedError(f"{type(self).__name__} does not provide a direct <H>")
