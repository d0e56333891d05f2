"""``tnmbl.evolve``: one function over every method, and the :class:`Evolution` driver it is
built on (which the YAML runner uses to write a row per output time).

Quantum MPS / exact engines and the classical batch engines all implement the engine
protocol (:mod:`tnmbl.engines.base`); the method table (:mod:`tnmbl.engines.methods`) says
which options each method takes, and an option the method does not take is an error naming
the option and the method. Everything is validated before any engine is built: a bad option
raises a :class:`~tnmbl.errors.OptionError` naming the key, the value, the rule and the fix.
"""

from __future__ import annotations

import time as _time

import numpy as np

from ..chain import Chain
from ..engines import ARRAY_BACKENDS, METHODS, EngineOptions, default_method, resolve_backend, supports_conservation
from ..errors import OptionError, StateError, fail
from ..observables import get_observable
from ..provenance import versions
from ..states.bubbles import MixedBubble
from ..timegrid import default_every, n_steps, output_grid
from . import progress as _progress
from .probes import PROBES
from .rows import collect, number

DEFAULT_OBSERVABLES = ("density", "energy_density")


class _Unset:
    """Default of an ``evolve`` option the caller did not give (so "given" differs from
    "default": an option the method does not take is refused only when given)."""

    def __repr__(self):
        return "<default>"


UNSET = _Unset()

#: every option of the driver and its default (the method table says which a method takes)
DEFAULTS = {"dt": 0.05, "observables": DEFAULT_OBSERVABLES, "output_dt": None, "backend": None,
            "chi_max": 128, "svd_cutoff": 1e-10, "conserve": "auto", "array_backend": None, "t_start": 0.0,
            "n_log": None, "beta": None, "energy_tolerance": None, "per_chain": (), "keep_samples": True,
            "noise_rate": 0.0, "noise_seed": 0, "threads": None, "lanes": None, "chunk_outputs": 16,
            "allow_large_dt": False, "precision": "float64", "green_kubo": None}

#: options handed to the engine itself (``EngineOptions.extra``)
ENGINE_EXTRA = ("lanes", "threads", "noise_rate", "noise_seed", "allow_large_dt", "chunk_outputs", "precision",
                "green_kubo")


def resolve_conserve(chain, state, conserve, engine_cls=None):
    """``True`` / ``False`` from ``"auto"``: conserve when the chain, the state and the engine
    (``engine_cls``, if given) allow it; an explicit ``True`` they cannot honour is an error."""
    if engine_cls is not None and not supports_conservation(engine_cls):
        if conserve is True:
            fail(OptionError, "conserve", True, f"backend {engine_cls.backend!r} has no U(1) charge blocks",
                 "use backend='tenpy', or conserve='auto'")
        if conserve in ("auto", False):
            return False  # this backend runs dense
    if conserve == "auto":
        return bool(chain.conserves_charge and state.charge_definite)
    if conserve is True:
        if not chain.conserves_charge:
            fail(OptionError, "conserve", True, f"the {chain.name} chain does not conserve "
                 f"{chain.site.charge_name} (a term changes it)", "use conserve=False or 'auto'")
        if not state.charge_definite:
            fail(OptionError, "conserve", True, "the initial state has no definite charge",
                 "use conserve=False or 'auto'")
        return True
    if conserve is False:
        return False
    fail(OptionError, "conserve", conserve, "must be 'auto', True or False")


def check_options(method, given):
    """Refuse every option in ``given`` (a dict) that ``method`` does not take, naming the
    option and the method; unknown option names are refused too."""
    spec = METHODS[method]
    for key, value in given.items():
        if key not in DEFAULTS:
            fail(OptionError, key, value, "is not an option of tnmbl.evolve",
                 f"options: {', '.join(sorted(DEFAULTS))}")
        if key not in spec.takes:
            fail(OptionError, key, value, f"method {method!r} does not take {key!r}",
                 f"drop it; {method} takes: {', '.join(sorted(spec.takes))}")


class Evolution:
    """A validated evolution of any chain under any method, iterated over its output times.

    Parameters are those of :func:`evolve` (only the options the method takes may be given).
    Iterating yields a :class:`~tnmbl.evolution.Row` at the start and at every output time;
    ``engine`` is the underlying engine (its state is the current one), ``state()`` the
    current state where the engine hands it out, ``initial_state`` the start.
    """

    def __init__(self, chain, state, method=None, *, t_final, **options):
        if not isinstance(chain, Chain):
            fail(OptionError, "chain", type(chain).__name__, "must be a tnmbl Chain",
                 "build one with tnmbl.models.*")
        if method is None:
            method = default_method(chain)
        if method not in METHODS:
            fail(OptionError, "method", method, f"unknown method; known: {', '.join(METHODS)}")
        spec = METHODS[method]
        ok, reason = spec.accepts(chain)
        if not ok:
            fail(OptionError, "method", method, reason)
        check_options(method, options)
        mixed = isinstance(state, MixedBubble)  # MixedEvolution hands its background (a product state) here
        if mixed and not spec.takes_mixed:
            fail(StateError, "state", state.label, f"is a mixed bubble; method {method!r} evolves pure states",
                 "use method='exact' (small chains), or tnmbl.evolution.evolve_mixed (purification; same options "
                 "and Result)")
        if getattr(state, "chain", None) is not chain and not (
                getattr(state, "L", None) == chain.L and chain.site.same_as(state.chain.site)):
            fail(StateError, "state", getattr(state, "label", state), "was built for another chain",
                 "build it with tnmbl.states.*(chain, ...) for this chain")
        opt = dict(DEFAULTS, **options)
        general = getattr(state, "kind", None) in ("mps", "vector")  # tnmbl.states.mps
        if general and opt["backend"] is None and "tenpy" in spec.backends:
            opt["backend"] = "tenpy"  # the MPS engines that take such a state
        backend = resolve_backend(method, chain, opt["chi_max"], opt["backend"], opt["array_backend"],
                                  opt["conserve"])
        if backend not in spec:
            fail(OptionError, "backend", backend, f"method {method!r} runs on: {', '.join(spec.backends)}")
        if general and backend not in state.backends:
            fail(StateError, "state", state.label, f"an {state.kind} state runs on the TeNPy engines and the exact "
                 f"engine; method {method!r} on backend {backend!r} does not take it",
                 "use backend='tenpy' (tebd2, tebd4, tdvp1, tdvp2) or method='exact'")
        array_backend = opt["array_backend"]
        if array_backend is not None and array_backend not in ARRAY_BACKENDS.get(backend, ("numpy",)):
            fail(OptionError, "array_backend", array_backend,
                 f"backend {backend!r} runs on: {', '.join(ARRAY_BACKENDS.get(backend, ('numpy',)))}",
                 "use backend='quimb' for torch / cupy arrays")
        self.dt = number("dt", opt["dt"])
        self.t_final = number("t_final", t_final, allow_zero=True)
        chi_max = number("chi_max", opt["chi_max"], integer=True, positive=False)
        if chi_max < 1:
            fail(OptionError, "chi_max", chi_max, "must be >= 1", "e.g. chi_max=128")
        svd_cutoff = number("svd_cutoff", opt["svd_cutoff"], allow_zero=True)
        if svd_cutoff >= 1:
            fail(OptionError, "svd_cutoff", svd_cutoff, "must be < 1 (Schmidt values of a normalized state)")
        observables = opt["observables"]
        if isinstance(observables, str):
            observables = [observables]
        self.observables = [get_observable(name, chain) for name in observables]
        if mixed and "entanglement" in observables:
            fail(OptionError, "observables", "entanglement", "a mixed bubble on the exact engine is a mixture, "
                 "whose entanglement is not defined here", "drop it, or use tnmbl.evolution.evolve_mixed (the cut "
                 "entropy of the purification)")
        names = [o.name for o in self.observables]
        if len(set(names)) != len(names):
            fail(OptionError, "observables", names, "each observable may be listed once")
        self.n_total = n_steps("t_final", self.t_final, self.dt)
        self.step0 = n_steps("t_start", number("t_start", opt["t_start"], allow_zero=True), self.dt)
        if opt["n_log"] is not None and opt["output_dt"] is not None:
            fail(OptionError, "n_log", opt["n_log"], "give either output_dt or n_log, not both",
                 "drop output_dt for log-spaced output times")
        if opt["output_dt"] is None:
            self.n_out = default_every(self.n_total)
        else:
            self.n_out = n_steps("output_dt", number("output_dt", opt["output_dt"]), self.dt, minimum=1)
        self.steps = output_grid(self.n_total, every=self.n_out, n_log=opt["n_log"], start=self.step0)
        engine_cls = spec[backend]
        self.chain, self.initial_state, self.method, self.backend = chain, state, method, backend
        self.conserve = resolve_conserve(chain, state, opt["conserve"], engine_cls)
        probe_cls = PROBES[engine_cls.probe]
        self.probe = probe_cls(chain, state, self.observables, {k: opt[k] for k in probe_cls.options})
        self.options = EngineOptions(method=method, dt=self.dt, chi_max=chi_max, svd_cutoff=svd_cutoff,
                                     conserve=self.conserve, array_backend=array_backend,
                                     extra={k: opt[k] for k in ENGINE_EXTRA if k in spec.takes})
        self.engine = engine_cls(chain, state, self.options)
        self.engine.step = self.step0
        self.probe.check(self)
        self.timing = {"evolve_s": 0.0, "measure_s": 0.0}

    # -- what the run machinery (tnmbl.runs.runner) reads and sets ---------------------
    @property
    def reference(self):
        """The health figures' reference (the first row's energy, charge, ...): drifts are relative to it."""
        return self.probe.reference

    @reference.setter
    def reference(self, value):
        self.probe.reference = value

    @property
    def output_steps(self):
        """Step numbers of the output times (first is the start)."""
        return [int(s) for s in self.steps]

    @property
    def per_chain(self):
        """Per-chain series attached to each row (classical batches; empty otherwise)."""
        return getattr(self.probe, "per_chain", ())

    @property
    def samples(self):
        """Per-chain series measured so far, each ``(n_times, M)`` (classical batches)."""
        return self.probe.samples

    def green_kubo(self):
        """The engine's on-the-fly current autocorrelation (classical ``green_kubo`` option), or ``None``."""
        return getattr(self.engine, "green_kubo", lambda: None)()

    def state(self):
        """The current state (the batch, for a classical evolution), from the engine."""
        return self.engine.state()

    def measure(self):
        """A :class:`~tnmbl.evolution.Row` for the engine's current state."""
        t0 = _time.perf_counter()
        row = self.probe.row(self.engine, self.engine.sample(), self.engine.step)
        self.timing["measure_s"] += _time.perf_counter() - t0
        return row

    def __len__(self):
        """The number of rows iterating yields (the output times, the start included)."""
        return len(self.steps)

    def __iter__(self):
        segments = np.diff(np.concatenate([[self.engine.step], self.steps]))
        samples = self.engine.outputs(segments)
        _progress.log_start(self)
        for i, step in enumerate(self.steps):
            t0 = _time.perf_counter()
            sample = next(samples)
            t1 = _time.perf_counter()
            self.timing["evolve_s"] += t1 - t0
            row = self.probe.row(self.engine, sample, int(step))
            self.timing["measure_s"] += _time.perf_counter() - t1
            _progress.log_row(self, row, i)
            yield row
        _progress.log_end(self, len(self.steps))

    def meta(self):
        """Method, options and versions, for the result's provenance."""
        return {"method": self.method, "backend": self.backend, "dt": self.dt, "t_final": self.t_final,
                **self.probe.meta(self), "model": self.chain.name, "model_params": self.chain.params,
                "state": self.initial_state.label, "versions": versions()}


def evolve(chain, state, method=None, *, dt=UNSET, t_final, chi_max=UNSET, svd_cutoff=UNSET, observables=UNSET,
           output_dt=UNSET, conserve=UNSET, backend=UNSET, array_backend=UNSET, n_log=UNSET, beta=UNSET,
           energy_tolerance=UNSET, noise_rate=UNSET, noise_seed=UNSET, threads=UNSET, lanes=UNSET,
           chunk_outputs=UNSET, allow_large_dt=UNSET, per_chain=UNSET, precision=UNSET, green_kubo=UNSET,
           callback=None, progress=None):
    r"""Evolve ``state`` under ``chain`` and measure ``observables`` at output times.

    Every method goes through the one :class:`Evolution`; the method table
    (:data:`tnmbl.engines.METHODS`) says which options a method takes, and giving one it does
    not take raises :class:`~tnmbl.errors.OptionError` naming the option and the method.

    Parameters
    ----------
    chain : Chain
        The model (see :mod:`tnmbl.models`).
    state : ProductState or ClassicalState
        The initial state (see :mod:`tnmbl.states`, :mod:`tnmbl.states.classical`).
    method : str, optional
        A name from :data:`tnmbl.engines.METHODS`: ``tebd2``, ``tebd4``, ``tdvp1``, ``tdvp2``,
        ``exact`` (quantum chains; ``exact`` is full-space evolution in the charge sector,
        L <= 12; ``tdvp1`` / ``tdvp2`` take bond terms of any range), ``leapfrog``,
        ``yoshida4`` (rotor chains), ``split2``, ``split4`` (DNLS chains). Default: the first
        method that takes the chain (``tebd2``, ``leapfrog``, ``split2``).
    dt : float
        Time step (default 0.05); ``t_final`` and ``output_dt`` must be integer multiples of it.
    t_final : float
        Final time.
    observables : sequence of str
        Names from :mod:`tnmbl.observables` (``density``, ``energy_density``,
        ``energy_current``, ``density_current``, ``entanglement``, ``onsite:OP``; classical
        chains also ``phi`` and ``current_correlation``).
    output_dt : float, optional
        Interval between output times, used exactly. Default
        (:func:`tnmbl.timegrid.default_every`): at most 100 rows after the start, and never
        more often than every 4 steps; the final time is always a row.
    n_log : int, optional
        ``n_log`` log-spaced output steps instead of ``output_dt`` (every method; for
        quantities growing like log t, e.g. the entanglement of an MBL chain).
    backend : str, optional
        Library running the method (default: ``tnmbl.engines.default_backend``, chosen by
        method and size from the benchmarks).
    chi_max, svd_cutoff, conserve, array_backend :
        MPS methods: largest bond dimension (128), Schmidt values discarded below
        ``svd_cutoff`` (1e-10), U(1) charge conservation (``"auto"``: when the chain and
        state allow it; ``exact`` takes ``conserve`` too), array library of backends that
        run on several (``quimb``: ``numpy`` default, ``torch``, ``cupy``). ``tebd2`` /
        ``tebd4`` on TeNPy take ``threads``: the bonds of one Trotter layer on that many
        workers (every ``n >= 1`` gives bitwise the same state; default ``None``: the cores the
        run is allowed, :func:`~tnmbl.engines.tenpy_parallel.default_threads`; ``1``: serial).
    beta, energy_tolerance, noise_rate, noise_seed, per_chain, threads, lanes, chunk_outputs, allow_large_dt :
        Classical batches: inverse
        temperature for ``phi`` (default: the state's); stop with
        :class:`~tnmbl.errors.ConvergenceError` when :math:`\max_m |E_m(t) - E_m(0)| / L`
        passes ``energy_tolerance``; velocity-flip noise rate and seed (rotor); per-chain
        series attached to each row; performance knobs; ``allow_large_dt`` overrides the
        stability bound.
    precision : {"float64", "float32"}
        Classical batches: the floating-point type of the integration (default
        ``"float64"``). ``"float32"`` runs the rotor methods on the float32 kernel (angles
        wrapped, their updates compensated; measurements in float64); refused by methods
        without a float32 kernel (DNLS), with velocity-flip noise, and where its predicted
        round-off energy walk passes ``energy_tolerance`` (README, classical section).
    green_kubo : dict, optional
        Classical batches: ``{"lag_max": ..., "sample_dt": ...}`` accumulates the per-chain
        total-current autocorrelation over all time origins during the run, for lags up to
        ``lag_max`` on samples averaged over ``sample_dt`` (a multiple of ``dt``; ``lag_max`` a
        multiple of ``sample_dt``), instead of storing the series
        (:mod:`tnmbl.engines.classical.correlator`); ``result.engine.green_kubo()`` is the result,
        :func:`tnmbl.transport.green_kubo_accumulated` its kappa.
    callback : callable, optional
        Called with each :class:`~tnmbl.evolution.Row` as it is measured.
    progress : None, bool, "rich" or "tqdm"
        A progress bar over the output rows with the time reached, ``chi``, the truncation
        error and the ETA (:mod:`tnmbl.evolution.progress`). ``None`` (default): shown only
        when stderr is a terminal (never in scripts piped to a file, batch jobs or tests).
        Rows are also logged to the ``tnmbl`` logger (INFO: start and end; DEBUG: each row),
        silent unless logging is configured.

    Returns
    -------
    Result
        For a classical batch ``result.engine`` is the :class:`Evolution` (``samples``: the
        per-chain series; ``state()``: the final batch); otherwise the engine.
    """
    given = {k: v for k, v in dict(dt=dt, chi_max=chi_max, svd_cutoff=svd_cutoff, observables=observables,
                                   output_dt=output_dt, conserve=conserve, backend=backend,
                                   array_backend=array_backend, n_log=n_log, beta=beta,
                                   energy_tolerance=energy_tolerance, noise_rate=noise_rate, noise_seed=noise_seed,
                                   threads=threads, lanes=lanes, chunk_outputs=chunk_outputs,
                                   allow_large_dt=allow_large_dt, per_chain=per_chain,
                                   precision=precision, green_kubo=green_kubo).items() if v is not UNSET}
    kind = _progress.wanted(progress)
    ev = Evolution(chain, state, method, t_final=t_final, **given)
    handle = ev if ev.engine.probe == "batch" else None
    if kind is None:
        return collect(ev, callback, handle=handle)
    bar = _progress.ProgressBar(len(ev), t_final=ev.t_final, kind=kind, description=f"{ev.method} {chain.name}")

    def both(row):
        bar.row(row)
        if callback is not None:
            callback(row)

    try:
        return collect(ev, both, handle=handle)
    finally:
        bar.close()
