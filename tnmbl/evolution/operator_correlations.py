"""Infinite-temperature correlations from one evolved operator (drivers over
:class:`~tnmbl.engines.operator_tebd.OperatorTEBD`, with or without DAOE)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..engines.operator_tebd import OperatorTEBD
from ..errors import ObservableError, OptionError, fail
from ..timegrid import n_steps
from .correlations import OPERATORS, Correlation, operator_list


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


# ----------------------------------------------------------------------------------------------
# the run driver: rows of correlation profiles (tnmbl run / resume / sweep, and the Python API)
# ----------------------------------------------------------------------------------------------
#: what :class:`OperatorEvolution` writes per row beside the profiles (``Row.health``)
OPERATOR_HEALTH = ("truncation_error", "chi", "norm", "n_daoe", "overlap_error", "charge", "charge_drift",
                   "energy", "energy_drift")


def is_operator_name(name):
    """Whether ``name`` names operators of correlation runs: a derived one
    (``tnmbl.evolution.correlations.OPERATORS``) or a site operator ``onsite:OP``."""
    return isinstance(name, str) and (name in OPERATORS or (name.startswith("onsite:") and len(name) > 7))


def _names(key, value):
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
    if not names or not all(isinstance(n, str) for n in names):
        fail(ObservableError, key, value, f"must be a name or a list of names of {', '.join(OPERATORS)}, onsite:OP")
    for n in names:
        if not is_operator_name(n):
            fail(ObservableError, key, n, f"not an operator of the correlation runs; known: {', '.join(OPERATORS)}, "
                 "onsite:OP (a Hermitian site operator, e.g. onsite:X)", "entanglement is a state observable")
    if len(set(names)) != len(names):
        fail(ObservableError, key, names, "each operator may be listed once")
    return names


def _operators(chain, key, name):
    """``(ops, positions, observable)`` of an operator name; errors (e.g. the density current of a
    chain without a conserved charge) name ``key``."""
    from ..errors import TnmblError
    from ..observables import get_observable

    try:
        obs = get_observable(name, chain)
        if name in OPERATORS:
            ops, pos = operator_list(chain, name)
        else:
            ops = obs.local_ops(chain)
            pos = np.array([o.start for o in ops], float)
    except TnmblError as exc:
        fail(ObservableError, key, name, getattr(exc, "rule", None) or str(exc), getattr(exc, "fix", None))
    return ops, pos, obs


class OperatorEvolution:
    r"""Infinite-temperature correlation profiles :math:`C_A(x, t) = \langle A_x(t) B_y\rangle_{\beta=0}`
    (connected by default) of one evolved operator :math:`B_y`, one :class:`~tnmbl.evolution.Row`
    per output time: the driver of correlation runs (``correlation:`` section of a run config,
    :func:`operator_evolution` in Python).

    It has the interface of :class:`~tnmbl.evolution.Evolution` that the run machinery reads
    (``engine`` with ``advance`` / ``step`` / ``time`` / ``get_resume_data`` / ``set_resume_data``,
    ``output_steps``, ``measure()``, ``reference``, ``observables``, ``meta()``, iteration), so runs,
    results files, checkpoints, resume, sweeps and the error budget are those of every run.

    Parameters
    ----------
    chain : Chain
        An open nearest-neighbour quantum chain.
    a : str or list of str
        The operators :math:`A` (names of ``tnmbl.evolution.correlations.OPERATORS``: ``density``,
        ``energy_density``, ``energy_current``, ``density_current``); each is a column set of the
        result, at its positions relative to :math:`B_y` (``distance``).
    b : str
        The operator evolved; ``y`` indexes its list (default the centre one).
    t_final, dt, output_dt, n_log :
        As :func:`tnmbl.evolve` (same time grid rules, :mod:`tnmbl.timegrid`).
    connected : bool
        Subtract :math:`\langle A_x\rangle\langle B_y\rangle` (default ``True``).
    **options
        :class:`~tnmbl.engines.operator_tebd.OperatorTEBD` options: ``method`` (``tebd2`` /
        ``tebd4``), ``chi_max``, ``svd_cutoff``, ``gamma``, ``l_star``, ``daoe_every``, ``conserve``
        (``"auto"``: the chain's charge when ``B`` has a definite one).

    Notes
    -----
    ``meta()["a_hs_sum"]`` is :math:`\sum_x \|A_x\|_{HS}` per operator (Hilbert-Schmidt norms per
    :math:`\sqrt D`): times ``overlap_error`` it bounds the error of :math:`\sum_x C_A(x, t)`.

    Health per row (:data:`OPERATOR_HEALTH`): ``truncation_error`` (TEBD + DAOE discarded weight),
    ``chi``, ``norm`` of the evolved operator, ``n_daoe``, ``overlap_error``
    (:math:`\|O\|\sqrt{2\epsilon}`: the change of an overlap with a unit-norm :math:`A` when
    the operator moves by the discarded weight :math:`\epsilon`), and the sum rules
    ``charge`` :math:`={\rm Tr}[Q\,O(t)]/D` and ``energy`` :math:`={\rm Tr}[H\,O(t)]/D` with their
    drifts from the first row: :math:`Q` and :math:`H` commute with :math:`H`, so both are
    constant under exact evolution for every :math:`B` and at every :math:`\gamma` (DAOE leaves
    strings of at most :math:`\ell_*` sites untouched: ``l_star >= 2`` for the energy).
    """

    def __init__(self, chain, a, b, *, t_final, y=None, dt=0.05, output_dt=None, n_log=None, connected=True,
                 **options):
        from ..chain import charge_densities, energy_densities
        from ..engines.purification import op_charge
        from ..timegrid import default_every, output_grid
        from .rows import number

        if "direction" in options:
            fail(OptionError, "direction", options["direction"], "set by the correlation driver (schrodinger)")
        a_names = _names("a", a)
        (b_name,) = _names("b", b)
        b_ops, b_pos, b_obs = _operators(chain, "b", b_name)
        y = len(b_ops) // 2 if y is None else y
        if isinstance(y, bool) or not isinstance(y, (int, np.integer)) or not 0 <= y < len(b_ops):
            fail(OptionError, "y", y, f"must index the {len(b_ops)} operators {b_name} (0..{len(b_ops) - 1})",
                 "leave it out for the centre one")
        self.dt = number("dt", dt)
        self.t_final = number("t_final", t_final, allow_zero=True)
        self.n_total = n_steps("t_final", self.t_final, self.dt)
        if n_log is not None and output_dt is not None:
            fail(OptionError, "n_log", n_log, "give either output_dt or n_log, not both")
        self.n_out = default_every(self.n_total) if output_dt is None else \
            n_steps("output_dt", number("output_dt", output_dt), self.dt, minimum=1)
        self.steps = output_grid(self.n_total, every=self.n_out, n_log=n_log)
        conserve = options.pop("conserve", "auto")
        if conserve == "auto":
            conserve = bool(chain.conserves_charge and op_charge(b_ops[y], chain.site) is not None)
        elif not isinstance(conserve, bool):
            fail(OptionError, "conserve", conserve, "must be 'auto', True or False")
        self.chain, self.a_names, self.b_name, self.y, self.connected = chain, a_names, b_name, int(y), connected
        self.conserve, self.options = conserve, dict(options)
        self._a = {}
        self.observables = []
        d = chain.site.dim
        for name in a_names:
            ops, pos, obs = _operators(chain, "a", name)
            shift = np.array([np.trace(o.matrix) / d ** len(o.sites) for o in ops]) * \
                np.trace(b_ops[y].matrix) / d ** len(b_ops[y].sites) if connected else np.zeros(len(ops))
            hs = np.array([np.linalg.norm(o.matrix) / np.sqrt(d) ** len(o.sites) for o in ops])
            self._a[name] = (ops, shift, hs)
            dist = pos - b_pos[y]
            self.observables.append(replace(
                obs, dim="distance", positions=lambda c, dist=dist: dist,
                description=f"<{name}_x(t) {b_name}_{y}> at infinite temperature"
                            f"{' (connected)' if connected else ''}, x relative to {b_name}_{y}",
                units=f"({obs.units}) x ({b_obs.units})"))
        self._sums = {"charge": charge_densities(chain), "energy": energy_densities(chain)}
        self.engine = OperatorTEBD(chain, b_ops[y], dt=self.dt, direction="schrodinger", conserve=conserve,
                                   **options)
        self.method = self.engine.method
        self.reference = None  # (energy, charge) sums of the first row: the drifts are relative to it
        self.timing = {"evolve_s": 0.0, "measure_s": 0.0}

    @property
    def output_steps(self):
        """Step numbers of the output times (first is the start)."""
        return [int(s) for s in self.steps]

    @property
    def per_chain(self):
        return ()

    def measure(self):
        """The :class:`~tnmbl.evolution.Row` of the current operator: one overlap sweep for
        every profile and both sum rules."""
        import time as _time

        from .rows import Row

        t0 = _time.perf_counter()
        eng = self.engine
        lists = [self._a[n][0] for n in self.a_names] + [self._sums["charge"], self._sums["energy"]]
        flat = np.real(eng.overlaps([o for ops in lists for o in ops]))
        values, i = {}, 0
        for name in self.a_names:
            ops, shift, _ = self._a[name]
            values[name] = np.real(flat[i:i + len(ops)] - shift)
            i += len(ops)
        charge = float(flat[i:i + len(self._sums["charge"])].sum())
        energy = float(flat[i + len(self._sums["charge"]):].sum())
        h = eng.health()
        if self.reference is None:
            self.reference = (energy, charge)
        health = {"truncation_error": h["truncation_error"], "chi": h["chi"], "norm": h["norm"],
                  "n_daoe": h["n_daoe"], "overlap_error": h["norm"] * np.sqrt(2 * h["truncation_error"]),
                  "charge": charge, "charge_drift": charge - float(self.reference[1]),
                  "energy": energy, "energy_drift": energy - float(self.reference[0])}
        self.timing["measure_s"] += _time.perf_counter() - t0
        return Row(eng.time, eng.step, values, health)

    def __len__(self):
        return len(self.steps)

    def __iter__(self):
        import time as _time

        for step in self.output_steps:
            if step > self.engine.step:
                t0 = _time.perf_counter()
                self.engine.advance(step - self.engine.step)
                self.timing["evolve_s"] += _time.perf_counter() - t0
            yield self.measure()

    def meta(self):
        """Method, options, operators and versions, for the result's provenance."""
        from ..provenance import versions

        e = self.engine
        return {"method": e.method, "engine": "operator_tebd", "ensemble": "beta=0", "dt": self.dt,
                "t_final": self.t_final, "chi_max": e.trunc_params["chi_max"],
                "svd_cutoff": e.trunc_params["svd_min"] or 0.0, "gamma": e.gamma, "l_star": e.l_star,
                "daoe_every": e.daoe_every, "conserve": self.conserve, "a": self.a_names, "b": self.b_name,
                "y": self.y, "connected": self.connected, "output_every_steps": self.n_out,
                "a_hs_sum": {n: float(self._a[n][2].sum()) for n in self.a_names},
                "model": self.chain.name, "model_params": self.chain.params,
                "state": f"operator {self.b_name}_{self.y}",
                "versions": versions()}


def operator_evolution(chain, a, b=None, *, t_final, y=None, dt=0.05, output_dt=None, n_log=None, connected=True,
                       **options):
    r"""Infinite-temperature correlation profiles :math:`\langle A_x(t) B_y\rangle` as a
    :class:`~tnmbl.evolution.Result` (``result["density"][t, x]`` at ``result.positions["density"]``,
    the distances to :math:`B_y`; health figures of :class:`OperatorEvolution`), with
    ``save`` / ``load`` / ``to_xarray`` / ``plot`` like every result: the Python face of a
    correlation run (same keys as its YAML). ``b`` defaults to the first of ``a``.

    >>> from tnmbl.models import xxz
    >>> res = operator_evolution(xxz(8, J=1.5), "density", t_final=1.0, dt=0.1, output_dt=0.1,
    ...                          gamma=0.1, l_star=2)
    >>> res["density"].shape
    (11, 8)
    """
    from .rows import collect

    b = (_names("a", a)[0]) if b is None else b
    ev = OperatorEvolution(chain, a, b, t_final=t_final, y=y, dt=dt, output_dt=output_dt, n_log=n_log,
                           connected=connected, **options)
    return collect(ev)
