"""Chains: site types, terms, and the local operators derived from them."""

from .chain import Bond, Chain, OnSite
from .local import LocalOp, charge_currents, charge_densities, energy_currents, energy_densities, hamiltonian_terms
from .sites import QuantumSite, boson, spin_half

__all__ = ["Bond", "Chain", "OnSite", "LocalOp", "QuantumSite", "boson", "spin_half",
           "energy_densities", "energy_currents", "charge_densities", "charge_currents",
           "hamiltonian_terms"]
