"""The initial-state kinds of run configs, declared once: what ``state: {kind: ...}`` means.

Each :class:`StateKind` says which factory builds the state, which keys of the config's
``state`` section it takes and requires, whether it is drawn at random (then it gets the
run's seed, so the members of an ensemble differ), and which kinds of chain it applies to.
The config layer (:mod:`tnmbl.runs`) validates and builds states from this table only, and
the options table (``tnmbl schema``) lists it, so adding a state kind is one entry here.

A builder is ``build(chain, args, seed, preview)``: ``args`` holds the keys of the section
that were given (``None`` left out), ``seed`` the run's seed (``None`` where the kind is not
random); with ``preview`` a state that costs compute to prepare (a Langevin thermalization,
Metropolis sweeps) is replaced by a cheap stand-in that the same checks apply to (config
validation builds that, never the real thing).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable

from ..errors import StateError, TnmblError, fail
from ..factories import import_factory
from . import bubbles, classical
from .product import bubble as product_bubble
from .product import domain_wall, neel, product

#: state keys that apply to classical chains only (a batch of M chains)
CLASSICAL_KEYS = ("M",)


@dataclass(frozen=True)
class StateKind:
    """One initial-state kind of run configs.

    Attributes
    ----------
    build : callable
        ``build(chain, args, seed, preview) -> state`` (see the module docstring).
    keys : tuple of str
        Keys of the ``state`` section it takes (besides ``kind``; classical chains also take ``M``).
    required : tuple of str
        Keys that must be given.
    seeded : tuple of str
        Kinds of chain on which it is drawn at random: there it gets the run's seed.
    chains : tuple of str
        Kinds of chain (``site.kind``: ``"quantum"``, ``"classical"``) it applies to.
    renames : dict
        Factory argument -> config key, so that a factory's complaint about ``outside`` is
        reported at ``state.background``.
    """

    build: Callable
    keys: tuple
    required: tuple = ()
    seeded: tuple = ()
    chains: tuple = ("quantum",)
    renames: dict = field(default_factory=dict)

    def takes(self, chain_kind=None):
        """The keys this kind takes on a chain of ``chain_kind`` (``None``: on any chain it applies to)."""
        classical_ok = "classical" in self.chains and chain_kind in (None, "classical")
        extra = tuple(k for k in CLASSICAL_KEYS if k not in self.keys) if classical_ok else ()
        return self.keys + extra

    def config_key(self, factory_key):
        """The ``state`` key a factory's error key stands for."""
        if factory_key == "chain":  # the state does not fit the chain: the kind is wrong
            return "kind"
        return self.renames.get(factory_key, factory_key)


def chain_kind(chain):
    """``"quantum"`` or ``"classical"``: the kind of the chain's site type."""
    return getattr(chain.site, "kind", "quantum")


def _inf(v):
    return float("inf") if v == "inf" else v


def _plain(factory):
    """A factory called with the given keys as keyword arguments."""
    return lambda chain, args, seed, preview: factory(chain, **args)


def _seeded(factory):
    return lambda chain, args, seed, preview: factory(chain, **args, seed=seed)


def _batch(factory):
    """A classical factory ``factory(chain, M, ..., seed=)``: ``M`` defaults to one chain."""
    def build(chain, args, seed, preview):
        args = dict(args)
        args.setdefault("M", 1)
        return factory(chain, **args) if seed is None else factory(chain, **args, seed=seed)
    return build


def _bubble(chain, args, seed, preview):
    if chain_kind(chain) == "classical":
        return classical.bubble(chain, args.get("M", 1), region=tuple(args["region"]), inside=_inf(args["inside"]),
                                outside=_inf(args["background"]), seed=seed)
    return product_bubble(chain, tuple(args["region"]), args["background"], args["inside"])


def _metropolis(chain, args, seed, preview):
    args = dict(args, M=args.get("M", 1))
    if preview:
        args["sweeps"] = 1
    return classical.dnls_metropolis(chain, **args, seed=seed)


def user_factory(path):
    """The user's state factory ``path`` (``"package.module:callable"``, called as
    ``factory(chain, **args)``); an ``OptionError`` at ``factory`` if it does not resolve."""
    return import_factory(path, "factory")


def _user(chain, args, seed, preview):
    """``state: {factory: "package.module:callable", args: {...}}``: ``factory(chain, **args)``,
    with the run's seed as ``seed`` where the factory takes one and it is not given."""
    factory = user_factory(args["factory"])
    kw = dict(args.get("args") or {})
    params = inspect.signature(factory).parameters
    if "seed" in params and "seed" not in kw:
        kw["seed"] = seed
    try:
        return factory(chain, **kw)
    except TnmblError:
        raise
    except TypeError as exc:
        fail(StateError, "args", kw, f"the factory {args['factory']!r} refused these arguments ({exc})",
             "give the keyword arguments its signature takes, after the chain")
    except Exception as exc:  # the user's factory failing in its own way
        fail(StateError, "factory", args["factory"], f"raised {type(exc).__name__}: {exc}",
             "fix the factory, or the arguments given to it")


STATE_KINDS = {
    "product": StateKind(_plain(product), ("occupations", "spins")),
    "neel": StateKind(_plain(neel), ("high", "low")),
    "domain_wall": StateKind(_plain(domain_wall), ("high", "low", "at")),
    "bubble": StateKind(_bubble, ("region", "background", "inside"), ("region", "background", "inside"),
                        chains=("quantum", "classical"), seeded=("classical",), renames={"outside": "background"}),
    "sampled_bubble": StateKind(_seeded(bubbles.sampled_bubble_member), ("region", "background", "beta"),
                                ("region", "background"), seeded=("quantum",)),
    "mixed_bubble": StateKind(_plain(bubbles.mixed_bubble), ("region", "background", "beta"),
                              ("region", "background")),  # runs on the purification
    # batches of M classical chains (tnmbl.states.classical)
    "gibbs": StateKind(_batch(classical.gibbs), ("M", "beta", "density"), seeded=("classical",),
                       chains=("classical",)),
    "metropolis": StateKind(_metropolis, ("M", "beta", "mu", "sweeps"), ("beta",), seeded=("classical",),
                            chains=("classical",)),
    "wave_packet": StateKind(_batch(classical.wave_packet), ("M", "center", "width", "norm", "k"),
                             ("center",), chains=("classical",)),
    # the user's own: state: {factory: "package.module:callable", args: {...}} (kind implied)
    "factory": StateKind(_user, ("factory", "args"), ("factory",), seeded=("quantum", "classical"),
                         chains=("quantum", "classical")),
}
"""Every state kind of run configs, by name (the ``kind`` key of the ``state`` section).

A kind whose preparation runs an engine (``langevin``: a Langevin thermalization) is declared
next to its driver, which sits above the engines, with :func:`register`
(:mod:`tnmbl.evolution.thermalize`); the package imports it, so the table is complete
whenever ``tnmbl`` is."""


def register(name, kind: StateKind):
    """Add state kind ``name`` (a new name only) to :data:`STATE_KINDS`."""
    if name in STATE_KINDS and STATE_KINDS[name] is not kind:
        raise ValueError(f"state kind {name!r} is declared twice")
    STATE_KINDS[name] = kind
    return kind


def build_state(kind, chain, values, *, seed=None, preview=False):
    """The state of kind ``kind`` on ``chain`` from the section ``values`` (``{key: value}``;
    ``None`` values and keys the kind does not take on this chain are left out). ``seed`` reaches
    the factory where the kind is random (:attr:`StateKind.seeded`)."""
    spec = STATE_KINDS[kind]
    on = chain_kind(chain)
    args = {k: v for k, v in values.items() if k in spec.takes(on) and v is not None}
    return spec.build(chain, args, seed if on in spec.seeded else None, preview)
