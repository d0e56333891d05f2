"""Moved to :mod:`tnmbl.evolution.correlations` (a driver over the purification and exact
thermal engines, so above the engines); this module keeps the old import path working."""

NAMES = ("correlations", "current_autocorrelation", "local_autocorrelation", "decay_rate", "Correlation",
         "operator_list", "OPERATORS")


def __getattr__(name):
    """The names of :mod:`tnmbl.evolution.correlations` (a shim, listed in tests/test_layers.py)."""
    if name in NAMES:
        from ..evolution import correlations  # shim

        return getattr(correlations, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
