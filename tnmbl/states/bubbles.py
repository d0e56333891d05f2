r"""Bubble states: a segment at a given temperature (infinite by default) inside a cold
product background, as a mixed state and as an ensemble of product states.

Conventions
-----------
The *local Gibbs weights* of site :math:`x` are those of its on-site Hamiltonian
:math:`h^{\rm site}_x` (the chain's on-site terms at ``x``, :func:`tnmbl.chain.local.onsite_matrix`),
diagonal in the site basis for every model here:

.. math::
    p_x(k) = \frac{e^{-\beta \epsilon_x(k)}}{\sum_{k'} e^{-\beta \epsilon_x(k')}},\quad
    \epsilon_x(k) = \langle k|h^{\rm site}_x|k\rangle,
    \qquad \rho = \bigotimes_{x \notin [a,b)} |\phi_x\rangle\langle\phi_x| \;\otimes\;
                 \bigotimes_{x \in [a,b)} \sum_k p_x(k)\, |k\rangle\langle k| .

At ``beta = 0`` the bubble is :math:`\mathbb 1/d` on every site of ``[a, b)`` (for bosons:
uniform over ``0..n_max``, so the cutoff is part of the state, as in
:mod:`tnmbl.states.mixed`). The bonds inside the bubble are ignored by the weights: the
state is the product of local Gibbs states, which is the Gibbs state only at ``beta = 0``
or without couplings; say so when it matters.

* :class:`MixedBubble` is this :math:`\rho` as data; the purification engine
  (:mod:`tnmbl.engines.bubble_purification`) builds its purification
  (:math:`\sum_k \sqrt{p_x(k)}\,|k\rangle_P|k\rangle_Q` on bubble sites, the background
  vector times a fixed ancilla state elsewhere) and evolves it.
* :func:`sampled_bubble` draws product states :math:`\otimes_x |k_x\rangle` with
  :math:`k_x \sim p_x` on the bubble: averaging any observable over the samples
  reproduces :math:`{\rm Tr}\,\rho\,O(t)` up to the statistical error (cheaper, charge
  definite, runs on every pure-state engine); :func:`tnmbl.evolution.ensemble_average`
  evolves and averages (a driver: it lives above the engines).
* :func:`decoupled` cuts every bond term between a region and the rest of the chain
  (per-bond strengths set to zero): the control in which nothing can spread.

Low-density bubbles in a dense Bose-Hubbard chain are product states:
:func:`tnmbl.states.bubble`; a spin chain with an ergodic bath segment is the model
:func:`tnmbl.models.xxz_with_bath` with any product state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..chain import Bond, Chain
from ..chain.local import onsite_matrix
from ..errors import StateError, fail
from .product import ProductState, product


def _region(chain, region):
    try:
        a, b = (int(v) for v in region)
    except (TypeError, ValueError):
        fail(StateError, "region", region, "must be two site indices [a, b)")
    if not 0 <= a < b <= chain.L:
        fail(StateError, "region", region, f"need 0 <= a < b <= L = {chain.L}")
    return a, b


def _beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)) \
            or not np.isfinite(beta) or beta < 0:
        fail(StateError, "beta", beta, "must be a finite number >= 0", "beta=0 is infinite temperature")
    return float(beta)


def local_gibbs_weights(chain, x, beta=0.0):
    r"""Weights :math:`p_x(k)` of the site basis states (module docstring)."""
    beta = _beta(beta)
    if beta == 0:
        return np.full(chain.site.dim, 1.0 / chain.site.dim)
    h = onsite_matrix(chain, x)
    if not np.allclose(h, np.diag(np.diag(h)), atol=1e-12):
        fail(StateError, "beta", beta, f"the on-site Hamiltonian of site {x} is not diagonal in the site basis",
             "use beta=0 (infinite temperature) for this chain")
    e = np.real(np.diag(h))
    w = np.exp(-beta * (e - e.min()))
    return w / w.sum()


def _background(chain, background):
    if isinstance(background, ProductState):
        if background.L != chain.L:
            fail(StateError, "background", background.label, f"has {background.L} sites, the chain {chain.L}")
        return background

    key = "occupations" if chain.site.name == "boson" else "spins"
    if isinstance(background, str) and chain.site.name != "boson" and len(background) == chain.L:
        return product(chain, spins=background, label="background")
    return product(chain, **{key: [background] * chain.L}, label="background")


@dataclass(frozen=True, eq=False)
class MixedBubble:
    """A segment ``region = (a, b)`` of local Gibbs states at ``beta`` in a product background.

    Attributes
    ----------
    chain : Chain
    region : (int, int)
    beta : float
    background : ProductState
        Its vectors on sites outside the region are the state there.
    weights : array (b - a, d)
        :math:`p_x(k)` on the bubble sites.
    """

    chain: object
    region: tuple
    beta: float
    background: ProductState
    weights: np.ndarray
    label: str = "mixed_bubble"

    @property
    def L(self):
        return self.chain.L

    @property
    def charge_definite(self):
        """A mixed bubble mixes charges (its engine conserves none)."""
        return False

    basis_indices = None
    mixed = True  # the YAML runner evolves it with tnmbl.engines.bubble_purification

    def density_matrices(self):
        """The one-site density matrices, ``(L, d, d)``."""
        a, b = self.region
        vec = self.background.vectors
        rho = np.einsum("xi,xj->xij", vec, vec.conj())
        for x in range(a, b):
            rho[x] = np.diag(self.weights[x - a]).astype(complex)
        return rho

    def dense(self):
        """The full density matrix (``d**L`` squared entries; L <= 6 or so)."""
        out = np.ones((1, 1), dtype=complex)
        for r in self.density_matrices():
            out = np.kron(out, r)
        return out


def mixed_bubble(chain, region, background, beta=0.0):
    """A :class:`MixedBubble`: local Gibbs states at ``beta`` on ``region = (a, b)``.

    Parameters
    ----------
    chain : Chain
        A quantum chain.
    region : (int, int)
        The bubble's sites ``[a, b)``.
    background : ProductState | int | str
        The cold state outside: a product state, a boson number per site, or a spin
        (``'up'`` / ``'down'``) or a spin pattern ``'udud...'`` of length L.
    beta : float
        Inverse temperature of the bubble (``0``: infinite temperature).
    """
    a, b = _region(chain, region)
    beta = _beta(beta)
    bg = _background(chain, background)
    w = np.array([local_gibbs_weights(chain, x, beta) for x in range(a, b)])
    return MixedBubble(chain, (a, b), beta, bg, w, f"mixed_bubble({a}:{b}, beta={beta:g})")


def sampled_bubble(chain, region, background, beta=0.0, *, n_samples, seed=None):
    """``n_samples`` product states with the bubble's sites drawn from :math:`p_x`.

    Returns a list of :class:`ProductState` (labels carry the sample index). The samples
    are independent; ``seed`` feeds ``numpy.random.default_rng``.
    """
    mb = mixed_bubble(chain, region, background, beta)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        fail(StateError, "n_samples", n_samples, "must be an integer >= 1")
    a, b = mb.region
    rng = np.random.default_rng(seed)
    d = chain.site.dim
    out = []
    for m in range(int(n_samples)):
        vec = mb.background.vectors.copy()
        for x in range(a, b):
            k = rng.choice(d, p=mb.weights[x - a])
            vec[x] = 0
            vec[x, k] = 1
        out.append(ProductState(chain, vec, f"sampled_bubble[{m}]({a}:{b}, beta={mb.beta:g})"))
    return out


def sampled_bubble_member(chain, region, background, beta=0.0, seed=None):
    """One product state of :func:`sampled_bubble` (the YAML state kind ``sampled_bubble``:
    an ensemble sweep gives every member its own seed, hence its own sample)."""
    return sampled_bubble(chain, region, background, beta, n_samples=1, seed=seed)[0]


def decoupled(chain, region):
    """The same chain with every bond term that links ``region`` to the rest set to zero.

    Works for quantum and classical chains and any bond range: a bond ``(x, x + r)``
    with exactly one end in ``[a, b)`` gets strength 0. The result keeps the model's name
    (with ``+decoupled``), parameters and regions.
    """
    a, b = _region(chain, region)
    terms = []
    for t, s in zip(chain.terms, (chain.strength(i) for i in range(len(chain.terms)))):
        if isinstance(t, Bond):
            s = np.array(s, copy=True)
            for bond in range(len(s)):
                x, y = chain.bond_sites(bond, t.distance)
                if (a <= x < b) != (a <= y < b):
                    s[bond] = 0
            t = replace(t, strength=s)
        terms.append(t)
    return Chain(chain.L, chain.site, terms, bc=chain.bc, name=chain.name + "+decoupled",
                 params=dict(chain.params, decoupled=[a, b]), regions=dict(chain.regions))


def __getattr__(name):
    """``ensemble_average`` and ``EnsembleResult`` moved to :mod:`tnmbl.evolution.ensembles` (drivers sit
    above the states); the old name keeps working for existing code (a shim, listed in tests/test_layers.py)."""
    if name in ("ensemble_average", "EnsembleResult"):
        from ..evolution import ensembles  # shim

        return getattr(ensembles, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
