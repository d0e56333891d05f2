"""A quick overview figure of a results file (used by ``tnmbl run`` and ``analysis/plot_run.py``):
the file loaded as a :class:`~tnmbl.Result` (:func:`tnmbl.load`) and drawn by
:meth:`Result.plot <tnmbl.Result.plot>` (:mod:`tnmbl.evolution.figures`), with the file's
name and status added to the title."""

from __future__ import annotations

from pathlib import Path

from ..evolution.figures import CURRENTS, HEATMAPS, SCALARS
from ..evolution.rows import Result
from .storage import read_results

__all__ = ["CURRENTS", "HEATMAPS", "SCALARS", "plot_results"]


def plot_results(path, out=None, *, dpi=110):
    """Write an overview PNG of the results file ``path``; return the PNG's path."""
    import matplotlib

    matplotlib.use("Agg")
    read_results(path)  # the run layer's checks and errors (RunFileError naming the file)
    res = Result.load(path)
    out = Path(out) if out is not None else Path(path).with_suffix(".png")
    file = res.meta.get("file", {})
    title = f"{res.title()}\n{Path(path).name} ({file.get('status')}, {len(res.times)} rows)"
    return res.plot(out, dpi=dpi, title=title)
