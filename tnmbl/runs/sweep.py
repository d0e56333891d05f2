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

The work is split by job: :mod:`~tnmbl.runs.sweep_plan` (the sections, expansion, seeds),
:mod:`~tnmbl.runs.sweep_execute` (members, executors, the sweep loop),
:mod:`~tnmbl.runs.sweep_summary` (``summary.h5``); the ``sweep`` and ``budget`` commands are in
:mod:`tnmbl.runs.cli`. This module re-exports their public names and is
``python -m tnmbl.runs.sweep FILE ...``.
"""

from __future__ import annotations

import sys

from . import cli
from .sweep_execute import BLAS_ENV, map_tasks, results_status, run_member, run_sweep
from .sweep_plan import (
    SWEEP_SECTIONS,
    AggregateSection,
    BudgetSection,
    EnsembleSection,
    ExecutionSection,
    Member,
    SweepPlan,
    SweepSection,
    describe_point,
    load_sweep,
    member_seeds,
    plan_sweep,
)
from .sweep_summary import SUMMARY_FORMAT, SweepSummary, aggregate, load_summary, read_summary

__all__ = ["AggregateSection", "BLAS_ENV", "BudgetSection", "EnsembleSection", "ExecutionSection", "Member",
           "SUMMARY_FORMAT", "SWEEP_SECTIONS", "SweepPlan", "SweepSection", "SweepSummary", "aggregate",
           "describe_point", "load_summary", "load_sweep", "main", "map_tasks", "member_seeds", "plan_sweep",
           "read_summary", "results_status", "run_member", "run_sweep"]


def main(argv=None):
    """``python -m tnmbl.runs.sweep FILE ...`` (the same as ``tnmbl sweep FILE ...``; ``budget ...``
    works too)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("sweep", "budget"):
        argv = ["sweep"] + argv
    return cli.main(argv, handle_sigterm=True)


if __name__ == "__main__":
    sys.exit(main())
