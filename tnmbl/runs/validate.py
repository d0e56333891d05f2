"""Validation of run configs: a raw dict (from YAML) -> the resolved :class:`RunConfig`, or one
:class:`~tnmbl.errors.ConfigError` listing every problem (each a :class:`~tnmbl.errors.Problem`
with its dotted config ``key``, the ``value``, the ``rule`` and the ``fix``).

Order of the checks: each section alone (pydantic, :mod:`tnmbl.runs.sections`); the model
parameters against the factory's signature (:mod:`tnmbl.runs.model_params`); the cross-section
rules (time grid, method order, which state keys a kind takes); then, when the model is valid,
the chain, the initial state and the observables are built (cheap, no evolution) so that their
own checks become problems too. An error raised there carries its key as an attribute
(:class:`~tnmbl.errors.TnmblError`); it is moved to its config path here, never parsed from the
message. Nothing is computed before the whole config is valid.
"""

from __future__ import annotations

import difflib
import math
import secrets

from pydantic import ValidationError

from ..chain import Chain
from ..engines import METHODS, accepts, resolve_backend
from ..engines.methods import default_method, methods_for
from ..engines.operator_tebd import ORDERS as OPERATOR_ORDERS
from ..errors import ConfigError, Problem, TnmblError
from ..evolution import resolve_conserve
from ..evolution.correlations import OPERATORS
from ..evolution.operator_correlations import is_operator_name
from ..models import MODELS
from ..observables import get_observable
from ..states.kinds import STATE_KINDS, chain_kind
from .build import build_evolution, chain_from_params, state_from_section
from .checks import count, evolution_problems, output_dt_problems, state_problems, stop_when_problems
from .checks import n_rows as n_rows_of
from .model_params import is_number, model_problems
from .paths import output_path_problems
from .resources import estimate, resource_problems
from .sections import (
    CORRELATION_ONLY,
    MAX_STEPS,
    REQUIRED_SECTIONS,
    SECTIONS,
    TOP_KEYS,
    EvolutionSection,
    GreenKuboSection,
    ModelSection,
    ObservablesSection,
    OutputSection,
    RunConfig,
    StateSection,
    problem,
    pydantic_problems,
    suggest,
)


def _kind_keys():
    """Config keys that only methods of one kind of site type take (read from the method
    table's ``takes``): ``(section, key) -> kind``."""
    out = {}
    for sec in ("evolution", "observables"):
        for key in SECTIONS[sec].model_fields:
            kinds = {spec.site_kind for spec in METHODS.values() if key in spec.takes}
            if len(kinds) == 1:
                out[(sec, key)] = kinds.pop()
    return out


#: keys that apply to one kind of chain only: (section, key) -> kind (from the method table)
KIND_KEYS = _kind_keys()

#: the config path of an engine's error key (other keys: ``state.<key>``): every option some method
#: takes, at its section, and the few keys that name a whole section's choice
ENGINE_KEYS = {**{key: f"{sec}.{key}" for sec in ("evolution", "observables") for key in SECTIONS[sec].model_fields
                  if any(key in spec.takes for spec in METHODS.values())},
               "method": "evolution.method", "chain": "model.name", "observables": "observables.names",
               "state": "state.kind",
               **{f"green_kubo.{key}": f"observables.green_kubo.{key}" for key in GreenKuboSection.model_fields}}


def validate_sections(raw, classes, required=()):
    """Validate each section ``raw[name]`` with ``classes[name]`` (pydantic); return the valid
    sections and the problems. A section whose only fault is unknown keys is still returned
    (validated without them), so that the cross-checks run on the rest."""
    problems, sections = [], {}
    for key, cls in classes.items():
        if key not in raw:
            if key in required:
                problems.append(problem(key, rule="required section is missing", given=False))
            continue
        value = raw[key]
        if value is None and key not in required:
            continue
        if not isinstance(value, dict):
            problems.append(problem(key, value, "must be a mapping of keys to values"))
            continue
        try:
            sections[key] = cls.model_validate(value)
        except ValidationError as err:
            problems += pydantic_problems(key, cls, err)
            known = {k: v for k, v in value.items() if k in cls.model_fields}
            if cls.model_config.get("extra") == "forbid" and len(known) < len(value):
                try:  # only unknown keys were wrong: still run the cross-checks on the rest
                    sections[key] = cls.model_validate(known)
                except ValidationError:
                    pass
    return sections, problems


def validate_config(raw, *, name="run", check_build=True, config_path=None, max_memory=None) -> RunConfig:
    """Validate a config dict; return the resolved :class:`RunConfig` or raise :class:`ConfigError`.

    The resolved config has every default filled in: model parameters from the factory's
    signature, the seed (drawn if absent), backend, order, output_dt and conserve.
    With ``check_build`` the chain, the initial state and the observables are built (cheap,
    no evolution) so that their own checks are reported as config problems too, and the run's
    memory is estimated (:mod:`tnmbl.runs.resources`) and refused above ``max_memory`` (bytes;
    default: the machine's memory). ``config_path``: the file the config came from; the output
    paths are checked against it and the disk (:func:`~tnmbl.runs.paths.output_path_problems`).
    """
    if not isinstance(raw, dict):
        raise ConfigError([problem("config", raw, f"must be a mapping with sections {', '.join(TOP_KEYS)}")])
    problems = []
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(problem(key, raw[key], "unknown section" + suggest(key, TOP_KEYS), given=False))
    seed = raw.get("seed")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2 ** 63):
        problems.append(problem("seed", seed, "must be an integer in [0, 2**63) or null (drawn and recorded)"))
        seed = None
    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append(problem("description", description, "must be a string"))
        description = ""
    correlation_run = isinstance(raw.get("correlation"), dict)
    required = tuple(k for k in REQUIRED_SECTIONS if k != "state") if correlation_run else REQUIRED_SECTIONS
    sections, more = validate_sections(raw, SECTIONS, required)
    problems += more
    problems += correlation_problems(raw, sections)
    if seed is None and raw.get("seed") is None:
        seed = secrets.randbits(32)

    params, model_ok, assumed = None, False, None
    if "model" in sections:
        more, params = model_problems(sections["model"], seed)
        problems += more
        model_ok = not more
        close = difflib.get_close_matches(sections["model"].name, MODELS, n=1, cutoff=0.6) \
            if sections["model"].name is not None and sections["model"].factory is None else []
        if params is None and close:  # a typo in the name: check the rest against the closest model
            more, guessed = model_problems(sections["model"].model_copy(update={"name": close[0]}), seed)
            if not more:
                assumed, params = close[0], guessed
    n_total, resolved_ev = None, {}
    if "evolution" in sections:
        more, resolved_ev, n_total = evolution_problems(sections["evolution"])
        problems += more
    elif isinstance(raw.get("evolution"), dict):  # the section has other problems: still check the step count
        dt, t_final = raw["evolution"].get("dt", 0.05), raw["evolution"].get("t_final")
        if all(is_number(x) and math.isfinite(x) and x > 0 for x in (dt, t_final)) and not t_final / dt <= MAX_STEPS:
            problems.append(count("evolution.t_final", t_final, dt, "evolution.dt")[1])
    obs = sections.get("observables", ObservablesSection())
    output_dt = None
    if "evolution" in sections and "evolution.dt" not in {p.key for p in problems}:
        more, output_dt = output_dt_problems(obs, sections["evolution"], n_total)
        problems += more + stop_when_problems(obs, sections["evolution"])
    state_ok = False
    if "state" in sections:
        more = state_problems(sections["state"])
        problems += more
        state_ok = not more
    conserve = None
    if "output" in sections:
        problems += output_path_problems(sections["output"], config_path)
    if check_build and (model_ok or assumed) and correlation_run:
        bad = {p.key for p in problems}
        more, conserve = _correlation_build_problems(sections, params, bad, name=assumed, n_total=n_total,
                                                     n_rows=n_rows_of(n_total, output_dt, sections),
                                                     max_memory=max_memory)
        problems += more
        resolved_ev["backend"] = "tenpy"
    elif check_build and (model_ok or assumed):
        bad = {p.key for p in problems}
        more, conserve, backend = _build_problems(sections, params, state_ok, bad, name=assumed,
                                                  n_total=n_total, n_rows=n_rows_of(n_total, output_dt, sections),
                                                  max_memory=max_memory)
        if assumed:
            more = [Problem(p.key, p.value, p.rule, p.fix, text=f"{p} (checked as model {assumed!r}, the closest "
                            "known name)") for p in more]
        problems += more
        if backend is not None:
            resolved_ev["backend"] = backend
    if problems:
        raise ConfigError(problems)

    ev = sections["evolution"].model_copy(update=resolved_ev)
    if METHODS[ev.method].probe == "batch":  # a classical batch: the MPS keys do not apply (dropped from the dump)
        ev = ev.model_copy(update={"chi_max": None, "svd_cutoff": None, "conserve": None})
    if conserve is not None:
        ev = ev.model_copy(update={"conserve": conserve})
    output = sections.get("output", OutputSection())
    if output.path is None:
        output = output.model_copy(update={"path": f"out/{name}.h5"})
    which = {"factory": sections["model"].factory} if sections["model"].factory else {"name": sections["model"].name}
    corr = sections.get("correlation")
    if corr is not None:
        names = obs.names if "names" in obs.model_fields_set else [corr.b]  # default: the autocorrelation
        obs = obs.model_copy(update={"names": names})
        ev = ev.model_copy(update={"gamma": ev.gamma or 0.0, "daoe_every": ev.daoe_every or 1})
    return RunConfig(model=ModelSection(**which, **params), state=sections.get("state"),
                     evolution=ev, observables=obs.model_copy(update={"output_dt": output_dt}),
                     output=output, seed=seed, description=description, name=name, correlation=corr)


# ---------------------------------------------------------------- building (chain, state, engine)

def _state_error(exc, st: StateSection):
    """The problem a state factory's error stands for, at its ``state`` key."""
    key = STATE_KINDS[st.kind].config_key(exc.key) if exc.key else None
    if key == "kind":  # the state does not fit the chain
        return problem("state.kind", st.kind, exc.rule, exc.fix)
    return Problem.from_error(exc, "state", key=key)


def _build_problems(sections, params, state_ok, bad, *, name=None, n_total=None, n_rows=1, max_memory=None):
    """Build chain, state and observables (cheap, no evolution); their errors as problems; the
    resources the run needs, refused above the limits (before anything sized by them is built).
    ``bad``: the config keys with a problem already; the engine is built without them (a valid
    stand-in), so that its own checks still run and nothing is reported twice."""
    name = name or sections["model"].key
    try:
        chain = chain_from_params(name, params)
    except TnmblError as exc:
        return [Problem.from_error(exc, "model")], None, None
    except (TypeError, ValueError) as exc:  # a parameter combination the checks above let through
        return [problem("model", name, f"the factory refused these parameters ({type(exc).__name__}: {exc})")], \
            None, None
    except Exception as exc:  # a user's factory failing in its own way
        if sections["model"].factory is None:
            raise
        return [problem("model.factory", name, f"raised {type(exc).__name__}: {exc}",
                        "fix the factory, or the parameters given to it")], None, None
    if not isinstance(chain, Chain):
        return [problem("model.factory", name, f"returned a {type(chain).__name__}, not a tnmbl.chain.Chain",
                        "return a Chain (see tnmbl.chain and the README's 'your own model')")], None, None
    problems = []
    backend, method_ok = None, True
    ev = sections.get("evolution")
    if ev is not None:
        backend = resolve_backend(ev.method, chain, ev.chi_max, ev.backend, ev.array_backend, ev.conserve)
        if backend not in METHODS[ev.method]:
            backend, method_ok = None, False  # reported by _evolution_problems
        else:
            ok, reason = accepts(ev.method, chain, backend)
            if not ok:
                usable = [m for m in methods_for(chain) if accepts(m, chain)[0]]
                problems.append(problem("evolution.method", ev.method, reason,
                                        f"use evolution.method = {usable[0]}" if usable else None))
                method_ok = False
    obs = sections.get("observables", ObservablesSection())
    for i, nm in enumerate(obs.names):
        try:
            observable = get_observable(nm, chain)
        except TnmblError as exc:
            problems.append(problem(f"observables.names[{i}]", nm, exc.rule, exc.fix))
            continue
        if len(observable.positions(chain)) == 0:  # e.g. energy_current on L = 2: a results column of width 0
            problems.append(problem(f"observables.names[{i}]", nm, f"has no position to measure on this chain "
                                    f"(L = {chain.L}, {observable.dim}s)", "drop it, or use a longer chain"))
    kind = chain_kind(chain)
    st = sections.get("state")
    if st is not None and kind not in STATE_KINDS[st.kind].chains:
        usable = [k for k, spec in STATE_KINDS.items() if kind in spec.chains]
        problems.append(problem("state.kind", st.kind, f"not a state of a {kind} chain (model {name!r}); "
                                f"{kind} chains take: {', '.join(usable)}", f"use state.kind = {usable[0]}"))
        state_ok = False
    if st is not None and st.M is not None and "M" in STATE_KINDS[st.kind].takes() \
            and "M" not in STATE_KINDS[st.kind].takes(kind):
        problems.append(problem("state.M", st.M, "the number of chains of a classical batch; a quantum run evolves "
                                "one state", "drop M, or run an ensemble with tnmbl sweep"))
    problems += _kind_key_problems(sections, kind)
    if method_ok:  # resources first: nothing sized by the config is built above the limits
        est = estimate(chain, st, ev or EvolutionSection(method=default_method(chain), t_final=0), obs,
                       n_total or 0, n_rows)
        output = sections.get("output")
        more = resource_problems(est, max_memory=max_memory, results_path=output.path if output else None)
        if more:
            return problems + more, None, backend
    if not state_ok or not method_ok:
        return problems, None, backend
    if ev is not None and METHODS[ev.method].probe == "batch":  # cheap to build: the engine's own checks
        return problems + _batch_problems(sections, chain, bad | {p.key for p in problems}), None, backend
    try:
        state = state_from_section(st, chain, preview=True)
    except TnmblError as exc:
        return problems + [_state_error(exc, st)], None, backend
    if ev is None:
        return problems, None, backend
    if getattr(state, "mixed", False) and not METHODS[ev.method].takes_mixed:  # purification TEBD, dense, NumPy
        for key, value, ok in (("backend", ev.backend, (None, "tenpy")), ("conserve", ev.conserve, ("auto", False)),
                               ("array_backend", ev.array_backend, (None, "numpy"))):
            if value not in ok:
                problems.append(problem(f"evolution.{key}", value, "a mixed bubble runs on TeNPy's purification "
                                        "TEBD (dense, NumPy)", f"use {key}: {ok[-1] if key != 'conserve' else 'auto'}"
                                        " or leave it out"))
        return problems, False, "tenpy"
    try:
        conserve = resolve_conserve(chain, state, ev.conserve, METHODS[ev.method][backend])
    except TnmblError as exc:
        return problems + [Problem.from_error(exc, "evolution")], None, backend
    return problems, conserve, backend


def _kind_key_problems(sections, kind):
    problems = []
    for (sec, key), only in KIND_KEYS.items():
        section = sections.get(sec)
        if section is not None and key in section.model_fields_set and only != kind:
            problems.append(problem(f"{sec}.{key}", getattr(section, key), f"applies to {only} chains only "
                                    f"(this model is {kind})", "drop it"))
    ev = sections.get("evolution")
    if ev is not None and not problems:  # a key of the right kind of chain that this method does not take
        spec = METHODS[ev.method]
        for key in sorted(ev.model_fields_set):
            if key in ENGINE_KEYS and ENGINE_KEYS[key] == f"evolution.{key}" and key not in spec.takes \
                    and any(key in s.takes for s in METHODS.values()) and getattr(ev, key) is not None:
                takers = [m for m, s in METHODS.items() if key in s.takes and s.site_kind == spec.site_kind]
                problems.append(problem(f"evolution.{key}", getattr(ev, key), f"not taken by method {ev.method!r}",
                                        f"drop it, or use a method that takes it ({', '.join(takers) or 'none'})"))
    obs = sections.get("observables")
    if obs is not None and obs.n_log is not None and obs.output_dt is not None:
        problems.append(problem("observables.n_log", obs.n_log, "give either output_dt or n_log, not both"))
    return problems


def _engine_error(exc, sections):
    """The problem a classical engine's error stands for, at its config path (:data:`ENGINE_KEYS`)."""
    if exc.key == "observable":  # one of the names
        names = sections.get("observables", ObservablesSection()).names
        path = f"observables.names[{names.index(exc.value)}]" if exc.value in names else "observables.names"
        return problem(path, exc.value, exc.rule, exc.fix)
    if exc.key == "chain":
        m = sections["model"]
        return problem("model.factory" if m.factory else "model.name", m.key, exc.rule, exc.fix)
    if exc.key == "state":
        return problem("state.kind", sections["state"].kind, exc.rule, exc.fix)
    return Problem.from_error(exc, key=ENGINE_KEYS.get(exc.key, f"state.{exc.key}"))


def _batch_problems(sections, chain, bad):
    """Build the classical batch state (its starting point if it needs compute) and the
    evolution, without evolving: the engine's own checks (stability bound, phi needs beta, ...)
    as problems. Keys in ``bad`` already have a problem: a valid stand-in replaces them (an
    ``output_dt`` that is no multiple of ``dt`` must not hide the ``dt`` stability refusal)."""
    st = sections["state"]
    try:  # a few chains stand for the batch: its checks do not depend on M, its memory does
        state = state_from_section(st.model_copy(update={"M": min(st.M, 2)}) if st.M else st, chain, preview=True)
    except TnmblError as exc:  # e.g. Langevin thermalization of a DNLS chain
        return [_state_error(exc, st)]
    ev, obs = sections["evolution"], sections.get("observables", ObservablesSection())
    if "evolution.t_final" in bad:
        ev = ev.model_copy(update={"t_final": ev.dt})
    if "observables.output_dt" in bad or "evolution.t_final" in bad:
        obs = obs.model_copy(update={"output_dt": None})
    names = [nm for i, nm in enumerate(obs.names) if f"observables.names[{i}]" not in bad]
    if not names:
        return []
    obs = obs.model_copy(update={"names": names})
    try:
        build_evolution(chain, state, ev, obs)
    except TnmblError as exc:
        p = _engine_error(exc, sections)
        return [] if p.key in bad else [p]
    return []


# ---------------------------------------------------------------- correlation runs (operator evolution)

#: the config path of an error of the correlation driver (:class:`OperatorEvolution`), by the error's key
CORRELATION_KEYS = {"b": "correlation.b", "operator": "correlation.b", "y": "correlation.y",
                    "method": "evolution.method", "model": "model.name", "chain": "model.name"}
#: evolution keys a correlation run does not take (TeNPy operator TEBD, dense measurement)
NOT_CORRELATION = ("backend", "array_backend", "threads", "stop_when", "energy_tolerance", "noise_rate")


def correlation_problems(raw, sections):
    """The cross-section rules of correlation runs (the ``correlation`` section): no state; the
    Trotter method ``tebd2`` / ``tebd4`` on TeNPy; the operators A (``observables.names``) from
    the correlation operators; DAOE keys only in correlation runs."""
    ev, obs = sections.get("evolution"), sections.get("observables")
    if not isinstance(raw.get("correlation"), dict):
        return [problem(f"evolution.{k}", getattr(ev, k), "applies to correlation runs only (operator evolution "
                        "with DAOE)", "drop it, or add a correlation section") for k in CORRELATION_ONLY
                if ev is not None and getattr(ev, k) is not None]
    problems = []
    if "state" in raw:
        problems.append(problem("state", raw["state"], "a correlation run has no initial state: it evolves the "
                                "operator correlation.b at infinite temperature", "drop the state section"))
    if ev is not None:
        if ev.method not in OPERATOR_ORDERS:
            problems.append(problem("evolution.method", ev.method, "correlation runs evolve the operator by "
                                    f"Suzuki-Trotter TEBD: one of {', '.join(OPERATOR_ORDERS)}",
                                    "use evolution.method = tebd4 (or tebd2)"))
        for key in NOT_CORRELATION:
            value = getattr(ev, key)
            if value is not None and not (key == "backend" and value == "tenpy"):
                problems.append(problem(f"evolution.{key}", value, "not taken by correlation runs (operator TEBD "
                                        "on TeNPy)", "drop it"))
        if ev.gamma and ev.l_star is None:
            problems.append(problem("evolution.l_star", None, "DAOE (gamma > 0) needs the string length l_star "
                                    "left undamped", "e.g. evolution.l_star = 2 (>= 2 keeps the energy density)"))
    if obs is not None:
        for i, nm in enumerate(obs.names):
            if not is_operator_name(nm):
                problems.append(problem(f"observables.names[{i}]", nm, "correlation runs measure the profiles "
                                        f"<A_x(t) B_y> of A in {', '.join(OPERATORS)} or onsite:OP",
                                        "use one of those (entanglement and onsite:... are state observables)"))
        if obs.per_chain is not None:
            problems.append(problem("observables.per_chain", obs.per_chain, "classical batches only", "drop it"))
    return problems


def _correlation_build_problems(sections, params, bad, *, name=None, n_total=None, n_rows=1, max_memory=None):
    """Build the chain and the correlation driver (the operator MPS, no evolution): their errors as
    problems at their config paths; the memory estimate (operator space: local dimension d^2).
    Returns ``(problems, conserve)``."""
    name = name or sections["model"].key
    try:
        chain = chain_from_params(name, params)
    except TnmblError as exc:
        return [Problem.from_error(exc, "model")], None
    except (TypeError, ValueError) as exc:
        return [problem("model", name, f"the factory refused these parameters ({type(exc).__name__}: {exc})")], None
    ev, obs, corr = sections.get("evolution"), sections.get("observables", ObservablesSection()), \
        sections.get("correlation")
    if ev is None or corr is None or any(k.startswith(("evolution.method", "evolution.gamma", "evolution.l_star",
                                                       "evolution.daoe_every", "observables.names",
                                                       "correlation.")) for k in bad):
        return [], None
    est = estimate(chain, None, ev, obs, n_total or 0, n_rows, operator=True)
    output = sections.get("output")
    more = resource_problems(est, max_memory=max_memory, results_path=output.path if output else None)
    if more:
        return more, None
    if "evolution.t_final" in bad or "observables.output_dt" in bad:
        ev = ev.model_copy(update={"t_final": ev.dt})
        obs = obs.model_copy(update={"output_dt": None})
    try:
        driver = build_evolution(chain, None, ev, obs, corr=corr)
    except TnmblError as exc:
        return [correlation_problem(exc, obs, corr)], None
    return [], driver.conserve


def correlation_problem(exc, obs, corr):
    """The problem an error of the correlation driver stands for, at its config path."""
    names = obs.names if "names" in obs.model_fields_set else [corr.b]
    if exc.key == "a":
        path = f"observables.names[{names.index(exc.value)}]" if exc.value in names else "observables.names"
        return problem(path, exc.value, exc.rule, exc.fix)
    return Problem.from_error(exc, key=CORRELATION_KEYS.get(exc.key, f"evolution.{exc.key}"))
