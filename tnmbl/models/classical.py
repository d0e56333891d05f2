r"""Classical chain models, declared as data on the chain abstraction.

Both are chains of :class:`~tnmbl.chain.classical.ClassicalSite` with on-site and bond
*functions* (see :mod:`tnmbl.chain.classical`). Sites ``x = 0 .. L-1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..chain import Bond, Chain, OnSite
from ..chain.classical import dnls_site, rotor_site
from ..errors import ModelError, fail


def _positive(key, v, allow_zero=False):
    try:
        ok = np.isfinite(v) and (v > 0 or (allow_zero and v == 0))
    except TypeError:
        ok = False
    if not ok:
        fail(ModelError, key, v, "must be a finite number " + (">= 0" if allow_zero else "> 0"))
    return float(v)


def _check_L(L):
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 2:
        fail(ModelError, "L", L, "a chain needs an integer number of sites L >= 2", "e.g. L=64")
    return int(L)


def rotor(L: int, g: float = 1.0, *, bc: str = "periodic", m: float = 1.0):
    r"""The rotor chain (classical Josephson-junction chain; glassy-dynamics paper eq. 3).

    .. math::
        H = \frac{1}{2m}\sum_x w_x^2 + g \sum_x \bigl(1 - \cos(\theta_{x+1} - \theta_x)\bigr)

    with :math:`w_x` the angular momentum conjugate to :math:`\theta_x` (the angular
    velocity for the paper's ``m = 1``). Conserves H and :math:`\sum_x w_x`.

    Parameters
    ----------
    L : int
        Number of rotors.
    g : float
        Coupling (> 0).
    bc : {"periodic", "open"}
        Periodic as in the paper (default).
    m : float
        Moment of inertia; the kinetic term's strength is ``1/m``.
    """
    L = _check_L(L)
    g = _positive("g", g, allow_zero=True)
    m = _positive("m", m)
    terms = [OnSite("kinetic", 1.0 / m, "w^2/(2m)"), Bond(("cos",), g, label="g(1-cos(dtheta))")]
    return Chain(L, rotor_site(), terms, bc=bc, name="rotor", params={"L": L, "g": g, "m": m, "bc": bc})


def dnls(L: int, g: float = 0.1, U: float = 1.0, W: float = 0.0, *, w: Sequence[float] | None = None,
         seed: int | None = None, bc: str = "periodic"):
    r"""The discrete non-linear Schroedinger chain (glassy-dynamics eq. 11, with disorder).

    .. math::
        H = \sum_x \bigl(w_x |\psi_x|^2 + U |\psi_x|^4\bigr) + g \sum_x |\psi_{x+1} - \psi_x|^2,
        \qquad i\dot\psi_x = w_x\psi_x + 2U|\psi_x|^2\psi_x - g(\Delta\psi)_x

    Conserves H and the norm :math:`N = \sum_x |\psi_x|^2`. Classical limit of
    :func:`~tnmbl.models.bose_hubbard` at large density (same :math:`U n^2` convention).

    Parameters
    ----------
    L : int
        Number of sites.
    g, U : float
        Hopping (>= 0) and non-linearity.
    W : float
        Disorder: :math:`w_x` uniform in ``[-W sqrt(3), W sqrt(3)]`` (variance ``W**2``),
        drawn from ``numpy.random.default_rng(seed)``; ``0`` is the clean chain.
    w : array of shape (L,), optional
        Explicit on-site frequencies (overrides ``W``).
    seed : int, optional
        Seed of the disorder.
    bc : {"periodic", "open"}
    """
    L = _check_L(L)
    g = _positive("g", g, allow_zero=True)
    if not np.isfinite(U):
        fail(ModelError, "U", U, "must be finite")
    W = _positive("W", W, allow_zero=True)
    if w is not None:
        wx = np.asarray(w, dtype=float)
        if wx.shape != (L,):
            fail(ModelError, "w", f"array of shape {wx.shape}", f"one value per site: need shape ({L},)")
    elif W > 0:
        wx = np.random.default_rng(seed).uniform(-np.sqrt(3) * W, np.sqrt(3) * W, size=L)
    else:
        wx = np.zeros(L)
    terms = [OnSite("N", wx, "w_x |psi|^2"), OnSite("NN", float(U), "U |psi|^4"),
             Bond(("hop",), g, label="g |psi_{x+1}-psi_x|^2")]
    return Chain(L, dnls_site(), terms, bc=bc, name="dnls",
                 params={"L": L, "g": g, "U": float(U), "W": W, "seed": seed, "bc": bc, "w": wx.tolist()})


MODELS = {"rotor": rotor, "dnls": dnls}
