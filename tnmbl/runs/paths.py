"""The files of a run and the rules that keep them apart, so that no result is ever lost.

A run owns a results file (``output.path``), a checkpoint (``output.checkpoint_path``,
default ``<path>.ckpt``), the checkpoint's temp file ``<checkpoint>.tmp`` and a lock file
``<path>.lock``. :func:`output_path_problems` says, before anything is created, what is wrong:

* two of these, or one of them and the config file, are the same file;
* the checkpoint path holds a file that is not a tnmbl checkpoint (a results file, the
  config, anything else), or the checkpoint of another run whose results still exist;
* the results path holds a file that is not a tnmbl results file, so neither ``resume`` nor
  ``overwrite`` applies to it (``overwrite`` replaces only a results file, or a damaged HDF5
  file that was one).

The problems are :class:`~tnmbl.errors.Problem` objects (key, value, rule, fix); the runner
refuses a run with any of them, and validation can report them with the others.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import Problem
from .diskio import HDF5_SIGNATURE, head

RESULTS_FORMAT = "tnmbl-results"


def lock_path_of(results):
    results = Path(results)
    return results.with_name(results.name + ".lock")


def default_checkpoint(results):
    results = Path(results)
    return results.with_name(results.name + ".ckpt")


def file_kind(path):
    """What is at ``path``: ``missing``, ``directory``, ``empty``, ``results`` (a tnmbl results
    file), ``checkpoint`` (by its marker), ``damaged-hdf5`` (HDF5 signature, but unreadable),
    ``hdf5`` (another HDF5 file) or ``other``."""
    from .checkpoint import is_checkpoint

    path = Path(path)
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "directory"
    try:
        if path.stat().st_size == 0:
            return "empty"
    except OSError:
        return "other"
    if is_checkpoint(path):
        return "checkpoint"
    if not head(path, 8).startswith(HDF5_SIGNATURE):
        return "other"
    import h5py

    try:
        with h5py.File(path, "r", locking=False) as f:
            return "results" if f.attrs.get("format") == RESULTS_FORMAT else "hdf5"
    except OSError:
        return "damaged-hdf5"


_KIND_TEXT = {"results": "a tnmbl results file", "checkpoint": "a tnmbl checkpoint", "hdf5": "an HDF5 file of "
              "another kind", "damaged-hdf5": "an unreadable HDF5 file", "other": "a file that is not HDF5 "
              "(a config, a script, data?)", "directory": "a directory", "empty": "an empty file"}


def _same(a, b):
    """Whether ``a`` and ``b`` name one file (resolved paths, or one inode where both exist)."""
    if a is None or b is None:
        return False
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _get(section, key):
    if section is None:
        return None
    if isinstance(section, dict):
        return section.get(key)
    return getattr(section, key, None)


def output_path_problems(output, config_path=None):
    """Problems of the ``output`` section (an ``OutputSection`` or its dict) as
    :class:`~tnmbl.errors.Problem` objects, given the config file it came from (or ``None``).

    Looks at the disk (what exists at each path) but changes nothing. A missing
    ``output.path`` (filled in later from the config name) is checked only through the
    checkpoint path and the config file.
    """
    problems = []
    path = _get(output, "path")
    ckpt_given = _get(output, "checkpoint_path")
    results = Path(path) if path else None
    ckpt = Path(ckpt_given) if ckpt_given else (default_checkpoint(results) if results else None)
    cfg = Path(config_path) if config_path else None
    ckpt_key = "output.checkpoint_path" if ckpt_given else "output.path"
    ckpt_value = ckpt_given if ckpt_given else path

    if results is not None and _same(results, cfg):
        problems.append(Problem("output.path", path, f"is the config file {str(cfg)!r} itself; the run would "
                                "replace its own config", f"give the results a file of their own, e.g. "
                                f"output.path: {str(cfg.with_suffix('.h5'))!r}"))
    if ckpt is not None and _same(ckpt, cfg) and not (results is not None and _same(results, cfg)):
        problems.append(Problem(ckpt_key, ckpt_value, f"the checkpoint {str(ckpt)!r} is the config file itself; "
                                "a checkpoint would replace it", "leave output.checkpoint_path out (default: "
                                "the results path + '.ckpt')"))
    if results is not None and ckpt is not None:
        if _same(ckpt, results):
            problems.append(Problem("output.checkpoint_path", ckpt_given, "is the results file (output.path); "
                                    "the first checkpoint would replace every row", "leave it out (default: "
                                    "the results path + '.ckpt') or give a different file"))
        elif _same(ckpt, lock_path_of(results)) or _same(results, ckpt.with_name(ckpt.name + ".tmp")):
            problems.append(Problem(ckpt_key, ckpt_value, f"the checkpoint {str(ckpt)!r} collides with a file "
                                    f"the run keeps beside it ({results.name}.lock, or the checkpoint's "
                                    "temp file <checkpoint>.tmp)", "leave output.checkpoint_path out"))
    if ckpt is not None and not problems:
        kind = file_kind(ckpt)
        if kind not in ("missing", "checkpoint", "empty"):
            problems.append(Problem(ckpt_key, ckpt_value, f"the checkpoint path {str(ckpt)!r} holds "
                                    f"{_KIND_TEXT[kind]}; a checkpoint replaces only an earlier checkpoint "
                                    "of the same run", "choose a checkpoint path that is free, or leave "
                                    "output.checkpoint_path out"))
        elif kind == "checkpoint" and results is not None:
            from .checkpoint import checkpoint_owner

            owner = checkpoint_owner(ckpt).get("results")
            if owner and not _same(owner, results) and Path(owner).exists():
                problems.append(Problem(ckpt_key, ckpt_value, f"{str(ckpt)!r} is the checkpoint of another "
                                        f"run ({owner}), which it is needed to resume", "give this run a "
                                        "checkpoint path of its own"))
    if results is not None and not problems:
        kind = file_kind(results)
        if kind in ("hdf5", "other", "directory", "checkpoint"):
            problems.append(Problem("output.path", path, f"holds {_KIND_TEXT[kind]}, not a tnmbl results file; "
                                    "a run can neither resume nor overwrite it", "choose another output.path"))
    return problems
