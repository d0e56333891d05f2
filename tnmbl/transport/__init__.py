"""Transport coefficients from current autocorrelations (Green-Kubo)."""

from .green_kubo import Conductivity, green_kubo, green_kubo_ensemble

__all__ = ["Conductivity", "green_kubo", "green_kubo_ensemble"]
