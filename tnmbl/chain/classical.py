r"""Classical site types and the local quantities derived from a classical chain's terms.

A classical chain is a :class:`~tnmbl.chain.Chain` like any other: ``L`` sites of one site
type and a list of :class:`~tnmbl.chain.OnSite` / :class:`~tnmbl.chain.Bond` terms. For a
classical site the term names refer to *functions* of the canonical coordinates
``(q_x, p_x)`` of one site (on-site) or two sites (bond), in the site's catalogue:

=========  ==========  ====================================================  =============
site       term        function                                              kind
=========  ==========  ====================================================  =============
rotor      kinetic     :math:`p^2/2` (strength :math:`1/m`)                   on-site
rotor      cos         :math:`1 - \cos(q_{b+1} - q_b)`                         bond
dnls       N           :math:`|\psi|^2 = (q^2 + p^2)/2`                        on-site
dnls       NN          :math:`|\psi|^4`                                        on-site
dnls       hop         :math:`|\psi_{b+1} - \psi_b|^2`                          bond
=========  ==========  ====================================================  =============

A classical bond term names one two-site function: ``Bond(("cos",), g)``.

Canonical coordinates: rotor ``q = theta`` (angle), ``p = w`` (angular momentum, the
angular velocity for ``m = 1``); DNLS :math:`\psi = (q + i p)/\sqrt2`, so that
:math:`i\dot\psi = \partial H/\partial\bar\psi` is Hamilton's equations for ``(q, p)``.
The Poisson bracket is :math:`\{A, B\} = \sum_x (\partial_{q_x} A\, \partial_{p_x} B -
\partial_{p_x} A\, \partial_{q_x} B)` and :math:`\dot A = \{A, H\}`.

Conventions, the same as the quantum ones (:mod:`tnmbl.chain.local`, with
:math:`i[X, Y] \leftrightarrow \{Y, X\}`):

* local energies on bonds, :math:`h_b = H^{\rm bond}_b + \lambda_b e_b + \rho_b e_{b+1}`
  with :math:`\lambda = \rho = 1/2` except the edge sites of an open chain, which give their
  whole on-site energy :math:`e_x` to their only bond;
* energy current :math:`j_b = \{h_{b+1}, h_b\}` (from bond ``b`` to bond ``b+1``, at
  position ``b + 1``), so that :math:`\dot h_b = j_{b-1} - j_b`;
* charge current (angular momentum for rotors, norm for DNLS) with density :math:`n_x`:
  :math:`J_b = \{n_{b+1}, H^{\rm bond}_b\}`, :math:`\dot n_x = J_{x-1} - J_x`.

Everything here is written once, generically, from the term functions' values and
gradients (NumPy, any batch shape ``(..., L)``). The compiled integrators in
:mod:`tnmbl.engines.classical` use specialised formulas for speed; tests check that they
agree with these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import ModelError, fail


@dataclass(frozen=True, eq=False)
class TermFunction:
    """A named on-site (``sites = 1``) or bond (``sites = 2``) function of canonical coordinates.

    ``value(q, p)`` for one site or ``value(qa, pa, qb, pb)`` for a bond; ``grad`` returns
    ``(dq, dp)`` (on-site) or ``(dqa, dpa, dqb, dpb)`` (bond).
    """

    name: str
    sites: int
    value: Callable
    grad: Callable
    latex: str = ""


def _kin_v(q, p):
    return 0.5 * p * p


def _kin_g(q, p):
    return np.zeros_like(q), p


def _cos_v(qa, pa, qb, pb):
    return 1.0 - np.cos(qb - qa)


def _cos_g(qa, pa, qb, pb):
    s = np.sin(qb - qa)
    z = np.zeros_like(s)
    return -s, z, s, z


def _n_v(q, p):
    return 0.5 * (q * q + p * p)


def _n_g(q, p):
    return q, p


def _nn_v(q, p):
    n = 0.5 * (q * q + p * p)
    return n * n


def _nn_g(q, p):
    n = 0.5 * (q * q + p * p)
    return 2 * n * q, 2 * n * p


def _hop_v(qa, pa, qb, pb):
    return 0.5 * ((qb - qa) ** 2 + (pb - pa) ** 2)


def _hop_g(qa, pa, qb, pb):
    dq, dp = qb - qa, pb - pa
    return -dq, -dp, dq, dp


@dataclass(frozen=True, eq=False)
class ClassicalSite:
    """A classical site type: canonical coordinates and a catalogue of term functions.

    Attributes
    ----------
    name : str
        ``"rotor"`` or ``"dnls"``.
    fields : tuple of str
        Names of the state arrays (``("theta", "w")`` or ``("psi",)``).
    functions : dict[str, TermFunction]
        On-site and bond functions by name.
    density : str
        On-site function (or ``"p"``) whose value is the conserved charge density.
    charge_name : str
        ``"angular_momentum"`` or ``"norm"``.
    """

    name: str
    fields: tuple
    functions: dict
    density: str
    charge_name: str
    params: dict = field(default_factory=dict)

    kind = "classical"
    dim = 2  # canonical coordinates per site

    def op(self, name):
        """The :class:`TermFunction` called ``name`` (clear error if unknown)."""
        try:
            return self.functions[name]
        except KeyError:
            fail(ModelError, "term", name, f"not defined on classical site type {self.name!r}",
                 f"use one of {sorted(self.functions)}")

    def op_charge(self, name):
        """Every catalogue function conserves the site type's charge."""
        self.op(name)
        return 0

    def same_as(self, other):
        return isinstance(other, ClassicalSite) and self.name == other.name

    def check_chain(self, chain):
        """Checks of a whole chain: none beyond the terms' (classical terms are real functions)."""

    def check_term(self, key, term, is_bond, L=None):
        """Validate one term of a chain built on this site type."""
        names = term.ops if is_bond else (term.op,)
        if is_bond and (isinstance(names, str) or len(names) != 1):
            fail(ModelError, f"{key}.ops", term.ops, "a classical bond term names one two-site function",
                 f"write Bond(({sorted(n for n, f in self.functions.items() if f.sites == 2)[0]!r},), g)")
        f = self.op(names[0])
        want = 2 if is_bond else 1
        if f.sites != want:
            fail(ModelError, key, names[0], f"is a {'bond' if f.sites == 2 else 'on-site'} function",
                 f"use it in a {'Bond' if f.sites == 2 else 'OnSite'} term")
        if np.iscomplexobj(np.asarray(term.strength)):
            fail(ModelError, f"{key}.strength", term.strength, "classical strengths must be real")

    # canonical coordinates <-> state fields
    def to_canonical(self, fields):
        if self.name == "dnls":
            psi = np.asarray(fields["psi"])
            return np.sqrt(2.0) * psi.real, np.sqrt(2.0) * psi.imag
        return np.asarray(fields["theta"], dtype=float), np.asarray(fields["w"], dtype=float)

    def from_canonical(self, q, p):
        if self.name == "dnls":
            return {"psi": (q + 1j * p) / np.sqrt(2.0)}
        return {"theta": q, "w": p}


def rotor_site() -> ClassicalSite:
    r"""A plane rotor: angle ``theta`` (q), angular momentum ``w`` (p).

    Functions: ``kinetic`` :math:`w^2/2` (on-site), ``cos`` :math:`1-\cos(\theta_{b+1}-\theta_b)`
    (bond). Charge: total angular momentum :math:`\sum_x w_x`.
    """
    fns = {"kinetic": TermFunction("kinetic", 1, _kin_v, _kin_g, r"w^2/2"),
           "cos": TermFunction("cos", 2, _cos_v, _cos_g, r"1-\cos(\theta_{b+1}-\theta_b)")}
    return ClassicalSite("rotor", ("theta", "w"), fns, "p", "angular_momentum")


def dnls_site() -> ClassicalSite:
    r"""A DNLS site: complex amplitude :math:`\psi = (q + ip)/\sqrt 2`.

    Functions: ``N`` :math:`|\psi|^2`, ``NN`` :math:`|\psi|^4` (on-site), ``hop``
    :math:`|\psi_{b+1}-\psi_b|^2` (bond). Charge: the norm :math:`\sum_x |\psi_x|^2`.
    """
    fns = {"N": TermFunction("N", 1, _n_v, _n_g, r"|\psi|^2"),
           "NN": TermFunction("NN", 1, _nn_v, _nn_g, r"|\psi|^4"),
           "hop": TermFunction("hop", 2, _hop_v, _hop_g, r"|\psi_{b+1}-\psi_b|^2")}
    return ClassicalSite("dnls", ("psi",), fns, "N", "norm")


# ---------------------------------------------------------------------------------------
# generic derivations from the term functions (NumPy, batch shape (..., L))


def _require_classical(chain):
    if not isinstance(chain.site, ClassicalSite):
        fail(ModelError, "chain", chain.name, "is not a classical chain")


def _bond_sites(chain):
    b = np.arange(chain.n_bonds)
    return b, (b + 1) % chain.L


def onsite_energy(chain, q, p):
    """On-site energy :math:`e_x` of every site, shape ``(..., L)``."""
    e = np.zeros(np.broadcast(q, p).shape)
    for term, s in chain.onsite_terms():
        e = e + s * chain.site.op(term.op).value(q, p)
    return e


def onsite_gradient(chain, q, p):
    """:math:`(\\partial_q e_x, \\partial_p e_x)`, each ``(..., L)``."""
    dq = np.zeros(np.broadcast(q, p).shape)
    dp = np.zeros_like(dq)
    for term, s in chain.onsite_terms():
        gq, gp = chain.site.op(term.op).grad(q, p)
        dq, dp = dq + s * gq, dp + s * gp
    return dq, dp


def bond_energy(chain, q, p):
    """Bond energy :math:`H^{\\rm bond}_b`, shape ``(..., n_bonds)``."""
    a, b = _bond_sites(chain)
    out = np.zeros(q.shape[:-1] + (chain.n_bonds,))
    for term, s in chain.bond_terms():
        out = out + s * chain.site.op(term.ops[0]).value(q[..., a], p[..., a], q[..., b], p[..., b])
    return out


def bond_gradient(chain, q, p):
    """Gradients of :math:`H^{\\rm bond}_b` on its left and right site: ``(dqa, dpa, dqb, dpb)``."""
    a, b = _bond_sites(chain)
    shape = q.shape[:-1] + (chain.n_bonds,)
    out = [np.zeros(shape) for _ in range(4)]
    for term, s in chain.bond_terms():
        g = chain.site.op(term.ops[0]).grad(q[..., a], p[..., a], q[..., b], p[..., b])
        out = [o + s * gi for o, gi in zip(out, g, strict=True)]
    return tuple(out)


def energy(chain, q, p):
    """Total energy H of every chain in the batch, shape ``(...)``."""
    return onsite_energy(chain, q, p).sum(-1) + bond_energy(chain, q, p).sum(-1)


def local_energies(chain, q, p):
    """Bond-centred local energies :math:`h_b`, shape ``(..., n_bonds)``; they sum to H."""
    _require_classical(chain)
    a, b = _bond_sites(chain)
    left, right = chain.onsite_shares()
    e = onsite_energy(chain, q, p)
    return bond_energy(chain, q, p) + left * e[..., a] + right * e[..., b]


def energy_currents(chain, q, p):
    """Energy currents :math:`j_b = \\{h_{b+1}, h_b\\}` (``n_bonds`` periodic, ``n_bonds - 1`` open)."""
    _require_classical(chain)
    nb = chain.n_bonds
    left, right = chain.onsite_shares()
    eq, ep = onsite_gradient(chain, q, p)
    dqa, dpa, dqb, dpb = bond_gradient(chain, q, p)
    bonds = np.arange(nb if chain.bc == "periodic" else nb - 1)
    nxt = (bonds + 1) % nb
    y = (bonds + 1) % chain.L  # the site shared by bonds b and b+1
    # gradient of h_b and of h_{b+1} at site y
    gq_b = dqb[..., bonds] + right[bonds] * eq[..., y]
    gp_b = dpb[..., bonds] + right[bonds] * ep[..., y]
    gq_n = dqa[..., nxt] + left[nxt] * eq[..., y]
    gp_n = dpa[..., nxt] + left[nxt] * ep[..., y]
    return gq_n * gp_b - gp_n * gq_b


def charge_densities(chain, q, p):
    """Conserved charge density (angular momentum ``w_x`` or norm :math:`|\\psi_x|^2`)."""
    _require_classical(chain)
    if chain.site.density == "p":
        return np.asarray(p, dtype=float).copy()
    return chain.site.op(chain.site.density).value(q, p)


def _density_gradient(chain, q, p):
    if chain.site.density == "p":
        return np.zeros_like(q), np.ones_like(p)
    return chain.site.op(chain.site.density).grad(q, p)


def charge_currents(chain, q, p):
    """Charge currents :math:`J_b = \\{n_{b+1}, H^{\\rm bond}_b\\}`, shape ``(..., n_bonds)``."""
    _require_classical(chain)
    a, b = _bond_sites(chain)
    nq, np_ = _density_gradient(chain, q, p)
    dqa, dpa, dqb, dpb = bond_gradient(chain, q, p)
    return nq[..., b] * dpb - np_[..., b] * dqb


def equations_of_motion(chain, q, p):
    """Hamilton's equations :math:`(\\dot q, \\dot p) = (\\partial_p H, -\\partial_q H)`."""
    _require_classical(chain)
    a, b = _bond_sites(chain)
    eq, ep = onsite_gradient(chain, q, p)
    dqa, dpa, dqb, dpb = bond_gradient(chain, q, p)
    hq, hp = eq.copy(), ep.copy()
    hq_t, hp_t = np.moveaxis(hq, -1, 0), np.moveaxis(hp, -1, 0)  # views
    np.add.at(hq_t, a, np.moveaxis(dqa, -1, 0))
    np.add.at(hq_t, b, np.moveaxis(dqb, -1, 0))
    np.add.at(hp_t, a, np.moveaxis(dpa, -1, 0))
    np.add.at(hp_t, b, np.moveaxis(dpb, -1, 0))
    return hp, -hq
