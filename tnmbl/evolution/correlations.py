r"""Thermal two-time correlations of local operators derived from the chain.

.. math::
    C_{AB}(x - y, t) = \langle A_x(t)\, B_y(0)\rangle_\beta
                   = {\rm Tr}\,\rho_\beta\, e^{iHt} A_x e^{-iHt} B_y ,

for ``A``, ``B`` among the chain's derived operators (``density``, ``energy_density``,
``energy_current``, ``density_current``; :mod:`tnmbl.chain.local`) or any list of
:class:`~tnmbl.chain.LocalOp`. Positions follow the observables' conventions (sites ``x``;
bonds ``b + 1/2``; energy currents ``b + 1``), and ``distance = pos(A_x) - pos(B_y)``.

Methods: ``"purification"`` (TeNPy purification MPS with backwards-evolved ancillas,
:mod:`tnmbl.engines.purification`) and ``"exact"`` (full diagonalisation,
:mod:`tnmbl.engines.exact_thermal`; small chains, open or periodic). A driver over those
engines (it lives with the other drivers in :mod:`tnmbl.evolution`, above the engines).

Three shapes of the same computation:

* :func:`correlations` -- :math:`C(x-y, t)` for all ``x`` and one ``y`` (one evolution);
* :func:`current_autocorrelation` -- :math:`\frac1L\langle J(t) J(0)\rangle` with
  :math:`J = \sum_x j_x` (``total=True``; ``J`` applied as an MPO), or the bulk form
  :math:`\sum_x \langle j_x(t) j_y(0)\rangle` with ``y`` mid-chain (``total=False``), which
  equals the former in a translation-invariant chain and keeps the open edges away;
* :func:`local_autocorrelation` -- :math:`\langle O_x(t) O_x(0)\rangle` (connected by
  default) on chosen sites, with :func:`decay_rate` for its decay rate / line width.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..chain import LocalOp, charge_currents, charge_densities, energy_currents, energy_densities
from ..engines.exact_thermal import exact_correlations, exact_expectations
from ..engines.purification import PurificationCorrelator
from ..errors import ObservableError, OptionError, fail
from ..observables.registry import OBSERVABLES
from ..provenance import versions
from ..states.mixed import Thermal
from ..timegrid import n_steps
from . import resultsio
from .rows import Result

OPERATORS = {
    "density": charge_densities,
    "energy_density": energy_densities,
    "energy_current": energy_currents,
    "density_current": charge_currents,
}
METHODS = ("purification", "exact")
PURIFICATION_OPTIONS = ("method", "chi_max", "svd_cutoff", "dbeta", "disentangle", "conserve")


def operator_list(chain, name):
    """``(ops, positions)`` of a named derived operator, or of a given list of LocalOps."""
    if isinstance(name, str):
        if name not in OPERATORS:
            fail(ObservableError, "operator", name, f"unknown; known: {', '.join(OPERATORS)}",
                 "or pass a list of LocalOp")
        ops = OPERATORS[name](chain)
        offset = {"density": 0.0, "energy_density": 0.5, "density_current": 0.5, "energy_current": 1.0}[name]
        return ops, np.array([op.start + offset for op in ops], float)
    ops = list(name)
    if not ops or not all(isinstance(o, LocalOp) for o in ops):
        fail(ObservableError, "operator", type(name).__name__, "must be a name or a non-empty list of LocalOp")
    return ops, np.array([np.mean(o.sites) for o in ops], float)


def _time_grid(t_max, dt, output_dt):
    output_dt = dt if output_dt is None else output_dt
    if not dt > 0:
        fail(OptionError, "dt", dt, "must be > 0")
    k = n_steps("output_dt", output_dt, dt, minimum=1)
    if t_max < 0:
        fail(OptionError, "t_max", t_max, "must be >= 0")
    n_out = n_steps("t_max", t_max, output_dt, dt_key="output_dt") + 1
    return np.arange(n_out) * output_dt, k


@dataclass
class Correlation:
    """Result of a correlation computation.

    :meth:`save` writes the results-file format (``kind = "correlation"``; :func:`tnmbl.load`
    reads it back), :meth:`to_xarray` the labelled view and :meth:`plot` a figure, all through
    :meth:`as_result`, the :class:`~tnmbl.Result` with observables ``C_re``, ``C_im``,
    ``C_error`` (columns at ``distance``, or one ``scalar`` column) and health figures
    ``truncation_error`` and ``chi``.

    Attributes
    ----------
    times : array (n_t,)
    distance : array (n_x,)
        ``pos(A_x) - pos(B_y)`` per column (empty for scalar results).
    values : complex array (n_t, n_x) or (n_t,)
    error_estimate : array like ``values`` (zeros for ``exact``)
        Truncation error estimate (see :mod:`tnmbl.engines.purification`).
    truncation_error : array (n_t,)
        Accumulated discarded weight of bra and ket.
    chi : array (n_t,)
    meta : dict
        Method, options, ensemble, operators, ``units``: everything needed to reproduce it.
    """

    times: np.ndarray
    distance: np.ndarray
    values: np.ndarray
    error_estimate: np.ndarray
    truncation_error: np.ndarray
    chi: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def scalar(self):
        """Whether ``values`` is one number per time (an autocorrelation summed over currents)."""
        return np.ndim(self.values) == 1

    def as_result(self):
        """This correlation as a :class:`~tnmbl.Result` (see the class docstring)."""
        n = len(self.times)
        shape = (n, 1) if self.scalar else np.shape(self.values)
        pos = np.zeros(1) if self.scalar else np.asarray(self.distance, float)
        dim = "scalar" if self.scalar else "distance"
        units = self.meta.get("units", "")
        values = np.asarray(self.values).reshape(shape)
        data = {"C_re": values.real.astype(float), "C_im": values.imag.astype(float),
                "C_error": np.asarray(self.error_estimate, float).reshape(shape)}
        what = {"C_re": "real part (the symmetrised correlation)", "C_im": "imaginary part",
                "C_error": "truncation error estimate"}
        meta = {**{"versions": versions()}, **self.meta, "kind": "correlation"}
        return Result(np.asarray(self.times, float), data, dict.fromkeys(data, pos),
                      {"truncation_error": np.asarray(self.truncation_error, float),
                       "chi": np.asarray(self.chi, float)}, meta, units=dict.fromkeys(data, units),
                      dims=dict.fromkeys(data, dim),
                      descriptions={k: f"{v} of {_describe(self.meta)}" for k, v in what.items()})

    @classmethod
    def from_result(cls, res):
        """The inverse of :meth:`as_result`."""
        meta = {k: v for k, v in res.meta.items() if k != "kind"}
        values = np.asarray(res["C_re"]) + 1j * np.asarray(res["C_im"])
        err = np.asarray(res["C_error"])
        scalar = res.dims.get("C_re") == "scalar"
        distance = np.zeros(0) if scalar else np.asarray(res.positions["C_re"], float)
        if scalar:
            values, err = values[:, 0], err[:, 0]
        return cls(np.asarray(res.times, float), distance, values, err, np.asarray(res.health["truncation_error"]),
                   np.asarray(res.health["chi"]).astype(int), meta)

    def save(self, path, *, overwrite=False):
        """Write to ``path`` in the results-file format; :func:`tnmbl.load` reads it back."""
        return resultsio.save(self.as_result(), path, overwrite=overwrite, kind="correlation")

    @classmethod
    def from_layout(cls, raw):
        return cls.from_result(Result.from_layout(raw))

    def to_xarray(self):
        """:meth:`tnmbl.Result.to_xarray` of :meth:`as_result`: ``C_re``, ``C_im``, ``C_error``
        over ``time`` and ``distance`` (or ``scalar``), ``health_truncation_error``,
        ``health_chi``; units on every variable and coordinate, provenance in attrs."""
        return self.as_result().to_xarray()

    @classmethod
    def from_xarray(cls, ds):
        return cls.from_result(Result.from_xarray(ds))

    def plot(self, out=None, *, dpi=110, title=None):
        """Re C against time with its error estimate (a heat map against distance and time
        for a profile) and the discarded weight; returns the ``Figure``, or writes a PNG to
        ``out`` and returns its path."""
        from .figures import plot_correlation

        return plot_correlation(self, out, dpi=dpi, title=title)


def _units(a, b):
    """Units of ``<A B>`` from the operators' units (a list of LocalOps: operator units)."""
    def one(x):
        return OBSERVABLES[x].units if isinstance(x, str) and x in OBSERVABLES else "operator units"

    ua, ub = one(a), one(b)
    return f"({ua})^2" if ua == ub else f"({ua}) x ({ub})"


def _describe(meta):
    what = meta.get("current") or meta.get("op") or f"<{meta.get('a')}(t) {meta.get('b')}(0)>"
    return f"{what} ({meta.get('ensemble', '')}, {meta.get('method', '')})"


def _check_options(method, options):
    if method not in METHODS:
        fail(OptionError, "method", method, f"must be one of {METHODS}")
    allowed = PURIFICATION_OPTIONS if method == "purification" else ()
    bad = [k for k in options if k not in allowed]
    if bad:
        fail(OptionError, "options", bad, f"not understood by method={method!r}",
             f"allowed: {', '.join(allowed) or 'none'}")


def _run(chain, ensemble, a_ops, b, times, steps, dt, method, options, max_truncation_error=None):
    """values (n_t, n_a), error estimate (n_t, n_a), truncation error, chi, meta."""
    if method == "exact":
        v = exact_correlations(chain, ensemble, a_ops, [b], times)[:, :, 0]
        z = np.zeros(len(times))
        return v, np.zeros(v.shape), z, z.astype(int), {}

    corr = PurificationCorrelator(chain, ensemble, dt=dt, **options)
    v, health = corr.correlate(a_ops, b, len(times), steps, max_truncation_error=max_truncation_error)
    meta = {"dbeta": corr.dbeta, "imag_truncation_error": corr.imag_truncation_error,
            "trick": "backwards ancilla evolution" if corr.disentangle == "backwards" else "none",
            **{k: v_ for k, v_ in options.items()}}
    return v, health["error_estimate"], health["truncation_error"], health["chi"], meta


def _ensemble(beta, ensemble):
    if isinstance(ensemble, Thermal):
        return ensemble
    if ensemble is None:
        return Thermal(beta)
    fail(OptionError, "ensemble", ensemble, "must be a tnmbl.states.mixed.Thermal", "e.g. thermal(beta=1)")


def correlations(chain, a, b=None, *, beta=0.0, ensemble=None, t_max, dt=0.05, output_dt=None, y=None,
                 method="purification", connected=False, max_truncation_error=None, **options):
    r""":math:`\langle A_x(t) B_y(0)\rangle_\beta` for every ``x`` and one ``y``.

    Parameters
    ----------
    chain : Chain
    a, b : str or list of LocalOp
        Operators (names in :data:`OPERATORS`); ``b`` defaults to ``a``.
    beta, ensemble :
        Inverse temperature, or a full :class:`~tnmbl.states.mixed.Thermal` (which wins).
    t_max, dt, output_dt : float
        Final time, TEBD step, output interval (multiples of ``dt``).
    y : int, optional
        Index of ``B_y`` in its list (default: the middle one).
    method : {"purification", "exact"}
    connected : bool
        Subtract :math:`\langle A_x\rangle\langle B_y\rangle` (time independent; computed at
        ``t = 0`` from the same state as the correlation).
    max_truncation_error : float, optional
        Stop when the discarded weight passes it (purification): results up to then.
    **options
        Purification: ``method`` is taken by the outer argument, so pass the Trotter order as
        ``trotter="tebd2"|"tebd4"``; ``chi_max``, ``svd_cutoff``, ``dbeta``, ``disentangle``,
        ``conserve``.

    Returns
    -------
    Correlation
        ``values[t, x]``, ``distance[x]``.
    """
    ens = _ensemble(beta, ensemble)
    a_ops, a_pos = operator_list(chain, a)
    b_ops, b_pos = operator_list(chain, a if b is None else b)
    y = len(b_ops) // 2 if y is None else y
    if not 0 <= y < len(b_ops):
        fail(OptionError, "y", y, f"must index the {len(b_ops)} operators B")
    options = _translate(options)
    _check_options(method, options)
    times, steps = _time_grid(t_max, dt, output_dt)
    v, err, eps, chi, meta = _run(chain, ens, a_ops, b_ops[y], times, steps, dt, method, options,
                                  max_truncation_error)
    times = times[:len(v)]
    if connected:
        static_a, static_b = _static(chain, ens, a_ops, b_ops[y], method, options)
        v = v - np.outer(np.ones(len(v)), static_a * static_b)
    meta.update(method=method, ensemble=ens.label, a=_name(a), b=_name(a if b is None else b), y=y, dt=dt,
                connected=connected, units=_units(a, a if b is None else b), model=chain.name,
                model_params=dict(chain.params))
    return Correlation(times, a_pos - b_pos[y], v, err, eps, chi, meta)


def _translate(options):
    options = dict(options)
    if "trotter" in options:
        options["method"] = options.pop("trotter")
    return options


def _name(x):
    return x if isinstance(x, str) else f"{len(x)} LocalOps"


def _static(chain, ens, a_ops, b_op, method, options):
    """<A_k> and <B> in the ensemble."""
    if method == "exact":
        vals = exact_expectations(chain, ens, list(a_ops) + [b_op])
        return vals[:-1], vals[-1]

    corr = PurificationCorrelator(chain, ens, **options)
    ops = [corr.npc_op(o) for o in list(a_ops) + [b_op]]
    vals = np.array([corr.psi.expectation_value(o, sites=[x.start])[0] for o, x in zip(ops, list(a_ops) + [b_op])])
    return vals[:-1], vals[-1]


def current_autocorrelation(chain, current="energy_current", *, beta=0.0, ensemble=None, t_max, dt=0.05,
                            output_dt=None, total=True, method="purification", max_truncation_error=None,
                            **options):
    r"""Current autocorrelation, the Green-Kubo integrand.

    ``total=True``: :math:`C(t) = \frac1L \langle J(t) J(0)\rangle_\beta` with
    :math:`J = \sum_x j_x` over all currents of the chain (open: ``L-2`` energy currents,
    ``L-1`` particle currents). ``total=False``: :math:`C(t) = \sum_x \langle j_x(t)
    j_y(0)\rangle_\beta` with ``y`` the middle current (translation-invariant bulk form).

    Returns
    -------
    Correlation
        ``values`` complex of shape ``(n_t,)`` (use the real part, the symmetrised
        correlation, for Green-Kubo); ``error_estimate`` summed over the measured currents.
    """
    ens = _ensemble(beta, ensemble)
    ops, _ = operator_list(chain, current)
    options = _translate(options)
    _check_options(method, options)
    times, steps = _time_grid(t_max, dt, output_dt)
    b = list(ops) if total else ops[len(ops) // 2]
    v, err, eps, chi, meta = _run(chain, ens, ops, b, times, steps, dt, method, options, max_truncation_error)
    scale = 1.0 / chain.L if total else 1.0
    meta.update(method=method, ensemble=ens.label, current=_name(current), total=total, dt=dt,
                normalisation="(1/L) <J(t) J(0)>" if total else "sum_x <j_x(t) j_y(0)>, y mid-chain",
                units=_units(current, current), model=chain.name, model_params=dict(chain.params))
    return Correlation(times[:len(v)], np.zeros(0), scale * v.sum(axis=1), scale * err.sum(axis=1), eps, chi, meta)


def local_autocorrelation(chain, op="density", *, sites=None, beta=0.0, ensemble=None, t_max, dt=0.05,
                          output_dt=None, connected=True, method="purification", **options):
    r""":math:`\langle O_x(t) O_x(0)\rangle_\beta` (minus :math:`\langle O_x\rangle^2` if
    ``connected``) for ``x`` in ``sites`` (indices into the operator list; default: the
    middle one). One evolution per site.

    Returns
    -------
    Correlation
        ``values[t, k]`` for ``sites[k]``; ``distance`` holds the operator positions.
    """
    ens = _ensemble(beta, ensemble)
    ops, pos = operator_list(chain, op)
    sites = [len(ops) // 2] if sites is None else list(sites)
    cols, errs, epss, chis = [], [], [], []
    meta = {}
    for s in sites:
        c = correlations(chain, [ops[s]], [ops[s]], ensemble=ens, t_max=t_max, dt=dt, output_dt=output_dt,
                         method=method, connected=connected, **options)
        cols.append(c.values[:, 0])
        errs.append(c.error_estimate[:, 0])
        epss.append(c.truncation_error)
        chis.append(c.chi)
        meta = c.meta
    meta.update(op=_name(op), sites=sites, units=_units(op, op))
    n = min(len(c) for c in cols)
    return Correlation(c.times[:n], pos[sites], np.array([c[:n] for c in cols]).T,
                       np.array([e[:n] for e in errs]).T, np.max([e[:n] for e in epss], axis=0),
                       np.max([x[:n] for x in chis], axis=0), meta)


def decay_rate(times, values, *, window=None, floor=1e-3):
    r"""Decay rate :math:`\Gamma` of an autocorrelation, :math:`|C(t)| \approx |C(0)| e^{-\Gamma t}`.

    The fit: least squares of :math:`\ln|C(t)/C(0)|` against :math:`a - \Gamma t` over the
    points with ``window[0] <= t <= window[1]`` (default: all ``t > 0``) and
    :math:`|C(t)/C(0)| >` ``floor`` (below it the log is noise). The standard error of
    :math:`\Gamma` is the fit's (residual variance times :math:`(X^TX)^{-1}`). If C decays
    exponentially, its spectrum is a Lorentzian of half width :math:`\Gamma` (full width at
    half maximum :math:`2\Gamma`): this is the local line width.

    Returns
    -------
    (gamma, gamma_error, n_points)
    """
    t = np.asarray(times, float)
    c = np.abs(np.real_if_close(np.asarray(values)))
    if c[0] == 0:
        fail(ObservableError, "values", "C(0) = 0", "cannot normalise the autocorrelation")
    r = c / c[0]
    lo, hi = (t[1] if len(t) > 1 else 0.0, t[-1]) if window is None else window
    m = (t >= lo) & (t <= hi) & (r > floor)
    if m.sum() < 3:
        fail(ObservableError, "window", (lo, hi), f"only {m.sum()} points above floor={floor} in the window",
             "widen the window or evolve longer / with a finer output grid")
    X = np.vstack([np.ones(m.sum()), t[m]]).T
    yv = np.log(r[m])
    coef, *_ = np.linalg.lstsq(X, yv, rcond=None)
    res = yv - X @ coef
    dof = max(m.sum() - 2, 1)
    cov = np.linalg.inv(X.T @ X) * (res @ res) / dof
    return float(-coef[1]), float(np.sqrt(cov[1, 1])), int(m.sum())
