"""Ensembles and parameter sweeps of run configs, on local processes or a Dask cluster.

A sweep file is a run config (:mod:`tnmbl.runs.config`) with up to five more sections::

    ensemble:                 # realizations per sweep point (disorder / sampled states)
      members: 8
      root_seed: 2026         # default: the config's top-level seed
      seed_key: seed          # dotted key that receives each member's seed (default: seed)
    sweep:                    # grid: every combination; points: an explicit list (one of them)
      grid: {model.W: [1.0, 3.0], evolution.chi_max: [16, 32]}
      # points: [{model.W: 1.0}, {model.W: 3.0, model.J: 0.2}]
    execution:
      output_dir: out/xxz_sweep   # default out/<file name>_sweep
      scheduler: null             # tcp://host:8786: a Dask distributed scheduler
      workers: null               # local processes (default: all cores); 0 runs in this process
    aggregate: {n_boot: 1000, confidence: 0.95}
    budget: {chi_check: false, dt_check: false}   # error budget of each member (tnmbl.runs.budget)

Member seeds: ``numpy.random.SeedSequence(root_seed).spawn(members)[j]`` gives member
``j`` its seed (a 63-bit integer), the same at every sweep point (common random numbers:
differences between points are not blurred by different disorder). The expanded member
configs are all validated before anything is computed, and every problem of every member
is reported at once, prefixed with the member's id.

Layout of ``output_dir``::

    sweep.json             the plan: sweep spec, root seed, member ids, configs, seeds
    members/<id>.h5        one results file per member (+ .ckpt), id = p<point>_m<member>
    completions.log        one line per member run to completion (id, action, wall s)
    summary.h5             mean, standard error and bootstrap interval per observable,
                           per sweep point, per output time and position

A rerun of the same file skips finished members, resumes half-done ones from their
checkpoint (:func:`tnmbl.runs.runner.resume`) and starts the others, so an interrupted sweep
continues where it stopped. Execution is local processes by default (``spawn`` context,
BLAS at one thread per worker) or a Dask distributed scheduler (``--scheduler`` or
``execution.scheduler``): the same config runs unchanged on a cluster whose workers share
``output_dir``.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError

SWEEP_SECTIONS = ("ensemble", "sweep", "execution", "aggregate", "budget")
SECTION_KEYS = {
    "ensemble": ("members", "root_seed", "seed_key"),
    "sweep": ("grid", "points"),
    "execution": ("output_dir", "scheduler", "workers"),
    "aggregate": ("n_boot", "confidence"),
    "budget": ("chi_check", "dt_check"),
}
SUMMARY_FORMAT = "tnmbl-sweep-summary"
BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
            "NUMBA_NUM_THREADS")


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


# ---------------------------------------------------------------- expansion and validation

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _set_dotted(raw, key, value):
    node = raw
    parts = key.split(".")
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = copy.deepcopy(value)


def member_seeds(root_seed, n):
    """Seeds of ``n`` members from ``root_seed``: ``SeedSequence(root).spawn(n)``, 63-bit integers."""
    return [int(s.generate_state(1, np.uint64)[0] >> np.uint64(1))
            for s in np.random.SeedSequence(root_seed).spawn(n)]


def _section(raw, name, problems):
    sec = raw.get(name)
    if sec is None:
        return {}
    if not isinstance(sec, dict):
        problems.append(f"{name} = {sec!r}: must be a mapping with keys {', '.join(SECTION_KEYS[name])}")
        return {}
    for k in sec:
        if k not in SECTION_KEYS[name]:
            from .config import _suggest

            problems.append(f"{name}.{k}: unknown key{_suggest(k, SECTION_KEYS[name])}")
    return sec


def _sweep_points(sw, problems):
    """List of ``{dotted key: value}`` from the ``sweep`` section."""
    if not sw:
        return [{}]
    if ("grid" in sw) == ("points" in sw):
        problems.append("sweep: give exactly one of 'grid' (every combination) or 'points' (a list)")
        return [{}]
    bad_key = ("output.path", "output.checkpoint_path")

    def check_key(path, k):
        if not isinstance(k, str) or not k or not all(k.split(".")):
            problems.append(f"{path}: {k!r} must be a dotted config key such as model.W")
            return False
        if k in bad_key or k.split(".")[0] in SWEEP_SECTIONS:
            problems.append(f"{path}: {k!r} cannot be swept (the sweep sets member paths and its own sections)")
            return False
        return True

    if "grid" in sw:
        grid = sw["grid"]
        if not isinstance(grid, dict) or not grid:
            problems.append(f"sweep.grid = {grid!r}: must be a mapping of dotted keys to lists of values")
            return [{}]
        keys, values = [], []
        for k, v in grid.items():
            if not check_key(f"sweep.grid.{k}", k):
                continue
            if not isinstance(v, list) or not v:
                problems.append(f"sweep.grid.{k} = {v!r}: must be a non-empty list of values")
                continue
            keys.append(k)
            values.append(v)
        return [dict(zip(keys, combo)) for combo in itertools.product(*values)] if keys else [{}]
    pts = sw["points"]
    if not isinstance(pts, list) or not pts or not all(isinstance(p, dict) for p in pts):
        problems.append(f"sweep.points = {pts!r}: must be a non-empty list of mappings {{dotted key: value}}")
        return [{}]
    out = []
    for i, p in enumerate(pts):
        out.append({k: v for k, v in p.items() if check_key(f"sweep.points[{i}].{k}", k)})
    return out


def plan_sweep(raw, *, name="sweep", overrides=(), scheduler=None, workers=None):
    """Expand the sweep dict ``raw`` into validated members; raise :class:`ConfigError` with
    every problem (of the sweep sections and of each member config) at once."""
    from .config import set_override, validate_config

    if not isinstance(raw, dict):
        raise ConfigError([f"sweep config = {raw!r}: must be a mapping"])
    raw = copy.deepcopy(raw)
    for o in overrides:
        set_override(raw, o)
    problems = []
    ens = _section(raw, "ensemble", problems)
    sw = _section(raw, "sweep", problems)
    ex = _section(raw, "execution", problems)
    ag = _section(raw, "aggregate", problems)
    bu = _section(raw, "budget", problems)
    base = {k: v for k, v in raw.items() if k not in SWEEP_SECTIONS}

    n = ens.get("members", 1)
    if not _is_int(n) or not 1 <= n <= 1_000_000:
        problems.append(f"ensemble.members = {n!r}: must be an integer in [1, 1000000]")
        n = 1
    root = ens.get("root_seed", base.get("seed"))
    if root is None:
        problems.append("ensemble.root_seed: required (or a top-level seed): member seeds derive from it, "
                        "so a rerun must see the same one")
        root = 0
    elif not _is_int(root) or root < 0:
        problems.append(f"ensemble.root_seed = {root!r}: must be a non-negative integer")
        root = 0
    seed_key = ens.get("seed_key", "seed")
    if not isinstance(seed_key, str) or not seed_key:
        problems.append(f"ensemble.seed_key = {seed_key!r}: must be a dotted key such as seed or model.seed")
        seed_key = "seed"
    points = _sweep_points(sw, problems)
    if any(seed_key in p for p in points) and "ensemble" in raw:
        problems.append(f"sweep: {seed_key!r} is the ensemble's seed key; sweep other keys")

    out_dir = ex.get("output_dir", f"out/{name}_sweep")
    if not isinstance(out_dir, str) or not out_dir:
        problems.append(f"execution.output_dir = {out_dir!r}: must be a folder path")
        out_dir = f"out/{name}_sweep"
    scheduler = scheduler if scheduler is not None else ex.get("scheduler")
    if scheduler is not None and not isinstance(scheduler, str):
        problems.append(f"execution.scheduler = {scheduler!r}: must be an address such as tcp://host:8786 or null")
    workers = workers if workers is not None else ex.get("workers")
    if workers is not None and (not _is_int(workers) or workers < 0):
        problems.append(f"execution.workers = {workers!r}: must be a non-negative integer (0: in this process)")
    n_boot = ag.get("n_boot", 1000)
    if not _is_int(n_boot) or not 10 <= n_boot <= 100_000:
        problems.append(f"aggregate.n_boot = {n_boot!r}: must be an integer in [10, 100000]")
    conf = ag.get("confidence", 0.95)
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0 < conf < 1:
        problems.append(f"aggregate.confidence = {conf!r}: must be a number in (0, 1), e.g. 0.95")
    for k in ("chi_check", "dt_check"):
        if not isinstance(bu.get(k, False), bool):
            problems.append(f"budget.{k} = {bu[k]!r}: must be true or false")

    seeds = member_seeds(root, n) if not problems else [0] * n
    members = []
    out = Path(out_dir).resolve()  # absolute: Dask workers may run in another folder (same shared file system)
    for k, point in enumerate(points):
        for j in range(n):
            mid = f"p{k:03d}_m{j:03d}"
            cfg = copy.deepcopy(base)
            for key, value in point.items():
                _set_dotted(cfg, key, value)
            if "ensemble" in raw:
                _set_dotted(cfg, seed_key, seeds[j])
            output = cfg.setdefault("output", {})
            if not isinstance(output, dict):
                break
            output.setdefault("figure", False)
            output["path"] = str(out / "members" / f"{mid}.h5")
            output.pop("checkpoint_path", None)
            try:
                resolved = validate_config(cfg, name=mid)
            except ConfigError as exc:
                problems += [f"member {mid} ({_describe(point)}): {p}" for p in exc.problems]
                continue
            members.append(Member(mid, k, j, seeds[j], point, resolved.to_dict()))
    if problems:
        raise ConfigError(_dedupe(problems))
    spec = {s: raw.get(s) for s in SWEEP_SECTIONS if s in raw}
    return SweepPlan(name=name, output_dir=out, points=points, members=members, root_seed=root, n_members=n,
                     scheduler=scheduler, workers=workers, n_boot=n_boot, confidence=float(conf),
                     budget={k: bool(bu.get(k, False)) for k in ("chi_check", "dt_check")}, spec=spec)


def _describe(point):
    return ", ".join(f"{k}={v!r}" for k, v in point.items()) or "base"


def _dedupe(problems):
    seen, out = set(), []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def load_sweep(path, overrides=(), **kw):
    """Read and plan the sweep file at ``path`` (see :func:`plan_sweep`)."""
    from .config import parse_yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError([f"sweep file {str(path)!r}: cannot be read ({exc.strerror})"]) from None
    return plan_sweep(parse_yaml(text, str(path)) or {}, name=path.stem, overrides=overrides, **kw)


# ---------------------------------------------------------------- one member (runs on a worker)

def _limit_blas():
    """One BLAS (and numba) thread in a spawned worker: set before NumPy is imported there."""
    for k in BLAS_ENV:
        os.environ.setdefault(k, "1")


def _init_worker(parent_pid):
    """Local worker set-up: one BLAS thread, and exit when the sweep process dies (a SIGKILLed
    sweep must not leave workers finishing queued members beside its rerun)."""
    import threading

    _limit_blas()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)  # the member in flight stays resumable (status 'running', checkpoint)

    threading.Thread(target=watch, daemon=True, name="tnmbl-parent-watch").start()


def results_status(path):
    """``status`` attribute of a results file, ``None`` if absent, ``"unreadable"`` if torn."""
    import h5py

    path = Path(path)
    if not path.exists():
        return None
    try:
        with h5py.File(path, "r", locking=False) as f:
            return str(f.attrs.get("status", "unreadable"))
    except OSError:
        return "unreadable"


def _log_completion(log, mid, action, wall):
    line = f"{mid} {action} {wall:.3f}\n".encode()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write with O_APPEND: lines from concurrent workers do not interleave
    finally:
        os.close(fd)


def run_member(task):
    """Run, resume or skip one member; ``task`` is a plain dict (picklable for any executor).

    Keys: ``id``, ``config`` (resolved config dict), ``budget`` (``{chi_check, dt_check}``),
    ``log`` (completions log path). Returns ``{"id", "action", "wall_s", "flags"}`` with
    ``action`` one of ``skipped``, ``run``, ``resumed``. BLAS runs at one thread.
    """
    from threadpoolctl import threadpool_limits

    # one BLAS thread per member on any executor (a Dask worker of any set-up, in-process runs)
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_member(task)


def _run_member(task):
    from .budget import error_budget, read_budget, write_budget
    from .config import validate_config
    from .runner import resume, run

    t0 = time.perf_counter()
    cfg = validate_config(task["config"], name=task["id"])
    path, ckpt = cfg.results_path, cfg.checkpoint_path
    status = results_status(path)
    action = "run"
    if status == "finished":
        action = "skipped"
    elif status is not None and status != "unreadable" and ckpt.exists():
        try:
            resume(path)
            action = "resumed"
        except (ConfigError, OSError, KeyError, ValueError):
            action = "run"
    if action == "run":
        for p in (path, ckpt):
            if p.exists():
                p.unlink()
        run(cfg)
    budget = read_budget(path) if action == "skipped" else None
    if budget is None:
        budget = error_budget(path, **task.get("budget", {}))
        write_budget(path, budget)
    wall = time.perf_counter() - t0
    if action != "skipped":
        _log_completion(task["log"], task["id"], action, wall)
    return {"id": task["id"], "action": action, "wall_s": wall, "flags": budget["flags"]}


# ---------------------------------------------------------------- executors

def map_tasks(fn, tasks, *, scheduler=None, workers=None, client=None):
    """Run ``fn(task)`` for every task; yield ``(index, result, error)`` as each finishes.

    ``client`` (a ``distributed.Client``) or ``scheduler`` (its address) runs them on Dask;
    otherwise a local ``ProcessPoolExecutor`` of ``workers`` processes (default: all cores;
    ``spawn`` context, BLAS at one thread); ``workers=0`` runs them here, one after another.
    ``fn`` must be importable by the workers (a module-level function).
    """
    tasks = list(tasks)
    if client is not None or scheduler is not None:
        yield from _map_dask(fn, tasks, scheduler, client)
        return
    if workers == 0:
        for i, t in enumerate(tasks):
            try:
                yield i, fn(t), None
            except Exception as exc:  # noqa: BLE001 - reported per task, the others go on
                yield i, None, exc
        return
    import concurrent.futures as cf
    import multiprocessing as mp

    n = workers or os.cpu_count() or 1
    saved = {k: os.environ.get(k) for k in BLAS_ENV}
    os.environ.update({k: "1" for k in BLAS_ENV})  # inherited by the spawned workers
    pool = cf.ProcessPoolExecutor(max_workers=min(n, max(1, len(tasks))), mp_context=mp.get_context("spawn"),
                                  initializer=_init_worker, initargs=(os.getpid(),))
    finished = False
    try:
        futures = {pool.submit(fn, t): i for i, t in enumerate(tasks)}
        for fut in cf.as_completed(futures):
            exc = fut.exception()
            yield futures[fut], (None if exc else fut.result()), exc
        finished = True
    finally:
        if not finished:
            # interrupted (Ctrl-C, SIGTERM, an error here): stop the workers now rather than wait
            # for the members in flight; results files survive a kill and those members resume
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
        pool.shutdown(wait=finished, cancel_futures=not finished)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _map_dask(fn, tasks, scheduler, client):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ConfigError(["execution.scheduler: needs dask.distributed (pip install 'tnmbl[dask]')"]) from None
    own = client is None
    if own:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise ConfigError([f"execution.scheduler = {scheduler!r}: cannot connect ({exc})"]) from None
    try:
        futures = client.map(fn, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            if fut.status == "error":
                yield index[fut.key], None, fut.exception()
            else:
                yield index[fut.key], fut.result(), None
    finally:
        if own:
            client.close()


# ---------------------------------------------------------------- the sweep

def _write_plan(plan):
    plan.output_dir.mkdir(parents=True, exist_ok=True)
    (plan.output_dir / "members").mkdir(exist_ok=True)
    doc = {"name": plan.name, "root_seed": plan.root_seed, "n_members": plan.n_members, "spec": plan.spec,
           "points": plan.points,
           "members": [{"id": m.id, "point": m.point, "index": m.index, "seed": m.seed, "config": m.config}
                       for m in plan.members]}
    path = plan.output_dir / "sweep.json"
    if path.exists():
        old = json.loads(path.read_text())
        old_cfg = {m["id"]: m["config"] for m in old.get("members", [])}
        changed = [m.id for m in plan.members if m.id in old_cfg and old_cfg[m.id] != m.config]
        if changed:
            raise ConfigError([f"execution.output_dir = {str(plan.output_dir)!r}: holds another sweep (the configs "
                               f"of {len(changed)} member(s), e.g. {changed[0]}, differ); use a new output_dir or "
                               "delete the folder"])
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=str))
    os.replace(tmp, path)


def run_sweep(plan, *, client=None, log=None):
    """Run every member of ``plan`` (skipping finished ones), then write the summary.

    Returns ``{"actions": {id: action}, "failed": {id: error}, "flagged": {id: [budget flags]},
    "summary": path or None}``.
    """
    log = log or (lambda text: None)
    _write_plan(plan)
    tasks = [{"id": m.id, "config": m.config, "budget": plan.budget, "log": str(plan.completions_path)}
             for m in plan.members]
    actions, failed, flagged = {}, {}, {}
    done = 0
    for i, res, exc in map_tasks(run_member, tasks, scheduler=plan.scheduler, workers=plan.workers, client=client):
        done += 1
        mid = tasks[i]["id"]
        if exc is not None:
            failed[mid] = f"{type(exc).__name__}: {exc}"
            log(f"tnmbl event=member id={mid} status=failed error={failed[mid]!r} done={done}/{len(tasks)}")
            continue
        actions[mid] = res["action"]
        if res["flags"]:
            flagged[mid] = res["flags"]
        log(f"tnmbl event=member id={mid} action={res['action']} wall_s={res['wall_s']:.2f} "
            f"flags={len(res['flags'])} done={done}/{len(tasks)}")
    summary = None
    if not failed:
        summary = aggregate(plan)
    return {"actions": actions, "failed": failed, "flagged": flagged, "summary": summary}


# ---------------------------------------------------------------- aggregation

def _bootstrap(x, n_boot, confidence, rng):
    """Percentile bootstrap interval of the mean over axis 0 of ``x`` (members, ...)."""
    n = x.shape[0]
    if n == 1:
        return x[0].copy(), x[0].copy()
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)]) / n
    flat = x.reshape(n, -1)
    lo, hi = np.empty(flat.shape[1]), np.empty(flat.shape[1])
    q = [(1 - confidence) / 2, (1 + confidence) / 2]
    step = max(1, 2_000_000 // max(1, n_boot))
    for a in range(0, flat.shape[1], step):
        means = counts @ flat[:, a:a + step]
        lo[a:a + step], hi[a:a + step] = np.quantile(means, q, axis=0)
    return lo.reshape(x.shape[1:]), hi.reshape(x.shape[1:])


def aggregate(plan):
    """Write ``summary.h5``: per sweep point, per observable, per output time and position,
    the ensemble ``mean``, standard error ``sem`` and bootstrap interval ``lo`` / ``hi``.

    The bootstrap is seeded from the root seed, so the summary is reproducible bit for bit.
    Health: the worst member per time (max truncation error, chi, |drifts|); the members'
    budget flags are listed per point.
    """
    import h5py

    from .. import versions
    from .budget import read_budget
    from .storage import git_commit, now, read_results

    rng = np.random.default_rng([plan.root_seed, 8])
    path = plan.summary_path
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs.update({"format": SUMMARY_FORMAT, "format_version": 1, "name": plan.name,
                        "spec": json.dumps(plan.spec, default=str), "root_seed": plan.root_seed,
                        "n_points": len(plan.points), "members_per_point": plan.n_members,
                        "n_boot": plan.n_boot, "confidence": plan.confidence, "created": now(),
                        "git_commit": git_commit() or "unknown", "versions": json.dumps(versions())})
        for k, point in enumerate(plan.points):
            ms = [m for m in plan.members if m.point == k]
            data = [read_results(m.path) for m in ms]
            times = data[0]["time"]
            for m, d in zip(ms, data):
                if d["attrs"].get("status") != "finished" or d["time"].shape != times.shape or \
                        not np.allclose(d["time"], times):
                    raise ValueError(f"member {m.id}: not finished or other output times than {ms[0].id}")
            g = f.create_group(f"points/p{k:03d}")
            g.attrs.update({"params": json.dumps(point, default=str), "members": json.dumps([m.id for m in ms]),
                            "seeds": json.dumps([m.seed for m in ms]), "n": len(ms)})
            g.create_dataset("time", data=times)
            og = g.create_group("observables")
            for name in data[0]["observables"]:
                x = np.stack([d["observables"][name] for d in data])
                sub = og.create_group(name)
                sub.attrs.update({"positions": data[0]["positions"][name], "units": data[0]["units"][name]})
                sub.create_dataset("mean", data=x.mean(axis=0))
                sem = x.std(axis=0, ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.full(x.shape[1:], np.nan)
                sub.create_dataset("sem", data=sem)
                lo, hi = _bootstrap(x, plan.n_boot, plan.confidence, rng)
                sub.create_dataset("lo", data=lo)
                sub.create_dataset("hi", data=hi)
            hg = g.create_group("health_worst")
            for name in data[0]["health"]:
                hx = np.stack([np.abs(d["health"][name]) for d in data if name in d["health"]])
                hg.create_dataset(name, data=hx.max(axis=0))
            flags = {}
            for m in ms:
                b = read_budget(m.path)
                if b and b["flags"]:
                    flags[m.id] = b["flags"]
            g.attrs["budget_flags"] = json.dumps(flags)
        f.flush()
    os.replace(tmp, path)
    return path


def read_summary(path):
    """``summary.h5`` as nested dicts: ``{"attrs", "points": [{"params", "time", "observables":
    {name: {"mean", "sem", "lo", "hi", "positions"}}, "health_worst", "budget_flags"}]}``."""
    import h5py

    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != SUMMARY_FORMAT:
            raise ValueError(f"{path}: not a tnmbl sweep summary (format = {f.attrs.get('format')!r})")
        attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
        points = []
        for key in sorted(f["points"]):
            g = f["points"][key]
            points.append({"params": json.loads(g.attrs["params"]), "members": json.loads(g.attrs["members"]),
                           "seeds": json.loads(g.attrs["seeds"]), "time": g["time"][:],
                           "observables": {n: {**{s: o[s][:] for s in ("mean", "sem", "lo", "hi")},
                                               "positions": o.attrs["positions"]}
                                           for n, o in g["observables"].items()},
                           "health_worst": {n: d[:] for n, d in g["health_worst"].items()},
                           "budget_flags": json.loads(g.attrs["budget_flags"])})
    return {"attrs": attrs, "points": points}


# ---------------------------------------------------------------- command line

def cmd_sweep(args):
    plan = load_sweep(args.config, args.set, scheduler=args.scheduler, workers=args.workers)
    where = plan.scheduler or ("this process" if plan.workers == 0 else
                               f"{plan.workers or os.cpu_count()} local worker process(es)")
    print(f"{args.config}: {len(plan.points)} point(s) x {plan.n_members} member(s) = {len(plan.members)} runs, "
          f"valid; output {plan.output_dir}; on {where}", flush=True)
    if args.dry_run:
        for m in plan.members:
            print(f"  {m.id}  seed={m.seed}  {_describe(m.params)}")
        return 0
    out = run_sweep(plan, log=lambda text: print(text, file=sys.stderr, flush=True))
    counts = {a: list(out["actions"].values()).count(a) for a in ("run", "resumed", "skipped")}
    print(f"members: {counts['run']} run, {counts['resumed']} resumed, {counts['skipped']} already finished, "
          f"{len(out['failed'])} failed")
    for mid, err in out["failed"].items():
        print(f"  {mid}: {err}")
    if out["failed"]:
        print("no summary written; fix the failures and rerun (finished members are skipped)")
        return 1
    if out["flagged"]:
        first = sorted(out["flagged"])[0]
        print(f"error budget: {len(out['flagged'])} member(s) flagged, e.g. {first}: {out['flagged'][first][0]} "
              f"(tnmbl info {plan.output_dir / 'members' / (first + '.h5')})")
    print(f"summary:    {out['summary']}")
    return 0


def cmd_budget(args):
    from .budget import budget_lines, error_budget, write_budget

    b = error_budget(args.results, chi_check=args.chi_check, dt_check=args.dt_check)
    write_budget(args.results, b)
    print("\n".join(budget_lines(dict(b, stored=True))))
    return 0


def add_subcommands(sub):
    """Register ``sweep`` and ``budget`` on the ``tnmbl`` command's subparsers."""
    sp = sub.add_parser("sweep", help="run an ensemble / parameter sweep (local processes or Dask); "
                        "rerun to continue an interrupted one")
    sp.add_argument("config", help="run config with ensemble: / sweep: / execution: sections")
    sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a key with a YAML value (repeatable)")
    sp.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    sp.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores; "
                    "0: in this process)")
    sp.add_argument("--dry-run", action="store_true", help="validate and list the members; compute nothing")
    sp.set_defaults(func=cmd_sweep)

    sp = sub.add_parser("budget", help="compute and store the error budget of a results file")
    sp.add_argument("results")
    sp.add_argument("--chi-check", action="store_true", help="rerun at chi_max / 2 to estimate truncation effects")
    sp.add_argument("--dt-check", action="store_true", help="rerun at dt / 2 (Richardson estimate of the "
                    "time-step error)")
    sp.set_defaults(func=cmd_budget)


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (a batch system's time limit): stop like Ctrl-C


def main(argv=None):
    """``python -m tnmbl.runs.sweep FILE ...`` (the same as ``tnmbl sweep FILE ...``)."""
    p = argparse.ArgumentParser(prog="tnmbl")
    sub = p.add_subparsers(dest="command", required=True)
    add_subcommands(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("sweep", "budget"):
        argv = ["sweep"] + argv
    args = p.parse_args(argv)
    if args.command == "sweep":
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"tnmbl {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tnmbl {args.command}: interrupted; rerun the same command to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
