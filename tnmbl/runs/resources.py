"""Resource estimates before compute: memory, a rough time and the results file's size of a
run, from the config and its chain (no state built), and the limits that refuse a run too big
for the machine.

Memory (upper estimates: an MPS is assumed at its largest bond dimension)

* MPS methods (tebd, tdvp): bond dimensions ``chi_b = min(chi_max, d^min(b, L - b))``; the
  state ``sum_x d chi_x chi_x+1``, the two-site wave function and its SVD (``theta``, ``U``,
  ``V``: about ``4 (d chi)^2``), and for TDVP the environments (``2 D chi^2`` per site with MPO
  bond dimension ``D``), complex doubles (16 bytes).
* exact: about 40 vectors of the full space ``d^L`` (Krylov space, Hamiltonian, workspace).
* classical batches: ``M x L`` doubles for each of about 12 arrays (fields, momenta, energies,
  observables accumulated in the kernel).

Time: flops (MPS: ``~12 (d chi)^3`` per bond and Trotter stage, divided by the square of the rough
number of charge blocks (:func:`charge_sectors`) where TeNPy keeps the U(1) charge; exact:
``~40 d^L L`` per step)
or site updates (classical: ``M L`` per step, and per Metropolis sweep or Langevin step of the
state's preparation) at :data:`FLOP_RATE` / :data:`SITE_RATE` on one core: a rough figure,
good to a factor of a few, printed by ``tnmbl validate``.

:func:`resource_problems` refuses a run whose memory passes ``max_memory`` (``--max-memory``,
default: the machine's memory) or whose results file would not fit the free disk space, with
the estimate and the fix.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engines import METHODS
from ..errors import Problem
from ..timegrid import n_steps
from .build import build_chain

BYTES = 16
"""Bytes per complex double."""
FLOP_RATE = 2e9
"""Rough flop rate of one core (BLAS-bound MPS updates), flop/s."""
SITE_RATE = 1e8
"""Rough classical site updates per second per core (compiled kernels)."""
CORRELATOR_MEASURE = 0.6
"""Extra cost of measuring every step (the ``green_kubo`` accumulator), in steps of the ABA864 rotor
kernel (measured +63 % at L = 64, M = 1024, one core)."""
MPO_BOND = 5
"""Typical MPO bond dimension of a nearest-neighbour chain (the TDVP environments)."""
OPERATOR_BOND_SECONDS = 2e-3
"""Python and TeNPy overhead of one bond update of the operator TEBD (a correlation run), per
stage, beside its SVD flops; DAOE_BOND_SECONDS more per bond at each DAOE application (the MPO
and its compression). Fitted to one-core runs of the shipped correlation sweeps (Bose-Hubbard
n_max = 3, L = 64, chi 16 / 32; XXZ L = 48, chi 32; disordered XXZ L = 12, chi 128, no DAOE):
estimate / CPU time 0.64-1.3, where the dense-flop figure alone was 2-110x too large."""
DAOE_BOND_SECONDS = 4e-3
"""See OPERATOR_BOND_SECONDS."""


def machine_memory():
    """The machine's memory in bytes (``os.sysconf``), or ``None`` where it is not known."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def parse_size(text):
    """``"8G"``, ``"512M"``, ``"2.5T"``, ``"1000000"`` (bytes) -> bytes; ``ValueError`` otherwise."""
    units = {"": 1, "B": 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}
    s = str(text).strip().upper().removesuffix("IB").removesuffix("B")
    unit = s[-1] if s and s[-1] in units else ""
    try:
        value = float(s[:-1] if unit else s) * units[unit]
    except ValueError:
        raise ValueError(f"--max-memory = {text!r}: must be a size such as 8G, 512M or a number of bytes") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"--max-memory = {text!r}: must be a positive size")
    return value


def size_text(nbytes):
    """``3.2 GB`` (decimal units)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.0f} B"


def time_text(seconds):
    """``about 3 min`` (one significant figure is all the estimate has)."""
    for unit, scale in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= scale:
            return f"about {seconds / scale:.2g} {unit}"
    return "under a second" if seconds < 1 else f"about {seconds:.2g} s"


@dataclass
class Estimate:
    """Memory (bytes), rough time (seconds on one core) and results size (bytes) of a run;
    ``parts`` names the memory terms; ``key`` / ``fix`` say what to lower when it is too big."""

    memory: float
    seconds: float
    results_bytes: float
    parts: dict = field(default_factory=dict)
    key: str = "evolution.chi_max"
    value: object = None
    fix: str = ""

    def text(self):
        parts = ", ".join(f"{k} {size_text(v)}" for k, v in self.parts.items() if v)
        return (f"memory {size_text(self.memory)} ({parts}); time {time_text(self.seconds)} on one core; "
                f"results file {size_text(self.results_bytes)}")


def _mps_bonds(L, d, chi):
    """Bond dimensions at their largest: ``min(chi, d^min(b, L - b))`` for b = 0..L (floats; the
    exponent is capped first, so no overflow)."""
    k = np.minimum(np.arange(L + 1), L - np.arange(L + 1))
    cap = math.ceil(math.log(chi) / math.log(d)) if d > 1 else 0
    return np.minimum(float(chi), float(d) ** np.minimum(k, cap))


def charge_sectors(d, chi):
    """Rough number of U(1) charge blocks of a bond of dimension ``chi`` (site dimension ``d``):
    ``max(1, 0.17 d sqrt(chi))``, fitted to the measured cost of TeNPy's block-sparse TEBD against
    the dense ``12 (d chi)^3`` (README, bench_parallel_tebd / bench_backends: Bose-Hubbard
    n_max = 4 at chi 256 and 512 ran 240x and 390x under the dense figure, XXZ at chi 128
    ~10x); an SVD over ``q`` equal blocks costs ``1 / q^2`` of the dense one."""
    return max(1.0, 0.17 * d * math.sqrt(chi))


def _blocked(chain, ev, operator):
    """Whether the run keeps the U(1) charge in TeNPy's block-sparse tensors (a correlation run:
    its operator's charge, on TeNPy, whenever the chain has one and ``conserve`` is not off)."""
    if ev.conserve is False or not getattr(chain, "conserves_charge", False):
        return False
    if operator:
        return True
    from ..engines import resolve_backend

    return resolve_backend(ev.method, chain, ev.chi_max, ev.backend, ev.array_backend, ev.conserve) == "tenpy"


def estimate(chain, state_section, ev, obs, n_steps, n_rows, *, operator=False):
    """The :class:`Estimate` of a run of ``chain`` with the given (validated) sections, ``n_steps``
    time steps and ``n_rows`` output rows; ``operator``: a correlation run (an operator MPS,
    local dimension d^2)."""
    spec = METHODS[ev.method]
    L, d = chain.L, chain.site.dim ** (2 if operator else 1)
    n_obs = max(1, len(obs.names))
    M = (state_section.M or 1) if state_section is not None else 1
    # each observable at most L values a row; each per-chain series one value per chain (not per site)
    row_values = n_obs * L + len(obs.per_chain or ()) * M + L + 16
    results = 8.0 * (n_rows + 1) * row_values
    if spec.probe == "batch":
        per = 8.0 * M * L
        memory = 12 * per
        updates = n_steps * M * L
        st = state_section
        if st is not None and st.kind == "metropolis":
            updates += (st.sweeps or 2000) * M * L
        if st is not None and st.kind == "langevin" and st.t_th is not None:
            updates += st.t_th / (st.langevin_dt or 0.01) * M * L
        parts = {"batch": memory}
        gk = obs.green_kubo
        if gk is not None:  # ring buffer + sums in memory (and the checkpoint), the sums in the results file
            n_lag = round(gk.lag_max / gk.sample_dt) + 1
            parts["green_kubo accumulator"] = 2 * 8.0 * n_lag * M
            memory += parts["green_kubo accumulator"]
            results += 8.0 * n_lag * M
            updates += n_steps * M * L * CORRELATOR_MEASURE + (n_steps * ev.dt / gk.sample_dt) * n_lag * M
        return Estimate(memory, updates / SITE_RATE, results, parts, key="state.M", value=M,
                        fix="use a smaller batch (state.M) and run an ensemble (tnmbl sweep), or a shorter chain")
    if spec.max_dim is not None:  # exact: the full space (an upper bound when a charge sector is used)
        dim = d ** L if L * math.log(d) < 60 else float("inf")
        memory = 40.0 * BYTES * dim
        return Estimate(memory, 40.0 * dim * L * n_steps / FLOP_RATE, results, {"full-space vectors": memory},
                        key="model.L", value=L, fix="use a smaller chain or an MPS method (tebd2, tdvp2)")
    chi = ev.chi_max
    bonds = _mps_bonds(L, d, chi)
    left, right = bonds[:-1], bonds[1:]
    top = int(bonds.max())
    state = float(BYTES * d * np.sum(left * right))
    two_site = 4.0 * BYTES * (d * top) ** 2
    envs = 2.0 * BYTES * MPO_BOND * float(np.sum(bonds ** 2)) if ev.method.startswith("tdvp") else 0.0
    stages = 5 if spec.order == 4 else (3 if ev.method.startswith("tdvp") else 1)
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    flops = n_steps * stages * float(np.sum(12.0 * (d * lo) ** 2 * d * hi))
    if _blocked(chain, ev, operator):
        flops /= charge_sectors(d, top) ** 2
    seconds = flops / FLOP_RATE
    if operator:  # below chi ~ 64 the per-bond overhead, not the SVDs, sets an operator TEBD's cost
        daoe = (ev.gamma or 0.0) > 0
        seconds += n_steps * (L - 1) * (stages * OPERATOR_BOND_SECONDS
                                        + (DAOE_BOND_SECONDS / (ev.daoe_every or 1) if daoe else 0.0))
    return Estimate(state + two_site + envs, seconds, results,
                    {"state": state, "two-site SVD": two_site, "environments": envs},
                    key="evolution.chi_max", value=chi, fix=f"use a smaller evolution.chi_max (chi^2 sets the memory: "
                    f"{top} -> {max(1, top // 2)} needs a quarter), or a shorter chain")


def _free_disk(path):
    p = Path(path).resolve().parent
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free
    except OSError:
        return None


def resource_problems(est, *, max_memory=None, results_path=None):
    """Problems of an :class:`Estimate` against ``max_memory`` (bytes; default the machine's
    memory) and the free space where the results go."""
    problems = []
    limit = max_memory if max_memory is not None else machine_memory()
    if limit is not None and est.memory > limit:
        problems.append(Problem(est.key, est.value, f"the run needs about {size_text(est.memory)} of memory "
                                f"({est.text()}), above the limit {size_text(limit)} "
                                f"({'--max-memory' if max_memory is not None else 'the memory of this machine'})",
                                est.fix + "; or raise the limit with --max-memory"))
    if results_path is not None:
        free = _free_disk(results_path)
        if free is not None and est.results_bytes > free:
            problems.append(Problem("observables.output_dt", est.results_bytes, f"the results file would take about "
                                    f"{size_text(est.results_bytes)}, more than the {size_text(free)} free "
                                    f"where it goes ({results_path})", "use a larger output_dt, fewer "
                                    "observables or another output.path"))
    return problems


def _rows(cfg, n):
    obs = cfg.observables
    if obs.n_log is not None:
        return obs.n_log
    every = max(1, round((obs.output_dt or cfg.evolution.dt) / cfg.evolution.dt))
    return n // every + 1


def estimate_config(cfg):
    """The :class:`Estimate` of a validated :class:`~tnmbl.runs.sections.RunConfig` (builds its
    chain, nothing else)."""
    n = n_steps("t_final", cfg.evolution.t_final, cfg.evolution.dt)
    return estimate(build_chain(cfg), cfg.state, cfg.evolution, cfg.observables, n, _rows(cfg, n),
                    operator=cfg.correlation is not None)
