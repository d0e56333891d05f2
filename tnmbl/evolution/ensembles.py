"""Ensembles of pure-state runs: :func:`ensemble_average` evolves each state with the one
driver and averages (e.g. over the samples of :func:`tnmbl.states.bubbles.sampled_bubble`).
Its :class:`EnsembleResult` is a :class:`~tnmbl.Result` (the mean) with the members' spread,
saved, loaded, viewed and plotted like one."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import StateError, fail
from . import resultsio
from .driver import evolve
from .rows import Result

#: the statistics an ensemble stores per observable beside its mean, and their xarray variable prefix
STATS = ("sem", "lo", "hi")


@dataclass(repr=False)
class EnsembleResult(Result):
    """Mean of every observable over an ensemble of runs, a :class:`~tnmbl.Result` whose
    ``data`` are the means (``units``, ``dims``, ``meta`` of the members; ``health`` the worst
    member per time: largest absolute value of each figure).

    ``sem[name]`` holds the standard errors of the means, ``samples[name]`` the members'
    series ``(n_samples, n_times, n_columns)`` (for bootstrap error bars, e.g. of
    :func:`tnmbl.observables.spreading.spreading`), ``lo`` / ``hi`` bootstrap intervals where
    computed (sweep summaries), ``results`` the member results when kept.
    :meth:`~tnmbl.Result.save` stores all of it (the results-file format, ``kind =
    "ensemble"``), :func:`tnmbl.load` reads it back; :meth:`to_xarray` adds ``sem_<name>``,
    ``lo_<name>``, ``hi_<name>`` and ``samples_<name>`` (dimension ``sample``); :meth:`plot`
    draws the mean.
    """

    sem: dict = field(default_factory=dict)
    n_samples: int = 0
    results: list = field(default_factory=list)
    samples: dict = field(default_factory=dict)
    lo: dict = field(default_factory=dict)
    hi: dict = field(default_factory=dict)

    def __repr__(self):
        return f"Ensemble{super().__repr__()[:-1]}, n_samples={self.n_samples})"

    def title(self):
        return f"{super().title()}; mean of {self.n_samples} runs"

    def _stats(self):
        return {"sem": self.sem, "lo": self.lo, "hi": self.hi}

    def save(self, path, *, overwrite=False):
        """Write the ensemble to ``path`` in the results-file format (means as the observables,
        statistics and members' series under ``/ensemble``); :func:`tnmbl.load` reads it back."""
        extra = {f"ensemble/{stat}": values for stat, values in self._stats().items() if values}
        if self.samples:
            extra["ensemble/samples"] = self.samples
        return resultsio.save(self, path, overwrite=overwrite, kind="ensemble",
                              extra=dict(extra, ensemble={"n_samples": self.n_samples}))

    @classmethod
    def from_layout(cls, raw):
        ens = raw["extra"].get("ensemble", {})
        fields = resultsio.result_fields(raw)
        return cls(**fields, n_samples=int(ens.get("n_samples", 0)), samples=dict(ens.get("samples", {})),
                   **{stat: dict(ens.get(stat, {})) for stat in STATS})

    def same_as(self, other, *, rtol=0.0, atol=0.0):
        same, why = super().same_as(other, rtol=rtol, atol=atol)
        if not same:
            return same, why
        if self.n_samples != getattr(other, "n_samples", None):
            return False, "n_samples"
        for what in ("samples",) + STATS:
            mine, theirs = getattr(self, what), getattr(other, what, {})
            if set(mine) != set(theirs):
                return False, f"{what}: {sorted(mine)} vs {sorted(theirs)}"
            for k in mine:
                if not np.allclose(mine[k], theirs[k], rtol=rtol, atol=atol, equal_nan=True) or \
                        np.shape(mine[k]) != np.shape(theirs[k]):
                    return False, f"{what}[{k!r}]"
        return True, ""

    def to_xarray(self):
        """:meth:`tnmbl.Result.to_xarray` of the means, with ``sem_<name>`` / ``lo_<name>`` /
        ``hi_<name>`` over the same dimensions and ``samples_<name>`` over ``sample`` too (each
        with the observable's units); attrs ``kind = "ensemble"``, ``n_samples``."""
        ds = super().to_xarray()
        for stat, values in self._stats().items():
            for name, v in values.items():
                ds[f"{stat}_{name}"] = (ds[name].dims, np.asarray(v), dict(ds[name].attrs, kind=stat, name=name))
        for name, v in self.samples.items():
            ds[f"samples_{name}"] = (("sample",) + ds[name].dims, np.asarray(v),
                                     dict(ds[name].attrs, kind="samples", name=name))
        ds.attrs.update(kind="ensemble", n_samples=self.n_samples)
        return ds

    @classmethod
    def from_xarray(cls, ds):
        base = Result.from_xarray(ds)
        found = {stat: {} for stat in STATS + ("samples",)}
        for da in ds.data_vars.values():
            if da.attrs.get("kind") in found:
                found[da.attrs["kind"]][da.attrs["name"]] = da.values
        return cls(**{k: getattr(base, k) for k in base.__dataclass_fields__}, n_samples=int(ds.attrs["n_samples"]),
                   **found)


def ensemble_average(chain, states, *, keep_results=False, **evolve_kwargs):
    """Evolve each state with :func:`tnmbl.evolve` and average the observables.

    The returned :class:`EnsembleResult` is a :class:`~tnmbl.Result` of the means (so every
    spreading observable takes it, and it saves, loads and plots like one); ``sem`` holds the
    standard errors of the means, ``samples`` the members' series. For large ensembles or
    disorder, use the sweeps of :mod:`tnmbl.runs.sweep` instead (parallel, resumable).
    """
    states = list(states)
    if not states:
        fail(StateError, "states", "[]", "need at least one state")
    runs = [evolve(chain, s, **evolve_kwargs) for s in states]
    first = runs[0]
    stack = {k: np.array([r[k] for r in runs]) for k in first.observables}
    n = len(runs)
    sem = {k: (v.std(0, ddof=1) / np.sqrt(n) if n > 1 else np.full(v.shape[1:], np.nan)) for k, v in stack.items()}
    health = {k: np.max([np.abs(r.health[k]) for r in runs], axis=0) for k in first.health}
    meta = {k: v for k, v in first.meta.items() if k not in resultsio.PROCESS_META}
    meta["ensemble"] = {"n_samples": n, "health": "largest absolute value over the members",
                        "states": [r.meta.get("state") for r in runs]}
    meta["state"] = f"{n} states ({runs[0].meta.get('state')}, ...)" if n > 1 else meta.get("state")
    return EnsembleResult(first.times, {k: v.mean(0) for k, v in stack.items()}, first.positions, health, meta,
                          units=first.units, dims=first.dims, descriptions=first.descriptions, steps=first.steps,
                          sem=sem, n_samples=n, results=runs if keep_results else [], samples=stack)
