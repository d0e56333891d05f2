"""What a validated run config builds: the chain, the initial state, the evolution.

The one place config keys become constructor arguments; the runner and the validation (which
builds the same objects, cheaply, so that their own checks become config problems) both
call these.
"""

from __future__ import annotations

from ..engines import METHODS
from ..evolution import Evolution, MixedEvolution
from ..evolution.operator_correlations import OperatorEvolution
from ..states import kinds
from ..states.bubbles import MixedBubble
from .model_params import factory_kwargs, model_factory
from .sections import CorrelationSection, EvolutionSection, ObservablesSection, RunConfig, StateSection


def build_chain(cfg: RunConfig):
    """The :class:`~tnmbl.chain.Chain` of ``cfg`` (model parameters as resolved)."""
    return chain_from_params(cfg.model.key, cfg.model.params)


def chain_from_params(name, params):
    """The chain of model ``name`` (a model name or a factory's import path) with the resolved
    parameters ``params``."""
    return model_factory(name)(**factory_kwargs(params))


def build_state(cfg: RunConfig, chain):
    """The initial state of ``cfg`` on ``chain`` (:mod:`tnmbl.states.kinds`); ``None`` for a
    correlation run (it evolves an operator)."""
    if cfg.state is None:
        return None
    return state_from_section(cfg.state, chain, cfg.seed)


def state_from_section(st: StateSection, chain, seed=None, *, preview=False):
    """The initial state of section ``st``. With ``preview``, a state that needs compute to
    prepare (``langevin``) is replaced by its starting point (for validation)."""
    return kinds.build_state(st.kind, chain, st.model_dump(exclude={"kind"}), seed=seed, preview=preview)


def build_evolution(chain, state, ev: EvolutionSection, obs: ObservablesSection, seed=0,
                    corr: CorrelationSection | None = None):
    """The one :class:`~tnmbl.evolution.Evolution` of a run config (its ``MixedEvolution``
    subclass for a mixed bubble on an MPS method; the exact engine evolves the mixture itself),
    given the options its method takes (the method table's ``takes``): the one place config keys
    map to the driver; the runner and the validation both build it here. A correlation run
    (``corr``, no state) gets its
    :class:`~tnmbl.evolution.operator_correlations.OperatorEvolution` here too."""
    if corr is not None:
        a = list(obs.names) if "names" in obs.model_fields_set else [corr.b]
        return OperatorEvolution(chain, a, corr.b, t_final=ev.t_final, y=corr.y, connected=corr.connected,
                                 dt=ev.dt, output_dt=obs.output_dt, n_log=obs.n_log, method=ev.method,
                                 chi_max=ev.chi_max, svd_cutoff=ev.svd_cutoff, gamma=ev.gamma or 0.0,
                                 l_star=ev.l_star, daoe_every=ev.daoe_every or 1, conserve=ev.conserve)
    driver = MixedEvolution if isinstance(state, MixedBubble) and not METHODS[ev.method].takes_mixed else Evolution
    options = dict(dt=ev.dt, chi_max=ev.chi_max, svd_cutoff=ev.svd_cutoff, conserve=ev.conserve,
                   backend=ev.backend, array_backend=ev.array_backend, observables=list(obs.names),
                   output_dt=obs.output_dt, n_log=obs.n_log, energy_tolerance=ev.energy_tolerance,
                   noise_rate=ev.noise_rate or 0.0, noise_seed=seed or 0, per_chain=obs.per_chain or (),
                   threads=ev.threads, precision=ev.precision or "float64",
                   green_kubo=obs.green_kubo.model_dump() if obs.green_kubo is not None else None,
                   keep_samples=False)
    takes = METHODS[ev.method].takes
    return driver(chain, state, ev.method, t_final=ev.t_final, **{k: v for k, v in options.items() if k in takes})
