"""Initial states, independent of the engine that evolves them."""

from .product import ProductState, bubble, domain_wall, neel, product

__all__ = ["ProductState", "product", "neel", "domain_wall", "bubble"]
