"""Running a planned sweep: one member at a time on a worker (run, resume or skip), the
executors (local spawn pool, in-process, Dask), and the sweep loop that writes ``sweep.json``
and, once every member finished, the summary (:mod:`tnmbl.runs.sweep_summary`)."""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import threading
import time
from pathlib import Path

import h5py
from threadpoolctl import threadpool_limits

from ..engines.tenpy_parallel import THREADS_ENV, default_threads
from ..errors import ConfigError
from .budget import error_budget, read_budget, write_budget
from .runner import resume, run
from .sections import problem
from .sweep_summary import aggregate
from .validate import validate_config

BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
            "NUMBA_NUM_THREADS")


def _limit_blas():
    """One BLAS (and numba) thread in a spawned worker: set before NumPy is imported there."""
    for k in BLAS_ENV:
        os.environ.setdefault(k, "1")


def _init_worker(parent_pid):
    """Local worker set-up: one BLAS thread, and exit when the sweep process dies (a SIGKILLed
    sweep must not leave workers finishing queued members beside its rerun)."""
    _limit_blas()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)  # the member in flight stays resumable (status 'running', checkpoint)

    threading.Thread(target=watch, daemon=True, name="tnmbl-parent-watch").start()


def results_status(path):
    """``status`` attribute of a results file, ``None`` if absent, ``"unreadable"`` if torn."""
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
    # one BLAS thread per member on any executor (a Dask worker of any set-up, in-process runs)
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_member(task)




def _run_member(task):
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
    if action == "run":  # replaces a torn or unresumable member under the run's lock (never unlinked outside it)
        run(cfg.model_copy(update={"output": cfg.output.model_copy(update={"overwrite": True})}))
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
    otherwise a local ``ProcessPoolExecutor`` of ``workers`` processes (default: every core the
    sweep is allowed, :func:`~tnmbl.engines.tenpy_parallel.default_threads`; ``spawn`` context,
    BLAS at one thread), each given an equal share of the cores for the members' TEBD threads
    (``$TNMBL_THREADS = cores // processes``: no oversubscription); ``workers=0`` runs them here,
    one after another, each on every core. Dask workers share nothing of this: set
    ``TNMBL_THREADS`` in their environment (default there: every core each worker process is allowed).
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
    cores = default_threads()
    n = min(workers or cores, max(1, len(tasks)))
    saved = {k: os.environ.get(k) for k in (*BLAS_ENV, THREADS_ENV)}
    os.environ.update({k: "1" for k in BLAS_ENV})  # inherited by the spawned workers
    os.environ[THREADS_ENV] = str(max(1, cores // n))  # each member's share of the cores (TEBD threads)
    pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"),
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
        raise ConfigError([problem("execution.scheduler", rule="needs dask.distributed",
                                   fix="pip install 'tnmbl[dask]'", given=False)]) from None
    own = client is None
    if own:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise ConfigError([problem("execution.scheduler", scheduler, f"cannot connect ({exc})")]) from None
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

def _member_files(path):
    """A member's results file and its checkpoint."""
    return (path, path.with_name(path.name + ".ckpt"))


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
        # a member whose config changed conflicts only while results of the old config exist: a
        # researcher who edits one point and deletes that member's files keeps every other member
        changed = [m.id for m in plan.members if m.id in old_cfg and old_cfg[m.id] != m.config
                   and any(p.exists() for p in _member_files(m.path))]
        if changed:
            raise ConfigError([problem("execution.output_dir", str(plan.output_dir), f"holds another sweep (the "
                                       f"configs of {len(changed)} member(s), e.g. {changed[0]}, differ and "
                                       "their results exist)",
                                       f"use a new output_dir, or delete the changed members' results "
                                       f"({changed[0]}.h5 and its .ckpt in {plan.output_dir / 'members'})")])
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
