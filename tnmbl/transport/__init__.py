"""Transport coefficients from current autocorrelations (Green-Kubo) and from the spreading of
correlation profiles (diffusion constants)."""

from .diffusion import Diffusion, diffusion_constant
from .green_kubo import Conductivity, green_kubo, green_kubo_chi, green_kubo_ensemble

__all__ = ["Conductivity", "Diffusion", "diffusion_constant", "green_kubo", "green_kubo_chi", "green_kubo_ensemble"]
