"""The ``tnmbl`` command: validate, run, resume, info, schema, sweep, budget (every command is
registered here; ``python -m tnmbl.runs.sweep`` is ``tnmbl sweep``).

Exit status: 0 success, 2 invalid configuration or arguments (every problem listed),
1 any other failure, 130 interrupted (Ctrl-C or SIGTERM: the results file is marked
``interrupted`` and ``tnmbl resume`` continues from the last checkpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from ..engines.tenpy_parallel import THREADS_ENV, default_threads
from ..errors import ConfigError, ConvergenceError
from .budget import budget_for_info, budget_lines, error_budget, write_budget
from .checkpoint import checkpoint_summary
from .loading import load_config
from .locks import describe_holder, running_holder
from .resources import estimate_config, machine_memory, parse_size, size_text, time_text
from .runner import resume, run
from .schema import schema_markdown
from .storage import read_results
from .sweep_execute import run_sweep
from .sweep_plan import describe_point, load_sweep
from .validate import validate_config


class LogProgress:
    """One structured ``key=value`` line per output row (for logs, CI, cluster jobs)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr

    def start(self, *, total_rows, done_rows, t_final):
        self.t0 = time.monotonic()
        print(f"tnmbl event=start rows_done={done_rows} rows_total={total_rows} t_final={t_final:g}",
              file=self.stream, flush=True)

    def row(self, row, *, n_rows, total_rows):
        h = row.health
        if "energy_error" in h:  # a classical batch: no MPS figures
            figures = f"energy_error={h['energy_error']:.3e} charge_error={h.get('charge_error', 0.0):.3e}"
        else:
            figures = f"chi={int(h.get('chi', 0))} trunc_err={h.get('truncation_error', 0.0):.3e}"
        print(f"tnmbl event=row t={row.time:.6g} step={row.step} row={n_rows}/{total_rows} {figures} "
              f"energy_drift={h.get('energy_drift', 0.0):.3e} charge_drift={h.get('charge_drift', 0.0):.3e} "
              f"wall_s={time.monotonic() - self.t0:.2f}", file=self.stream, flush=True)

    def note(self, text):
        print(f"tnmbl event=note {text}", file=self.stream, flush=True)

    def finish(self):
        pass


class BarProgress:
    """A rich progress bar with time, chi and truncation error (on a terminal)."""

    def __init__(self, console=None):
        self.console = console

    def start(self, *, total_rows, done_rows, t_final):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(TextColumn("[bold]t = {task.fields[t]:<8.4g}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("chi {task.fields[chi]:>4}  trunc {task.fields[trunc]:.1e}"),
                                 TimeElapsedColumn(), TimeRemainingColumn(), transient=False,
                                 console=self.console)
        self.progress.start()
        self.task = self.progress.add_task("run", total=total_rows, completed=done_rows, t=0.0, chi=0, trunc=0.0)

    def row(self, row, *, n_rows, total_rows):
        h = row.health
        self.progress.update(self.task, completed=n_rows, t=row.time, chi=int(h.get("chi", 0)),
                             trunc=h.get("truncation_error", 0.0))

    def note(self, text):
        self.progress.console.print(text)

    def finish(self):
        if hasattr(self, "progress"):
            self.progress.stop()


def _progress(args):
    if args.log or not sys.stderr.isatty():
        return LogProgress()
    return BarProgress()


def _report(summary):
    for m in summary.messages:
        print(m)
    if summary.rows_recomputed:
        print(f"recomputed {summary.rows_recomputed} row(s) written after the last checkpoint: "
              f"max |difference| = {summary.max_recompute_diff:.2e} (not written again)")
    print(f"status:     {summary.status}, {summary.n_rows} rows, t = {summary.t_reached:g} of {summary.t_final:g}")
    print(f"results:    {summary.results}")
    print(f"checkpoint: {summary.checkpoint}")
    if summary.figure:
        print(f"figure:     {summary.figure}")
    print(f"inspect:    tnmbl info {summary.results}")


def _max_memory(args):
    return parse_size(args.max_memory) if getattr(args, "max_memory", None) else None


def cmd_validate(args):
    cfg = load_config(args.config, args.set, max_memory=_max_memory(args))
    what = f"{cfg.state.kind} state" if cfg.state is not None else \
        f"correlation of {cfg.correlation.b} at infinite temperature"
    print(f"{args.config}: valid ({cfg.model.key}, {what}, {cfg.evolution.method}, "
          f"t_final = {cfg.evolution.t_final:g}, results -> {cfg.results_path})")
    limit = _max_memory(args) or machine_memory()
    print(f"estimate:   {estimate_config(cfg).text()}" + (f" (limit {size_text(limit)})" if limit else ""))
    if args.print:
        print(cfg.to_yaml(), end="")
    return 0


def cmd_run(args):
    cfg = load_config(args.config, args.set, max_memory=_max_memory(args))
    _report(run(cfg, progress=_progress(args), config_path=args.config))
    return 0


def cmd_resume(args):
    _report(resume(args.results, t_final=args.t_final, progress=_progress(args)))
    return 0


def info_dict(path):
    """What ``tnmbl info`` shows, as a dict."""
    res = read_results(path)
    a = res["attrs"]
    cfg = a["config_json"]
    n = res["n_rows"]
    t_final = float(cfg["evolution"]["t_final"])
    t_reached = float(res["time"][-1]) if n else None
    ckpt = Path(cfg["output"].get("checkpoint_path") or Path(path).with_name(Path(path).name + ".ckpt"))
    h = res["health"]
    health = {}
    if n:
        for key, fn in (("truncation_error", lambda x: x[-1]), ("chi", max), ("norm", lambda x: x[-1]),
                        ("energy_drift", lambda x: max(abs(x))), ("charge_drift", lambda x: max(abs(x))),
                        ("energy_error", max), ("charge_error", max)):
            if key in h:
                health[key if key in ("truncation_error", "chi", "norm") else f"max_abs_{key}"] = float(fn(h[key]))
    status = a.get("status")
    note = None
    if status == "running":  # the lock tells a run going on from a killed one
        holder = running_holder(path)
        note = (f"running now: {describe_holder(holder if holder.get('pid') else {})}" if holder is not None else
                f"killed: no process holds its lock; continue it with `tnmbl resume {path}` (from its checkpoint, "
                "or from t = 0 with the stored rows recomputed and checked)")
    state = cfg.get("state") or {"correlation": cfg.get("correlation")}  # a correlation run has no state
    return {"path": str(path), "status": status, "note": note,
            "model": cfg["model"], "state": state, "evolution": cfg["evolution"],
            "observables": cfg["observables"]["names"], "rows": n, "t_reached": t_reached, "t_final": t_final,
            "progress": (t_reached / t_final if t_final else 1.0) if n else 0.0,
            "started": a.get("started"), "ended": a.get("ended") or None, "seed": a.get("seed"),
            "git_commit": a.get("git_commit"), "versions": a.get("versions"), "health": health,
            "checkpoint": dict(path=str(ckpt), **(checkpoint_summary(ckpt) or {"missing": True})),
            "history": a.get("history"), "error": a.get("error"), "budget": budget_for_info(path)}


def cmd_info(args):
    d = info_dict(args.results)
    if args.json:
        print(json.dumps(d, indent=2, default=str))
        return 0
    if args.config:
        print(read_results(args.results)["attrs"]["config"], end="")
        return 0
    ev, m = d["evolution"], d["model"]
    params = ", ".join(f"{k}={v}" for k, v in m.items() if k not in ("name", "factory") and not isinstance(v, list))
    print(f"results:    {d['path']}")
    print(f"status:     {d['status']}" + (f"  ({d['note']})" if d["note"] else "")
          + (f"  error: {d['error']}" if d.get("error") else ""))
    if d["rows"]:
        print(f"progress:   {d['rows']} rows, t = {d['t_reached']:g} of {d['t_final']:g} ({100 * d['progress']:.1f}%)")
    else:
        print(f"progress:   no rows yet (t_final = {d['t_final']:g})")
    print(f"model:      {m.get('factory') or m['name']} ({params})")
    print(f"state:      {d['state']}")
    if "chi_max" in ev:
        print(f"evolution:  {ev['method']} on {ev['backend']}, dt={ev['dt']}, chi_max={ev['chi_max']}, "
              f"svd_cutoff={ev['svd_cutoff']}, conserve={ev['conserve']}")
    else:  # classical batch
        extras = "".join(f", {k}={ev[k]}" for k in ("energy_tolerance", "noise_rate", "precision")
                         if ev.get(k) is not None)
        print(f"evolution:  {ev['method']} on {ev['backend']}, dt={ev['dt']}{extras}")
    print(f"observables: {', '.join(d['observables'])}")
    print("health:     " + (", ".join(f"{k}={v:.3g}" for k, v in d["health"].items()) or "-"))
    print("\n".join(budget_lines(d["budget"])))
    c = d["checkpoint"]
    print(f"checkpoint: {c['path']}" + (f" (unusable: {c['unusable']}; tnmbl resume recomputes from t = 0 and "
                                        "checks the stored rows)" if c.get("unusable") else
                                        " (missing)" if c.get("missing") else
                                        f" (t = {c.get('time', float('nan')):g}, after row {c.get('rows')}, "
                                        f"written {c.get('written')})"))
    print(f"started:    {d['started']}   ended: {d['ended'] or '-'}   seed: {d['seed']}")
    print(f"git commit: {d['git_commit']}")
    print("versions:   " + ", ".join(f"{k} {v}" for k, v in (d["versions"] or {}).items() if v))
    return 0


def cmd_schema(args):
    text = schema_markdown()
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0


def sweep_estimate_text(plan):
    """Members x cost of a sweep plan: the estimate of each sweep point's first member times the
    members per point (members of one point differ only in their seed)."""
    seconds, memory, results, seen = 0.0, 0.0, 0.0, set()
    for m in plan.members:
        if m.point in seen:
            continue
        seen.add(m.point)
        est = estimate_config(validate_config(m.config, name=m.id))
        seconds += est.seconds * plan.n_members
        results += est.results_bytes * plan.n_members
        memory = max(memory, est.memory)
    return (f"{len(plan.members)} runs: time {time_text(seconds)} on one core in all; memory up to "
            f"{size_text(memory)} per member (times the workers running at once); results {size_text(results)}")


def cmd_sweep(args):
    plan = load_sweep(args.config, args.set, scheduler=args.scheduler, workers=args.workers,
                      max_memory=_max_memory(args))
    where = plan.scheduler or ("this process" if plan.workers == 0 else
                               f"{plan.workers or default_threads()} local worker process(es)")
    print(f"{args.config}: {len(plan.points)} point(s) x {plan.n_members} member(s) = {len(plan.members)} runs, "
          f"valid; output {plan.output_dir}; on {where}", flush=True)
    print(f"estimate:   {sweep_estimate_text(plan)}", flush=True)
    if args.dry_run:
        for m in plan.members:
            print(f"  {m.id}  seed={m.seed}  {describe_point(m.params)}")
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
    b = error_budget(args.results, chi_check=args.chi_check, dt_check=args.dt_check, chi_from=args.chi_from,
                     dt_from=args.dt_from, dt_base=args.dt_base)
    write_budget(args.results, b)
    print("\n".join(budget_lines(dict(b, stored=True))))
    return 0


def parser():
    p = argparse.ArgumentParser(prog="tnmbl", description="YAML-configured runs of tnmbl (quantum and classical "
                                "chains): validate, run, resume / extend, inspect.")
    sub = p.add_subparsers(dest="command", required=True)

    def with_set(sp):
        sp.add_argument("config", help="YAML run config (see docs/config.md)")
        sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a key with a YAML value, e.g. --set evolution.chi_max=256 (repeatable)")

    def with_threads(sp):
        sp.add_argument("--threads", type=int, default=None, metavar="N",
                        help="cores this run uses (default $TNMBL_THREADS, else every core it is allowed, "
                             "os.sched_getaffinity): TEBD on TeNPy updates the bonds of a Trotter layer on N threads "
                             "(evolution.threads of the config wins; the same state for every N; short chains "
                             "run serially), classical batches (numba) run on N threads. BLAS stays at one "
                             "thread (two slowed TeNPy and quimb down on a 2-core machine)")

    def with_memory(sp):
        sp.add_argument("--max-memory", default=None, metavar="SIZE",
                        help="refuse configs whose estimated memory passes SIZE (e.g. 8G, 512M; default: the "
                        "machine's memory)")

    sp = sub.add_parser("validate", help="check a config; list every problem; estimate memory and time; "
                        "compute nothing")
    with_set(sp)
    with_memory(sp)
    sp.add_argument("--print", action="store_true", help="print the resolved config (defaults filled in)")
    sp.set_defaults(func=cmd_validate)

    sp = sub.add_parser("run", help="run a config; write an HDF5 results file, checkpoints and a figure")
    with_set(sp)
    sp.add_argument("--log", action="store_true", help="log lines instead of a progress bar, even on a terminal")
    with_threads(sp)
    with_memory(sp)
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("resume", help="continue an interrupted run, or extend a finished one with --t-final")
    sp.add_argument("results", help="the run's .h5 results file")
    sp.add_argument("--t-final", type=float, default=None, help="new final time (extends a finished run)")
    sp.add_argument("--log", action="store_true", help="log lines instead of a progress bar")
    with_threads(sp)
    sp.set_defaults(func=cmd_resume)

    sp = sub.add_parser("info", help="config, provenance, health figures and progress of a results file")
    sp.add_argument("results")
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp.add_argument("--config", action="store_true", help="print the resolved config (YAML)")
    sp.set_defaults(func=cmd_info)

    sp = sub.add_parser("schema", help="print the options table of run configs (Markdown)")
    sp.add_argument("-o", "--output", help="write it to this file (docs/config.md)")
    sp.set_defaults(func=cmd_schema)
    sp = sub.add_parser("sweep", help="run an ensemble / parameter sweep (local processes or Dask); "
                        "rerun to continue an interrupted one")
    sp.add_argument("config", help="run config with ensemble: / sweep: / execution: sections")
    sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a key with a YAML value (repeatable)")
    sp.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    sp.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores; "
                    "0: in this process)")
    sp.add_argument("--dry-run", action="store_true", help="validate and list the members; compute nothing")
    with_memory(sp)
    sp.set_defaults(func=cmd_sweep)

    sp = sub.add_parser("budget", help="compute and store the error budget of a results file")
    sp.add_argument("results")
    sp.add_argument("--chi-check", action="store_true", help="rerun at chi_max / 2 to estimate truncation effects")
    sp.add_argument("--dt-check", action="store_true", help="rerun at dt / 2 (Richardson estimate of the "
                    "time-step error)")
    sp.add_argument("--chi-from", metavar="FILE", help="truncation row from a finished (or partial) run of the "
                    "same config at a smaller chi_max instead of a rerun in memory")
    sp.add_argument("--dt-from", metavar="FILE", help="time-step row from a run of the same config (or of "
                    "--dt-base) at a smaller dt instead of a rerun in memory")
    sp.add_argument("--dt-base", metavar="FILE", help="the coarse-dt run --dt-from is compared with (default: "
                    "RESULTS itself); may be at another chi_max, e.g. a cheaper chi pair")
    sp.set_defaults(func=cmd_budget)
    return p


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (e.g. a batch system's time limit): stop like Ctrl-C


def main(argv=None, *, handle_sigterm=None):
    """``tnmbl COMMAND ...``; SIGTERM stops ``run``, ``resume`` and ``sweep`` like Ctrl-C when
    ``handle_sigterm`` (default: when called as a program, ``argv`` None)."""
    args = parser().parse_args(argv)
    if handle_sigterm is None:
        handle_sigterm = argv is None
    if args.command in ("run", "resume", "sweep") and handle_sigterm:
        signal.signal(signal.SIGTERM, _terminate)
    try:
        if hasattr(args, "threads"):
            if args.threads is not None and args.threads < 1:
                raise ValueError(f"--threads = {args.threads}: must be >= 1")
            saved = os.environ.get(THREADS_ENV)
            if args.threads is not None:  # the run's TEBD default (default_threads reads it)
                os.environ[THREADS_ENV] = str(args.threads)
            try:
                threads = default_threads()
                if args.threads is not None or saved is not None:  # classical kernels: numba's thread pool too
                    import numba

                    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
                with threadpool_limits(limits=1, user_api="blas"):
                    return args.func(args)
            finally:
                if saved is None:
                    os.environ.pop(THREADS_ENV, None)
                else:
                    os.environ[THREADS_ENV] = saved
        return args.func(args)
    except ConfigError as exc:
        print(f"tnmbl {args.command}: {exc}", file=sys.stderr)
        return 2
    except ConvergenceError as exc:  # e.g. a classical run's energy_tolerance: the rows written stay
        print(f"tnmbl {args.command}: ConvergenceError: {exc}; the rows written before stay in the results "
              "file (tnmbl info RESULTS)", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as exc:
        print(f"tnmbl {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        hint = "rerun the same command to continue" if args.command == "sweep" else \
            getattr(exc, "hint", None) or "continue with `tnmbl resume RESULTS`"
        print(f"tnmbl {args.command}: interrupted; {hint}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
