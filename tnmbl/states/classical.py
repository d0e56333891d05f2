r"""Initial conditions of classical chains: batches of ``M`` phase-space points.

A :class:`ClassicalState` holds the fields of ``M`` chains, each of shape ``(M, L)``:
rotor ``theta`` (angles) and ``w`` (angular momenta, the angular velocities for ``m = 1``);
DNLS ``psi`` (complex). Every sampler takes a ``seed`` and records it in ``state.meta``.

Samplers
--------
* :func:`gibbs` -- exact samples of the Gibbs state.
  Rotor: :math:`w_x` iid :math:`N(0, m/\beta)`; angle differences
  :math:`\phi_b = \theta_{b+1} - \theta_b` iid with density
  :math:`\propto e^{\beta g_b \cos\phi}` (von Mises). On a periodic chain the differences
  must sum to 0 mod :math:`2\pi`: the first ``L-1`` are drawn iid, the last is fixed by the
  constraint, and the sample is accepted with probability
  :math:`e^{\beta g (\cos\phi_L - 1)}` (exact rejection sampling; acceptance
  :math:`\approx I_0(\beta g)e^{-\beta g}`, 0.47 at :math:`\beta g = 1`).
  DNLS at :math:`\beta = 0` and density ``a``: :math:`\psi_x` iid complex Gaussian with
  :math:`\langle|\psi_x|^2\rangle = a`. DNLS at finite :math:`\beta`:
  :func:`dnls_metropolis` (Metropolis on :math:`e^{-\beta(H - \mu N)}`, documented there).
* ``langevin`` / ``thermalized`` -- thermalize a state with a Langevin bath at :math:`\beta`
  for a time ``t_th`` (as in the paper): they run the classical engine, so they live in
  :mod:`tnmbl.evolution.thermalize` (still reachable here by name).
* :func:`bubble` -- a hot (rotor) or dense (DNLS) region in a cold / dilute background.
* :func:`wave_packet` -- a localized DNLS packet in an empty chain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..chain.classical import ClassicalSite
from ..errors import OptionError, StateError, fail


@dataclass(frozen=True, eq=False)
class ClassicalState:
    """``M`` phase-space points of a classical ``chain``: ``fields[name]`` of shape ``(M, L)``."""

    chain: object
    fields: dict
    label: str = "classical"
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        site = getattr(self.chain, "site", None)
        if not isinstance(site, ClassicalSite):
            fail(StateError, "chain", getattr(self.chain, "name", self.chain), "is not a classical chain",
                 "build it with tnmbl.models.rotor or tnmbl.models.dnls")
        L = self.chain.L
        missing = [f for f in site.fields if f not in self.fields]
        extra = [f for f in self.fields if f not in site.fields]
        if missing or extra:
            fail(StateError, "fields", sorted(self.fields), f"a {site.name} state has fields {list(site.fields)}")
        clean = {}
        M = None
        for name in site.fields:
            arr = np.asarray(self.fields[name])
            if arr.dtype.kind not in "biufc":
                fail(StateError, name, arr.dtype, "must be a numeric array")
            if name != "psi" and np.iscomplexobj(arr):
                fail(StateError, name, "complex array", "rotor fields are real")
            if arr.ndim == 1:
                arr = arr[None, :]
            if arr.ndim != 2 or arr.shape[1] != L:
                fail(StateError, name, f"array of shape {np.shape(self.fields[name])}",
                     f"need shape (M, L) = (M, {L}) (or ({L},) for one chain)", "one row per chain")
            if M is None:
                M = arr.shape[0]
            if arr.shape[0] != M or M < 1:
                fail(StateError, name, f"array of shape {arr.shape}", "every field needs the same M >= 1 rows")
            bad = ~np.isfinite(arr)
            if bad.any():
                m, x = np.argwhere(bad)[0]
                fail(StateError, f"{name}[{m}, {x}]", arr[m, x].item(),
                     "initial conditions must be finite (no NaN / inf)")
            clean[name] = arr.astype(complex if name == "psi" else float).copy()
        object.__setattr__(self, "fields", clean)

    @property
    def L(self):
        return self.chain.L

    @property
    def M(self):
        """Number of chains in the batch."""
        return next(iter(self.fields.values())).shape[0]

    def __getattr__(self, name):
        fields = self.__dict__.get("fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(name)

    def canonical(self):
        """Canonical coordinates ``(q, p)``, each ``(M, L)``."""
        return self.chain.site.to_canonical(self.fields)

    def subset(self, idx):
        """The chains ``idx`` (an index or slice) as a new state."""
        idx = np.atleast_1d(np.arange(self.M)[idx])
        return ClassicalState(self.chain, {k: v[idx] for k, v in self.fields.items()}, self.label,
                              dict(self.meta, subset=idx.tolist()))


#: bytes a batch holds per chain and site: the fields, their blocked copy in the engine and the
#: measurement scratch, in float64 (complex DNLS amplitudes count as two)
BATCH_BYTES_PER_SITE = 8 * 8


def machine_memory():
    """Physical memory of this machine in bytes (``None`` where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _count(M, chain=None):
    """``M`` as an int: an integer >= 1 whose batch (``M`` chains of ``chain``) fits in memory, so
    a huge ``M`` is an error naming it, not a failed allocation of terabytes."""
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)) or M < 1:
        fail(OptionError, "M", M, "the number of chains must be an integer >= 1")
    memory = machine_memory()
    if chain is not None and memory is not None:
        need = int(M) * chain.L * BATCH_BYTES_PER_SITE
        if need > memory:
            most = max(1, memory // (chain.L * BATCH_BYTES_PER_SITE))
            fail(OptionError, "M", M, f"a batch of {M} chains of {chain.L} sites needs about {need / 1e9:.3g} GB, "
                 f"above this machine's {memory / 1e9:.3g} GB", f"use M <= {most}, or split the batch into runs")
    return int(M)


def _beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)) \
            or not np.isfinite(beta) or beta <= 0:
        fail(OptionError, "beta", beta, "the inverse temperature must be a finite number > 0",
             "use beta=1.0 (the paper's value)")
    return float(beta)


def _strengths(chain, name):
    for term, s in list(chain.onsite_terms()) + list(chain.bond_terms()):
        if (term.op if hasattr(term, "op") else term.ops[0]) == name:
            return s
    return None


def _rotor_gibbs(chain, M, beta, rng):
    L = chain.L
    kin = _strengths(chain, "kinetic")
    kin = np.ones(L) if kin is None else kin
    g = _strengths(chain, "cos")
    g = np.zeros(chain.n_bonds) if g is None else g
    if np.any(kin <= 0) or np.any(g < 0):
        fail(StateError, "chain", chain.name, "Gibbs sampling needs 1/m > 0 and g >= 0")
    w = rng.normal(size=(M, L)) * np.sqrt(1.0 / (kin * beta))
    if chain.bc == "open":
        dphi = _von_mises(rng, beta * g, (M, L - 1))
        theta = np.concatenate([np.zeros((M, 1)), np.cumsum(dphi, axis=1)], axis=1)
    else:
        theta = np.empty((M, L))
        filled = 0
        tries = 0
        while filled < M:
            need = M - filled
            n = int(need / max(np.i0(beta * g[-1]) * np.exp(-beta * g[-1]), 0.05)) + 16
            dphi = _von_mises(rng, beta * g[:-1], (n, L - 1))
            last = -np.sum(dphi, axis=1)
            acc = rng.random(n) < np.exp(beta * g[-1] * (np.cos(last) - 1.0))
            good = dphi[acc][:need]
            k = len(good)
            theta[filled:filled + k, 0] = 0.0
            theta[filled:filled + k, 1:] = np.cumsum(good, axis=1)
            filled += k
            tries += n
    theta = theta + rng.uniform(-np.pi, np.pi, size=(M, 1))
    theta = (theta + np.pi) % (2 * np.pi) - np.pi
    return {"theta": theta, "w": w}


def _von_mises(rng, kappa, shape):
    kappa = np.broadcast_to(np.asarray(kappa, dtype=float), shape)
    out = np.where(kappa > 0, rng.vonmises(0.0, np.maximum(kappa, 1e-300), size=shape),
                   rng.uniform(-np.pi, np.pi, size=shape))
    return out


def gibbs(chain, M, beta=None, *, density=None, seed=None):
    r"""``M`` exact samples of the Gibbs state (see the module docstring).

    Parameters
    ----------
    chain : Chain
        A rotor chain (``beta`` required) or a DNLS chain (``density`` required; infinite
        temperature only -- use :func:`dnls_metropolis` at finite ``beta``).
    M : int
        Number of chains.
    beta : float
        Inverse temperature (rotor).
    density : float
        Mean norm density :math:`a = \langle|\psi_x|^2\rangle` (DNLS at :math:`\beta = 0`).
    seed : int, optional
    """
    M = _count(M, chain)
    rng = np.random.default_rng(seed)
    if chain.site.name == "rotor":
        if density is not None:
            fail(OptionError, "density", density, "rotor Gibbs states are set by beta only")
        beta = _beta(beta)
        fields = _rotor_gibbs(chain, M, beta, rng)
        return ClassicalState(chain, fields, f"gibbs(beta={beta:g})", {"beta": beta, "seed": seed, "M": M})
    if beta is not None:
        fail(OptionError, "beta", beta, "exact DNLS sampling is at infinite temperature only",
             "use tnmbl.states.classical.dnls_metropolis(chain, M, beta, mu) at finite beta")
    if density is None or not np.isfinite(density) or density <= 0:
        fail(OptionError, "density", density, "DNLS Gibbs sampling at beta = 0 needs a density > 0")
    psi = (rng.normal(size=(M, chain.L)) + 1j * rng.normal(size=(M, chain.L))) * np.sqrt(density / 2)
    return ClassicalState(chain, {"psi": psi}, f"gibbs(beta=0, a={density:g})",
                          {"beta": 0.0, "density": float(density), "seed": seed, "M": M})


def dnls_metropolis(chain, M, beta, mu=0.0, *, sweeps=2000, step=0.5, seed=None, start=None):
    r"""Samples of :math:`e^{-\beta(H - \mu N)}` for a DNLS chain by Metropolis sweeps.

    Checkerboard single-site updates :math:`\psi_x \to \psi_x + \delta` (:math:`\delta`
    uniform in a square of side ``2 step``), vectorized over chains and over the sites of
    one sublattice (their energy changes are independent). Approximate: correlated samples
    after ``sweeps`` sweeps; check convergence by doubling ``sweeps``. Needs ``U > 0`` so
    that the weight is normalizable.
    """
    M = _count(M, chain)
    beta = _beta(beta)
    rng = np.random.default_rng(seed)
    L = chain.L
    if start is None:
        psi = (rng.normal(size=(M, L)) + 1j * rng.normal(size=(M, L))) * np.sqrt(0.5)
    else:
        psi = np.array(start.fields["psi"], dtype=complex)
    sites = [np.arange(0, L, 2), np.arange(1, L, 2)]
    if L % 2 == 1 and chain.bc == "periodic":
        sites = [np.arange(0, L - 1, 2), np.arange(1, L, 2), np.array([L - 1])]
    n_acc = 0
    for _ in range(int(sweeps)):
        for xs in sites:
            old = _dnls_local(chain, psi, xs, mu)
            trial = psi.copy()
            trial[:, xs] += step * ((rng.uniform(-1, 1, (M, len(xs)))) + 1j * rng.uniform(-1, 1, (M, len(xs))))
            new = _dnls_local(chain, trial, xs, mu)
            acc = rng.random((M, len(xs))) < np.exp(-beta * (new - old))
            psi[:, xs] = np.where(acc, trial[:, xs], psi[:, xs])
            n_acc += acc.sum()
    rate = n_acc / (int(sweeps) * M * L)
    return ClassicalState(chain, {"psi": psi}, f"metropolis(beta={beta:g}, mu={mu:g})",
                          {"beta": beta, "mu": mu, "sweeps": int(sweeps), "acceptance": float(rate), "seed": seed})


def _dnls_local(chain, psi, xs, mu):
    """Energy minus mu N of the terms touching sites ``xs`` (on-site + both bonds)."""
    L = chain.L
    n = np.abs(psi[:, xs]) ** 2
    w = _strengths(chain, "N")
    u = _strengths(chain, "NN")
    g = _strengths(chain, "hop")
    e = (0 if w is None else w[xs]) * n + (0 if u is None else u[xs]) * n * n - mu * n
    if g is not None:
        for b in (xs, xs - 1):
            valid = (b >= 0) & (b < chain.n_bonds) if chain.bc == "open" else np.ones_like(b, bool)
            bb = b % L
            d = np.abs(psi[:, (bb + 1) % L] - psi[:, bb]) ** 2
            e = e + np.where(valid, g[bb % chain.n_bonds] * d, 0.0)
    return e


def rest(chain, M=1, **meta):
    """``M`` rotor chains at rest (all angles and velocities zero), the start of
    :func:`thermalized`; ``meta`` is recorded with the state."""
    M = _count(M, chain)
    return ClassicalState(chain, {"theta": np.zeros((M, chain.L)), "w": np.zeros((M, chain.L))}, "rest",
                          dict(meta, M=M))


def bubble(chain, M=1, *, region, inside, outside, seed=None):
    r"""A hot / dense region in a cold / dilute background.

    Rotor: ``inside`` and ``outside`` are inverse temperatures (``outside = inf`` for rotors
    at rest); angles from the Gibbs state of the background (uniform differences inside).
    DNLS: ``inside`` and ``outside`` are densities :math:`|\psi_x|^2`, with independent
    uniform random phases.
    """
    M = _count(M, chain)
    a, b = region
    L = chain.L
    if not (0 <= a < b <= L):
        fail(OptionError, "region", region, f"need 0 <= a < b <= L = {L}")
    rng = np.random.default_rng(seed)
    mask = np.zeros(L, bool)
    mask[a:b] = True
    if chain.site.name == "rotor":
        for key, v in (("inside", inside), ("outside", outside)):
            if not (v == np.inf or (np.isfinite(v) and v > 0)):
                fail(OptionError, key, v, "rotor bubble temperatures are inverse temperatures > 0 (or inf)")
        temp = np.where(mask, 1.0 / inside, 1.0 / outside)
        w = rng.normal(size=(M, L)) * np.sqrt(temp)
        theta = np.zeros((M, L))
        fields = {"theta": theta, "w": w}
    else:
        for key, v in (("inside", inside), ("outside", outside)):
            if not (np.isfinite(v) and v >= 0):
                fail(OptionError, key, v, "DNLS bubble densities must be finite and >= 0")
        amp = np.sqrt(np.where(mask, inside, outside))
        fields = {"psi": amp * np.exp(2j * np.pi * rng.random((M, L)))}
    return ClassicalState(chain, fields, f"bubble({a}:{b}, in={inside:g}, out={outside:g})",
                          {"region": [a, b], "inside": inside, "outside": outside, "seed": seed, "M": M})


def wave_packet(chain, center, width=0.0, norm=1.0, k=0.0, M=1):
    r"""A DNLS wave packet :math:`\psi_x \propto e^{-(x-x_0)^2/4\sigma^2 + ikx}` of total
    norm ``norm`` (``width = 0``: all the norm on site ``center``)."""
    M = _count(M, chain)
    if chain.site.name != "dnls":
        fail(OptionError, "chain", chain.name, "wave packets are DNLS states")
    x = np.arange(chain.L)
    if width == 0:
        psi = (x == center).astype(complex)
    else:
        psi = np.exp(-((x - center) ** 2) / (4 * width**2) + 1j * k * x)
    psi = psi * np.sqrt(norm / np.sum(np.abs(psi) ** 2))
    return ClassicalState(chain, {"psi": np.repeat(psi[None], M, axis=0)},
                          f"wave_packet(x0={center}, sigma={width:g})",
                          {"center": center, "width": width, "norm": norm, "k": k})


def explicit(chain, **fields):
    """A state from explicit arrays, e.g. ``explicit(chain, theta=..., w=...)``."""
    return ClassicalState(chain, fields, "explicit")

