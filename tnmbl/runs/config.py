"""Run configurations: YAML -> typed, frozen, fully validated :class:`RunConfig`.

This module is the public face of the config layer; the work is split by job:

* :mod:`tnmbl.runs.sections` -- the pydantic sections, :class:`RunConfig`, the limits, and
  pydantic errors as :class:`~tnmbl.errors.Problem` objects;
* :mod:`tnmbl.runs.model_params` -- model parameters checked against the factory's signature;
* :mod:`tnmbl.runs.validate` -- :func:`validate_config`: every problem of a config at once,
  including those the chain, state and engine constructors raise (moved to their config key);
* :mod:`tnmbl.runs.build` -- chain, initial state and classical evolution from a config;
* :mod:`tnmbl.runs.loading` -- YAML (``yaml.safe_load``), ``--set`` overrides, files;
* :mod:`tnmbl.states.kinds` -- the initial-state kinds (``state: {kind: ...}``), declared once.

Allowed model names, methods and backends come from the registries
(:data:`tnmbl.models.MODELS`, :data:`tnmbl.engines.METHODS`), state kinds from
:data:`tnmbl.states.kinds.STATE_KINDS`, so a model, method or state added there is accepted,
and listed in the generated options table (``tnmbl schema``), without touching the config layer.

Sections
--------
===============  ===========================================================================
``model``        ``name`` plus the keyword arguments of that model's factory (checked
                 against its signature).
``state``        ``kind`` plus the arguments of that kind (:data:`STATE_KINDS`).
``evolution``    method, backend, dt, t_final, chi_max, svd_cutoff, conserve, order.
``observables``  ``names`` and ``output_dt`` (or ``n_log``).
``output``       results path, checkpoint path and interval, figure, overwrite.
``seed``         seed of everything random (model disorder); drawn and recorded if absent.
===============  ===========================================================================
"""

from __future__ import annotations

from ..states.kinds import CLASSICAL_KEYS, STATE_KINDS
from .build import build_chain, build_evolution, build_state
from .loading import config_from_yaml, load_config, parse_yaml, set_override
from .model_params import REQUIRED, model_signature
from .sections import (
    MAX_OUTPUTS,
    MAX_STEPS,
    MAX_STRENGTH,
    PARAM_LIMITS,
    REQUIRED_SECTIONS,
    SECTIONS,
    TOP_KEYS,
    EvolutionSection,
    ModelSection,
    ObservablesSection,
    OutputSection,
    RunConfig,
    Section,
    StateSection,
)
from .validate import KIND_KEYS, validate_config

__all__ = ["CLASSICAL_KEYS", "EvolutionSection", "KIND_KEYS", "MAX_OUTPUTS", "MAX_STEPS", "MAX_STRENGTH",
           "ModelSection", "ObservablesSection", "OutputSection", "PARAM_LIMITS", "REQUIRED",
           "REQUIRED_SECTIONS", "RunConfig", "SECTIONS", "STATE_KINDS", "Section", "StateSection", "TOP_KEYS",
           "build_chain", "build_state", "build_evolution", "config_from_yaml", "load_config",
           "model_signature", "parse_yaml", "set_override", "validate_config"]
