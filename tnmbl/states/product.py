"""Product states: engine-independent initial states.

A :class:`ProductState` is one normalized local vector per site, in the site type's basis.
Engines build their own representation from it (a TeNPy MPS, a dense vector in a charge
sector), so a state is declared once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import StateError, fail


@dataclass(frozen=True, eq=False)
class ProductState:
    """A product state on ``chain``: ``vectors[x]`` is the (normalized) state of site x."""

    chain: object
    vectors: np.ndarray
    label: str = "product"

    @property
    def L(self):
        return self.chain.L

    @property
    def basis_indices(self):
        """Basis index of each site if every site is a basis state, else ``None``."""
        idx = []
        for v in self.vectors:
            nz = np.flatnonzero(np.abs(v) > 1e-14)
            if len(nz) != 1:
                return None
            idx.append(int(nz[0]))
        return idx

    @property
    def charge_definite(self):
        """Whether every site has a definite charge (needed for U(1)-conserving engines)."""
        q = self.chain.site.charges
        return all(len(set(q[np.abs(v) > 1e-14].tolist())) == 1 for v in self.vectors)

    @property
    def total_charge(self):
        """Total charge (N or the sum of sigma^z eigenvalues) if definite, else ``None``."""
        if not self.charge_definite:
            return None
        q = self.chain.site.charges
        return int(sum(q[np.abs(v) > 1e-14][0] for v in self.vectors))

    def dense(self):
        """The full state vector (``d**L`` entries; small chains only)."""
        out = np.ones(1, dtype=complex)
        for v in self.vectors:
            out = np.kron(out, v)
        return out


def _site_index(chain, x, value):
    site = chain.site
    if site.name == "boson":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            fail(StateError, f"occupations[{x}]", value, "must be an integer number of bosons")
        n_max = site.dim - 1
        if not 0 <= value <= n_max:
            fail(StateError, f"occupations[{x}]", int(value),
                 f"site {x} holds {int(value)} bosons but the cutoff is n_max = {n_max}",
                 f"raise n_max to at least {int(value)} or lower the occupation")
        return int(value)
    if isinstance(value, (int, np.integer)) and value in (1, -1):
        return 1 if value == 1 else 0
    key = str(value).lower()
    if key in ("↑", "+"):
        key = "up"
    if key in ("↓", "-"):
        key = "down"
    if key not in site.labels:
        fail(StateError, f"spins[{x}]", value, "a spin is 'up'/'u'/+1 or 'down'/'d'/-1")
    return site.labels[key]


def product(chain, occupations=None, *, spins=None, vectors=None, label=None):
    """A product state from occupations (bosons), spins (spin-1/2) or local vectors.

    Parameters
    ----------
    chain : Chain
    occupations : sequence of int, optional
        Boson number on each site (``0 <= n_x <= n_max``).
    spins : str or sequence, optional
        ``"uudd..."`` or a sequence of ``'up'``/``'down'``/``+1``/``-1``.
    vectors : array of shape (L, d), optional
        Arbitrary local states (normalized here).
    """
    given = [a is not None for a in (occupations, spins, vectors)]
    if sum(given) != 1:
        fail(StateError, "product()", f"{sum(given)} patterns given",
             "give exactly one of occupations=, spins=, vectors=")
    L, d = chain.L, chain.site.dim
    if vectors is not None:
        vec = np.array(vectors, dtype=complex)
        if vec.shape != (L, d):
            fail(StateError, "vectors", f"array of shape {vec.shape}", f"need shape (L, d) = ({L}, {d})")
        norms = np.linalg.norm(vec, axis=1)
        if np.any(norms < 1e-14) or not np.all(np.isfinite(vec)):
            fail(StateError, "vectors", "zero or non-finite local vector", "every site needs a normalizable state")
        return ProductState(chain, vec / norms[:, None], label or "product")
    if occupations is not None:
        if chain.site.name != "boson":
            fail(StateError, "occupations", "...",
                 f"occupations are for bosons; this chain has {chain.site.name} sites", "use spins='udud...'")
        pattern, key = list(occupations), "occupations"
    else:
        if chain.site.name != "spin-1/2":
            fail(StateError, "spins", "...", f"spins are for spin-1/2 sites; this chain has {chain.site.name} sites",
                 "use occupations=[...]")
        pattern, key = list(spins), "spins"
    if len(pattern) != L:
        fail(StateError, key, f"length {len(pattern)}", f"need one entry per site, L = {L}")
    vec = np.zeros((L, d), dtype=complex)
    for x, v in enumerate(pattern):
        vec[x, _site_index(chain, x, v)] = 1.0
    return ProductState(chain, vec, label or key)


def _two_level(chain, high, low):
    if chain.site.name == "spin-1/2":
        return ("up" if high is None else high), ("down" if low is None else low), "spins"
    return (1 if high is None else high), (0 if low is None else low), "occupations"


def _from_pattern(chain, pattern, label):
    key = "spins" if chain.site.name == "spin-1/2" else "occupations"
    return product(chain, **{key: pattern}, label=label)


def neel(chain, high=None, low=None):
    """Alternating ``high, low, high, ...`` (spins: up, down; bosons: 1, 0)."""
    high, low, _ = _two_level(chain, high, low)
    return _from_pattern(chain, [high if x % 2 == 0 else low for x in range(chain.L)], "neel")


def domain_wall(chain, high=None, low=None, at=None):
    """``high`` on sites ``[0, at)``, ``low`` on ``[at, L)``; ``at`` defaults to ``L // 2``."""
    high, low, _ = _two_level(chain, high, low)
    at = chain.L // 2 if at is None else at
    if not 0 < at < chain.L:
        fail(StateError, "at", at, f"the wall must sit inside the chain, 0 < at < L = {chain.L}")
    return _from_pattern(chain, [high if x < at else low for x in range(chain.L)], "domain_wall")


def bubble(chain, region, background, inside):
    """``inside`` on the sites of ``region = (a, b)``, ``background`` elsewhere.

    E.g. a low-density bubble in a Bose-Hubbard chain: ``bubble(chain, (12, 20), 2, 0)``.
    """
    a, b = region
    if not 0 <= a < b <= chain.L:
        fail(StateError, "region", region, f"need 0 <= a < b <= L = {chain.L}")
    return _from_pattern(chain, [inside if a <= x < b else background for x in range(chain.L)], "bubble")
