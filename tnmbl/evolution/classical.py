"""The classical-only entry points, kept for their users: :func:`evolve_classical` and
:func:`ClassicalEvolution` are :func:`tnmbl.evolve` / :class:`~tnmbl.evolution.Evolution`
after a check that the method is a classical one (their messages name the classical methods)."""

from __future__ import annotations

from ..engines import METHODS, methods_for
from ..errors import OptionError, fail
from .driver import Evolution, evolve

DEFAULT_CLASSICAL_OBSERVABLES = ("density", "energy_density")


def _check_classical(chain, method):
    known = [m for m, s in METHODS.items() if s.site_kind == "classical"]
    if not any(METHODS[m].takes_site(getattr(chain, "site", None)) for m in known):
        fail(OptionError, "chain", getattr(chain, "name", chain), "must be a classical tnmbl Chain",
             "build one with tnmbl.models.rotor / dnls, or use tnmbl.evolve")
    if method is None:
        return
    if method not in known:
        fail(OptionError, "method", method, f"unknown classical method; known: {', '.join(known)}")
    spec = METHODS[method]
    if not spec.takes_site(chain.site):
        fail(OptionError, "method", method, f"integrates {spec.sites[0]} chains, not {chain.site.name}",
             f"use one of {methods_for(chain)}")


def ClassicalEvolution(chain, state, method=None, **options):  # noqa: N802 (was a class; kept for its callers)
    """:class:`~tnmbl.evolution.Evolution` of a classical batch (see :func:`evolve_classical`)."""
    _check_classical(chain, method)
    return Evolution(chain, state, method, **options)


def evolve_classical(chain, state, method=None, *, dt, t_final, callback=None, **options):
    r"""Evolve a batch of classical chains and return ensemble-averaged observables:
    :func:`tnmbl.evolve` (same options and :class:`~tnmbl.Result`) for classical chains,
    with ``dt`` required. ``result.engine`` is the :class:`~tnmbl.evolution.Evolution`:
    ``result.engine.samples`` holds the per-chain series (``(n_times, M)``: ``energy``,
    ``charge``, ``phi``, ``total_current``) and ``result.engine.state()`` the final batch."""
    _check_classical(chain, method)
    return evolve(chain, state, method, dt=dt, t_final=t_final, callback=callback, **options)
