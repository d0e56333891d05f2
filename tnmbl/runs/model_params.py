"""Model parameters of run configs: each factory's signature is its schema.

The ``model`` section names a factory in :data:`tnmbl.models.MODELS` (``name``), or the user's
own (``factory: "package.module:callable"``, imported here with :func:`tnmbl.factories.import_factory`);
every other key is one of its keyword arguments. A parameter's type is its annotation in the factory's signature
(``g: float``: a finite number; ``eps: Sequence[float] | None``: one number per site or null;
``bath: tuple[int, int]``: two integers), or, without one, the type of its default. A parameter
named ``seed`` is a random seed (default: the run's). Sizes are bounded by
:data:`~tnmbl.runs.sections.PARAM_LIMITS`, strengths by :data:`~tnmbl.runs.sections.MAX_STRENGTH`.
"""

from __future__ import annotations

import inspect
import math
import types
import typing
from collections.abc import Sequence

from ..errors import TnmblError
from ..factories import import_factory
from ..models import MODELS
from .sections import MAX_STRENGTH, PARAM_LIMITS, ModelSection, problem, suggest

#: parameter kind of a plain annotation
_PLAIN_KINDS = {bool: "bool", int: "int", float: "float", str: "str"}

REQUIRED = object()
"""The default of a parameter without one (it must be given)."""


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


def _kind_of_annotation(hint):
    """``int``, ``float``, ``float?`` (or null), ``array`` (numbers, or null), ``pair``, ... or ``None``."""
    if hint in _PLAIN_KINDS:
        return _PLAIN_KINDS[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        return "pair"
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if rest == [float]:
            return "float?"
        if len(rest) == 1 and typing.get_origin(rest[0]) in (list, Sequence):
            return "array"
    return None


def model_factory(key):
    """The model factory ``key`` selects: a name in :data:`~tnmbl.models.MODELS`, or an import path
    ``"package.module:callable"`` (an ``OptionError`` at ``model.factory`` if it does not resolve)."""
    if key in MODELS:
        return MODELS[key]
    return import_factory(key, "model.factory")


def model_signature(name):
    """``{param: (kind, default)}`` of the factory ``name`` (a model name or an import path);
    ``default`` is ``REQUIRED`` if none. The kind comes from the annotation (the default's type
    without one); ``seed`` is a seed."""
    return signature_of(model_factory(name))


def signature_of(factory, skip=0):
    """``{param: (kind, default)}`` of any callable (its first ``skip`` parameters left out: a
    state factory's chain), as :func:`model_signature`."""
    try:
        hints = typing.get_type_hints(factory)
    except Exception:  # a user's annotation that does not evaluate: fall back to the defaults' types
        hints = {}
    out = {}
    for p in list(inspect.signature(factory).parameters.values())[skip:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = REQUIRED if p.default is inspect.Parameter.empty else p.default
        kind = "seed" if p.name == "seed" else _kind_of_annotation(hints.get(p.name))
        if kind is None:
            kind = "any" if default is REQUIRED else _kind_of_default(default)
        out[p.name] = (kind, default)
    return out


def is_number(v):
    """A real number (``bool`` is not)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _rule(name, kind, value):
    """The rule ``value`` of parameter ``name`` (of kind ``kind``) breaks, or ``None``."""
    if kind == "seed" and value is not None and not (isinstance(value, int) and not isinstance(value, bool)
                                                     and 0 <= value < 2 ** 63):
        return "must be an integer in [0, 2**63) or null"
    if kind == "float?" and value is not None and not (is_number(value) and math.isfinite(value)):
        return "must be a finite number or null"
    if kind == "array" and value is not None and not (isinstance(value, list) and _plain(value)):
        return "must be a list of finite numbers, one per site, or null"
    if kind in ("float", "float?", "array") and value is not None and _plain(value) and not isinstance(value, str):
        biggest = max((abs(x) for x in (value if isinstance(value, list) else [value])), default=0)
        if biggest > MAX_STRENGTH:
            return f"|value| <= {MAX_STRENGTH:g} expected (energies in model units); rescale the energy unit"
    if kind == "float" and not (is_number(value) and math.isfinite(value)):
        return "must be a finite number"
    if kind == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
        return "must be an integer"
    if kind == "bool" and not isinstance(value, bool):
        return "must be true or false"
    if kind == "str" and not isinstance(value, str):
        return "must be a string"
    if kind == "pair" and not (isinstance(value, list) and len(value) == 2
                               and all(isinstance(x, int) and not isinstance(x, bool) for x in value)):
        return "must be a list of two integers, e.g. [0, 4]"
    if kind == "any" and value is not None and (isinstance(value, str) or not _plain(value)):
        return "must be a number or a list of numbers"
    if name in PARAM_LIMITS and is_number(value):
        lo, hi = PARAM_LIMITS[name]
        if not lo <= value <= hi:
            return f"must lie in [{lo}, {hi}]"
    if is_number(value) and not math.isfinite(value):
        return "must be finite"
    return None


def _plain(value):
    if is_number(value):
        return math.isfinite(value)
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return len(value) <= PARAM_LIMITS["L"][1] and all(is_number(x) and math.isfinite(x) for x in value)
    return False


def model_problems(section: ModelSection, seed):
    """Problems of the model parameters, and the resolved parameters (defaults filled in)."""
    if section.factory is not None and section.name is not None:
        return [problem("model.factory", section.factory, "give either model.name (a built-in model) or "
                        "model.factory (your own), not both", f"drop model.name = {section.name!r}")], None
    if section.factory is not None:
        try:
            sig = model_signature(section.factory)
        except TnmblError as exc:
            return [problem("model.factory", section.factory, exc.rule, exc.fix)], None
        except (TypeError, ValueError) as exc:  # no signature to read (a builtin, say)
            return [problem("model.factory", section.factory, f"has no readable signature ({exc})",
                            "name a Python function whose keyword arguments are the model parameters")], None
    elif section.name is None:
        return [problem("model.name", rule="required key is missing; add it (model name: one of "
                        f"{', '.join(MODELS)}), or model.factory: 'package.module:callable' for your own model",
                        given=False)], None
    elif section.name not in MODELS:
        return [problem("model.name", section.name, "unknown model" + suggest(section.name, MODELS),
                        "or, for your own model, model.factory: 'package.module:callable'")], None
    else:
        sig = model_signature(section.name)
    return params_problems(sig, section.params, "model", f"model {section.key!r}", seed)


def params_problems(sig, given, prefix, label, seed=None):
    """Problems of the keyword arguments ``given`` against the signature ``sig`` (of
    :func:`signature_of`), at ``prefix.<key>``; and the resolved arguments (defaults filled in,
    ``seed`` the run's). ``label`` names the factory in messages (``"model 'xxz'"``)."""
    problems, params = [], {}
    for key, value in given.items():
        if key not in sig:
            problems.append(problem(f"{prefix}.{key}", value, f"unknown parameter of {label}"
                                    + suggest(key, sig), given=False))
            continue
        rule = _rule(key, sig[key][0], value)
        if rule:
            problems.append(problem(f"{prefix}.{key}", value, rule))
        params[key] = value
    for key, (_, default) in sig.items():
        if key in params:
            continue
        if default is REQUIRED:
            problems.append(problem(f"{prefix}.{key}", rule=f"required parameter of {label} is missing",
                                    given=False))
        elif key == "seed":
            params[key] = seed
        else:
            params[key] = list(default) if isinstance(default, tuple) else default
    return problems, params


def factory_kwargs(params):
    """The factory's keyword arguments from resolved parameters (YAML lists back to tuples where
    the factory takes a pair)."""
    return {k: (tuple(v) if isinstance(v, list) and k == "bath" else v) for k, v in params.items()}
