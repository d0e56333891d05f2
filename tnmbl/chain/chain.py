r"""The chain abstraction: L sites of one site type and a list of terms.

A model is *data*: a :class:`Chain` holding on-site terms (:class:`OnSite`) and bond terms
(:class:`Bond`), each with a strength that is a number or a per-site / per-bond array
(disorder). The Hamiltonian is

.. math::
    H = \sum_{\rm onsite\ terms} \sum_x c_x\, O_x
      + \sum_{\rm bond\ terms} \sum_b c_b\, A_{b} B_{b+r} \; (+\ {\rm h.c.})

Everything else derives from this one list: the TeNPy model, the exact sparse Hamiltonian,
the local energy densities, the energy and charge currents (see :mod:`tnmbl.chain.local`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError, fail


def _strength_repr(s):
    a = np.asarray(s)
    return repr(s) if a.ndim == 0 else f"array(shape={a.shape})"


@dataclass(frozen=True, eq=False)
class OnSite:
    r"""On-site term :math:`\sum_x c_x O_x`.

    Parameters
    ----------
    op : str
        Operator name in the site type's catalogue (e.g. ``"NN"``, ``"Z"``).
    strength : float or array of shape (L,)
        :math:`c_x`; a number is the same on every site.
    label : str
        Human-readable description, e.g. ``"U n^2"``.
    """

    op: str
    strength: object
    label: str = ""


@dataclass(frozen=True, eq=False)
class Bond:
    r"""Bond term :math:`\sum_b c_b A_b B_{b+r}` (plus its hermitian conjugate if ``hc``).

    Parameters
    ----------
    ops : (str, str)
        Operator names ``(A, B)`` on the left and right site.
    strength : float or array of shape (n_bonds,)
        :math:`c_b`; ``n_bonds = L - 1`` (open) or ``L`` (periodic) for ``distance = 1``.
    hc : bool
        Add :math:`c_b^* A_b^\dagger B_{b+r}^\dagger`.
    distance : int
        ``r``, the distance between the two sites (1 = nearest neighbours).
    label : str
        Human-readable description.
    """

    ops: tuple
    strength: object
    hc: bool = False
    distance: int = 1
    label: str = ""


@dataclass(frozen=True, eq=False)
class Chain:
    """A 1D chain: ``L`` sites of one ``site`` type and a tuple of ``terms``.

    Parameters
    ----------
    L : int
        Number of sites (>= 2).
    site : QuantumSite
        The site type (see :mod:`tnmbl.chain.sites`).
    terms : tuple of OnSite | Bond
        The Hamiltonian as data.
    bc : {"open", "periodic"}
        Boundary condition. Periodic chains run on the engines that allow it (``exact``).
    name : str
        Model name, e.g. ``"bose_hubbard"``.
    params : dict
        The parameters the model was built from (kept for provenance).
    regions : dict[str, (int, int)]
        Named segments ``[a, b)`` of the chain, e.g. ``{"bath": (0, 4)}``.
    """

    L: int
    site: object
    terms: tuple
    bc: str = "open"
    name: str = "custom"
    params: dict = field(default_factory=dict)
    regions: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.L, bool) or not isinstance(self.L, (int, np.integer)):
            fail(ModelError, "L", self.L, "must be an integer", "give the number of sites, e.g. L=16")
        if self.L < 2:
            fail(ModelError, "L", self.L, "a chain needs at least 2 sites", "use L >= 2")
        if self.bc not in ("open", "periodic"):
            fail(ModelError, "bc", self.bc, "must be 'open' or 'periodic'")
        if self.bc == "periodic" and self.L < 3:
            fail(ModelError, "L", self.L, "a periodic chain needs at least 3 sites",
                 "use L >= 3 or bc='open'")
        object.__setattr__(self, "terms", tuple(self.terms))
        # resolve every strength to a float array of the right length, once
        resolved = []
        for i, term in enumerate(self.terms):
            if isinstance(term, OnSite):
                self.site.check_term(f"terms[{i}]", term, is_bond=False, L=self.L)
                arr = self._check_strength(f"terms[{i}] ({term.label or term.op})", term.strength, self.L,
                                           "one value per site")
            elif isinstance(term, Bond):
                self.site.check_term(f"terms[{i}]", term, is_bond=True, L=self.L)
                arr = self._check_strength(f"terms[{i}] ({term.label or '*'.join(term.ops)})",
                                           term.strength, self.n_bonds_at(term.distance),
                                           "one value per bond")
            else:
                fail(ModelError, f"terms[{i}]", type(term).__name__, "must be an OnSite or Bond term")
            resolved.append(arr)
        object.__setattr__(self, "_strengths", tuple(resolved))
        for name, (a, b) in self.regions.items():
            if not 0 <= a < b <= self.L:
                fail(ModelError, f"regions[{name!r}]", (a, b), f"need 0 <= a < b <= L = {self.L}")
        self.site.check_chain(self)  # the site type's own checks (quantum: H is Hermitian)

    # -- geometry --------------------------------------------------------------------
    def n_bonds_at(self, distance=1):
        """Number of bonds of range ``distance``: ``L - distance`` (open) or ``L`` (periodic)."""
        return self.L if self.bc == "periodic" else self.L - distance

    @property
    def n_bonds(self):
        """Number of nearest-neighbour bonds."""
        return self.n_bonds_at(1)

    def bond_sites(self, b, distance=1):
        """The two sites of bond ``b`` of range ``distance``."""
        return (b, (b + distance) % self.L)

    def onsite_shares(self):
        """``(left, right)``: share of the on-site energy of each bond's two sites in ``h_b``.

        The one convention for local energies, quantum and classical: ``1/2`` each, except
        on an open chain, where the end sites give their whole on-site term to their only
        bond. Hence ``sum_b h_b = H``.
        """
        left = np.full(self.n_bonds, 0.5)
        right = np.full(self.n_bonds, 0.5)
        if self.bc == "open":
            left[0] = 1.0
            right[-1] = 1.0
        return left, right

    # -- strengths -------------------------------------------------------------------
    def _check_strength(self, key, s, n, what):
        arr = np.asarray(s)
        if arr.dtype.kind not in "biufc":
            fail(ModelError, key, s, "strength must be a number or an array of numbers")
        if arr.ndim == 0:
            arr = np.full(n, arr.item())
        elif arr.shape != (n,):
            fail(ModelError, key, _strength_repr(s),
                 f"{what}: expected shape ({n},) for L = {self.L} ({self.bc} chain), got {arr.shape}",
                 f"pass an array of length {n} or a single number")
        if not np.all(np.isfinite(arr)):
            fail(ModelError, key, _strength_repr(s), "strengths must be finite (no NaN / inf)")
        return arr if np.iscomplexobj(arr) else arr.astype(float)

    def strength(self, term_index):
        """Per-site / per-bond strengths of term ``term_index`` as an array."""
        return self._strengths[term_index]

    def onsite_terms(self):
        """Iterate ``(term, strengths)`` over on-site terms."""
        for t, s in zip(self.terms, self._strengths):
            if isinstance(t, OnSite):
                yield t, s

    def bond_terms(self, distance=None):
        """Iterate ``(term, strengths)`` over bond terms (optionally of one range)."""
        for t, s in zip(self.terms, self._strengths):
            if isinstance(t, Bond) and (distance is None or t.distance == distance):
                yield t, s

    @property
    def max_range(self):
        """Largest bond distance (1 for nearest-neighbour chains)."""
        return max([t.distance for t, _ in self.bond_terms()], default=1)

    # -- symmetry --------------------------------------------------------------------
    @property
    def conserves_charge(self):
        """Whether every term conserves the site type's charge (N or S^z)."""
        for t, _ in self.onsite_terms():
            if self.site.op_charge(t.op) != 0:
                return False
        for t, _ in self.bond_terms():
            q = [self.site.op_charge(o) for o in t.ops]
            if None in q or sum(q) != 0:
                return False
        return True

    def describe(self):
        """One line per term, for logs and ``tnmbl info``."""
        lines = [f"{self.name}: L={self.L}, site={self.site.name} (d={self.site.dim}), bc={self.bc}"]
        for t, s in zip(self.terms, self._strengths):
            kind = "onsite" if isinstance(t, OnSite) else f"bond(r={t.distance})"
            val = f"{s[0]:g}" if np.allclose(s, s[0]) else f"per-site, mean {np.mean(s):.4g}"
            desc = t.label or (t.op if isinstance(t, OnSite) else "*".join(t.ops) + (" + h.c." if t.hc else ""))
            lines.append(f"  {kind:12s} {desc:28s} strength {val}")
        return "\n".join(lines)
