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

import math
import secrets

from pydantic import ValidationError

from ..engines import ARRAY_BACKENDS, METHODS, accepts, resolve_backend
from ..errors import ConfigError, Problem, TnmblError
from ..evolution import resolve_conserve
from ..observables import get_observable
from ..states.kinds import STATE_KINDS, chain_kind
from ..timegrid import default_every
from .build import build_evolution, chain_from_params, state_from_section
from .model_params import is_number, model_problems
from .sections import (
    MAX_DT,
    MAX_OUTPUTS,
    MAX_STEPS,
    REQUIRED_SECTIONS,
    SECTIONS,
    TOP_KEYS,
    EvolutionSection,
    ModelSection,
    ObservablesSection,
    OutputSection,
    RunConfig,
    StateSection,
    problem,
    pydantic_problems,
    suggest,
)

#: keys that apply to one kind of chain only: (section, key) -> kind
KIND_KEYS = {("evolution", "chi_max"): "quantum", ("evolution", "svd_cutoff"): "quantum",
             ("evolution", "conserve"): "quantum", ("evolution", "array_backend"): "quantum",
             ("evolution", "energy_tolerance"): "classical", ("evolution", "noise_rate"): "classical",
             ("observables", "per_chain"): "classical"}

#: the config path of a classical engine's error key (other keys: ``state.<key>``)
ENGINE_KEYS = {"dt": "evolution.dt", "method": "evolution.method", "t_final": "evolution.t_final",
               "noise_rate": "evolution.noise_rate", "energy_tolerance": "evolution.energy_tolerance",
               "chain": "model.name", "observables": "observables.names", "output_dt": "observables.output_dt",
               "n_log": "observables.n_log", "per_chain": "observables.per_chain", "state": "state.kind"}

#: integrator order implied by a method
IMPLIED_ORDER = {"tebd2": 2, "tebd4": 4, "leapfrog": 2, "yoshida4": 4, "split2": 2, "split4": 4}


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


def validate_config(raw, *, name="run", check_build=True) -> RunConfig:
    """Validate a config dict; return the resolved :class:`RunConfig` or raise :class:`ConfigError`.

    The resolved config has every default filled in: model parameters from the factory's
    signature, the seed (drawn if absent), backend, order, output_dt and conserve.
    With ``check_build`` the chain, the initial state and the observables are built (cheap,
    no evolution) so that their own checks are reported as config problems too.
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
    sections, more = validate_sections(raw, SECTIONS, REQUIRED_SECTIONS)
    problems += more
    if seed is None and raw.get("seed") is None:
        seed = secrets.randbits(32)

    params, model_ok = None, False
    if "model" in sections:
        more, params = model_problems(sections["model"], seed)
        problems += more
        model_ok = not more
    n_total, resolved_ev = None, {}
    if "evolution" in sections:
        more, resolved_ev, n_total = _evolution_problems(sections["evolution"])
        problems += more
    elif isinstance(raw.get("evolution"), dict):  # the section has other problems: still check the step count
        dt, t_final = raw["evolution"].get("dt", 0.05), raw["evolution"].get("t_final")
        if all(is_number(x) and math.isfinite(x) and x > 0 for x in (dt, t_final)):
            n, bad = _steps("evolution.t_final", t_final, dt)
            if n is not None and n > MAX_STEPS:
                problems.append(_too_many_steps(t_final, n))
    obs = sections.get("observables", ObservablesSection())
    output_dt = None
    if "evolution" in sections:
        more, output_dt = _output_dt(obs, sections["evolution"], n_total)
        problems += more + _stop_when_problems(obs, sections["evolution"])
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


# ---------------------------------------------------------------- cross-section checks

def _steps(path, t, dt):
    """``t / dt`` as an integer, or the problem that it is not one."""
    n = t / dt
    if abs(n - round(n)) > 1e-9 * max(1.0, abs(n)):
        return None, problem(path, t, f"must be a multiple of evolution.dt ({path} / dt = {t} / {dt} = {n:.6g})",
                             f"use {round(n) * dt:.6g} or a dt that divides it")
    return int(round(n)), None


def _too_many_steps(t_final, n):
    return problem("evolution.t_final", t_final, f"t_final / dt = {n} steps is above the limit {MAX_STEPS}",
                   "use a larger dt or split the run (tnmbl resume --t-final)")


def _evolution_problems(ev: EvolutionSection):
    problems, resolved = [], {}
    backends = METHODS[ev.method]
    backend = ev.backend  # None: resolved by size once the chain is built (_build_problems)
    if backend is not None and backend not in backends:
        problems.append(problem("evolution.backend", backend, f"method {ev.method!r} runs on "
                                f"{', '.join(backends)}{suggest(backend, backends)}"))
    if ev.array_backend is not None:
        allowed = ARRAY_BACKENDS.get(backend, ("numpy",)) if backend is not None else \
            sorted({a for arrays in ARRAY_BACKENDS.values() for a in arrays})
        if ev.array_backend not in allowed:
            problems.append(problem("evolution.array_backend", ev.array_backend,
                                    f"backend {backend or 'any'!r} runs on {', '.join(allowed)}",
                                    "use backend: quimb for torch / cupy arrays"))
    implied = IMPLIED_ORDER.get(ev.method)
    if ev.order is not None and implied is not None and ev.order != implied:
        problems.append(problem("evolution.order", ev.order, f"method {ev.method!r} is of order {implied}",
                                "use the method of that order or drop 'order'"))
    resolved["order"] = ev.order if ev.order is not None else implied
    if ev.method in MAX_DT and ev.dt > MAX_DT[ev.method]:
        problems.append(problem("evolution.dt", ev.dt, f"unreasonably large for {ev.method} (at most "
                                f"{MAX_DT[ev.method]:g})", "use a smaller dt"))
    n, bad = _steps("evolution.t_final", ev.t_final, ev.dt)
    if bad:
        problems.append(bad)
    elif n > MAX_STEPS:
        problems.append(_too_many_steps(ev.t_final, n))
    return problems, resolved, n


def _output_dt(obs: ObservablesSection, ev: EvolutionSection, n_total):
    if obs.n_log is not None:
        return [], None
    if obs.output_dt is None:
        n_out = default_every(n_total or 0)
        return [], n_out * ev.dt
    n_out, bad = _steps("observables.output_dt", obs.output_dt, ev.dt)
    if bad:
        return [bad], None
    if n_total is not None and n_total // max(n_out, 1) > MAX_OUTPUTS:
        return [problem("observables.output_dt", obs.output_dt, f"gives more than {MAX_OUTPUTS} output rows",
                        "use a larger output_dt")], None
    return [], obs.output_dt


def _stop_when_problems(obs: ObservablesSection, ev: EvolutionSection):
    """The stop rule tests an observable the run measures."""
    if ev.stop_when is None or ev.stop_when.observable in obs.names:
        return []
    return [problem("evolution.stop_when.observable", ev.stop_when.observable, "is not measured by this run",
                    f"use one of observables.names ({', '.join(obs.names)}) or add it there")]


def _state_problems(st: StateSection):
    kind = STATE_KINDS[st.kind]  # an unknown kind failed the section's own validation
    allowed = kind.takes()
    problems = []
    for key in StateSection.model_fields:
        if key != "kind" and getattr(st, key) is not None and key not in allowed:
            problems.append(problem(f"state.{key}", getattr(st, key), f"not used by state kind {st.kind!r} "
                                    f"(it takes: {', '.join(allowed)})"))
    for key in kind.required:
        if getattr(st, key) is None:
            problems.append(problem(f"state.{key}", rule=f"required by state kind {st.kind!r} is missing",
                                    given=False))
    if st.kind == "product" and (st.occupations is None) == (st.spins is None):
        problems.append(problem("state", rule="kind 'product' takes exactly one of 'occupations' (bosons) or "
                                "'spins' (spin-1/2)", given=False))
    if st.region is not None and len(st.region) != 2:
        problems.append(problem("state.region", st.region, "must be [a, b], two site indices"))
    return problems


def _state_error(exc, st: StateSection):
    """The problem a state factory's error stands for, at its ``state`` key."""
    key = STATE_KINDS[st.kind].config_key(exc.key) if exc.key else None
    if key == "kind":  # the state does not fit the chain
        return problem("state.kind", st.kind, exc.rule, exc.fix)
    return Problem.from_error(exc, "state", key=key)


def _build_problems(sections, params, state_ok, clean=True):
    """Build chain, state and observables (cheap, no evolution); their errors as problems.
    ``clean``: nothing else was wrong so far (the classical engine checks run only then, so
    that e.g. an output_dt that is no multiple of dt is not reported twice)."""
    name = sections["model"].name
    try:
        chain = chain_from_params(name, params)
    except TnmblError as exc:
        return [Problem.from_error(exc, "model")], None, None
    except (TypeError, ValueError) as exc:  # a parameter combination the checks above let through
        return [problem("model", name, f"the factory refused these parameters ({type(exc).__name__}: {exc})")], \
            None, None
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
                problems.append(problem("evolution.method", ev.method, reason))
    obs = sections.get("observables", ObservablesSection())
    for i, nm in enumerate(obs.names):
        try:
            get_observable(nm, chain)
        except TnmblError as exc:
            problems.append(problem(f"observables.names[{i}]", nm, exc.rule, exc.fix))
    kind = chain_kind(chain)
    st = sections.get("state")
    if st is not None and kind not in STATE_KINDS[st.kind].chains:
        usable = [k for k, spec in STATE_KINDS.items() if kind in spec.chains]
        problems.append(problem("state.kind", st.kind, f"not a state of a {kind} chain (model {name!r}); "
                                f"{kind} chains take: {', '.join(usable)}"))
        state_ok = False
    if st is not None and kind == "quantum" and st.M is not None:
        problems.append(problem("state.M", st.M, "the number of chains of a classical batch; a quantum run evolves "
                                "one state", "drop M, or run an ensemble with tnmbl sweep"))
    problems += _kind_key_problems(sections, kind)
    if kind == "classical":  # the engine's own checks, once the rest is valid
        if clean and not problems and state_ok and "evolution" in sections:
            problems += _classical_problems(sections, chain)
        return problems, None, "numba" if backend is not None else None
    if not state_ok:
        return problems, None, backend
    try:
        state = state_from_section(st, chain)
    except TnmblError as exc:
        return problems + [_state_error(exc, st)], None, backend
    if "evolution" not in sections:
        return problems, None, backend
    if getattr(state, "mixed", False):  # a mixed bubble runs on TeNPy's purification TEBD, dense, on NumPy
        ev = sections["evolution"]
        for key, value, ok in (("backend", ev.backend, (None, "tenpy")), ("conserve", ev.conserve, ("auto", False)),
                               ("array_backend", ev.array_backend, (None, "numpy"))):
            if value not in ok:
                problems.append(problem(f"evolution.{key}", value, "a mixed bubble runs on TeNPy's purification "
                                        "TEBD (dense, NumPy)", f"use {key}: {ok[-1] if key != 'conserve' else 'auto'}"
                                        " or leave it out"))
        return problems, False, "tenpy"
    engine_cls = METHODS[sections["evolution"].method][backend] if backend is not None else None
    try:
        conserve = resolve_conserve(chain, state, sections["evolution"].conserve, engine_cls)
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
        return problem("model.name", sections["model"].name, exc.rule, exc.fix)
    if exc.key == "state":
        return problem("state.kind", sections["state"].kind, exc.rule, exc.fix)
    return Problem.from_error(exc, key=ENGINE_KEYS.get(exc.key, f"state.{exc.key}"))


def _classical_problems(sections, chain):
    """Build the classical state (its starting point if it needs compute) and the evolution,
    without evolving: the engines' own checks (stability bound, phi needs beta, ...) as problems."""
    st = sections["state"]
    try:
        state = state_from_section(st, chain, preview=True)
    except TnmblError as exc:  # e.g. Langevin thermalization of a DNLS chain
        return [_state_error(exc, st)]
    try:
        build_evolution(chain, state, sections["evolution"], sections.get("observables", ObservablesSection()))
    except TnmblError as exc:
        return [_engine_error(exc, sections)]
    return []
