"""Progress display and logging of an evolution in Python (``evolve(..., progress=True)``).

* Progress: a bar over the output rows (``len(Evolution)``) showing the time reached, the
  largest bond dimension ``chi``, the accumulated truncation error and the ETA; drawn with
  rich (a dependency) or tqdm (``progress="tqdm"``, where installed), on stderr.
  ``progress=None`` (the default) shows it only when stderr is a terminal, so scripts, batch
  jobs and tests print nothing; ``True`` / ``False`` force it on / off.
* Logging: the driver logs to the ``tnmbl`` logger (``logging.getLogger("tnmbl")``): the start
  and end of every evolution at INFO, each row at DEBUG. The package adds only a
  ``NullHandler``: nothing is printed unless the application configures logging, e.g.
  ``logging.basicConfig(level=logging.INFO)``.
"""

from __future__ import annotations

import logging
import sys

from ..errors import OptionError, fail

log = logging.getLogger("tnmbl.evolution")

KINDS = ("rich", "tqdm")


def wanted(progress):
    """The display to use for the ``progress`` option: ``None`` (off), ``"rich"`` or ``"tqdm"``."""
    if progress is None:
        progress = _interactive()
    if progress is False:
        return None
    if progress is True:
        return "rich"
    if progress in KINDS:
        return progress
    fail(OptionError, "progress", progress, "must be None (on when stderr is a terminal), True, False, "
         "'rich' or 'tqdm'", "progress=True")


def _interactive():
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def _fmt(row):
    chi = row.health.get("chi")
    trunc = row.health.get("truncation_error")
    return ("-" if chi is None else f"{int(chi)}", "-" if trunc is None else f"{trunc:.1e}")


class ProgressBar:
    """A progress bar over ``total`` rows (``kind``: ``"rich"`` or ``"tqdm"``); call :meth:`row`
    with each :class:`~tnmbl.evolution.Row`, then :meth:`close`."""

    def __init__(self, total, *, t_final, kind="rich", description="evolve", file=None):
        self.kind, self.t_final = kind, t_final
        file = sys.stderr if file is None else file
        if kind == "tqdm":
            try:
                from tqdm.auto import tqdm
            except ImportError:
                fail(OptionError, "progress", "tqdm", "tqdm is not installed",
                     "pip install tqdm, or progress=True (rich)")
            self.bar = tqdm(total=total, desc=description, unit="row", file=file)
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("t={task.fields[t]}/{task.fields[t_final]:g}"),
                            TextColumn("chi={task.fields[chi]}"), TextColumn("trunc={task.fields[trunc]}"),
                            TextColumn("ETA"), TimeRemainingColumn(),
                            console=Console(file=file, stderr=file is sys.stderr), transient=False)
        self.bar.start()
        self.task = self.bar.add_task(description, total=total, t="0", t_final=t_final, chi="-", trunc="-")

    def row(self, row):
        chi, trunc = _fmt(row)
        if self.kind == "tqdm":
            self.bar.set_postfix_str(f"t={row.time:g} chi={chi} trunc={trunc}", refresh=False)
            self.bar.update(1)
        else:
            self.bar.update(self.task, advance=1, t=f"{row.time:g}", chi=chi, trunc=trunc)

    def close(self):
        if self.kind == "tqdm":
            self.bar.close()
        else:
            self.bar.stop()


def log_start(ev):
    log.info("evolve %s (%s) on %s L=%d: %d rows to t=%g, dt=%g", ev.method, ev.backend, ev.chain.name,
             ev.chain.L, len(ev), ev.t_final, ev.dt)


def log_row(ev, row, i):
    if log.isEnabledFor(logging.DEBUG):
        chi, trunc = _fmt(row)
        log.debug("row %d/%d t=%g step=%d chi=%s trunc=%s", i + 1, len(ev), row.time, row.step, chi, trunc)


def log_end(ev, n_rows):
    log.info("evolve %s done: %d rows, evolve %.3g s, measure %.3g s", ev.method, n_rows,
             ev.timing["evolve_s"], ev.timing["measure_s"])
