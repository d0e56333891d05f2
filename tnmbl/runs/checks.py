"""The cross-section checks of run configs that need no chain: the time grid (through the one
t/dt rule, :func:`tnmbl.timegrid.n_steps`), the method's order and largest dt (from the method
table), the output grid and which state keys a kind takes. :mod:`tnmbl.runs.validate` calls them
and then builds the chain, state and engine for the checks that need them."""

from __future__ import annotations

from ..engines import ARRAY_BACKENDS, METHODS
from ..errors import OptionError, Problem, TnmblError
from ..states.kinds import STATE_KINDS, user_factory
from ..timegrid import default_every, n_steps
from .model_params import params_problems, signature_of
from .sections import MAX_OUTPUTS, EvolutionSection, ObservablesSection, StateSection, problem, suggest


def count(key, t, dt, dt_key="dt"):
    """``t / dt`` as a step count by :func:`tnmbl.timegrid.n_steps` (the one t/dt rule, with its
    bound :data:`MAX_STEPS`), or the problem its error stands for, at config path ``key``."""
    try:
        return n_steps(key, t, dt, dt_key=dt_key, minimum=0 if key == "evolution.t_final" else 1), None
    except OptionError as exc:
        return None, Problem.from_error(exc)


def evolution_problems(ev: EvolutionSection):
    problems, resolved = [], {}
    spec = METHODS[ev.method]
    backend = ev.backend  # None: resolved by size once the chain is built (_build_problems)
    if backend is not None and backend not in spec:
        problems.append(problem("evolution.backend", backend, f"method {ev.method!r} runs on "
                                f"{', '.join(spec.backends)}{suggest(backend, spec.backends)}",
                                f"use evolution.backend = {spec.backends[0]}"))
    if ev.array_backend is not None:
        allowed = ARRAY_BACKENDS.get(backend, ("numpy",)) if backend is not None else \
            sorted({a for arrays in ARRAY_BACKENDS.values() for a in arrays})
        if ev.array_backend not in allowed:
            problems.append(problem("evolution.array_backend", ev.array_backend,
                                    f"backend {backend or 'any'!r} runs on {', '.join(allowed)}",
                                    "use backend: quimb for torch / cupy arrays"))
    if ev.order is not None and ev.order != spec.order:
        rule = f"method {ev.method!r} is of order {spec.order}" if spec.order is not None else \
            f"method {ev.method!r} has no time-step error (no order)"
        problems.append(problem("evolution.order", ev.order, rule, "use the method of that order or drop 'order'"))
    resolved["order"] = spec.order
    if spec.max_dt is not None and ev.dt > spec.max_dt:  # the multiples of a refused dt are not checked
        problems.append(problem("evolution.dt", ev.dt, f"unreasonably large for {ev.method} (at most "
                                f"{spec.max_dt:g})", f"use evolution.dt = {spec.max_dt:g} or smaller"))
        return problems, resolved, None
    n, bad = count("evolution.t_final", ev.t_final, ev.dt, "evolution.dt")
    if bad:
        problems.append(bad)
    return problems, resolved, n


def output_dt_problems(obs: ObservablesSection, ev: EvolutionSection, n_total):
    if obs.n_log is not None:
        return [], None
    if obs.output_dt is None:
        n_out = default_every(n_total or 0)
        return [], n_out * ev.dt
    n_out, bad = count("observables.output_dt", obs.output_dt, ev.dt, "evolution.dt")
    if bad:
        return [bad], None
    if n_total is not None and n_total // max(n_out, 1) > MAX_OUTPUTS:
        least = -(-n_total // MAX_OUTPUTS) * ev.dt
        return [problem("observables.output_dt", obs.output_dt, f"gives more than {MAX_OUTPUTS} output rows",
                        f"use observables.output_dt = {least:.10g} or larger (a multiple of dt)")], None
    return [], obs.output_dt


def state_problems(st: StateSection):
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
    if st.t_th is not None:
        problems += [bad for bad in [count("state.t_th", st.t_th, st.langevin_dt or 0.01, "state.langevin_dt")[1]]
                     if bad]
    if st.kind == "factory" and st.factory is not None:
        problems += _factory_problems(st)
    if st.region is not None and len(st.region) != 2:
        problems.append(problem("state.region", st.region, "must be [a, b], two site indices"))
    return problems


def n_rows(n_total, output_dt, sections):
    """About how many output rows the run writes (for the results file's size)."""
    obs, ev = sections.get("observables", ObservablesSection()), sections.get("evolution")
    if obs.n_log is not None:
        return obs.n_log
    if n_total is None or ev is None or not output_dt:
        return 1
    return n_total // max(1, round(output_dt / ev.dt)) + 1


def stop_when_problems(obs: ObservablesSection, ev: EvolutionSection):
    """The stop rule tests an observable the run measures."""
    if ev.stop_when is None or ev.stop_when.observable in obs.names:
        return []
    return [problem("evolution.stop_when.observable", ev.stop_when.observable, "is not measured by this run",
                    f"use one of observables.names ({', '.join(obs.names)}) or add it there")]


def _factory_problems(st: StateSection):
    """The user's state factory resolves, and ``args`` fit its signature (after the chain)."""
    try:
        factory = user_factory(st.factory)
        sig = signature_of(factory, skip=1)
    except TnmblError as exc:
        return [problem("state.factory", st.factory, exc.rule, exc.fix)]
    except (TypeError, ValueError) as exc:
        return [problem("state.factory", st.factory, f"has no readable signature ({exc})",
                        "name a Python function factory(chain, **args)")]
    if "seed" not in (st.args or {}):
        sig.pop("seed", None)  # the run's seed reaches it
    return params_problems(sig, st.args or {}, "state.args", f"state factory {st.factory!r}")[0]
