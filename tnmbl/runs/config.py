"""Run configurations: YAML -> typed, frozen, fully validated :class:`RunConfig`.

A config is read with ``yaml.safe_load`` (so ``!!python/object`` tags are refused) and
checked section by section; every problem is collected and reported at once in one
:class:`~tnmbl.errors.ConfigError`, each as ``dotted.path = value: rule; hint``. Nothing is
computed before the whole config is valid.

Allowed model names, methods and backends come from the registries
(:data:`tnmbl.models.MODELS`, :data:`tnmbl.engines.METHODS`), initial-state kinds from
:data:`STATE_KINDS`, so a model, method or state added there is accepted here, and listed
in the generated options table (``tnmbl schema``), without touching this file.

Sections
--------
``model``        ``name`` plus the keyword arguments of that model's factory (checked
                 against its signature).
``state``        ``kind`` plus the arguments of that kind (:data:`STATE_KINDS`).
``evolution``    method, backend, dt, t_final, chi_max, svd_cutoff, conserve, order.
``observables``  ``names`` and ``output_dt``.
``output``       results path, checkpoint path and interval, figure, overwrite.
``seed``         seed of everything random (model disorder); drawn and recorded if absent.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
import secrets
from pathlib import Path
from typing import Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError, TnmblError

MAX_STEPS = 100_000_000
MAX_OUTPUTS = 1_000_000
#: bounds on model parameters that size the computation, by parameter name
PARAM_LIMITS = {"L": (2, 100_000), "n_max": (1, 64)}
#: largest |value| of a real model parameter (energies in model units; rescale beyond)
MAX_STRENGTH = 1e6
#: kinds of factory parameters whose default (None) does not tell: int, float or array
PARAM_KINDS = {"seed": "seed", "eps": "array", "w": "array", "bath_g": "float?", "bath_J": "float?"}
#: largest dt a method accepts (TeNPy refuses Trotter steps above 1)
MAX_DT = {"tebd2": 1.0, "tebd4": 1.0}


def _methods():
    from ..engines import METHODS

    return METHODS


def _models():
    from ..models import MODELS

    return MODELS


def _states_module():
    from .. import states

    return states


#: state kinds: the factory in :mod:`tnmbl.states` and the keys of the ``state`` section it takes
STATE_KINDS = {
    "product": ("product", ("occupations", "spins")),
    "neel": ("neel", ("high", "low")),
    "domain_wall": ("domain_wall", ("high", "low", "at")),
    "bubble": ("bubble", ("region", "background", "inside")),
    "sampled_bubble": ("sampled_bubble_member", ("region", "background", "beta")),  # issue 7
    "mixed_bubble": ("mixed_bubble", ("region", "background", "beta")),  # issue 7: runs on the purification
}
STATE_KINDS.update({  # issue 4: batches of M classical chains (tnmbl.states.classical); `bubble` is shared
    "gibbs": ("classical.gibbs", ("M", "beta", "density")),
    "metropolis": ("classical.dnls_metropolis", ("M", "beta", "mu", "sweeps")),
    "langevin": ("classical.thermalized", ("M", "beta", "t_th", "gamma", "langevin_dt")),
    "wave_packet": ("classical.wave_packet", ("M", "center", "width", "norm", "k")),
})
STATE_REQUIRED = {"bubble": ("region", "background", "inside"), "sampled_bubble": ("region", "background"),
                  "mixed_bubble": ("region", "background"), "metropolis": ("beta",), "langevin": ("beta", "t_th"),
                  "wave_packet": ("center",)}
#: state kinds drawn at random: the factory gets the run's seed (an ensemble's members differ)
STATE_SEEDED = ("sampled_bubble", "gibbs", "metropolis", "langevin")
#: which chains each state kind applies to (the others: quantum only)
STATE_CHAINS = {"gibbs": ("classical",), "metropolis": ("classical",), "langevin": ("classical",),
                "wave_packet": ("classical",), "bubble": ("quantum", "classical")}
#: state keys that apply to classical chains only
CLASSICAL_STATE_KEYS = ("M",)


class Section(BaseModel):
    """Base of every section: frozen, strict types, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


Scalar = Union[int, str]
Value = Union[int, float, str]  # bubble values: occupations / spins, or classical temperatures / densities


class ModelSection(BaseModel):
    """``name`` selects a factory in ``tnmbl.models.MODELS``; every other key is one of its
    keyword arguments (e.g. ``L``, ``U``, ``g``, ``n_max``) and is checked against its signature."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    name: str = Field(description="model name: one of {models}")

    @property
    def params(self):
        return dict(self.model_extra or {})


class StateSection(Section):
    """Initial product state; which keys apply depends on ``kind``."""

    kind: str = Field(description="initial state: one of {states}")
    occupations: list[int] | None = Field(None, description="`product`: bosons per site, one entry per site")
    spins: str | list[Scalar] | None = Field(None, description="`product`: 'uudd...' or a list of up/down/+1/-1")
    high: Scalar | None = Field(None, description="`neel`, `domain_wall`: the high value (default 1 boson / up)")
    low: Scalar | None = Field(None, description="`neel`, `domain_wall`: the low value (default 0 / down)")
    at: int | None = Field(None, description="`domain_wall`: first site of the low side (default L // 2)")
    region: list[int] | None = Field(None, description="`bubble`, `sampled_bubble`, `mixed_bubble`: [a, b), the "
                                     "sites of the bubble")
    beta: float | None = Field(None, ge=0, description="`sampled_bubble`, `mixed_bubble`: inverse temperature of "
                               "the bubble's local Gibbs weights (default 0: infinite temperature); `sampled_bubble` "
                               "draws its sites with the run's seed, `mixed_bubble` runs on the purification "
                               "(method tebd2/tebd4, backend tenpy)")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v):
        if v not in STATE_KINDS:
            raise ValueError(f"unknown initial state{_suggest(v, STATE_KINDS)}")
        return v
    background: Value | None = Field(None, description="`bubble`, `sampled_bubble`, `mixed_bubble`: value "
                                      "outside the region (classical bubble: an inverse temperature for rotors, "
                                      "'inf' for rotors at rest; a density for DNLS)")
    inside: Value | None = Field(None, description="`bubble`: value inside the region (classical: as background)")
    # classical chains (issue 4): a batch of M chains
    M: int | None = Field(None, ge=1, le=10_000_000, description="classical chains: number of chains in the batch "
                          "(default 1); every observable is the average over them")
    density: float | None = Field(None, gt=0, description="`gibbs` on a DNLS chain: mean norm density <|psi_x|^2> "
                                  "of the infinite-temperature state (rotor: give beta)")
    mu: float | None = Field(None, description="`metropolis` (DNLS at finite beta): chemical potential of "
                             "exp(-beta (H - mu N)) (default 0)")
    sweeps: int | None = Field(None, ge=1, description="`metropolis`: Metropolis sweeps (default 2000)")
    t_th: float | None = Field(None, gt=0, description="`langevin` (rotor): thermalization time in a Langevin "
                               "bath at beta, from rest (the glassy-dynamics paper's preparation)")
    gamma: float | None = Field(None, gt=0, description="`langevin`: friction of the bath (default 1)")
    langevin_dt: float | None = Field(None, gt=0, description="`langevin`: time step of the BAOAB Langevin "
                                      "integrator (default 0.01)")
    center: int | None = Field(None, ge=0, description="`wave_packet` (DNLS): site of the packet's centre")
    width: float | None = Field(None, ge=0, description="`wave_packet`: Gaussian width sigma (0: one site)")
    norm: float | None = Field(None, gt=0, description="`wave_packet`: total norm (default 1)")
    k: float | None = Field(None, description="`wave_packet`: wave number (default 0)")


class EvolutionSection(Section):
    """Time evolution: algorithm, time step, truncation."""

    method: str = Field("tebd2", description="algorithm: one of {methods}")
    backend: str | None = Field(None, description="library running the method ({backends}); default: "
                                "chosen by method and size (tnmbl.engines.default_backend, from the benchmarks)")
    dt: float = Field(0.05, gt=0, description="time step; t_final and output_dt must be multiples of it")
    t_final: float = Field(ge=0, description="final time (required)")
    chi_max: int = Field(128, ge=1, le=65536, description="largest MPS bond dimension")
    svd_cutoff: float = Field(1e-10, ge=0, lt=1, description="discard Schmidt values below this")
    conserve: Literal["auto"] | bool = Field("auto", description="use the U(1) charge (N or S^z); 'auto': "
                                             "when the model and state allow it")
    array_backend: str | None = Field(None, description="array library of backends that run on several "
                                      "(quimb: numpy, torch, cupy; GPU where present); default numpy")
    order: int | None = Field(None, description="order of the integrator; implied by the method "
                              "(tebd2 -> 2, tebd4 -> 4, leapfrog / split2 -> 2, yoshida4 / split4 -> 4) and "
                              "must agree with it if given")
    energy_tolerance: float | None = Field(None, gt=0, description="classical: stop with a ConvergenceError when "
                                           "the energy error per site max_m |E_m(t) - E_m(0)| / L passes it "
                                           "(rows written before stay)")
    noise_rate: float | None = Field(None, ge=0, description="classical (rotor): rate of energy-conserving "
                                     "velocity flips per rotor (glassy-dynamics paper, eq. 7); default 0")

    @field_validator("method")
    @classmethod
    def _known_method(cls, v):
        methods = _methods()
        if v not in methods:
            raise ValueError(f"unknown method{_suggest(v, methods)}")
        return v


class ObservablesSection(Section):
    """What is measured, and when."""

    names: list[str] = Field(["density", "energy_density", "energy_current"], min_length=1,
                             description="observables (tnmbl.observables): {observables}")

    @field_validator("names")
    @classmethod
    def _known_names(cls, names):
        from ..observables import get_observable

        bad = []
        for nm in names:
            try:
                get_observable(nm)
            except TnmblError as exc:
                bad.append(f"{nm!r}: {str(exc).split(': ', 1)[-1]}")
        if bad:
            raise ValueError("; ".join(bad))
        if len(set(names)) != len(names):
            raise ValueError("each observable may be listed once")
        return names
    output_dt: float | None = Field(None, gt=0, description="interval between output rows (default: about "
                                    "100 rows over the run); a multiple of dt")
    n_log: int | None = Field(None, ge=2, description="classical: n_log log-spaced output times instead of "
                              "output_dt (for relaxation functions such as phi)")
    per_chain: list[str] | None = Field(None, description="classical: per-chain series written at every row "
                                        "(/per_chain/<name>, one column per chain): energy, charge, phi, "
                                        "total_current (for bootstrap errors, e.g. of t0)")


class OutputSection(Section):
    """Where results and checkpoints go."""

    path: str | None = Field(None, min_length=1, description="results file (default out/<config name>.h5)")
    checkpoint_path: str | None = Field(None, min_length=1, description="checkpoint file (default: the "
                                        "results path + '.ckpt')")
    checkpoint_every_s: float | None = Field(300.0, gt=0, description="write a checkpoint after an output "
                                             "row when this many seconds passed since the last one")
    checkpoint_every_outputs: int | None = Field(None, ge=1, description="write a checkpoint every N output "
                                                 "rows (as well as by time, if both are set)")
    figure: bool = Field(True, description="write a PNG figure next to the results at the end")
    overwrite: bool = Field(False, description="replace an existing results file (otherwise refused; "
                            "use `tnmbl resume` to continue one)")


SECTIONS = {"model": ModelSection, "state": StateSection, "evolution": EvolutionSection,
            "observables": ObservablesSection, "output": OutputSection}
REQUIRED_SECTIONS = ("model", "state", "evolution")
TOP_KEYS = tuple(SECTIONS) + ("seed", "description")


class RunConfig(BaseModel):
    """A validated run configuration. Build it with :func:`load_config` / :func:`validate_config`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelSection
    state: StateSection
    evolution: EvolutionSection
    observables: ObservablesSection = ObservablesSection()
    output: OutputSection = OutputSection()
    seed: int | None = None
    description: str = ""
    name: str = "run"

    def to_dict(self):
        """Plain nested dict (model parameters flattened into ``model``)."""
        out = {"description": self.description, "seed": self.seed}
        out["model"] = {"name": self.model.name, **self.model.params}
        for key in ("state", "evolution", "observables", "output"):
            out[key] = getattr(self, key).model_dump(exclude_none=key != "output")
        return out

    def to_yaml(self):
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @property
    def results_path(self):
        return Path(self.output.path)

    @property
    def checkpoint_path(self):
        return Path(self.output.checkpoint_path) if self.output.checkpoint_path else \
            self.results_path.with_name(self.results_path.name + ".ckpt")


# ---------------------------------------------------------------- problem reporting

def _suggest(value, known):
    known = list(known)
    close = difflib.get_close_matches(str(value), known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known: {', '.join(map(str, known))}"


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _path(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _union_tag(p):
    return isinstance(p, str) and ("[" in p or p in ("int", "str", "bool", "float"))


def _from_validation_error(section, cls, err):
    problems, by_path = [], {}
    for e in err.errors(include_url=False):
        # after the field name, union members appear as loc entries ('int', 'list[...]'): drop them
        raw_loc = list(e["loc"])
        loc = [section] + raw_loc[:1] + [p for p in raw_loc[1:] if not _union_tag(p)]
        path = _path(loc)
        kind = e["type"]
        if kind == "extra_forbidden":
            fields = [f for f in cls.model_fields]
            problems.append(f"{path}: unknown key{_suggest(loc[-1], fields)}")
        elif kind == "missing":
            desc = cls.model_fields[loc[-1]].description if loc[-1] in cls.model_fields else ""
            if desc:
                from .schema import _fill

                desc = f" ({_fill(desc)})"
            problems.append(f"{path}: required key is missing; add it{desc}")
        else:
            msg = e["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
            if path in by_path:
                problems[by_path[path]] += f" or {msg.removeprefix('must be ')}"
            else:
                by_path[path] = len(problems)
                problems.append(f"{path} = {_show(e.get('input'))}: {msg}")
    return problems


# ---------------------------------------------------------------- model parameters

def _kind_of_default(default):
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "str"
    if isinstance(default, tuple):
        return "pair"
    return "any"


def model_signature(name):
    """``{param: (kind, default)}`` of the factory ``name``; ``default`` is ``REQUIRED`` if none."""
    out = {}
    for p in inspect.signature(_models()[name]).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is inspect.Parameter.empty:
            out[p.name] = ("int" if p.name == "L" else "any", REQUIRED)
        else:
            out[p.name] = (_kind_of_default(p.default), p.default)
    return out


REQUIRED = object()


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_param(path, name, kind, value):
    kind = PARAM_KINDS.get(name, kind)
    if kind == "seed" and value is not None and not (isinstance(value, int) and not isinstance(value, bool)
                                                     and 0 <= value < 2 ** 63):
        return f"{path} = {_show(value)}: must be an integer in [0, 2**63) or null"
    if kind == "float?" and value is not None and not (_is_number(value) and math.isfinite(value)):
        return f"{path} = {_show(value)}: must be a finite number or null"
    if kind == "array" and value is not None and not (isinstance(value, list) and _plain(value)):
        return f"{path} = {_show(value)}: must be a list of finite numbers, one per site, or null"
    if kind in ("float", "float?", "array") and value is not None and _plain(value) and not isinstance(value, str):
        biggest = max((abs(x) for x in (value if isinstance(value, list) else [value])), default=0)
        if biggest > MAX_STRENGTH:
            return (f"{path} = {_show(value)}: |value| <= {MAX_STRENGTH:g} expected (energies in model units); "
                    "rescale the energy unit")
    if kind == "float" and not (_is_number(value) and math.isfinite(value)):
        return f"{path} = {_show(value)}: must be a finite number"
    if kind == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
        return f"{path} = {_show(value)}: must be an integer"
    if kind == "bool" and not isinstance(value, bool):
        return f"{path} = {_show(value)}: must be true or false"
    if kind == "str" and not isinstance(value, str):
        return f"{path} = {_show(value)}: must be a string"
    if kind == "pair" and not (isinstance(value, list) and len(value) == 2
                               and all(isinstance(x, int) and not isinstance(x, bool) for x in value)):
        return f"{path} = {_show(value)}: must be a list of two integers, e.g. [0, 4]"
    if kind == "any" and value is not None and (isinstance(value, str) or not _plain(value)):
        return f"{path} = {_show(value)}: must be a number or a list of numbers"
    if name in PARAM_LIMITS and _is_number(value):
        lo, hi = PARAM_LIMITS[name]
        if not lo <= value <= hi:
            return f"{path} = {_show(value)}: must lie in [{lo}, {hi}]"
    if _is_number(value) and not math.isfinite(value):
        return f"{path} = {_show(value)}: must be finite"
    return None


def _plain(value):
    if _is_number(value):
        return math.isfinite(value)
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return len(value) <= PARAM_LIMITS["L"][1] and all(_is_number(x) and math.isfinite(x) for x in value)
    return False


def _model_problems(section: ModelSection, seed):
    """Problems of the model parameters, and the resolved parameters (defaults filled in)."""
    models = _models()
    if section.name not in models:
        return [f"model.name = {section.name!r}: unknown model{_suggest(section.name, models)}"], None
    sig = model_signature(section.name)
    problems, params = [], {}
    for key, value in section.params.items():
        if key not in sig:
            problems.append(f"model.{key}: unknown parameter of model {section.name!r}{_suggest(key, sig)}")
            continue
        bad = _check_param(f"model.{key}", key, sig[key][0], value)
        if bad:
            problems.append(bad)
        params[key] = value
    for key, (_, default) in sig.items():
        if key in params:
            continue
        if default is REQUIRED:
            problems.append(f"model.{key}: required parameter of model {section.name!r} is missing")
        elif key == "seed":
            params[key] = seed
        else:
            params[key] = list(default) if isinstance(default, tuple) else default
    return problems, params


# ---------------------------------------------------------------- cross-section checks

def _steps(path, t, dt):
    n = t / dt
    if abs(n - round(n)) > 1e-9 * max(1.0, abs(n)):
        return None, (f"{path} = {t!r}: must be a multiple of evolution.dt ({path} / dt = {t} / {dt} = {n:.6g}); "
                      f"use {round(n) * dt:.6g} or a dt that divides it")
    return int(round(n)), None


def _evolution_problems(ev: EvolutionSection):
    problems, resolved = [], {}
    methods = _methods()
    backends = methods[ev.method]
    backend = ev.backend  # None: resolved by size once the chain is built (_build_problems)
    if backend is not None and backend not in backends:
        problems.append(f"evolution.backend = {backend!r}: method {ev.method!r} runs on "
                        f"{', '.join(backends)}{_suggest(backend, backends)}")
    if ev.array_backend is not None:
        from ..engines import ARRAY_BACKENDS

        allowed = ARRAY_BACKENDS.get(backend, ("numpy",)) if backend is not None else \
            sorted({a for arrays in ARRAY_BACKENDS.values() for a in arrays})
        if ev.array_backend not in allowed:
            problems.append(f"evolution.array_backend = {ev.array_backend!r}: backend {backend or 'any'!r} "
                            f"runs on {', '.join(allowed)}; use backend: quimb for torch / cupy arrays")
    implied = {"tebd2": 2, "tebd4": 4, "leapfrog": 2, "yoshida4": 4, "split2": 2, "split4": 4}.get(ev.method)
    if ev.order is not None and implied is not None and ev.order != implied:
        problems.append(f"evolution.order = {ev.order}: method {ev.method!r} is of order {implied}; "
                        "use the method of that order or drop 'order'")
    resolved["order"] = ev.order if ev.order is not None else implied
    if ev.method in MAX_DT and ev.dt > MAX_DT[ev.method]:
        problems.append(f"evolution.dt = {ev.dt!r}: unreasonably large for {ev.method} (at most "
                        f"{MAX_DT[ev.method]:g}); use a smaller dt")
    n, bad = _steps("evolution.t_final", ev.t_final, ev.dt)
    if bad:
        problems.append(bad)
    elif n > MAX_STEPS:
        problems.append(f"evolution.t_final = {ev.t_final!r}: t_final / dt = {n} steps is above the limit "
                        f"{MAX_STEPS}; use a larger dt or split the run (tnmbl resume --t-final)")
    return problems, resolved, n


def _output_dt(obs: ObservablesSection, ev: EvolutionSection, n_total):
    if obs.n_log is not None:
        return [], None
    if obs.output_dt is None:
        n_out = max(1, (n_total or 0) // 100)
        return [], n_out * ev.dt
    n_out, bad = _steps("observables.output_dt", obs.output_dt, ev.dt)
    if bad:
        return [bad], None
    if n_total is not None and n_total // max(n_out, 1) > MAX_OUTPUTS:
        return [f"observables.output_dt = {obs.output_dt!r}: gives more than {MAX_OUTPUTS} output rows; "
                "use a larger output_dt"], None
    return [], obs.output_dt


def _state_problems(st: StateSection):
    if st.kind not in STATE_KINDS:
        return [f"state.kind = {st.kind!r}: unknown initial state{_suggest(st.kind, STATE_KINDS)}"]
    allowed = STATE_KINDS[st.kind][1] + (CLASSICAL_STATE_KEYS if st.kind == "bubble" else ())
    problems = []
    for key in StateSection.model_fields:
        if key != "kind" and getattr(st, key) is not None and key not in allowed:
            problems.append(f"state.{key} = {_show(getattr(st, key))}: not used by state kind {st.kind!r} "
                            f"(it takes: {', '.join(allowed)})")
    for key in STATE_REQUIRED.get(st.kind, ()):
        if getattr(st, key) is None:
            problems.append(f"state.{key}: required by state kind {st.kind!r} is missing")
    if st.kind == "product" and (st.occupations is None) == (st.spins is None):
        problems.append("state: kind 'product' takes exactly one of 'occupations' (bosons) or 'spins' (spin-1/2)")
    if st.region is not None and len(st.region) != 2:
        problems.append(f"state.region = {st.region!r}: must be [a, b], two site indices")
    return problems


def _where(exc, section):
    """``section.key = value: rule`` from a tnmbl error raised by a factory."""
    return f"{section}.{exc}" if not str(exc).startswith(section) else str(exc)


def build_chain(cfg: RunConfig):
    """The :class:`~tnmbl.chain.Chain` of ``cfg`` (model parameters as resolved)."""
    return _models()[cfg.model.name](**_factory_kwargs(cfg.model.params))


def _factory_kwargs(params):
    return {k: (tuple(v) if isinstance(v, list) and k == "bath" else v) for k, v in params.items()}


def build_state(cfg: RunConfig, chain):
    """The initial :class:`~tnmbl.states.ProductState` of ``cfg`` on ``chain``."""
    return _build_state(cfg.state, chain, cfg.seed)


def classical_evolution(chain, state, ev: EvolutionSection, obs: ObservablesSection, seed=0):
    """The :class:`~tnmbl.engines.classical.ClassicalEvolution` of a classical run config (the one
    place the config keys map to it: the runner and validation both build it here)."""
    from ..engines.classical import ClassicalEvolution

    return ClassicalEvolution(chain, state, ev.method, dt=ev.dt, t_final=ev.t_final, observables=list(obs.names),
                              output_dt=obs.output_dt, n_log=obs.n_log, energy_tolerance=ev.energy_tolerance,
                              noise_rate=ev.noise_rate or 0.0, noise_seed=seed or 0, per_chain=obs.per_chain or (),
                              keep_samples=False)


def _chain_kind(chain):
    return getattr(chain.site, "kind", "quantum")


def _build_state(st, chain, seed=None, *, deferred=False):
    """The initial state of section ``st``. With ``deferred``, a state that needs compute to
    prepare (``langevin``) is replaced by its starting point (for validation)."""
    module = _states_module()
    name = STATE_KINDS[st.kind][0]
    classical = _chain_kind(chain) == "classical"
    if st.kind == "bubble" and classical:
        name = "classical.bubble"
    for part in name.split("."):
        module = getattr(module, part)
    fn = module
    keys = STATE_KINDS[st.kind][1] + (CLASSICAL_STATE_KEYS if classical else ())
    kwargs = {k: getattr(st, k) for k in keys if getattr(st, k) is not None}
    if classical:
        kwargs.setdefault("M", 1)
    if st.kind in STATE_SEEDED or (classical and "seed" in inspect.signature(fn).parameters):
        kwargs["seed"] = seed
    if st.kind == "bubble" and classical:
        inf = {"inf": float("inf")}
        return fn(chain, kwargs.get("M", 1), region=tuple(kwargs["region"]),
                  inside=inf.get(kwargs["inside"], kwargs["inside"]),
                  outside=inf.get(kwargs["background"], kwargs["background"]), seed=seed)
    if st.kind == "bubble":
        return fn(chain, tuple(kwargs["region"]), kwargs["background"], kwargs["inside"])
    if st.kind == "langevin":
        if "langevin_dt" in kwargs:
            kwargs["dt"] = kwargs.pop("langevin_dt")
        if deferred and chain.site.name == "rotor":  # validation: the starting point (no Langevin steps)
            from ..states.classical import _beta, rest

            return rest(chain, kwargs["M"], beta=_beta(kwargs["beta"]))
    if st.kind == "metropolis" and deferred:
        kwargs["sweeps"] = 1
    return fn(chain, **kwargs)


# ---------------------------------------------------------------- entry points

def validate_config(raw, *, name="run", check_build=True) -> RunConfig:
    """Validate a config dict; return the resolved :class:`RunConfig` or raise :class:`ConfigError`.

    The resolved config has every default filled in: model parameters from the factory's
    signature, the seed (drawn if absent), backend, order, output_dt and conserve.
    With ``check_build`` the chain, the initial state and the observables are built (cheap,
    no evolution) so that their own checks are reported as config problems too.
    """
    if not isinstance(raw, dict):
        raise ConfigError([f"config = {_show(raw)}: must be a mapping with sections {', '.join(TOP_KEYS)}"])
    problems = []
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(f"{key}: unknown section{_suggest(key, TOP_KEYS)}")
    seed = raw.get("seed")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2 ** 63):
        problems.append(f"seed = {_show(seed)}: must be an integer in [0, 2**63) or null (drawn and recorded)")
        seed = None
    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append(f"description = {_show(description)}: must be a string")
        description = ""
    sections = {}
    for key, cls in SECTIONS.items():
        if key not in raw:
            if key in REQUIRED_SECTIONS:
                problems.append(f"{key}: required section is missing")
            continue
        value = raw[key]
        if value is None and key not in REQUIRED_SECTIONS:
            continue
        if not isinstance(value, dict):
            problems.append(f"{key} = {_show(value)}: must be a mapping of keys to values")
            continue
        try:
            sections[key] = cls.model_validate(value)
        except ValidationError as err:
            problems += _from_validation_error(key, cls, err)
            known = {k: v for k, v in value.items() if k in cls.model_fields}
            if cls is not ModelSection and len(known) < len(value):
                try:  # only unknown keys were wrong: still run the cross-checks on the rest
                    sections[key] = cls.model_validate(known)
                except ValidationError:
                    pass
    if seed is None and raw.get("seed") is None:
        seed = secrets.randbits(32)

    params, model_ok = None, False
    if "model" in sections:
        more, params = _model_problems(sections["model"], seed)
        problems += more
        model_ok = not more
    n_total, resolved_ev = None, {}
    if "evolution" in sections:
        more, resolved_ev, n_total = _evolution_problems(sections["evolution"])
        problems += more
    elif isinstance(raw.get("evolution"), dict):  # the section has other problems: still check the step count
        dt, t_final = raw["evolution"].get("dt", 0.05), raw["evolution"].get("t_final")
        if all(_is_number(x) and math.isfinite(x) and x > 0 for x in (dt, t_final)):
            n, bad = _steps("evolution.t_final", t_final, dt)
            if n is not None and n > MAX_STEPS:
                problems.append(f"evolution.t_final = {t_final!r}: t_final / dt = {n} steps is above the limit "
                                f"{MAX_STEPS}; use a larger dt or split the run (tnmbl resume --t-final)")
    obs = sections.get("observables", ObservablesSection())
    output_dt = None
    if "evolution" in sections:
        more, output_dt = _output_dt(obs, sections["evolution"], n_total)
        problems += more
    state_ok = False
    if "state" in sections:
        more = _state_problems(sections["state"])
        problems += more
        state_ok = not more
    conserve = None
    if check_build and model_ok:
        more, conserve, backend = _build_problems(sections, params, state_ok, clean=not problems)
        problems += more
        if backend is not None:
            resolved_ev["backend"] = backend
    if problems:
        raise ConfigError(problems)

    ev = sections["evolution"].model_copy(update=resolved_ev)
    if resolved_ev.get("backend") == "numba":  # classical: the MPS keys do not apply (dropped from the dump)
        ev = ev.model_copy(update={"chi_max": None, "svd_cutoff": None, "conserve": None})
    if conserve is not None:
        ev = ev.model_copy(update={"conserve": conserve})
    output = sections.get("output", OutputSection())
    if output.path is None:
        output = output.model_copy(update={"path": f"out/{name}.h5"})
    return RunConfig(model=ModelSection(name=sections["model"].name, **params), state=sections["state"],
                     evolution=ev, observables=obs.model_copy(update={"output_dt": output_dt}),
                     output=output, seed=seed, description=description, name=name)


def _build_problems(sections, params, state_ok, clean=True):
    """Build chain, state and observables (cheap, no evolution); their errors as problems.
    ``clean``: nothing else was wrong so far (the classical engine checks run only then, so
    that e.g. an output_dt that is no multiple of dt is not reported twice)."""
    from ..engines import METHODS, accepts, resolve_backend
    from ..evolution import resolve_conserve
    from ..observables import get_observable

    name = sections["model"].name
    try:
        chain = _models()[name](**_factory_kwargs(params))
    except TnmblError as exc:
        return [_where(exc, "model")], None, None
    except (TypeError, ValueError) as exc:  # a parameter combination the checks above let through
        return [f"model = {name!r}: the factory refused these parameters ({type(exc).__name__}: {exc})"], None, None
    problems = []
    backend = None
    if "evolution" in sections:
        ev = sections["evolution"]
        backend = resolve_backend(ev.method, chain, ev.chi_max, ev.backend, ev.array_backend, ev.conserve)
        if backend not in METHODS[ev.method]:
            backend = None  # reported by _evolution_problems
        else:
            ok, reason = accepts(ev.method, chain, backend)
            if not ok:
                problems.append(f"evolution.method = {ev.method!r}: {reason}")
    obs = sections.get("observables", ObservablesSection())
    for i, nm in enumerate(obs.names):
        try:
            get_observable(nm, chain)
        except TnmblError as exc:
            problems.append(f"observables.names[{i}] = {nm!r}: {str(exc).split(': ', 1)[-1]}")
    kind = _chain_kind(chain)
    st = sections.get("state")
    if st is not None and st.kind in STATE_KINDS and kind not in STATE_CHAINS.get(st.kind, ("quantum",)):
        usable = [k for k in STATE_KINDS if kind in STATE_CHAINS.get(k, ("quantum",))]
        problems.append(f"state.kind = {st.kind!r}: not a state of a {kind} chain (model {name!r}); "
                        f"{kind} chains take: {', '.join(usable)}")
        state_ok = False
    if st is not None and kind == "quantum" and st.M is not None:
        problems.append(f"state.M = {st.M!r}: the number of chains of a classical batch; a quantum run evolves "
                        "one state (drop M, or run an ensemble with tnmbl sweep)")
    problems += _kind_key_problems(sections, kind)
    if kind == "classical":  # the engine's own checks, once the rest is valid
        if clean and not problems and state_ok and "evolution" in sections:
            problems += _classical_problems(sections, chain)
        return problems, None, "numba" if backend is not None else None
    if not state_ok:
        return problems, None, backend
    try:
        state = _build_state(sections["state"], chain)
    except TnmblError as exc:
        return problems + [_where(exc, "state")], None, backend
    if "evolution" not in sections:
        return problems, None, backend
    if getattr(state, "mixed", False):  # a mixed bubble runs on TeNPy's purification TEBD, dense, on NumPy
        ev = sections["evolution"]
        for key, value, ok in (("backend", ev.backend, (None, "tenpy")), ("conserve", ev.conserve, ("auto", False)),
                               ("array_backend", ev.array_backend, (None, "numpy"))):
            if value not in ok:
                problems.append(f"evolution.{key} = {value!r}: a mixed bubble runs on TeNPy's purification TEBD "
                                f"(dense, NumPy); use {key}: {ok[-1] if key != 'conserve' else 'auto'} or leave it out")
        return problems, False, "tenpy"
    engine_cls = METHODS[sections["evolution"].method][backend] if backend is not None else None
    try:
        conserve = resolve_conserve(chain, state, sections["evolution"].conserve, engine_cls)
    except TnmblError as exc:
        return problems + [f"evolution.{exc}"], None, backend
    return problems, conserve, backend


#: keys that apply to one kind of chain only: (section, key) -> kind
KIND_KEYS = {("evolution", "chi_max"): "quantum", ("evolution", "svd_cutoff"): "quantum",
             ("evolution", "conserve"): "quantum", ("evolution", "array_backend"): "quantum",
             ("evolution", "energy_tolerance"): "classical", ("evolution", "noise_rate"): "classical",
             ("observables", "n_log"): "classical", ("observables", "per_chain"): "classical"}


def _kind_key_problems(sections, kind):
    problems = []
    for (sec, key), only in KIND_KEYS.items():
        section = sections.get(sec)
        if section is not None and key in section.model_fields_set and only != kind:
            problems.append(f"{sec}.{key} = {_show(getattr(section, key))}: applies to {only} chains only "
                            f"(this model is {kind}); drop it")
    obs = sections.get("observables")
    if obs is not None and obs.n_log is not None and obs.output_dt is not None:
        problems.append(f"observables.n_log = {obs.n_log}: give either output_dt or n_log, not both")
    return problems


#: which section a classical engine's error key belongs to
_CLASSICAL_KEYS = {"dt": "evolution", "method": "evolution", "t_final": "evolution", "noise_rate": "evolution",
                   "energy_tolerance": "evolution", "chain": "model", "observable": "observables.names",
                   "observables": "observables", "output_dt": "observables", "n_log": "observables",
                   "per_chain": "observables", "beta": "state", "state": "state", "M": "state"}


def _classical_problems(sections, chain):
    """Build the classical state (its starting point if it needs compute) and the evolution,
    without evolving: the engines' own checks (stability bound, phi needs beta, ...) as problems."""
    ev = sections["evolution"]
    obs = sections.get("observables", ObservablesSection())
    try:
        state = _build_state(sections["state"], chain, deferred=True)
    except TnmblError as exc:  # e.g. "chain = 'dnls': Langevin thermalization is implemented for rotor chains"
        text = str(exc)
        if text.startswith("chain = "):
            return [f"state.kind = {sections['state'].kind!r}: {text.split(': ', 1)[-1]}"]
        return [_where(exc, "state")]
    try:
        classical_evolution(chain, state, ev, obs)
    except TnmblError as exc:
        key = str(exc).split(" = ", 1)[0].split(":", 1)[0].strip()
        section = _CLASSICAL_KEYS.get(key, "state")
        text = str(exc)
        if section == "observables.names":
            text = text.split(" = ", 1)[-1]
            return [f"{section}: {text}"]
        return [text if text.startswith(section) else f"{section}.{text}"]
    return []


def parse_yaml(text, source="<config>"):
    """``yaml.safe_load`` with errors (including refused ``!!python`` tags) as :class:`ConfigError`."""
    from .yamlio import load_yaml  # issue 17: duplicate keys, bounded aliases (the whole body)

    return load_yaml(text, source)


def set_override(raw, assignment):
    """Apply ``section.key=yaml_value`` to the nested dict ``raw`` (in place)."""
    if "=" not in assignment:
        raise ConfigError([f"--set {assignment!r}: must be key=value, e.g. --set evolution.chi_max=256"])
    key, text = assignment.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError([f"--set {assignment!r}: the key must be a dotted path such as model.g"])
    value = parse_yaml(text, f"--set {key}")
    node = raw
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value
    return raw


def load_config(path, overrides=(), **kw) -> RunConfig:
    """Read, override (``--set`` strings) and validate the YAML file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError([f"config file {str(path)!r}: cannot be read ({exc.strerror})"]) from None
    script = re.search(r"^# Read by (analysis/\S+\.py)", text, flags=re.M)
    if script:
        raise ConfigError([f"config file {str(path)!r}: is the config of {script.group(1)}, not of `tnmbl run`; "
                           f"use `python {script.group(1)}`"])
    raw = parse_yaml(text, str(path))
    if raw is None:
        raw = {}
    if isinstance(raw, dict):
        for o in overrides:
            set_override(raw, o)
    return validate_config(raw, name=path.stem, **kw)


def config_from_yaml(text, name="run", **kw) -> RunConfig:
    """Validate a resolved config as stored in a results file."""
    raw = parse_yaml(text)
    return validate_config(raw, name=name, **kw)
