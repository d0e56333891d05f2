"""The engine protocol every method implements, quantum MPS / exact and classical batch alike.

An engine owns one evolving state (an MPS, a state vector, a batch of ``M`` classical
chains). The one driver (:class:`tnmbl.evolution.Evolution`) only calls:

``advance(n_steps)``
    evolve by ``n_steps * dt``;
``outputs(segments)``
    advance through ``segments`` (steps before each output time), yielding after each one the
    engine's own measurement, or ``None`` when the driver measures through ``expect``. An
    engine that measures inside its compiled loop (the classical batches: several output
    rows per call) overrides it; the default is ``advance`` per segment;
``sample()``
    the engine's own measurement at the current step (``None``: measure through ``expect``);
``probe``
    (class attribute) how the driver turns samples into rows: ``"local"`` (observables
    from local operators through ``expect``) or ``"batch"`` (ensemble sums measured by the
    engine);
``expect(key, local_ops)``
    real expectation values of a list of :class:`~tnmbl.chain.LocalOp` (Hermitian),
    ``key`` naming the list so an engine can cache its own form of the operators;
``expect_many(requests)``
    ``{key: expect(key, local_ops)}`` for a dict of such lists (the driver asks for every
    observable of a row at once, so an engine can share work between them);
``entanglement()``
    von Neumann entropies (natural log) of every bond cut;
``health()``
    a dict of health figures (``truncation_error``: accumulated discarded weight,
    ``chi``: largest bond dimension, ``norm``);
``state()``
    the current state, where the engine can hand it out;
``get_resume_data()`` / ``set_resume_data(data)``
    what a checkpoint needs (optional: engines without them cannot resume).

Observables are defined outside the engines (:mod:`tnmbl.observables`) as lists of local
operators derived from the chain, so a new engine gets every observable for free.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


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
    extra : dict
        Engine-specific options the method table lists for the method (the classical
        batches: ``lanes``, ``threads``, ``noise_rate``, ``noise_seed``, ``allow_large_dt``,
        ``chunk_outputs``).
    """

    method: str
    dt: float
    chi_max: int = 128
    svd_cutoff: float = 1e-10
    conserve: bool = True
    array_backend: str | None = None
    extra: dict = field(default_factory=dict)


class Engine(ABC):
    """Base class of all engines. Subclasses set ``self.time`` and ``self.step``."""

    method: str = ""
    backend: str = ""
    probe = "local"

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

    def outputs(self, segments):
        """Advance through ``segments``, yielding after each (``None``: measure through ``expect``)."""
        for n in segments:
            if n:
                self.advance(int(n))
            yield None

    def sample(self):
        """The engine's own measurement now (``None``: the driver measures through ``expect``)."""
        return None

    def state(self):
        """The current state (engines that can hand it out override this)."""
        raise NotImplementedError(f"{type(self).__name__} does not hand out its state")

    @abstractmethod
    def expect(self, key, local_ops):
        """Expectation values of ``local_ops`` (array of floats)."""

    def expect_many(self, requests):
        """``{key: expect(key, local_ops)}`` for every item of ``requests`` (a dict): engines that
        measure several operator lists in one pass over their state override it."""
        return {key: self.expect(key, ops) for key, ops in requests.items()}

    @abstractmethod
    def entanglement(self):
        """Entanglement entropy of each bond cut (natural log)."""

    @abstractmethod
    def health(self) -> dict:
        """Health figures: ``truncation_error``, ``chi``, ``norm``."""

    def energy(self):
        """<H> computed directly from H (not from the local energies); for checks."""
        raise NotImplementedError(f"{type(self).__name__} does not provide a direct <H>")
