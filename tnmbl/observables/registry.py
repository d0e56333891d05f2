"""Observables by name: what each one is, where it lives on the chain, its units, and how
it is measured.

Every observable is defined once, from the chain's term list, as a list of local operators
(:mod:`tnmbl.chain.local`); an engine only has to evaluate ``expect(local_ops)``. The
``positions`` give the coordinate of each column (sites are integers, bonds half-integers).

===================  ==============================================  ===============
name                 meaning                                         columns (open)
===================  ==============================================  ===============
density              <n_x> (bosons) or <sigma^z_x> (spins)           L, at x
energy_density       <h_b>, bond-centred local energy                L-1, at b + 1/2
energy_current       <j_b> = <i[h_b, h_{b+1}]>                       L-2, at b + 1
density_current      <J_x> = <i[H_{x,x+1}, q_{x+1}]>                 L-1, at x + 1/2
entanglement         von Neumann entropy of each cut (natural log)   L-1, at x + 1/2
onsite:OP            <OP_x> for a Hermitian operator OP of the site  L, at x
phi                  rotor relaxation function (classical only)      1
current_correlation  <J(t)J(0)>/L, J = sum_b j_b (classical only)    1
===================  ==============================================  ===============

The first four have the same names, conventions and positions on classical chains (rotor,
DNLS), where the engines measure them inside the compiled loop (ensemble averages over the
batch; "density" is the angular momentum w_x or the norm density ``|psi_x|^2``). ``kinds`` says
which chains an observable applies to.

``particle_current`` and ``spin_current`` are aliases of ``density_current``.

Users' own observables: :func:`register` adds one to :data:`OBSERVABLES` (in Python, before the
run or sweep is validated), or a config names one by import path, ``"mypkg.obs:IMBALANCE"``,
an :class:`Observable` made with :func:`observable`. Either way it is measured by every quantum
engine through ``expect``, written to the results file with its units and positions, plotted
by its ``dim`` and aggregated in sweep summaries like the built-in ones.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..chain import LocalOp, charge_currents, charge_densities, energy_currents, energy_densities
from ..errors import ObservableError, fail
from ..factories import import_factory, is_factory_path


@dataclass(frozen=True)
class Observable:
    """One observable: ``local_ops(chain)`` (or ``None`` for entanglement), ``positions(chain)``."""

    name: str
    description: str
    units: str
    dim: str
    positions: Callable
    local_ops: Callable | None = None
    kinds: tuple = ("quantum", "classical")

    def measure(self, engine, ops):
        if self.local_ops is None:
            return engine.entanglement()
        return engine.expect(self.name, ops)


def _density_units(chain):
    return "particles" if chain.site.name == "boson" else "sigma^z (Pauli, -1..1)"


def _onsite(opname):
    def ops(chain):
        m = chain.site.op(opname)
        if not np.allclose(m, m.conj().T):
            fail(ObservableError, f"onsite:{opname}", opname, "on-site observables must be Hermitian",
                 "measure e.g. onsite:X or onsite:N")
        return [LocalOp((x,), m.astype(complex)) for x in range(chain.L)]
    return ops


def _sites(chain):
    return np.arange(chain.L, dtype=float)


def _bonds(chain):
    return np.arange(chain.n_bonds, dtype=float) + 0.5


OBSERVABLES = {
    "density": Observable("density", "local charge density <n_x> or <sigma^z_x>", "charge", "site",
                          _sites, charge_densities),
    "energy_density": Observable("energy_density", "bond-centred local energy <h_b>", "energy", "bond",
                                 _bonds, energy_densities),
    "energy_current": Observable("energy_current", "energy current <i[h_b, h_{b+1}]> from bond b to b+1",
                                 "energy / time", "current",
                                 lambda c: np.arange(c.n_bonds if c.bc == "periodic" else c.n_bonds - 1,
                                                     dtype=float) + 1.0,
                                 energy_currents),
    "density_current": Observable("density_current", "charge current <i[H_{x,x+1}, q_{x+1}]> from x to x+1",
                                  "charge / time", "bond", _bonds, charge_currents),
    "entanglement": Observable("entanglement", "von Neumann entanglement entropy of each cut",
                               "nats", "cut", lambda c: np.arange(c.L - 1, dtype=float) + 0.5, None, ("quantum",)),
    "phi": Observable("phi", "rotor relaxation function beta/(2L) sum_x <(w_x(t) - w_x(0))^2> (glassy-dynamics "
                      "paper, eq. 5)", "1", "scalar", lambda c: np.array([0.0]), None, ("classical",)),
    "current_correlation": Observable("current_correlation", "Green-Kubo integrand <J(t) J(0)> / L, "
                                      "J = sum_b j_b", "energy^2 / time^2", "scalar",
                                      lambda c: np.array([0.0]), None, ("classical",)),
}
ALIASES = {"particle_current": "density_current", "spin_current": "density_current"}
_BUILTIN = frozenset(OBSERVABLES)


#: positions of the columns of an observable, by its ``dim`` (``current``: the bonds' inner sites)
POSITIONS = {"site": _sites, "bond": _bonds, "cut": _bonds, "scalar": lambda c: np.array([0.0])}


def observable(name, local_ops, *, description="", units="1", dim="site", positions=None, kinds=("quantum",)):
    """A user's :class:`Observable` (checked): ``local_ops(chain)`` returns the list of
    :class:`~tnmbl.chain.LocalOp` whose expectation values are its columns, one per position.

    ``dim`` is the kind of column (``site``, ``bond``, ``cut``, ``scalar``, ``current``; the
    figure places it by this); ``positions(chain)`` gives their coordinates (default: by
    ``dim``: sites 0..L-1, bonds 0.5..L-1.5, one column at 0; required for ``current``).
    Quantum chains only by default (classical batches measure inside their compiled loop)."""
    if not isinstance(name, str) or not name or "/" in name or name.startswith("onsite:"):
        fail(ObservableError, "observable", name, "an observable's name is a non-empty string without '/' "
             "and not of the form onsite:OP", "e.g. 'imbalance'")
    if not callable(local_ops):
        fail(ObservableError, f"{name}.local_ops", local_ops, "must be a callable local_ops(chain) -> list of LocalOp",
             "pass a function of the chain")
    if positions is None:
        if dim not in POSITIONS:
            fail(ObservableError, f"{name}.dim", dim, f"no default positions for dim {dim!r} (known: "
                 f"{', '.join(POSITIONS)})", "pass positions=lambda chain: array of coordinates")
        positions = POSITIONS[dim]
    if not set(kinds) <= {"quantum", "classical"} or "classical" in kinds:
        fail(ObservableError, f"{name}.kinds", kinds, "users' observables are measured through expect(), on quantum "
             "chains only", "kinds=('quantum',)")
    return Observable(name, description or f"user observable {name}", units, dim, positions, local_ops, tuple(kinds))


def register(name, local_ops, *, replace=False, **options):
    """Add an :func:`observable` to :data:`OBSERVABLES` under ``name`` and return it: from then on
    ``observables.names`` of configs (``tnmbl.run`` / ``tnmbl.sweep`` in this process) and
    ``Evolution(observables=[...])`` accept it. A built-in name is refused; a registered one
    only with ``replace=True``."""
    obs = observable(name, local_ops, **options)
    if name in _BUILTIN or name in ALIASES:
        fail(ObservableError, "observable", name, "is a built-in observable", "register it under another name")
    if name in OBSERVABLES and not replace:
        fail(ObservableError, "observable", name, "is registered already", "pass replace=True to redefine it")
    OBSERVABLES[name] = obs
    return obs


def unregister(name):
    """Remove a user's observable registered under ``name`` (built-in ones stay)."""
    if name in _BUILTIN:
        fail(ObservableError, "observable", name, "is a built-in observable and cannot be removed")
    OBSERVABLES.pop(name, None)


def _imported(name, chain):
    """The observable the import path ``name`` names (an :class:`Observable`), renamed ``name``."""
    obj = import_factory(name, "observable", callable_=False)
    if not isinstance(obj, Observable):
        fail(ObservableError, "observable", name, f"names a {type(obj).__name__}, not a tnmbl Observable",
             "define it with tnmbl.observables.observable(name, local_ops, ...) at module level")
    obs = Observable(name, obj.description, obj.units, obj.dim, obj.positions, obj.local_ops, obj.kinds)
    _check_kind(obs, name, chain)
    return obs


def get_observable(name, chain=None):
    """The :class:`Observable` called ``name`` (aliases, ``onsite:OP``, registered ones and
    import paths ``"package.module:NAME"`` included)."""
    if not isinstance(name, str):
        fail(ObservableError, "observable", name, "observable names are strings")
    if not name.startswith("onsite:") and name not in OBSERVABLES and is_factory_path(name):
        return _imported(name, chain)
    if name.startswith("onsite:"):
        opname = name.split(":", 1)[1]
        obs = Observable(name, f"<{opname}_x>", "operator units", "site", _sites, _onsite(opname), ("quantum",))
        _check_kind(obs, name, chain)
        if chain is not None:
            chain.site.op(opname)
        return obs
    key = ALIASES.get(name, name)
    if key not in OBSERVABLES:
        known = sorted(OBSERVABLES) + sorted(ALIASES) + ["onsite:OP", "package.module:NAME"]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known observables: {', '.join(known)}"
        fail(ObservableError, "observable", name, "unknown observable", hint)
    obs = OBSERVABLES[key]
    if name != key:
        obs = Observable(name, obs.description, obs.units, obs.dim, obs.positions, obs.local_ops, obs.kinds)
    _check_kind(obs, name, chain)
    return obs


def _check_kind(obs, name, chain):
    """Refuse an observable not defined for the chain's kind of site type (``obs.kinds``)."""
    kind = getattr(getattr(chain, "site", None), "kind", None)
    if kind is not None and kind not in obs.kinds:
        usable = [k for k, o in OBSERVABLES.items() if kind in o.kinds]
        key = ALIASES.get(name, name)
        why = {"entanglement": "entanglement is a property of quantum states"}.get(
            key, f"{key!r} is measured on {' and '.join(obs.kinds)} chains only")
        fail(ObservableError, "observable", name, f"not defined for a {kind} chain ({why})",
             f"{kind} observables: {', '.join(usable)}")
