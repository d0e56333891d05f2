"""Initial states, independent of the engine that evolves them."""

from . import classical  # batches of classical chains (rotor, DNLS)
from .bubbles import mixed_bubble, sampled_bubble, sampled_bubble_member
from .mps import MPSState, VectorState, from_mps, from_vector
from .product import ProductState, bubble, domain_wall, neel, product

__all__ = ["classical", "ProductState", "product", "neel", "domain_wall", "bubble", "mixed_bubble", "sampled_bubble",
           "sampled_bubble_member", "MPSState", "VectorState", "from_mps", "from_vector"]
