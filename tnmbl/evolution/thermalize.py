r"""Thermalization of classical batches: a driver over the classical engine's Langevin step.

:func:`langevin` (and :func:`thermalized`, which starts from rest) are re-exported by
:mod:`tnmbl.states.classical`, where users and run configs (``state.kind: langevin``) find them.
"""

from __future__ import annotations

import numpy as np

from ..engines.classical import ClassicalEngine
from ..errors import OptionError, fail
from ..states.classical import ClassicalState, _beta, _count, rest
from ..states.kinds import StateKind, register
from ..timegrid import n_steps


def langevin(chain, state, beta, t_th, *, gamma=1.0, dt=0.01, seed=None, threads=None, lanes=None):
    r"""Thermalize a rotor ``state`` with a Langevin bath at ``beta`` for a time ``t_th``.

    Every rotor feels friction :math:`\gamma` and noise of strength
    :math:`\sqrt{2\gamma m/\beta}` (BAOAB splitting, compiled). This is the paper's
    preparation (``t_th = 1000``); :func:`tnmbl.states.classical.gibbs` samples the same
    state exactly and much faster.
    """
    beta = _beta(beta)
    for key, v in (("t_th", t_th), ("gamma", gamma), ("dt", dt)):
        if not (isinstance(v, (int, float, np.integer, np.floating)) and np.isfinite(v) and v > 0):
            fail(OptionError, key, v, "must be a finite number > 0")
    if chain.site.name != "rotor":
        fail(OptionError, "chain", chain.name, "Langevin thermalization is implemented for rotor chains")
    eng = ClassicalEngine.create(chain, state, "leapfrog", dt, lanes=lanes, threads=threads)
    seed = int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0] >> np.uint64(1))
    eng.thermalize(beta, n_steps("t_th", t_th, dt, dt_key="langevin_dt"), gamma=gamma, dt=dt, seed=seed)
    out = eng.state()
    return ClassicalState(chain, out.fields, f"langevin(beta={beta:g}, t_th={t_th:g})",
                          dict(state.meta, beta=beta, t_th=t_th, gamma=gamma, langevin_seed=seed, langevin_dt=dt))


def thermalized(chain, M=1, *, beta, t_th, gamma=1.0, dt=0.01, seed=None, threads=None):
    """``M`` rotor chains started at rest and thermalized by :func:`langevin` at ``beta`` for
    ``t_th`` (the glassy-dynamics paper's preparation; the ``langevin`` state of run configs)."""
    M = _count(M, chain)
    if chain.site.name != "rotor":
        fail(OptionError, "chain", chain.name, "Langevin thermalization is implemented for rotor chains",
             "for DNLS use gibbs (beta = 0) or dnls_metropolis (finite beta)")
    return langevin(chain, rest(chain, M), beta, t_th, gamma=gamma, dt=dt, seed=seed, threads=threads)


def _langevin_kind(chain, args, seed, preview):
    """State kind ``langevin`` of run configs: a batch prepared by :func:`thermalized`; with
    ``preview`` (validation) its starting point, without the Langevin steps."""
    args = dict(args, M=args.get("M", 1))
    if "langevin_dt" in args:
        args["dt"] = args.pop("langevin_dt")
    if preview and chain.site.name == "rotor":
        return rest(chain, args["M"], beta=_beta(args["beta"]))
    return thermalized(chain, **args, seed=seed)


register("langevin", StateKind(_langevin_kind, ("M", "beta", "t_th", "gamma", "langevin_dt"), ("beta", "t_th"),
                               seeded=("classical",), chains=("classical",), renames={"dt": "langevin_dt"}))
