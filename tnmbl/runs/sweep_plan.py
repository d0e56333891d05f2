"""Sweep files: the ``ensemble`` / ``sweep`` / ``execution`` / ``aggregate`` / ``budget`` sections
(strict pydantic models, like the run config's), their expansion into member run configs, and
the members' seeds. Every problem of the sweep sections and of every member is reported in one
:class:`~tnmbl.errors.ConfigError` before anything runs (see :mod:`tnmbl.runs.sweep`)."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from ..errors import ConfigError, Problem
from .loading import parse_yaml, read_text, set_dotted, set_override
from .sections import Section, problem
from .validate import validate_config, validate_sections

MAX_RUNS = 10_000
"""Most runs (sweep points x members) of one sweep file: planning validates every member (a few
ms each), so 10^4 members plan in well under a minute; a larger study is several sweep files."""


class EnsembleSection(Section):
    """Realizations per sweep point (disorder, sampled states): each member gets its own seed."""

    members: int = Field(1, description="members per sweep point")
    root_seed: int | None = Field(None, description="seed the member seeds derive from (default: the top-level "
                                  "seed; one of them is required)")
    seed_key: str = Field("seed", description="dotted config key that receives each member's seed")

    @field_validator("members")
    @classmethod
    def _members(cls, v):
        if not 1 <= v <= 1_000_000:
            raise ValueError("must be an integer in [1, 1000000]")
        return v

    @field_validator("root_seed")
    @classmethod
    def _root_seed(cls, v):
        if v is not None and v < 0:
            raise ValueError("must be a non-negative integer")
        return v

    @field_validator("seed_key")
    @classmethod
    def _seed_key(cls, v):
        if not v:
            raise ValueError("must be a dotted key such as seed or model.seed")
        return v


class SweepSection(Section):
    """The sweep points: `grid` (every combination) or `points` (a list), one of them."""

    grid: dict[str, Any] | None = Field(None, description="{{dotted key: list of values}}: every combination")
    points: list[dict[str, Any]] | None = Field(None, description="list of {{dotted key: value}}")


class ExecutionSection(Section):
    """Where members run and where their results go."""

    output_dir: str | None = Field(None, description="folder of the sweep (default out/<file name>_sweep)")
    scheduler: str | None = Field(None, description="Dask scheduler address, e.g. tcp://host:8786")
    workers: int | None = Field(None, description="local worker processes (default: all cores; 0: in this process)")

    @field_validator("output_dir")
    @classmethod
    def _output_dir(cls, v):
        if v is not None and not v:
            raise ValueError("must be a folder path")
        return v

    @field_validator("workers")
    @classmethod
    def _workers(cls, v):
        if v is not None and v < 0:
            raise ValueError("must be a non-negative integer (0: in this process)")
        return v


class AggregateSection(Section):
    """Statistics of the summary: bootstrap resamples and the interval's confidence."""

    n_boot: int = Field(1000, description="bootstrap resamples")
    confidence: float = Field(0.95, description="confidence of the bootstrap interval")

    @field_validator("n_boot")
    @classmethod
    def _n_boot(cls, v):
        if not 10 <= v <= 100_000:
            raise ValueError("must be an integer in [10, 100000]")
        return v

    @field_validator("confidence")
    @classmethod
    def _confidence(cls, v):
        if not 0 < v < 1:
            raise ValueError("must be a number in (0, 1), e.g. 0.95")
        return float(v)


class BudgetSection(Section):
    """Error budget of each member (:mod:`tnmbl.runs.budget`)."""

    chi_check: bool = Field(False, description="rerun at chi_max / 2 to estimate truncation effects")
    dt_check: bool = Field(False, description="rerun at dt / 2 (Richardson estimate of the time-step error)")


SWEEP_SECTIONS = {"ensemble": EnsembleSection, "sweep": SweepSection, "execution": ExecutionSection,
                  "aggregate": AggregateSection, "budget": BudgetSection}


@dataclass
class Member:
    """One task: a run config (raw dict, output path set) at one sweep point."""

    id: str
    point: int
    index: int
    seed: int
    params: dict
    config: dict

    @property
    def path(self):
        return Path(self.config["output"]["path"])


@dataclass
class SweepPlan:
    """The expanded, validated sweep (build it with :func:`load_sweep` / :func:`plan_sweep`)."""

    name: str
    output_dir: Path
    points: list
    members: list
    root_seed: int
    n_members: int
    scheduler: str | None = None
    workers: int | None = None
    n_boot: int = 1000
    confidence: float = 0.95
    budget: dict = field(default_factory=dict)
    spec: dict = field(default_factory=dict)

    @property
    def summary_path(self):
        return self.output_dir / "summary.h5"

    @property
    def completions_path(self):
        return self.output_dir / "completions.log"




def member_seeds(root_seed, n):
    """Seeds of ``n`` members from ``root_seed``: ``SeedSequence(root).spawn(n)``, 63-bit integers."""
    return [int(s.generate_state(1, np.uint64)[0] >> np.uint64(1))
            for s in np.random.SeedSequence(root_seed).spawn(n)]




def _sweep_points(sw: SweepSection | None, given, problems):
    """List of ``{dotted key: value}`` from the ``sweep`` section (``given``: the file's section
    was not empty)."""
    if sw is None or not given:
        return [{}]
    if (sw.grid is None) == (sw.points is None):
        problems.append(problem("sweep", rule="give exactly one of 'grid' (every combination) or 'points' (a list)",
                                given=False))
        return [{}]

    def check_key(path, k):
        if not k or not all(k.split(".")):
            problems.append(problem(path, k, "must be a dotted config key such as model.W"))
            return False
        if k in ("output.path", "output.checkpoint_path") or k.split(".")[0] in SWEEP_SECTIONS:
            problems.append(problem(path, k, "cannot be swept (the sweep sets member paths and its own sections)"))
            return False
        return True

    if sw.grid is not None:
        if not sw.grid:
            problems.append(problem("sweep.grid", sw.grid, "must be a mapping of dotted keys to lists of values"))
            return [{}]
        keys, values = [], []
        for k, v in sw.grid.items():
            if not check_key(f"sweep.grid.{k}", k):
                continue
            if not isinstance(v, list) or not v:
                problems.append(problem(f"sweep.grid.{k}", v, "must be a non-empty list of values"))
                continue
            keys.append(k)
            values.append(v)
        return [dict(zip(keys, combo)) for combo in itertools.product(*values)] if keys else [{}]
    if not sw.points:
        problems.append(problem("sweep.points", sw.points, "must be a non-empty list of mappings {dotted key: value}"))
        return [{}]
    return [{k: v for k, v in p.items() if check_key(f"sweep.points[{i}].{k}", k)} for i, p in enumerate(sw.points)]


def plan_sweep(raw, *, name="sweep", overrides=(), scheduler=None, workers=None, max_memory=None):
    """Expand the sweep dict ``raw`` into validated members; raise :class:`ConfigError` with
    every problem (of the sweep sections and of each member config) at once. ``max_memory``:
    each member's memory limit (bytes; default the machine's, see :mod:`tnmbl.runs.resources`)."""
    if not isinstance(raw, dict):
        raise ConfigError([problem("sweep config", raw, "must be a mapping")])
    raw = copy.deepcopy(raw)
    for o in overrides:
        set_override(raw, o)
    sections, problems = validate_sections(raw, SWEEP_SECTIONS)
    ens = sections.get("ensemble", EnsembleSection())
    ex = sections.get("execution", ExecutionSection())
    ag = sections.get("aggregate", AggregateSection())
    bu = sections.get("budget", BudgetSection())
    base = {k: v for k, v in raw.items() if k not in SWEEP_SECTIONS}

    n = ens.members
    root = ens.root_seed if ens.root_seed is not None else base.get("seed")
    if root is None:
        if "ensemble" in sections or not isinstance(raw.get("ensemble"), dict) or "root_seed" not in raw["ensemble"]:
            problems.append(problem("ensemble.root_seed", rule="required (or a top-level seed): member seeds derive "
                                    "from it, so a rerun must see the same one", given=False))
        root = 0
    elif not (isinstance(root, int) and not isinstance(root, bool)) or root < 0:  # the top-level seed
        problems.append(problem("ensemble.root_seed", root, "must be a non-negative integer"))
        root = 0
    seed_key = ens.seed_key
    points = _sweep_points(sections.get("sweep"), bool(raw.get("sweep")), problems)
    if any(seed_key in p for p in points) and "ensemble" in raw:
        problems.append(problem("sweep", rule=f"{seed_key!r} is the ensemble's seed key; sweep other keys",
                                given=False))

    out_dir = ex.output_dir or f"out/{name}_sweep"
    scheduler = scheduler if scheduler is not None else ex.scheduler
    if scheduler is not None and not isinstance(scheduler, str):
        problems.append(problem("execution.scheduler", scheduler,
                                "must be an address such as tcp://host:8786 or null"))
    workers = workers if workers is not None else ex.workers
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 0):
        problems.append(problem("execution.workers", workers, "must be a non-negative integer (0: in this process)"))

    if len(points) * n > MAX_RUNS:  # refused before any member is validated (each costs a few ms)
        problems.append(problem("ensemble.members", n, f"{len(points)} sweep point(s) x {n} members = "
                                f"{len(points) * n} runs, above the limit {MAX_RUNS} of one sweep file",
                                f"use at most ensemble.members = {max(1, MAX_RUNS // max(1, len(points)))}, "
                                "or split the sweep points over several sweep files"))
        raise ConfigError(problems)
    seeds = member_seeds(root, n) if not problems else [0] * n
    members = []
    out = Path(out_dir).resolve()  # absolute: Dask workers may run in another folder (same shared file system)
    for k, point in enumerate(points):
        for j in range(n):
            mid = f"p{k:03d}_m{j:03d}"
            cfg = copy.deepcopy(base)
            for key, value in point.items():
                set_dotted(cfg, key, copy.deepcopy(value))
            if "ensemble" in raw:
                set_dotted(cfg, seed_key, seeds[j])
            output = cfg.setdefault("output", {})
            if not isinstance(output, dict):
                break
            output.setdefault("figure", False)
            output["path"] = str(out / "members" / f"{mid}.h5")
            output.pop("checkpoint_path", None)
            try:
                resolved = validate_config(cfg, name=mid, max_memory=max_memory)
            except ConfigError as exc:
                problems += [Problem(p.key, p.value, p.rule, p.fix, text=f"member {mid} ({describe_point(point)}): {p}")
                             for p in exc.problems]
                continue
            # without an ensemble no member seed is set: the member's seed is its config's (a point may set it)
            seed = seeds[j] if "ensemble" in raw else resolved.seed
            members.append(Member(mid, k, j, seed, point, resolved.to_dict()))
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))  # once each, in order
    spec = {s: raw.get(s) for s in SWEEP_SECTIONS if s in raw}
    return SweepPlan(name=name, output_dir=out, points=points, members=members, root_seed=root, n_members=n,
                     scheduler=scheduler, workers=workers, n_boot=ag.n_boot, confidence=float(ag.confidence),
                     budget={"chi_check": bu.chi_check, "dt_check": bu.dt_check}, spec=spec)


def describe_point(point):
    """``model.W=1.0, evolution.dt=0.1`` (``base`` for the empty point)."""
    return ", ".join(f"{k}={v!r}" for k, v in point.items()) or "base"


def load_sweep(path, overrides=(), **kw):
    """Read and plan the sweep file at ``path`` (see :func:`plan_sweep`)."""
    path = Path(path)
    text = read_text(path, "sweep file")
    return plan_sweep(parse_yaml(text, str(path)) or {}, name=path.stem, overrides=overrides, **kw)
