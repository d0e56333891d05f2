r"""The method table: every fact about a method, in one place.

A :class:`MethodSpec` holds a method's name, its order (of the time-step error; ``None``
for exact evolution), its stability or size limit, the site types it integrates, the
backends that run it (backend -> engine class, first = general default), the options it
takes and :meth:`MethodSpec.accepts` (which chains it can evolve, with the reason and the fix).
:data:`METHODS` (in :mod:`tnmbl.engines`) is the table; everything else (``evolve``, config
validation, the error budget, the docs) reads it.

Backends are named here by ``"module:Class"`` (modules of :mod:`tnmbl.engines`) and resolved on
first use, so that engine modules may read this table (a method's order, its largest substep)
without an import cycle, and TeNPy / quimb / numba load only when a method runs.

==========  =======  =============  ============================================================
method      order    backends       accepts
==========  =======  =============  ============================================================
tebd2       2        tenpy, quimb   open quantum chains with nearest-neighbour terms only
tebd4       4        tenpy, quimb   same as tebd2
tdvp1       2        tenpy          open quantum chains, bond terms of any range (MPO)
tdvp2       2        tenpy          same as tdvp1
exact       --       scipy          any quantum chain with a small enough Hilbert space
                                    (charge sector) for full evolution (``max_dim``)
leapfrog    2        numba          classical rotor chains (Stormer-Verlet), batches of M
yoshida4    4        numba          classical rotor chains (Yoshida triple-jump)
split2      2        numba          classical DNLS chains (exact-flow Strang split)
split4      4        numba          classical DNLS chains (4th-order composition of split2)
aba864      4        numba          rotor: optimized near-integrable scheme (Blanes et al. 2013)
srkn6b      4        numba          rotor: SRKN6b (Blanes & Moan 2002)
srkn14a     6        numba          rotor: SRKN14a (Blanes & Moan 2002)
suzuki5     4        numba          DNLS: Suzuki's 5-stage composition of split2
mclachlan5  4        numba          DNLS: McLachlan's 5-stage composition of split2
kahanli9    6        numba          DNLS: Kahan & Li's 9-stage composition of split2
==========  =======  =============  ============================================================
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from .classical.schemes import COMPOSITIONS

W1 = 1.0 / (2.0 - 2.0 ** (1.0 / 3.0))
"""Outer weight of Yoshida's triple jump (4th order from a symmetric 2nd-order step)."""
W0 = -(2.0 ** (1.0 / 3.0)) * W1
"""Inner (negative) weight of Yoshida's triple jump."""

MAX_DIM = 3_000_000
"""Largest Hilbert-space (or charge-sector) dimension the exact method evolves."""

#: options every method takes (``evolve`` and :class:`~tnmbl.evolution.Evolution`)
COMMON_OPTIONS = frozenset({"dt", "t_final", "observables", "output_dt", "n_log", "backend"})
#: options of the MPS methods
MPS_OPTIONS = frozenset({"chi_max", "svd_cutoff", "conserve", "array_backend", "t_start"})
#: options of the TEBD methods: ``threads`` updates the bonds of one Trotter layer on that many
#: workers (backend tenpy; quimb refuses more than one)
TEBD_OPTIONS = MPS_OPTIONS | {"threads"}
#: options of the exact method. It truncates nothing, so every ``chi_max`` / ``svd_cutoff`` bound
#: holds and it takes them (recorded in the result's meta), so that one option set compares an MPS
#: method with its exact reference; ``array_backend`` (an array library) it refuses.
EXACT_OPTIONS = frozenset({"conserve", "t_start", "chi_max", "svd_cutoff"})
#: options of the classical batch integrators
CLASSICAL_OPTIONS = frozenset({"beta", "energy_tolerance", "noise_rate", "noise_seed", "threads", "lanes",
                               "chunk_outputs", "allow_large_dt", "per_chain", "keep_samples", "green_kubo"})



@dataclass(frozen=True, eq=False)
class MethodSpec(Mapping):
    """One method's facts. As a mapping it is ``{backend: engine class}`` (first = default).

    Attributes
    ----------
    name : str
    order : int or None
        Order of the time-step error (``None``: no time-step error).
    site_kind : str
        ``"quantum"`` or ``"classical"``: the kind of site type (``chain.site.kind``) it evolves.
    sites : tuple of str or None
        Site-type names (``chain.site.name``) it evolves; ``None``: every site type of its kind.
    backend_paths : dict
        ``backend -> "module:Class"`` in :mod:`tnmbl.engines`.
    options : frozenset
        Options the method takes beyond :data:`COMMON_OPTIONS`.
    max_substep : float
        Largest ``|substep| / dt`` of one step (composition schemes step backwards and
        forwards); the classical stability bounds divide by it.
    max_dt : float or None
        Largest ``dt`` the method accepts whatever the chain (TeNPy refuses Trotter steps above 1).
    max_dim : int or None
        Largest Hilbert-space dimension (exact evolution).
    nearest_neighbour : bool
        Whether the method takes nearest-neighbour terms only.
    open_only : bool
        Whether the method runs on open chains only.
    summary : str
        One line for the docs.
    precisions : tuple of str
        Floating-point precisions its kernels run in (classical methods; ``precision`` option):
        ``("float64",)``, or ``("float64", "float32")`` where a float32 kernel exists (the rotor
        kick-drift schemes, :mod:`tnmbl.engines.classical.integrators32`); a method with more
        than one takes the ``precision`` option.
    """

    name: str
    order: int | None
    site_kind: str
    sites: tuple | None
    backend_paths: dict
    options: frozenset
    max_substep: float = 1.0
    max_dt: float | None = None
    max_dim: int | None = None
    nearest_neighbour: bool = False
    open_only: bool = False
    summary: str = ""
    precisions: tuple = ("float64",)
    _classes: dict = field(default_factory=dict, repr=False)

    # a spec is its method: equal only to itself (Mapping would compare the backend tables)
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    # -- the mapping backend -> engine class (kept for ``METHODS[name][backend]``) ------
    def __getitem__(self, backend):
        if backend not in self.backend_paths:
            raise KeyError(backend)
        if backend not in self._classes:
            module, cls = self.backend_paths[backend].split(":")
            self._classes[backend] = getattr(importlib.import_module(f"tnmbl.engines.{module}"), cls)
        return self._classes[backend]

    def __iter__(self):
        return iter(self.backend_paths)

    def __len__(self):
        return len(self.backend_paths)

    @property
    def backends(self):
        """Backend names, the general default first."""
        return tuple(self.backend_paths)

    @property
    def probe(self):
        """How its engines' rows are measured (``"local"``: one state through local operators;
        ``"batch"``: a classical batch that measures itself and is cheap to build), read from
        its default engine class (every backend of a method measures alike)."""
        return self[self.backends[0]].probe

    @property
    def takes_mixed(self):
        """Whether an engine of the method evolves a mixed bubble itself (``exact``: the mixture);
        the MPS methods run one through the purification driver, ``tnmbl.evolution.evolve_mixed``."""
        return any(getattr(self[b], "takes_mixed", False) for b in self.backends)

    @property
    def takes(self):
        """Every option the method takes (common ones included)."""
        return COMMON_OPTIONS | self.options

    def takes_site(self, site):
        """Whether the method evolves chains of this site type (the one place a site type's
        kind picks methods)."""
        return getattr(site, "kind", None) == self.site_kind and (self.sites is None or site.name in self.sites)

    def accepts(self, chain, backend=None):
        """Whether the method (on ``backend``, default: any) can evolve ``chain``:
        ``(True, "")`` or ``(False, reason with the fix)``."""
        if backend is not None and backend not in self.backend_paths:
            return False, f"method {self.name!r} runs on backend(s) {', '.join(self.backends)}, not {backend!r}"
        site = chain.site
        if not self.takes_site(site):
            others = ", ".join(m for m, s in METHOD_SPECS.items() if s.takes_site(site))
            if self.sites is not None:
                return False, (f"{self.name} integrates {self.site_kind} {self.sites[0]} chains, not a {site.kind} "
                               f"{site.name} chain; use one of {others}")
            return False, f"{self.name} evolves {self.site_kind} states; a {site.kind} {site.name} chain takes {others}"
        if self.max_dim is not None:
            d, L = site.dim, chain.L
            if d ** L > self.max_dim and not chain.conserves_charge:
                return False, (f"exact evolution needs the full space of {d}^{L} states (above {self.max_dim}) "
                               "and the chain conserves no charge; use a smaller chain or an MPS method")
            return True, ""
        if self.open_only and chain.bc != "open":
            return False, (f"{self.name} runs on open chains (bc={chain.bc!r}); "
                           "use method='exact' for small periodic chains")
        if self.nearest_neighbour and chain.max_range > 1:
            if self.site_kind == "classical":
                return False, f"{self.name} takes nearest-neighbour bonds only"
            return False, (f"{self.name} takes nearest-neighbour terms only; this chain has range-{chain.max_range} "
                           "terms; use method='tdvp1' or 'tdvp2'")
        return True, ""


def _mps(name, order, backends, options=MPS_OPTIONS, **kw):
    return MethodSpec(name, order, "quantum", None, backends, options, open_only=True, **kw)


def _classical(name, order, site, summary, max_substep=None):
    if max_substep is None:
        max_substep = 1.0 if order == 2 else abs(W0)
    # float32: the rotor's kick-drift kernel runs every rotor scheme; the DNLS splits stay float64
    # (their norm to round-off rests on float64 FMAs, kernels.py); only a method with a choice takes the option
    precisions = ("float64", "float32") if site == "rotor" else ("float64",)
    options = CLASSICAL_OPTIONS | {"precision"} if len(precisions) > 1 else CLASSICAL_OPTIONS
    return MethodSpec(name, order, "classical", (site,), {"numba": "classical.engine:ClassicalEngine"},
                      options, max_substep=max_substep, nearest_neighbour=True, summary=summary,
                      precisions=precisions)


#: linear stability limits x_s of the optimized rotor schemes (dt * omega_max < x_s on the harmonic
#: oscillator; ``schemes.linear_stability``, rounded down; tests/engines/classical/test_classical_schemes.py):
#: as a leapfrog-equivalent largest substep 2 / x_s, so the integrator's bound 2 / (substep * omega) is x_s / omega
ROTOR_STABILITY = {"aba864": 3.14, "srkn6b": 3.16, "srkn14a": 3.14}


_TEBD = {"tenpy": "tenpy_tebd:TenpyTEBD", "quimb": "quimb_tebd:QuimbTEBD"}

#: the table (name -> spec), in the order the docs and the tests list methods
METHOD_SPECS = {s.name: s for s in (
    _mps("tebd2", 2, _TEBD, TEBD_OPTIONS, max_dt=1.0, nearest_neighbour=True,
         summary="2nd-order Trotter (Strang) TEBD"),
    _mps("tebd4", 4, _TEBD, TEBD_OPTIONS, max_dt=1.0, nearest_neighbour=True,
         summary="4th-order Trotter (Suzuki S4) TEBD"),
    _mps("tdvp1", 2, {"tenpy": "tenpy_tdvp:TenpyTDVP"}, summary="one-site TDVP (two-site while bonds grow)"),
    _mps("tdvp2", 2, {"tenpy": "tenpy_tdvp:TenpyTDVP"}, summary="two-site TDVP"),
    MethodSpec("exact", None, "quantum", None, {"scipy": "exact:ExactEngine"}, EXACT_OPTIONS, max_dim=MAX_DIM,
               summary="full-space evolution in the charge sector (small chains)"),
    _classical("leapfrog", 2, "rotor", "Stormer-Verlet (kick-drift-kick)"),
    _classical("yoshida4", 4, "rotor", "Yoshida triple-jump composition of leapfrog"),
    _classical("split2", 2, "dnls", "Strang split of exact bond and on-site flows"),
    _classical("split4", 4, "dnls", "Yoshida triple-jump composition of split2"),
    # optimized schemes (tnmbl/engines/classical/schemes.py has their coefficients and sources)
    _classical("aba864", 4, "rotor", "ABA864 of Blanes et al. 2013 (near-integrable, 7 kicks)",
               2.0 / ROTOR_STABILITY["aba864"]),
    _classical("srkn6b", 4, "rotor", "SRKN6b of Blanes & Moan 2002 (7 kicks)", 2.0 / ROTOR_STABILITY["srkn6b"]),
    _classical("srkn14a", 6, "rotor", "SRKN14a of Blanes & Moan 2002 (14 kicks)", 2.0 / ROTOR_STABILITY["srkn14a"]),
    _classical("suzuki5", 4, "dnls", "Suzuki's 5-stage composition of split2", COMPOSITIONS["suzuki5"].max_substep),
    _classical("mclachlan5", 4, "dnls", "McLachlan's 5-stage composition of split2",
               COMPOSITIONS["mclachlan5"].max_substep),
    _classical("kahanli9", 6, "dnls", "Kahan & Li's 9-stage composition of split2",
               COMPOSITIONS["kahanli9"].max_substep),
)}


def default_method(chain):
    """The method ``evolve`` uses when none is given: the first in the table that takes the
    chain's site type (``tebd2`` for quantum chains, ``leapfrog`` rotor, ``split2`` DNLS)."""
    return next((m for m, s in METHOD_SPECS.items() if s.takes_site(chain.site)), "tebd2")


def methods_for(chain):
    """Names of the methods that take the chain's site type."""
    return [m for m, s in METHOD_SPECS.items() if s.takes_site(chain.site)]
