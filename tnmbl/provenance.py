"""Versions of tnmbl and the libraries it runs on, for the provenance of every result."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("tnmbl")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"


def versions():
    """Versions of tnmbl and the libraries it runs on (for provenance)."""
    out = {"tnmbl": __version__}
    for pkg in ("physics-tenpy", "quimb", "numpy", "scipy", "numba", "h5py"):
        try:
            out[pkg] = _version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out
