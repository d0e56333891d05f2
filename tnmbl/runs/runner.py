"""Run a validated config: evolve, append a row per output time, checkpoint, resume, extend.

:func:`run` starts a run from a :class:`~tnmbl.runs.config.RunConfig`; :func:`resume`
continues one from its results file (the resolved config is read back from it) and the
checkpoint beside it, optionally to a later ``t_final`` (extend).

Output times are the multiples of ``output_dt`` from t = 0, plus ``t_final``. A resume
restarts from the checkpoint, which may lie a few rows behind the results file (rows
written after the last checkpoint, before a kill): those rows are recomputed, compared
with the stored ones (the largest difference is logged in the file's history) and not
written again, so no row is lost or duplicated and none is rewritten. A results file without
a usable checkpoint (stopped before its first one, or the checkpoint lost or damaged) resumes
from t = 0 the same way: every stored row is recomputed and checked, none is discarded.

Safety: before anything is created the output paths are checked
(:func:`tnmbl.runs.paths.output_path_problems`) and the results file is locked for the whole
run, resume or extend (:class:`tnmbl.runs.locks.RunLock`); the first checkpoint follows the
first row; SIGINT / SIGTERM stop the run at the next output row with a checkpoint and the
real resume command (a second signal stops at once); a full disk or an I/O error stops it
with :class:`~tnmbl.runs.diskio.RunIOError` naming the file and the cause, status ``failed``,
the committed rows intact (see :mod:`tnmbl.runs.diskio`).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time as _time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, Problem, TnmblError
from ..evolution.stopping import StopWhen
from ..provenance import versions
from .build import build_chain, build_evolution, build_state
from .checkpoint import checkpoint_owner, read_checkpoint, tmp_path_of, write_checkpoint
from .diskio import RunFileError, is_disk_full
from .figure import plot_results
from .locks import RunLock
from .paths import default_checkpoint, output_path_problems
from .sections import RunConfig, problem
from .storage import ResultsWriter, now, read_results
from .validate import validate_config


@dataclass
class RunSummary:
    """What a run or resume did."""

    results: Path
    checkpoint: Path
    status: str
    n_rows: int
    t_reached: float
    t_final: float
    figure: Path | None = None
    rows_written: int = 0
    rows_recomputed: int = 0
    max_recompute_diff: float = 0.0
    messages: list = field(default_factory=list)


class NoProgress:
    """Progress interface (the CLI supplies a progress bar or a log line per row)."""

    def start(self, *, total_rows, done_rows, t_final):
        pass

    def row(self, row, *, n_rows, total_rows):
        pass

    def note(self, text):
        pass

    def finish(self):
        pass


def make_evolution(cfg: RunConfig):
    """Chain, initial state and the one :class:`~tnmbl.evolution.Evolution` of ``cfg`` (engine
    built), for every kind of chain and state (:func:`~tnmbl.runs.build.build_evolution`)."""
    try:
        chain = build_chain(cfg)
        state = build_state(cfg, chain)
        evo = build_evolution(chain, state, cfg.evolution, cfg.observables, cfg.seed, corr=cfg.correlation)
    except TnmblError as exc:
        raise ConfigError([Problem.from_error(exc, suffix=" (raised while building the engine)")]) from None
    return chain, evo


def _checkpoint_data(evo, writer, cfg):
    return {"engine": evo.engine.get_resume_data(), "rows": writer.n_rows, "step": int(evo.engine.step),
            "time": float(evo.engine.time),
            "reference": [np.asarray(x) if np.ndim(x) else float(x) for x in evo.reference],
            "method": cfg.evolution.method, "written": now()}


class RunInterrupted(KeyboardInterrupt):
    """SIGINT / SIGTERM stopped a run at an output row; a checkpoint was written there.
    ``hint`` is what to do next (the real ``tnmbl resume`` command)."""

    hint = None


def _resume_hint(path):
    return f"continue with `tnmbl resume {path}`"


def run(cfg: RunConfig, *, progress=None, config_path=None) -> RunSummary:
    """Start the run described by ``cfg``; see the module docstring. ``config_path`` is the config
    file it was read from (refused as an output path)."""
    progress = progress or NoProgress()
    path, ckpt = cfg.results_path, cfg.checkpoint_path
    problems = output_path_problems(cfg.output, config_path)
    if problems:
        raise ConfigError(problems)
    with RunLock(path, "run") as lock:  # before anything is created or truncated; refused if a run writes it
        problems = output_path_problems(cfg.output, config_path)  # again, under the lock
        if problems:
            raise ConfigError(problems)
        if path.exists() and not cfg.output.overwrite:
            raise ConfigError([problem("output.path", str(path), "the results file exists", f"continue it with "
                                       f"`tnmbl resume {path}`, or replace it with --set output.overwrite=true")])
        chain, evo = make_evolution(cfg)
        for p in (ckpt, tmp_path_of(ckpt)):  # the checkpoint of the run replaced (checked: a tnmbl checkpoint)
            if p.exists():
                p.unlink()
        writer = ResultsWriter.create(path, config_yaml=cfg.to_yaml(), config_json=json.dumps(cfg.to_dict()),
                                      observables=evo.observables, chain=chain, seed=cfg.seed, versions=versions(),
                                      meta=json.loads(json.dumps(evo.meta(), default=str)),
                                      per_chain={k: evo.engine.M for k in getattr(evo, "per_chain", ())},
                                      run_id=uuid.uuid4().hex)
        steps = evo.output_steps
        summary = RunSummary(path, ckpt, "running", 0, 0.0, cfg.evolution.t_final)
        return _drive(cfg, evo, writer, steps, progress, summary, stored_steps=(), lock=lock, first_checkpoint=True,
                      stop=_stop_rule(cfg))


def resume(results_path, *, t_final=None, progress=None) -> RunSummary:
    """Continue the run in ``results_path`` from its checkpoint; ``t_final`` extends it. Without a
    usable checkpoint it continues from t = 0, recomputing and checking the stored rows."""
    path = Path(results_path)
    if not path.exists():
        raise ConfigError([problem(f"results file {str(path)!r}", rule="does not exist", given=False)])
    with RunLock(path, "resume") as lock:
        return _resume(path, t_final, progress or NoProgress(), lock)


def _usable_checkpoint(ckpt, info):
    """``(data, None)`` or ``(None, why)`` for the checkpoint beside a results file."""
    if not ckpt.exists():
        return None, "not found (the run stopped before its first checkpoint, or it was removed)"
    owner, run_id = checkpoint_owner(ckpt).get("run_id"), info["attrs"].get("run_id")
    if owner and run_id and owner != run_id:
        return None, "belongs to another run of this results path (an earlier run that was replaced)"
    try:
        data = read_checkpoint(ckpt)
    except RunFileError as exc:
        return None, f"unusable: {exc}"
    if info["n_rows"] < data["rows"]:
        return None, (f"written after row {data['rows']}, but the results file has {info['n_rows']} rows: the "
                      "two do not belong together")
    return data, None


def _resume(path, t_final, progress, lock):
    info = read_results(path)
    attrs = info["attrs"]
    raw = json.loads(json.dumps(attrs["config_json"]))
    old_t_final = raw["evolution"]["t_final"]
    if t_final is not None:
        reached = float(info["time"][-1]) if info["n_rows"] else 0.0
        if t_final < reached:
            raise ConfigError([problem("--t-final", t_final, f"the run already reached t = {reached:g}",
                                       "give a later time")])
        raw["evolution"]["t_final"] = t_final
    raw["output"]["path"] = str(path)
    cfg = validate_config(raw, name=path.stem)
    ckpt = cfg.checkpoint_path
    if cfg.output.checkpoint_path is None:
        ckpt = default_checkpoint(path)
    problems = output_path_problems(cfg.output)
    if problems:
        raise ConfigError(problems)
    if attrs.get("status") == "finished" and cfg.evolution.t_final <= old_t_final:
        return RunSummary(path, ckpt, "finished", info["n_rows"], float(info["time"][-1]), old_t_final,
                          messages=[f"nothing to do: the run finished at t = {old_t_final:g}; "
                                    "extend it with --t-final"])
    data, why = _usable_checkpoint(ckpt, info)
    chain, evo = make_evolution(cfg)
    if data is not None and not hasattr(evo.engine, "set_resume_data"):
        data, why = None, f"evolution.method = {cfg.evolution.method!r} cannot restart from a checkpoint"
    messages = []
    if data is not None:
        evo.engine.set_resume_data(data["engine"])
        evo.reference = tuple(data["reference"])
        from_step = int(data["step"])
    else:
        from_step = 0
        messages.append(f"checkpoint {ckpt}: {why}; continuing from t = 0 instead: the {info['n_rows']} stored "
                        "row(s) are recomputed and checked against the file, none is discarded")
        progress.note(messages[-1])
    writer = ResultsWriter.append(path)
    try:
        writer.set_attrs(status="running", ended="", config=cfg.to_yaml(), config_json=json.dumps(cfg.to_dict()))
        writer.add_history(event="resume", from_step=from_step, rows_in_file=writer.n_rows,
                           t_final=cfg.evolution.t_final, **({} if data is not None else {"checkpoint": why}))
    except BaseException:
        writer.close()
        raise
    stored = [int(s) for s in info["step"]]
    if data is not None:
        steps = [s for s in evo.output_steps if s > from_step]
    else:
        steps = list(evo.output_steps)
    summary = RunSummary(path, ckpt, "running", writer.n_rows, float(info["time"][-1]) if info["n_rows"] else 0.0,
                         cfg.evolution.t_final, messages=messages)
    stop = _stop_rule(cfg)
    if stop is not None and data is not None:  # the rows before the checkpoint are not recomputed: replay them
        upto = [i for i, s in enumerate(stored) if s <= from_step]
        if stop.replay(info["time"][upto], info["observables"][stop.observable][upto]):
            steps = []  # it stopped early there: extending it (a later t_final) adds no rows
    return _drive(cfg, evo, writer, steps, progress, summary, stored_steps=stored, lock=lock,
                  first_checkpoint=data is None, stop=stop)


def _stop_rule(cfg):
    """The run's early stop (``evolution.stop_when``), or ``None``."""
    sw = cfg.evolution.stop_when
    return None if sw is None else StopWhen(sw.observable, sw.above, sw.for_factor)


class _Signals:
    """SIGINT / SIGTERM during a run: the first asks for a stop at the next output row (the engine
    state is whole there, so a checkpoint can be written); a second one stops at once
    (``KeyboardInterrupt``; the last checkpoint stands). Installed only in the main thread and
    only over Python's default SIGINT handler and a SIGTERM handler set in Python (the CLI's);
    the previous handlers are restored afterwards."""

    def __init__(self, progress):
        self.progress = progress
        self.requested = None
        self.saved = {}

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in (signal.SIGINT, signal.SIGTERM):
            current = signal.getsignal(sig)
            if (sig == signal.SIGINT and current is signal.default_int_handler) or \
                    (sig == signal.SIGTERM and callable(current)):
                self.saved[sig] = current
                signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
        try:
            print(f"tnmbl: {self.requested}: stopping at the next output row with a checkpoint "
                  "(send it again to stop at once, from the last checkpoint)", file=sys.stderr, flush=True)
        except (OSError, ValueError):
            pass

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        self.saved = {}


class _StopHere(Exception):
    pass


def _record_end(writer, lock, **attrs):
    """Write the final status; on a full disk, release the lock's spare space and try again.
    Returns ``None`` or why the status could not be recorded."""
    for attempt in range(2):
        try:
            writer.set_attrs(**attrs)
            return None
        except RunFileError as exc:
            if attempt == 0 and lock is not None and is_disk_full(getattr(exc, "cause", None)) \
                    and writer.broken is None:
                lock.release_spare()
                continue
            return str(exc)
    return None


def _drive(cfg, evo, writer, steps, progress, summary, stored_steps, lock=None, first_checkpoint=False, stop=None):
    """Advance through ``steps``, measuring, writing (or checking stored) rows, checkpointing;
    ``stop`` (a :class:`~tnmbl.evolution.stopping.StopWhen`) ends the run early at a row."""
    out = cfg.output
    owner = {"results": str(Path(summary.results).resolve()), "run_id": str(writer.f.attrs.get("run_id", ""))}
    stored_index = {s: i for i, s in enumerate(stored_steps)}
    total_rows = len(set(stored_steps) | set(steps))
    progress.start(total_rows=total_rows, done_rows=writer.n_rows, t_final=cfg.evolution.t_final)
    t_wall0 = last_ckpt = _time.monotonic()
    since_ckpt = 0
    need_first = first_checkpoint

    def checkpoint():
        write_checkpoint(summary.checkpoint, _checkpoint_data(evo, writer, cfg), owner=owner)
        accumulated = getattr(evo, "green_kubo", lambda: None)()
        if accumulated is not None:  # the results file holds the sums up to the checkpoint's step
            writer.write_snapshot("green_kubo", dict(accumulated, step=int(evo.engine.step)))

    signals = _Signals(progress)
    try:
        with signals:
            for step in steps:
                if signals.requested:  # between rows: the engine state is whole
                    raise _StopHere(signals.requested)
                if step > evo.engine.step:
                    evo.engine.advance(step - evo.engine.step)
                row = evo.measure()
                stopping = stop is not None and stop.update(row.time, row.values[stop.observable])
                if step in stored_index:
                    _, _, values, _ = writer.read_row(stored_index[step])
                    diff = max((float(np.max(np.abs(values[k] - np.asarray(v)), initial=0.0))
                                for k, v in row.values.items()), default=0.0)
                    summary.rows_recomputed += 1
                    summary.max_recompute_diff = max(summary.max_recompute_diff, diff)
                    if need_first and step != steps[-1]:  # resuming from t = 0: a checkpoint soon
                        checkpoint()
                        need_first = False
                    if stopping:
                        break
                    continue
                writer.write_row(row, _time.monotonic() - t_wall0)
                summary.rows_written += 1
                since_ckpt += 1
                progress.row(row, n_rows=writer.n_rows, total_rows=total_rows)
                due_s = out.checkpoint_every_s is not None and _time.monotonic() - last_ckpt >= out.checkpoint_every_s
                due_n = out.checkpoint_every_outputs is not None and since_ckpt >= out.checkpoint_every_outputs
                if (due_s or due_n) and step != steps[-1]:
                    checkpoint()
                    last_ckpt, since_ckpt = _time.monotonic(), 0
                    need_first = False
                elif need_first and step != steps[-1]:  # the first checkpoint right after the first row
                    checkpoint()
                    need_first = False
                if stopping:
                    break
            checkpoint()
            if summary.rows_recomputed:
                writer.add_history(event="recomputed", rows=summary.rows_recomputed,
                                   max_abs_diff=summary.max_recompute_diff)
            if stop is not None:
                writer.set_attrs(stopped_early=json.dumps(stop.record()))
            writer.set_attrs(status="finished", ended=now(), t_final=cfg.evolution.t_final)
    except _StopHere as stop:
        try:
            checkpoint()
        except BaseException as exc:
            _fail(writer, lock, progress, summary, exc)
            raise
        hint = _resume_hint(summary.results)
        summary.n_rows, summary.status = writer.n_rows, "interrupted"
        _record_end(writer, lock, status="interrupted", ended=now(), error=f"stopped by {stop}")
        writer.close()
        progress.finish()
        exc = RunInterrupted(f"stopped by {stop} at t = {float(evo.engine.time):g} with a checkpoint "
                             f"({summary.n_rows} rows in the file); {hint}")
        exc.hint = hint
        raise exc from None
    except BaseException as exc:
        _fail(writer, lock, progress, summary, exc)
        raise
    summary.n_rows = writer.n_rows
    summary.t_reached = float(writer.f["time"][writer.n_rows - 1])
    summary.status = "finished"
    writer.close()
    progress.finish()
    if out.figure:
        summary.figure = plot_results(summary.results)
    return summary


def _fail(writer, lock, progress, summary, exc):
    """Record how the run ended (``interrupted`` or ``failed``), close, and complete the message."""
    status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
    n_rows = writer.n_rows if writer.f.id.valid and writer.broken is None else None
    unrecorded = _record_end(writer, lock, status=status, ended=now(), error=f"{type(exc).__name__}: {exc}")
    try:
        writer.close()
    except Exception:  # noqa: BLE001,S110 -- the first error is the one to report
        pass
    progress.finish()
    hint = _resume_hint(summary.results)
    if isinstance(exc, KeyboardInterrupt):
        if getattr(exc, "hint", None) is None:
            exc.hint = hint + " (from the last checkpoint)"
        return
    if isinstance(exc, RunFileError):
        rows = f"the {n_rows} committed rows are intact; " if n_rows is not None else ""
        fix = "free some space, then " if is_disk_full(getattr(exc, "cause", None)) else ""
        note = f"; status: {status}" if unrecorded is None else f"; the status could not be recorded ({unrecorded})"
        exc.args = (f"{exc}{note}; {rows}{fix}{hint}",)
