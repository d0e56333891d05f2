"""The sections of run configs: pydantic models (frozen, strict types, unknown keys rejected),
the resolved :class:`RunConfig`, the size limits, and the translation of pydantic's errors
into :class:`~tnmbl.errors.Problem` objects (``dotted.path = value: rule; fix``).

Field descriptions may name registries in braces (``{models}``, ``{methods}``, ``{backends}``,
``{states}``, ``{observables}``); :func:`describe` fills them in, for the options table
(``tnmbl schema``) and for "required key is missing" problems alike.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..engines import METHODS
from ..errors import Problem, TnmblError
from ..evolution.correlations import OPERATORS
from ..models import MODELS
from ..observables import ALIASES, OBSERVABLES, get_observable
from ..states.kinds import STATE_KINDS
from ..timegrid import MAX_STEPS  # noqa: F401 -- the one step bound, re-exported with the other limits

MAX_OUTPUTS = 1_000_000
#: bounds on model parameters that size the computation, by parameter name
PARAM_LIMITS = {"L": (2, 100_000), "n_max": (1, 64)}
#: largest ``|value|`` of a real model parameter (energies in model units; rescale beyond)
MAX_STRENGTH = 1e6


class Section(BaseModel):
    """Base of every section: frozen, strict types, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


Scalar = Union[int, str]
Value = Union[int, float, str]  # bubble values: occupations / spins, or classical temperatures / densities


class ModelSection(BaseModel):
    """``name`` selects a factory in ``tnmbl.models.MODELS``, or ``factory`` names the user's own
    (``"package.module:callable"``, returning a :class:`tnmbl.chain.Chain`); every other key is
    one of its keyword arguments (e.g. ``L``, ``U``, ``g``, ``n_max``) and is checked against its
    signature."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    name: str | None = Field(None, description="model name: one of {models} (or give `factory`)")
    factory: str | None = Field(None, description="instead of `name`: your own model, 'package.module:callable' "
                                "returning a tnmbl.chain.Chain, imported at validation; its keyword arguments are "
                                "the other keys, checked against its signature like a built-in model's")

    @property
    def params(self):
        return dict(self.model_extra or {})

    @property
    def key(self):
        """What selects the factory: the import path if ``factory`` is given, else ``name``."""
        return self.factory or self.name


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
                               "(method tebd2/tebd4, backend tenpy) or, as the exact mixture, on method exact")

    factory: str | None = Field(None, description="your own initial state: 'package.module:callable', called as "
                                "callable(chain, **args) (kind `factory`, implied); imported at validation, its "
                                "arguments checked against its signature; it gets the run's seed as `seed` if "
                                "it takes one")
    args: dict[str, Union[int, float, str, bool, list, None]] | None = Field(
        None, description="`factory`: the keyword arguments of the state factory")

    @model_validator(mode="before")
    @classmethod
    def _factory_kind(cls, data):
        if isinstance(data, dict) and data.get("factory") is not None and "kind" not in data:
            return {**data, "kind": "factory"}
        return data

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v):
        if v not in STATE_KINDS:
            raise ValueError(f"unknown initial state{suggest(v, STATE_KINDS)}")
        return v
    background: Value | None = Field(None, description="`bubble`, `sampled_bubble`, `mixed_bubble`: value "
                                      "outside the region (classical bubble: an inverse temperature for rotors, "
                                      "'inf' for rotors at rest; a density for DNLS)")
    inside: Value | None = Field(None, description="`bubble`: value inside the region (classical: as background)")
    # classical chains: a batch of M chains
    M: int | None = Field(None, ge=1, le=10_000_000, description="classical chains: number of chains in the batch "
                          "(default 1); every observable is the average over them")
    density: float | None = Field(None, gt=0, description="`gibbs` on a DNLS chain: mean norm density <|psi_x|^2> "
                                  "of the infinite-temperature state (rotor: give beta)")
    mu: float | None = Field(None, description="`metropolis` (DNLS at finite beta): chemical potential of "
                             "exp(-beta (H - mu N)) (default 0)")
    sweeps: int | None = Field(None, ge=1, le=1_000_000, description="`metropolis`: Metropolis sweeps (default 2000)")
    t_th: float | None = Field(None, gt=0, description="`langevin` (rotor): thermalization time in a Langevin "
                               "bath at beta, from rest (the glassy-dynamics paper's preparation)")
    gamma: float | None = Field(None, gt=0, description="`langevin`: friction of the bath (default 1)")
    langevin_dt: float | None = Field(None, gt=0, description="`langevin`: time step of the BAOAB Langevin "
                                      "integrator (default 0.01)")
    center: int | None = Field(None, ge=0, description="`wave_packet` (DNLS): site of the packet's centre")
    width: float | None = Field(None, ge=0, description="`wave_packet`: Gaussian width sigma (0: one site)")
    norm: float | None = Field(None, gt=0, description="`wave_packet`: total norm (default 1)")
    k: float | None = Field(None, description="`wave_packet`: wave number (default 0)")


class StopWhenSection(Section):
    """Early stop checked at output rows (:class:`tnmbl.evolution.stopping.StopWhen`)."""

    observable: str = Field(description="an observable of observables.names; its mean over positions is tested")
    above: float = Field(description="level: the stretch of rows at or above it starts at t_cross")
    for_factor: float = Field(2.0, ge=1, description="stop at the first row at or after for_factor * t_cross")


class GreenKuboSection(Section):
    """Classical: the total-current autocorrelation of every chain averaged over all time origins,
    accumulated during the run (tnmbl.engines.classical.correlator) instead of stored per step."""

    lag_max: float = Field(gt=0, description="longest lag kept (a multiple of sample_dt; the Green-Kubo "
                           "window must end at or before it)")
    sample_dt: float = Field(gt=0, description="samples: the current averaged over sample_dt (a multiple of "
                             "evolution.dt; measured every step)")


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
    precision: Literal["float64", "float32"] | None = Field(None, description="classical (rotor): floating-point "
                                                            "type of the integration, default float64; float32 "
                                                            "runs the float32 kernel (measurements stay float64); "
                                                            "refused with noise_rate and where its predicted "
                                                            "round-off energy walk passes energy_tolerance")
    noise_rate: float | None = Field(None, ge=0, description="classical (rotor): rate of energy-conserving "
                                     "velocity flips per rotor (glassy-dynamics paper, eq. 7); default 0")
    threads: int | None = Field(None, ge=1, le=1024, description="TEBD on TeNPy: update the bonds of one Trotter layer "
                                "on this many threads (the same state bitwise for every value; chains too short to "
                                "gain run serially); default: the cores the run is allowed ($TNMBL_THREADS or "
                                "tnmbl run --threads where given, else os.sched_getaffinity; a sweep of N worker "
                                "processes gives each cores // N)")
    gamma: float | None = Field(None, ge=0, description="correlation runs: DAOE damping rate, each operator string "
                                "weighted by exp(-gamma max(0, l - l_star)) every daoe_every steps (default 0: plain "
                                "unitary operator evolution); extrapolate gamma -> 0 (a tnmbl sweep)")
    l_star: int | None = Field(None, ge=1, le=1024, description="correlation runs: DAOE string length left "
                               "undamped (required with gamma > 0; >= 2 keeps the energy density's sum rule)")
    daoe_every: int | None = Field(None, ge=1, le=1_000_000, description="correlation runs: apply DAOE after every "
                                   "daoe_every steps (default 1)")
    stop_when: StopWhenSection | None = Field(None, description="early stop {{observable, above, for_factor}}: "
                                              "stop at the first output row at or after for_factor * t_cross, "
                                              "t_cross the start of the current stretch of rows where the "
                                              "observable (mean over its positions; one of observables.names) is "
                                              ">= above; for_factor >= 1 (default 2). E.g. {{observable: phi, "
                                              "above: 0.9, for_factor: 2.0}} (glassy Fig. 2); t_final is then a "
                                              "cap. Recorded in the results attribute stopped_early")

    @field_validator("method")
    @classmethod
    def _known_method(cls, v):
        if v not in METHODS:
            raise ValueError(f"unknown method{suggest(v, METHODS)}")
        return v


class ObservablesSection(Section):
    """What is measured, and when."""

    names: list[str] = Field(["density", "energy_density", "energy_current"], min_length=1,
                             description="observables (tnmbl.observables): {observables}")

    @field_validator("names")
    @classmethod
    def _known_names(cls, names):
        bad = []
        for nm in names:
            try:
                get_observable(nm)
            except TnmblError as exc:
                bad.append(f"{nm!r}: {rule_text(exc)}")
        if bad:
            raise ValueError("; ".join(bad))
        if len(set(names)) != len(names):
            raise ValueError("each observable may be listed once")
        return names
    output_dt: float | None = Field(None, gt=0, description="interval between output rows (default: at most "
                                    "100 rows, at least 4 steps apart); a multiple of dt")
    n_log: int | None = Field(None, ge=2, description="n_log log-spaced output times instead of output_dt, "
                              "every method (for relaxation functions such as phi, entanglement growth)")
    per_chain: list[str] | None = Field(None, description="classical: per-chain series written at every row "
                                        "(/per_chain/<name>, one column per chain): energy, charge, phi, "
                                        "total_current (for bootstrap errors, e.g. of t0)")
    green_kubo: GreenKuboSection | None = Field(None, description="classical: {{lag_max, sample_dt}}: per chain, "
                                                "the sums of J(t + tau) J(t) over all origins t (J the total current "
                                                "averaged over sample_dt, a multiple of dt; tau up to lag_max, a "
                                                "multiple of sample_dt), accumulated during the run instead of "
                                                "stored per step (/green_kubo of the results file; "
                                                "tnmbl.transport.green_kubo_accumulated)")


class CorrelationSection(Section):
    """A correlation run: infinite-temperature profiles <A_x(t) B_y> of one operator B_y evolved in
    operator space (operator TEBD with DAOE); the A are observables.names, and there is no state."""

    b: str = Field(description="the operator evolved: one of {operators} or a Hermitian site operator `onsite:OP` "
                   "(e.g. energy_current for the Green-Kubo kappa, density for D)")
    y: int | None = Field(None, ge=0, description="which of the b operators (index in its list; default the centre "
                          "one)")
    connected: bool = Field(True, description="subtract <A_x><B_y> (infinite temperature traces)")

    @field_validator("b")
    @classmethod
    def _known_operator(cls, v):
        if not (v in OPERATORS or (v.startswith("onsite:") and len(v) > 7)):
            raise ValueError(f"not an operator of correlation runs (or onsite:OP){suggest(v, OPERATORS)}")
        return v


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
            "observables": ObservablesSection, "output": OutputSection, "correlation": CorrelationSection}
#: keys of the evolution section that only correlation runs take
CORRELATION_ONLY = ("gamma", "l_star", "daoe_every")
REQUIRED_SECTIONS = ("model", "state", "evolution")
TOP_KEYS = tuple(SECTIONS) + ("seed", "description")


class RunConfig(BaseModel):
    """A validated run configuration. Build it with :func:`load_config` / :func:`validate_config`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelSection
    state: StateSection | None = None  # None: a correlation run (no state)
    evolution: EvolutionSection
    observables: ObservablesSection = ObservablesSection()
    output: OutputSection = OutputSection()
    correlation: CorrelationSection | None = None
    seed: int | None = None
    description: str = ""
    name: str = "run"

    def to_dict(self):
        """Plain nested dict (model parameters flattened into ``model``)."""
        out = {"description": self.description, "seed": self.seed}
        which = {"factory": self.model.factory} if self.model.factory else {"name": self.model.name}
        out["model"] = {**which, **self.model.params}
        for key in ("state", "evolution", "observables", "output", "correlation"):
            if getattr(self, key) is not None:
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

def suggest(value, known):
    """``; did you mean 'x'?`` for a close match among ``known``, else ``; known: a, b, c``."""
    known = list(known)
    close = difflib.get_close_matches(str(value), known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known: {', '.join(map(str, known))}"


def rule_text(exc):
    """The rule (and fix) of a tnmbl error, without its key and value: ``rule; fix``."""
    return exc.rule + (f"; {exc.fix}" if exc.fix else "") if exc.rule is not None else str(exc)


def problem(key, value=None, rule="", fix=None, *, given=True):
    """A :class:`Problem` at config path ``key``; ``given=False``: about a missing key or a whole
    section (``key: rule``, no value shown)."""
    if given:
        return Problem(key, value, rule, fix)
    return Problem(key, value, rule, fix, text=f"{key}: {rule}" + (f"; {fix}" if fix else ""))


def describe(text):
    """A field description with the registries filled in (``{models}``, ``{methods}``, ...)."""
    backends = "; ".join(f"{m}: {', '.join(b)}" for m, b in METHODS.items())
    return text.format(models=", ".join(f"`{m}`" for m in MODELS),
                       methods=", ".join(f"`{m}`" for m in METHODS),
                       backends=backends, states=", ".join(f"`{k}`" for k in STATE_KINDS),
                       operators=", ".join(f"`{k}`" for k in OPERATORS),
                       observables=", ".join(f"`{o}`" for o in list(OBSERVABLES) + list(ALIASES))
                       + ", `onsite:OP`, your own: registered with tnmbl.observables.register, or an import path "
                       "`package.module:NAME` of a tnmbl.observables.observable(...)")


def _path(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _union_tag(p):
    return isinstance(p, str) and ("[" in p or p in ("int", "str", "bool", "float"))


def pydantic_problems(section, cls, err):
    """The problems of a pydantic ``ValidationError`` of section ``cls``, at their dotted paths."""
    problems, by_path = [], {}
    for e in err.errors(include_url=False):
        # after the field name, union members appear as loc entries ('int', 'list[...]'): drop them
        raw_loc = list(e["loc"])
        loc = [section] + raw_loc[:1] + [p for p in raw_loc[1:] if not _union_tag(p)]
        path = _path(loc)
        kind = e["type"]
        if kind == "extra_forbidden":
            problems.append(problem(path, rule="unknown key" + suggest(loc[-1], cls.model_fields), given=False))
        elif kind == "missing":
            desc = cls.model_fields[loc[-1]].description if loc[-1] in cls.model_fields else ""
            desc = f" ({describe(desc)})" if desc else ""
            problems.append(problem(path, rule=f"required key is missing; add it{desc}", given=False))
        else:
            msg = e["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
            if path in by_path:  # one value failing every member of a union: one problem listing them
                old = problems[by_path[path]]
                problems[by_path[path]] = problem(path, old.value, f"{old.rule} or {msg.removeprefix('must be ')}")
            else:
                by_path[path] = len(problems)
                problems.append(problem(path, e.get("input"), msg))
    return problems
