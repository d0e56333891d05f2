r"""How the one driver turns an engine's samples into rows: :class:`LocalProbe` (observables
from local operators through ``engine.expect``: MPS, exact, purification) and
:class:`BatchProbe` (ensemble averages a classical batch measured inside its compiled loop,
with per-chain series). The engine class names its probe (``Engine.probe``); that attribute
is the one seam between the two kinds of measurement.
"""

from __future__ import annotations

import numpy as np

from ..chain import charge_densities, energy_densities
from ..errors import ConvergenceError, ObservableError, OptionError, fail
from .rows import Row, number

#: per-chain series a batch measures at every output (``samples``, ``per_chain``)
PER_CHAIN = ("energy", "charge", "phi", "total_current")


class LocalProbe:
    """Rows of observables defined as lists of local operators, with the health figures
    (truncation, charge and energy with their drifts from the first row)."""

    options = frozenset()

    def __init__(self, chain, state, observables, options):
        self.chain, self.observables = chain, observables
        # derive every local operator before building the engine: errors come first
        self._ops = {o.name: (o.local_ops(chain) if o.local_ops else None) for o in observables}
        # health figures reuse measured densities; otherwise they need their own operators
        self._measured = {o.name for o in observables}
        self._health_ops = {}
        if "density" not in self._measured:
            self._health_ops["__charge"] = charge_densities(chain)
        if "energy_density" not in self._measured and chain.max_range == 1:
            self._health_ops["__energy"] = energy_densities(chain)
        self.reference = None  # (energy, charge) at the start: drifts are relative to it

    def check(self, ev):
        """Checks that need the built engine and the output grid (none for local operators)."""

    def row(self, eng, sample, step):
        """A :class:`Row` for the engine's current state (``sample`` is ``None``)."""
        # every operator list of the row in one request: engines that can share work between
        # them (one pass over the MPS) do
        requests = {o.name: self._ops[o.name] for o in self.observables if self._ops[o.name] is not None}
        measured = eng.expect_many({**requests, **self._health_ops})
        values = {o.name: np.asarray(measured[o.name] if o.name in requests else o.measure(eng, None), dtype=float)
                  for o in self.observables}
        health = dict(eng.health())
        # reuse the densities if they were measured anyway (a 2-site sweep costs ~1/4 step)
        if "density" in self._measured:
            charge = values["density"]
        else:
            charge = measured["__charge"]
        if "energy_density" in self._measured:
            energy = values["energy_density"].sum()
        elif "__energy" in self._health_ops:
            energy = measured["__energy"].sum()
        else:
            energy = eng.energy()
        health["charge"] = float(charge.sum())
        health["energy"] = float(energy)
        if self.reference is None:
            self.reference = (health["energy"], health["charge"])
        health["energy_drift"] = health["energy"] - self.reference[0]
        health["charge_drift"] = health["charge"] - self.reference[1]
        return Row(eng.time, eng.step, values, health)

    def meta(self, ev):
        o = ev.options
        return {"chi_max": o.chi_max, "svd_cutoff": o.svd_cutoff, "array_backend": o.array_backend or "numpy",
                "conserve": ev.conserve, "output_every_steps": ev.n_out}


class BatchProbe:
    """Ensemble-averaged rows of a classical batch. The per-chain series (``energy``,
    ``charge``, ``phi``, ``total_current``) are kept in ``samples`` (``keep_samples``) and
    those named in ``per_chain`` are attached to each row (``row.per_chain``); with
    ``energy_tolerance`` a row whose largest per-chain energy error per site passes it stops
    the run with a :class:`~tnmbl.errors.ConvergenceError`."""

    options = frozenset({"beta", "per_chain", "keep_samples", "energy_tolerance"})

    def __init__(self, chain, state, observables, options):
        self.chain, self.observables = chain, observables
        self.names = [o.name for o in observables]
        beta, per_chain = options.get("beta"), options.get("per_chain", ())
        energy_tolerance = options.get("energy_tolerance")
        if "phi" in self.names and chain.site.name != "rotor":
            fail(ObservableError, "observable", "phi", "the relaxation function is defined for the rotor chain")
        if beta is None:
            beta = state.meta.get("beta")
        if "phi" in self.names and (beta is None or not beta > 0):
            fail(OptionError, "beta", beta, "phi needs the inverse temperature beta > 0",
                 "pass beta=..., or start from tnmbl.states.classical.gibbs(chain, M, beta)")
        per_chain = [per_chain] if isinstance(per_chain, str) else list(per_chain)
        for name in per_chain:
            if name not in PER_CHAIN:
                fail(OptionError, "per_chain", name, f"unknown per-chain series; known: {', '.join(PER_CHAIN)}")
        if "phi" in per_chain and not (beta is not None and beta > 0 and chain.site.name == "rotor"):
            fail(OptionError, "per_chain", "phi", "phi is the rotor relaxation function and needs beta > 0")
        if energy_tolerance is not None:
            energy_tolerance = number("energy_tolerance", energy_tolerance)
        self.beta, self.per_chain, self.energy_tolerance = beta, per_chain, energy_tolerance
        self.keep_samples = options.get("keep_samples", True)
        self._samples = {k: [] for k in PER_CHAIN}
        self.reference = None  # per-chain (energy, charge, total current) at the start

    def check(self, ev):
        """Before compute: refuse a run whose round-off alone (float32) is predicted to pass
        ``energy_tolerance`` by its last output (``engine.energy_error_floor``), naming
        ``precision``."""
        eng = ev.engine
        if self.energy_tolerance is None or getattr(eng, "precision", "float64") == "float64":
            return
        n = int(ev.steps[-1] - ev.steps[0])
        floor = eng.energy_error_floor(n)
        if floor > self.energy_tolerance:
            fail(OptionError, "precision", eng.precision,
                 f"its round-off alone is predicted to reach an energy error per site of {floor:.2g} by "
                 f"t = {ev.steps[-1] * eng.dt:g} (largest of {eng.M} chains: each kick rounds the momenta, "
                 f"so every chain's energy random-walks), above energy_tolerance = {self.energy_tolerance:g}",
                 f"use precision='float64', or an energy_tolerance above {floor:.2g}")

    def row(self, eng, sample, step):
        out, i = sample
        L = self.chain.L
        e, q, jt = out["chain_energy"][i], out["chain_charge"][i], out["chain_current"][i]
        if self.reference is None:
            self.reference = (e.copy(), q.copy(), jt.copy())
        e0, q0, j0 = (np.asarray(r) for r in self.reference)
        phi = self.beta / (2 * L) * out["chain_dw2"][i] if self.beta and self.chain.site.name == "rotor" else None
        series = {"energy": e, "charge": q, "total_current": jt, "phi": phi}
        if self.keep_samples:
            for k, v in series.items():
                if v is not None:
                    self._samples[k].append(v)
        values = {}
        for name in self.names:
            if name == "phi":
                values[name] = np.array([phi.mean()])
            elif name == "current_correlation":
                values[name] = np.array([np.mean(jt * j0) / L])
            else:
                values[name] = out[name][i]
        health = {"energy": float(e.mean()), "energy_drift": float(np.mean(e - e0)),
                  "energy_error": float(np.max(np.abs(e - e0)) / L),
                  "charge": float(q.mean()), "charge_drift": float(np.mean(q - q0)),
                  "charge_error": float(np.max(np.abs(q - q0)))}
        row = Row(step * eng.dt, int(step), values, health,
                  {k: series[k].copy() for k in self.per_chain} if self.per_chain else None)
        if self.energy_tolerance is not None and health["energy_error"] > self.energy_tolerance:
            err = ConvergenceError(
                f"energy_error = {health['energy_error']:.3g} at t = {row.time:g}: above "
                f"energy_tolerance = {self.energy_tolerance:g} (largest |E(t) - E(0)| / L over the "
                f"{eng.M} chains). Fix: lower dt or use a higher-order method"
                + ("; in float32 also precision='float64'" if getattr(eng, "precision", "") == "float32" else ""))
            err.row = row
            raise err
        return row

    @property
    def samples(self):
        """Per-chain series measured so far, each ``(n_times, M)``."""
        return {k: np.array(v) for k, v in self._samples.items() if v}

    def meta(self, ev):
        eng = ev.engine
        return {"M": eng.M, "lanes": eng.lanes, "threads": eng.threads, "beta": self.beta, "precision": eng.precision,
                "noise": {"rate": float(eng.noise_rate), "seed": int(ev.options.extra.get("noise_seed", 0))},
                "energy_tolerance": self.energy_tolerance, "output_steps": [int(s) for s in ev.steps],
                "green_kubo": ev.options.extra.get("green_kubo"),
                "state_meta": ev.initial_state.meta}


PROBES = {"local": LocalProbe, "batch": BatchProbe}
