"""Site types: the local Hilbert space (quantum) of one site of a chain.

A site type is data: its dimension, a catalogue of named local operators as dense matrices
in one fixed basis, the conserved charge of each basis state, and labels for the basis
states. Every backend builds its own representation from this (TeNPy ``Site``, dense
matrices for the exact engine), so an operator is written once.

The basis is ordered so that charges increase along it (bosons ``|0>, |1>, ...``; spins
``|down>, |up>``). TeNPy sorts local bases by charge; with this ordering its sort is the
identity and the basis seen by every backend is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import ModelError, fail
from .local import check_hermitian


@dataclass(frozen=True, eq=False)
class QuantumSite:
    """One quantum site type.

    Attributes
    ----------
    name : str
        ``"boson"`` or ``"spin-1/2"``.
    dim : int
        Local Hilbert space dimension.
    ops : dict[str, ndarray]
        Named local operators, ``dim x dim`` matrices in the site basis.
    hc : dict[str, str]
        Name of the hermitian conjugate of each operator.
    charges : ndarray of int
        Conserved charge of each basis state (``n`` for bosons, the Pauli eigenvalue of
        ``sigma^z`` for spins), non-decreasing along the basis.
    charge_name : str
        Name of the conserved charge (``"N"`` or ``"Sz"``), used for TeNPy's ``ChargeInfo``.
    density_op : str
        Operator whose expectation is the local density of the charge (``"N"`` or ``"Z"``).
    labels : dict[str, int]
        Basis-state labels (``"up"``, ``"down"``; ``"0"``, ``"1"``, ...).
    """

    name: str
    dim: int
    ops: dict
    hc: dict
    charges: np.ndarray
    charge_name: str
    density_op: str
    labels: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    kind = "quantum"

    def op(self, name):
        """The matrix of operator ``name`` (``KeyError`` turned into a clear message)."""
        try:
            return self.ops[name]
        except KeyError:
            fail(ModelError, "operator", name,
                 f"not defined on site type {self.name!r}",
                 f"use one of {sorted(self.ops)}")

    def with_ops(self, *, hc=None, **ops):
        """A copy of this site type with more named operators: ``site.with_ops(C=m, Cd=m.T)``.

        Each matrix is ``dim x dim`` and finite; a name already defined is refused. The name of
        each new operator's Hermitian conjugate is taken from ``hc`` (``{"C": "Cd"}``), else
        found: itself for a Hermitian matrix, otherwise the (new or existing) operator equal to
        its conjugate transpose; an operator without one is refused (give its conjugate too).
        Every backend builds the new operators from this catalogue, so they can be used in
        terms and in ``onsite:OP`` observables like the built-in ones."""
        hc = dict(hc or {})
        new = {}
        for name, m in ops.items():
            if name in self.ops:
                fail(ModelError, f"ops.{name}", name, f"is already an operator of site type {self.name!r}",
                     "pick another name")
            try:
                arr = np.array(m, dtype=complex if np.iscomplexobj(m) else float)
            except (TypeError, ValueError):
                fail(ModelError, f"ops.{name}", m, "must be a matrix of numbers", f"a {self.dim} x {self.dim} array")
            if arr.shape != (self.dim, self.dim) or not np.all(np.isfinite(arr)):
                fail(ModelError, f"ops.{name}", m, f"must be a finite {self.dim} x {self.dim} matrix (the site's "
                     f"dimension)", f"shape given: {arr.shape}")
            new[name] = arr
        every = {**self.ops, **new}
        for name in hc:
            if name not in new:
                fail(ModelError, f"hc.{name}", hc[name], "hc names conjugates of the new operators only",
                     f"new operators: {sorted(new)}")
        out_hc = dict(self.hc)
        for name, m in new.items():
            conj = hc.get(name)
            if conj is None and np.allclose(m, m.conj().T):
                conj = name
            if conj is None:
                conj = next((k for k, o in every.items() if o.shape == m.shape and np.allclose(o, m.conj().T)), None)
            if conj is None:
                fail(ModelError, f"ops.{name}", name, "has no Hermitian conjugate among the operators",
                     f"add it too, e.g. with_ops({name}=m, {name}d=m.conj().T)")
            if conj not in every or not np.allclose(every[conj], m.conj().T):
                fail(ModelError, f"hc.{name}", conj, f"is not the Hermitian conjugate of {name!r}",
                     f"name the operator equal to {name}.conj().T (operators: {sorted(every)})")
            out_hc[name] = conj
        return replace(self, ops=every, hc=out_hc)

    def op_charge(self, name):
        """Charge change of operator ``name``, or ``None`` if it mixes charges."""
        return charge_change(self.op(name), self.charges)

    def check_term(self, key, term, is_bond, L):
        """Validate one term of a chain of ``L`` sites built on this site type: its operators
        exist; a bond has two of them and a range in ``1..L-1``."""
        if not is_bond:
            self.op(term.op)
            return
        if len(term.ops) != 2:
            fail(ModelError, f"{key}.ops", term.ops, "a bond term has two operators")
        for o in term.ops:
            self.op(o)
        if not isinstance(term.distance, (int, np.integer)) or not 1 <= term.distance < L:
            fail(ModelError, f"{key}.distance", term.distance, f"must be in 1..{L - 1}")

    def check_chain(self, chain):
        """Checks of a whole chain once its strengths are resolved: H must be Hermitian."""
        check_hermitian(chain)

    def same_as(self, other):
        """Whether two site types describe the same local space (for validation)."""
        return (self.name == other.name and self.dim == other.dim
                and np.array_equal(self.charges, other.charges))


def charge_change(matrix, charges, n_sites=1, tol=1e-14):
    """Total charge change ``q_out - q_in`` of an operator on ``n_sites`` sites whose basis
    states carry ``charges`` (kron order), or ``None`` if it mixes charges (0 if it is zero)."""
    q = np.asarray(charges)
    total = np.zeros(1, dtype=int)
    for _ in range(n_sites):
        total = (total[:, None] + q[None, :]).ravel()
    rows, cols = np.nonzero(np.abs(np.asarray(matrix)) > tol)
    dq = set((total[rows] - total[cols]).tolist())
    if not dq:
        return 0
    return dq.pop() if len(dq) == 1 else None


def boson(n_max: int) -> QuantumSite:
    r"""A boson with at most ``n_max`` particles, basis ``|0>, ..., |n_max>``.

    Operators: ``B`` (:math:`a`), ``Bd`` (:math:`a^\dagger`), ``N`` (:math:`n`),
    ``NN`` (:math:`n^2`), ``Id``.
    """
    if not isinstance(n_max, (int, np.integer)) or n_max < 1:
        fail(ModelError, "n_max", n_max, "must be an integer >= 1",
             "pick the local boson cutoff, e.g. n_max=4")
    n_max = int(n_max)
    d = n_max + 1
    n = np.arange(d, dtype=float)
    b = np.diag(np.sqrt(n[1:]), k=1)  # a|n> = sqrt(n)|n-1>
    ops = {"Id": np.eye(d), "B": b, "Bd": b.T.copy(), "N": np.diag(n), "NN": np.diag(n**2)}
    hc = {"Id": "Id", "B": "Bd", "Bd": "B", "N": "N", "NN": "NN"}
    return QuantumSite("boson", d, ops, hc, np.arange(d), "N", "N",
                       {str(k): k for k in range(d)}, {"n_max": n_max})


def spin_half() -> QuantumSite:
    r"""A spin 1/2 with **Pauli** operators, basis ``|down>, |up>``.

    Operators: ``X``, ``Y``, ``Z`` (Pauli matrices :math:`\sigma^{x,y,z}`),
    ``Sp`` = :math:`\sigma^+ = |up><down|`, ``Sm`` = :math:`\sigma^-`, ``Id``.
    Note :math:`\sigma^x\sigma^x + \sigma^y\sigma^y = 2(\sigma^+\sigma^- + \sigma^-\sigma^+)`.
    The charge is the eigenvalue of :math:`\sigma^z` (-1 for down, +1 for up).
    """
    z = np.diag([-1.0, 1.0])
    sp = np.array([[0.0, 0.0], [1.0, 0.0]])  # |up><down| with index 0 = down, 1 = up
    sm = sp.T.copy()
    x = sp + sm
    y = -1j * (sp - sm)
    ops = {"Id": np.eye(2), "X": x, "Y": y, "Z": z, "Sp": sp, "Sm": sm}
    hc = {"Id": "Id", "X": "X", "Y": "Y", "Z": "Z", "Sp": "Sm", "Sm": "Sp"}
    return QuantumSite("spin-1/2", 2, ops, hc, np.array([-1, 1]), "Sz", "Z",
                       {"down": 0, "up": 1, "d": 0, "u": 1})
