"""Transport coefficients from current autocorrelations (Green-Kubo) and from the spreading of
correlation profiles (diffusion constants)."""

from .diffusion import Diffusion, agreement_time, diffusion_constant
from .green_kubo import Conductivity, green_kubo, green_kubo_accumulated, green_kubo_chi, green_kubo_ensemble
from .operator_transport import Extrapolation, conductivity, current_autocorrelation, daoe_budget, gamma_extrapolation

__all__ = ["Conductivity", "Diffusion", "Extrapolation", "agreement_time", "conductivity", "current_autocorrelation",
           "daoe_budget", "diffusion_constant", "gamma_extrapolation", "green_kubo", "green_kubo_accumulated",
           "green_kubo_chi", "green_kubo_ensemble"]
