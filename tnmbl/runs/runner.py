"""Run a validated config: evolve, append a row per output time, checkpoint, resume, extend.

:func:`run` starts a run from a :class:`~tnmbl.runs.config.RunConfig`; :func:`resume`
continues one from its results file (the resolved config is read back from it) and the
checkpoint beside it, optionally to a later ``t_final`` (extend).

Output times are the multiples of ``output_dt`` from t = 0, plus ``t_final``. A resume
restarts from the checkpoint, which may lie a few rows behind the results file (rows
written after the last checkpoint, before a kill): those rows are recomputed, compared
with the stored ones (the largest difference is logged in the file's history) and not
written again, so no row is lost or duplicated and none is rewritten.
"""

from __future__ import annotations

import json
import time as _time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engines import METHODS
from ..errors import ConfigError, TnmblError
from ..evolution import Evolution, MixedEvolution
from ..provenance import versions
from ..states.bubbles import MixedBubble
from .checkpoint import read_checkpoint, write_checkpoint
from .config import RunConfig, build_chain, build_state
from .storage import ResultsWriter, now, read_results


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
    built), for every kind of chain and state; a mixed bubble's driver is its subclass."""
    try:
        chain = build_chain(cfg)
        state = build_state(cfg, chain)
        ev = cfg.evolution
        driver = MixedEvolution if isinstance(state, MixedBubble) else Evolution
        options = dict(dt=ev.dt, chi_max=ev.chi_max, svd_cutoff=ev.svd_cutoff, conserve=ev.conserve,
                       backend=ev.backend, array_backend=ev.array_backend, observables=list(cfg.observables.names),
                       output_dt=cfg.observables.output_dt, n_log=cfg.observables.n_log,
                       energy_tolerance=ev.energy_tolerance, noise_rate=ev.noise_rate or 0.0, noise_seed=cfg.seed or 0,
                       per_chain=cfg.observables.per_chain or (), keep_samples=False)
        takes = METHODS[ev.method].takes
        evo = driver(chain, state, ev.method, t_final=ev.t_final, **{k: v for k, v in options.items() if k in takes})
    except TnmblError as exc:
        raise ConfigError([f"{exc} (raised while building the engine)"]) from None
    return chain, evo


def _checkpoint_data(evo, writer, cfg):
    return {"engine": evo.engine.get_resume_data(), "rows": writer.n_rows, "step": int(evo.engine.step),
            "time": float(evo.engine.time),
            "reference": [np.asarray(x) if np.ndim(x) else float(x) for x in evo.reference],
            "method": cfg.evolution.method, "written": now()}


def run(cfg: RunConfig, *, progress=None) -> RunSummary:
    """Start the run described by ``cfg``; see the module docstring."""
    progress = progress or NoProgress()
    path, ckpt = cfg.results_path, cfg.checkpoint_path
    if path.exists() and not cfg.output.overwrite:
        raise ConfigError([f"output.path = {str(path)!r}: the results file exists; continue it with "
                           f"`tnmbl resume {path}`, or replace it with --set output.overwrite=true"])
    chain, evo = make_evolution(cfg)
    for p in (ckpt, ckpt.with_name(ckpt.name + ".tmp")):
        if p.exists():
            p.unlink()
    writer = ResultsWriter.create(path, config_yaml=cfg.to_yaml(), config_json=json.dumps(cfg.to_dict()),
                                  observables=evo.observables, chain=chain, seed=cfg.seed, versions=versions(),
                                  meta=json.loads(json.dumps(evo.meta(), default=str)),
                                  per_chain={k: evo.engine.M for k in getattr(evo, "per_chain", ())})
    steps = evo.output_steps
    summary = RunSummary(path, ckpt, "running", 0, 0.0, cfg.evolution.t_final)
    return _drive(cfg, evo, writer, steps, progress, summary, stored_steps=())


def resume(results_path, *, t_final=None, progress=None) -> RunSummary:
    """Continue the run in ``results_path`` from its checkpoint; ``t_final`` extends it."""
    progress = progress or NoProgress()
    path = Path(results_path)
    if not path.exists():
        raise ConfigError([f"results file {str(path)!r}: does not exist"])
    info = read_results(path)
    attrs = info["attrs"]
    raw = json.loads(json.dumps(attrs["config_json"]))
    old_t_final = raw["evolution"]["t_final"]
    if t_final is not None:
        reached = float(info["time"][-1]) if info["n_rows"] else 0.0
        if t_final < reached:
            raise ConfigError([f"--t-final = {t_final!r}: the run already reached t = {reached:g}; "
                               "give a later time"])
        raw["evolution"]["t_final"] = t_final
    raw["output"]["path"] = str(path)
    from .config import validate_config

    cfg = validate_config(raw, name=path.stem)
    ckpt = cfg.checkpoint_path
    if cfg.output.checkpoint_path is None:
        ckpt = path.with_name(path.name + ".ckpt")
    if attrs.get("status") == "finished" and cfg.evolution.t_final <= old_t_final:
        return RunSummary(path, ckpt, "finished", info["n_rows"], float(info["time"][-1]), old_t_final,
                          messages=[f"nothing to do: the run finished at t = {old_t_final:g}; "
                                    "extend it with --t-final"])
    if not ckpt.exists():
        raise ConfigError([f"checkpoint {str(ckpt)!r}: not found, so the run cannot continue (it was stopped "
                           "before its first checkpoint); start it again with `tnmbl run CONFIG "
                           "--set output.overwrite=true`"])
    data = read_checkpoint(ckpt)
    if info["n_rows"] < data["rows"]:
        raise ConfigError([f"results file {str(path)!r}: has {info['n_rows']} rows but its checkpoint was "
                           f"written after row {data['rows']}; the files do not belong together"])
    chain, evo = make_evolution(cfg)
    if not hasattr(evo.engine, "set_resume_data"):
        raise ConfigError([f"evolution.method = {cfg.evolution.method!r}: this engine cannot resume "
                           "from a checkpoint"])
    evo.engine.set_resume_data(data["engine"])
    evo.reference = tuple(data["reference"])
    writer = ResultsWriter.append(path)
    writer.set_attrs(status="running", ended="", config=cfg.to_yaml(), config_json=json.dumps(cfg.to_dict()))
    writer.add_history(event="resume", from_step=int(data["step"]), rows_in_file=writer.n_rows,
                       t_final=cfg.evolution.t_final)
    stored = [int(s) for s in info["step"]]
    steps = [s for s in evo.output_steps if s > int(data["step"])]
    summary = RunSummary(path, ckpt, "running", writer.n_rows, float(info["time"][-1]), cfg.evolution.t_final)
    return _drive(cfg, evo, writer, steps, progress, summary, stored_steps=stored)


def _drive(cfg, evo, writer, steps, progress, summary, stored_steps):
    """Advance through ``steps``, measuring, writing (or checking stored) rows, checkpointing."""
    out = cfg.output
    stored_index = {s: i for i, s in enumerate(stored_steps)}
    total_rows = len(set(stored_steps) | set(steps))
    progress.start(total_rows=total_rows, done_rows=writer.n_rows, t_final=cfg.evolution.t_final)
    t_wall0 = last_ckpt = _time.monotonic()
    since_ckpt = 0
    try:
        for step in steps:
            if step > evo.engine.step:
                evo.engine.advance(step - evo.engine.step)
            row = evo.measure()
            if step in stored_index:
                _, _, values, _ = writer.read_row(stored_index[step])
                diff = max((float(np.max(np.abs(values[k] - np.asarray(v)), initial=0.0))
                            for k, v in row.values.items()), default=0.0)
                summary.rows_recomputed += 1
                summary.max_recompute_diff = max(summary.max_recompute_diff, diff)
                continue
            writer.write_row(row, _time.monotonic() - t_wall0)
            summary.rows_written += 1
            since_ckpt += 1
            progress.row(row, n_rows=writer.n_rows, total_rows=total_rows)
            due_s = out.checkpoint_every_s is not None and _time.monotonic() - last_ckpt >= out.checkpoint_every_s
            due_n = out.checkpoint_every_outputs is not None and since_ckpt >= out.checkpoint_every_outputs
            if (due_s or due_n) and step != steps[-1]:
                write_checkpoint(summary.checkpoint, _checkpoint_data(evo, writer, cfg))
                last_ckpt, since_ckpt = _time.monotonic(), 0
        write_checkpoint(summary.checkpoint, _checkpoint_data(evo, writer, cfg))
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        writer.set_attrs(status=status, ended=now(), error=f"{type(exc).__name__}: {exc}")
        writer.close()
        progress.finish()
        raise
    if summary.rows_recomputed:
        writer.add_history(event="recomputed", rows=summary.rows_recomputed,
                           max_abs_diff=summary.max_recompute_diff)
    writer.set_attrs(status="finished", ended=now(), t_final=cfg.evolution.t_final)
    summary.n_rows = writer.n_rows
    summary.t_reached = float(writer.f["time"][writer.n_rows - 1])
    summary.status = "finished"
    writer.close()
    progress.finish()
    if out.figure:
        from .figure import plot_results

        summary.figure = plot_results(summary.results)
    return summary
