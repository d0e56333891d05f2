"""Infinite-temperature correlations from one evolved operator (drivers over
:class:`~tnmbl.engines.operator_tebd.OperatorTEBD`, with or without DAOE)."""

from __future__ import annotations

import numpy as np

from ..engines.operator_tebd import OperatorTEBD
from ..errors import OptionError, fail
from ..timegrid import n_steps
from .correlations import Correlation, operator_list


# ----------------------------------------------------------------------------------------------
# infinite-temperature correlations
# ----------------------------------------------------------------------------------------------
def infinite_t_correlations(chain, a_ops, b, *, t_max, dt=0.05, output_dt=None, connected=False, **options):
    r""":math:`C_k(t) = \langle A_k(t) B\rangle_{\beta=0} = {\rm Tr}[A_k(t) B]/D` for every ``k``.

    One evolution: :math:`{\rm Tr}[A_k(t)B] = {\rm Tr}[A_k\, e^{-iHt}Be^{iHt}]`, so ``B`` is
    evolved (``direction="schrodinger"``) and overlapped with every ``A_k`` at each output time.

    Parameters
    ----------
    a_ops : list of LocalOp
    b : LocalOp or list of LocalOp (their sum)
    t_max, dt, output_dt : float
        Final time, step, output interval (multiples of ``dt``; default ``output_dt = dt``).
    connected : bool
        Subtract :math:`\langle A_k\rangle\langle B\rangle = ({\rm Tr}A_k/D)({\rm Tr}B/D)`.
    **options
        :class:`OperatorTEBD` options (``method``, ``chi_max``, ``svd_cutoff``, ``gamma``,
        ``l_star``, ``daoe_every``, ``conserve``).

    Returns
    -------
    times : array (n_t,)
    values : complex array (n_t, n_a)
    health : dict of arrays (``truncation_error``, ``chi``, ``norm``) per output time, and
        ``error_estimate`` (n_t, n_a): :math:`\|A_k\|_{HS}\,\|O\|\,\sqrt{2\epsilon}`, the size of
        the change of the overlap when the operator moves by the discarded weight
        :math:`\epsilon` (an estimate, first order, no Trotter error).
    """
    if "direction" in options:
        fail(OptionError, "direction", options["direction"], "set by infinite_t_correlations (schrodinger)")
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating, np.integer)) or not np.isfinite(dt) \
            or not dt > 0:
        fail(OptionError, "dt", dt, "the time step must be a finite number > 0", "e.g. dt=0.05")
    output_dt = dt if output_dt is None else output_dt
    steps = n_steps("output_dt", output_dt, dt, minimum=1)
    times = np.arange(n_steps("t_max", t_max, output_dt) + 1) * output_dt
    ev = OperatorTEBD(chain, b, dt=dt, direction="schrodinger", **options)
    d = chain.site.dim
    a_hs = np.array([np.linalg.norm(a.matrix) / np.sqrt(d) ** len(a.sites) for a in a_ops])
    vals, health = [], {"truncation_error": [], "chi": [], "norm": []}
    for i in range(len(times)):
        if i > 0:
            ev.advance(steps)
        vals.append(ev.overlaps(a_ops))
        h = ev.health()
        for key in health:
            health[key].append(h[key])
    health = {k: np.array(v) for k, v in health.items()}
    health["error_estimate"] = np.outer(health["norm"] * np.sqrt(2 * health["truncation_error"]), a_hs)
    vals = np.array(vals)
    if connected:
        bl = list(b) if isinstance(b, (list, tuple)) else [b]
        tr_b = sum(np.trace(o.matrix) / d ** len(o.sites) for o in bl)
        tr_a = np.array([np.trace(a.matrix) / d ** len(a.sites) for a in a_ops])
        vals = vals - tr_a[None, :] * tr_b
    return times, vals, health


def operator_correlations(chain, a, b=None, *, t_max, dt=0.05, output_dt=None, y=None, connected=True, **options):
    r""":math:`\langle A_x(t) B_y\rangle_{\beta=0}` for every ``x`` and one ``y``, by operator
    TEBD (+ DAOE): the operator-engine twin of :func:`tnmbl.observables.correlations.correlations`
    (same names ``density``, ``energy_density``, ... , same positions and ``distance``), at
    infinite temperature only, connected by default.

    Returns
    -------
    Correlation
        ``values[t, x]``, ``distance[x]``, ``error_estimate``, ``truncation_error``, ``chi``,
        ``meta`` (options, ``norm`` of the evolved operator per time).
    """
    a_ops, a_pos = operator_list(chain, a)
    b_ops, b_pos = operator_list(chain, a if b is None else b)
    y = len(b_ops) // 2 if y is None else y
    if isinstance(y, bool) or not isinstance(y, (int, np.integer)) or not 0 <= y < len(b_ops):
        fail(OptionError, "y", y, f"must index the {len(b_ops)} operators B")
    times, v, health = infinite_t_correlations(chain, a_ops, b_ops[y], t_max=t_max, dt=dt, output_dt=output_dt,
                                               connected=connected, **options)
    meta = dict(options, engine="operator_tebd", ensemble="beta=0",
                a=a if isinstance(a, str) else f"{len(a_ops)} LocalOps", y=y, dt=dt, connected=connected,
                norm=health["norm"])
    return Correlation(times, a_pos - b_pos[y], v, health["error_estimate"], health["truncation_error"],
                       health["chi"], meta)
