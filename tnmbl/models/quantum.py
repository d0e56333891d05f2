r"""Quantum chain models, declared as data (term lists) on the chain abstraction.

Conventions are those of ``shared/physics.md``: Bose-Hubbard with :math:`U n^2` (not
:math:`\frac U2 n(n-1)`), spin chains in **Pauli** matrices, sites ``x = 0 .. L-1``.
Random fields come from ``numpy.random.default_rng(seed)``; the fields actually used are
stored in ``chain.params`` so a run records them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..chain import Bond, Chain, OnSite, boson, spin_half
from ..errors import ModelError, fail


def _check_L(L):
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 2:
        fail(ModelError, "L", L, "a chain needs an integer number of sites L >= 2", "e.g. L=16")
    return int(L)


def _uniform_field(name, L, W, values, rng):
    """``values`` if given, else uniform in [-W, W] from ``rng`` (zeros if W = 0)."""
    if values is not None:
        arr = np.asarray(values, dtype=float)
        if arr.shape != (L,):
            fail(ModelError, name, f"array of shape {arr.shape}", f"one value per site: need shape ({L},)",
                 f"pass {L} values")
        return arr
    if not np.isfinite(W) or W < 0:
        fail(ModelError, "W", W, "disorder strength must be finite and >= 0")
    if W == 0:
        return np.zeros(L)
    return rng.uniform(-W, W, size=L)


def bose_hubbard(L: int, U: float = 1.0, g: float = 0.1, n_max: int = 4, *, eps: Sequence[float] | None = None,
                 W: float = 0.0, seed: int | None = None, bc: str = "open"):
    r"""Bose-Hubbard chain in the papers' convention.

    .. math::
        H = U \sum_x n_x^2 + g \sum_x (a_x^\dagger a_{x+1} + a_{x+1}^\dagger a_x)
            + \sum_x \epsilon_x n_x

    Note :math:`U n^2`, not :math:`\frac U2 n(n-1)`: the two differ by a multiple of the
    conserved N, so the dynamics of densities agree but energies and energy currents do not.

    Parameters
    ----------
    L : int
        Number of sites.
    U, g : float
        Interaction and hopping.
    n_max : int
        Local cutoff (at most ``n_max`` bosons per site, ``d = n_max + 1``).
    eps : array of shape (L,), optional
        On-site potential :math:`\epsilon_x`; overrides ``W``.
    W : float
        If ``eps`` is not given, :math:`\epsilon_x` uniform in ``[-W, W]``.
    seed : int, optional
        Seed of the disorder.
    bc : {"open", "periodic"}
    """
    L = _check_L(L)
    site = boson(n_max)
    eps = _uniform_field("eps", L, W, eps, np.random.default_rng(seed))
    terms = [OnSite("NN", U, "U n^2"), Bond(("Bd", "B"), g, hc=True, label="g (a+_x a_x+1 + h.c.)")]
    if np.any(eps != 0):
        terms.append(OnSite("N", eps, "eps_x n_x"))
    params = dict(L=L, U=U, g=g, n_max=n_max, W=W, seed=seed, bc=bc,
                  eps=eps.tolist())
    return Chain(L, site, terms, bc=bc, name="bose_hubbard", params=params)


def xxz(L: int, g: float = 1.0, J: float = 0.0, W: float = 0.0, *, w: Sequence[float] | None = None,
        seed: int | None = None, bc: str = "open"):
    r"""Disordered XXZ chain in Pauli matrices (rare-events paper eq. 16).

    .. math::
        H = \sum_x w_x \sigma^z_x + g \sum_x (\sigma^x_x\sigma^x_{x+1} + \sigma^y_x\sigma^y_{x+1})
            + J \sum_x \sigma^z_x \sigma^z_{x+1},

    with :math:`w_x` uniform in ``[-W, W]`` (or given as ``w``). The hopping is stored as
    :math:`2g(\sigma^+_x\sigma^-_{x+1} + {\rm h.c.})`, which is the same operator and keeps
    :math:`S^z` conservation visible term by term.
    """
    L = _check_L(L)
    site = spin_half()
    w = _uniform_field("w", L, W, w, np.random.default_rng(seed))
    terms = [Bond(("Sp", "Sm"), 2.0 * g, hc=True, label="g (sx sx + sy sy)"),
             Bond(("Z", "Z"), J, label="J sz sz")]
    if np.any(w != 0):
        terms.insert(0, OnSite("Z", w, "w_x sz_x"))
    params = dict(L=L, g=g, J=J, W=W, seed=seed, bc=bc, w=w.tolist())
    return Chain(L, site, terms, bc=bc, name="xxz", params=params)


def xxz_with_bath(L: int, g: float = 1.0, J: float = 0.1, W: float = 5.0, *, bath: tuple[int, int] = (0, 4),
                  bath_W: float = 0.0, bath_hx: float = 0.5, bath_g: float | None = None,
                  bath_J: float | None = None, bath_J2: float = 0.0, bath_link: float = 1.0, seed: int | None = None):
    r"""Disordered XXZ chain with an ergodic bath segment ``[a, b)`` (rare-events sec. 3.2).

    Outside the bath the chain is :func:`xxz` with fields uniform in ``[-W, W]``. Inside,
    sites carry their own parameters: fields uniform in ``[-bath_W, bath_W]``, a transverse
    field ``bath_hx`` :math:`\sigma^x_x` that breaks integrability, and bonds with both ends
    in the bath use ``bath_g`` / ``bath_J`` (default: ``g`` / ``J``). ``bath_J2`` adds a
    next-nearest-neighbour coupling :math:`J_2 \sigma^z_x \sigma^z_{x+2}` for pairs with
    both sites in the bath, which breaks integrability while conserving :math:`S^z`; it
    makes the chain range 2, so only TDVP and exact evolution take it (not TEBD).
    ``bath_link`` scales the bonds with one end in the bath (0: the bath cut off, the
    control of a bath study; the fields drawn from ``seed`` are the same for every value).

    .. math::
        H = H_{\rm XXZ}[w_x, g_b, J_b] + \sum_{x \in [a,b)} h^x \sigma^x_x
            + J_2 \sum_{x, x+2 \in [a,b)} \sigma^z_x \sigma^z_{x+2}

    A non-zero ``bath_hx`` breaks :math:`S^z` conservation, so engines run without it; set
    ``bath_hx=0`` and ``bath_W > 0`` (weak disorder) for a bath that conserves :math:`S^z`.
    """
    L = _check_L(L)
    a, b = bath
    if not (0 <= a < b <= L):
        fail(ModelError, "bath", bath, f"need 0 <= a < b <= L = {L}", "e.g. bath=(0, 4) for an edge bath")
    rng = np.random.default_rng(seed)
    inside = np.zeros(L, dtype=bool)
    inside[a:b] = True
    w = np.where(inside, rng.uniform(-bath_W, bath_W, L) if bath_W > 0 else 0.0,
                 rng.uniform(-W, W, L) if W > 0 else 0.0)
    bond_in = inside[:-1] & inside[1:]
    link = np.where(inside[:-1] != inside[1:], float(bath_link), 1.0)
    gb = np.where(bond_in, g if bath_g is None else bath_g, g) * link
    jb = np.where(bond_in, J if bath_J is None else bath_J, J) * link
    terms = [OnSite("Z", w, "w_x sz_x"),
             Bond(("Sp", "Sm"), 2.0 * gb, hc=True, label="g_b (sx sx + sy sy)"),
             Bond(("Z", "Z"), jb, label="J_b sz sz")]
    if bath_hx:
        terms.append(OnSite("X", np.where(inside, float(bath_hx), 0.0), "hx sx_x (bath)"))
    if bath_J2:
        if b - a < 3:
            fail(ModelError, "bath_J2", bath_J2, f"the bath {bath} has no pair of sites at distance 2",
                 "use a bath of at least 3 sites")
        terms.append(Bond(("Z", "Z"), np.where(inside[:-2] & inside[2:], float(bath_J2), 0.0), distance=2,
                          label="J2 sz_x sz_x+2 (bath)"))
    params = dict(L=L, g=g, J=J, W=W, bath=[a, b], bath_W=bath_W, bath_hx=bath_hx, bath_g=bath_g,
                  bath_J=bath_J, bath_J2=bath_J2, bath_link=bath_link, seed=seed, w=w.tolist())
    return Chain(L, spin_half(), terms, bc="open", name="xxz_with_bath", params=params,
                 regions={"bath": (a, b)})


def mixed_field_ising(L: int, J: float = 1.0, hx: float = 1.4, hz: float = 0.9045, *, bc: str = "open"):
    r"""Ising chain in a tilted (mixed) field, Pauli matrices: the chaotic benchmark of energy
    diffusion at infinite temperature (defaults: the parameters of Rakovszky, von Keyserlingk and
    Pollmann, arXiv:2004.05177, and of Yi-Thomas et al., arXiv:2310.06886).

    .. math::
        H = J \sum_x \sigma^z_x \sigma^z_{x+1} + h_x \sum_x \sigma^x_x + h_z \sum_x \sigma^z_x

    The transverse field breaks :math:`S^z` conservation (``chain.conserves_charge`` is False):
    the energy is the only conserved density, so runs use ``energy_density`` and
    ``energy_current``; ``conserve: true`` and ``density_current`` are refused.
    """
    L = _check_L(L)
    terms = [Bond(("Z", "Z"), J, label="J sz sz"), OnSite("X", hx, "hx sx"), OnSite("Z", hz, "hz sz")]
    return Chain(L, spin_half(), terms, bc=bc, name="mixed_field_ising", params=dict(L=L, J=J, hx=hx, hz=hz, bc=bc))


MODELS = {"bose_hubbard": bose_hubbard, "xxz": xxz, "xxz_with_bath": xxz_with_bath,
          "mixed_field_ising": mixed_field_ising}
