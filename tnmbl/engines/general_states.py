"""TeNPy MPS of the initial states that are not product states (:mod:`tnmbl.states.mps`): an
MPS given by the user (TeNPy or quimb, as tensors in the chain's basis) or a dense vector."""

from __future__ import annotations

import numpy as np

from ..errors import StateError, fail


def is_general(state):
    """Whether ``state`` is an MPS or vector state (not a product state)."""
    return getattr(state, "kind", None) in ("mps", "vector")


def tenpy_mps(state, site, L):
    """A canonical TeNPy ``MPS`` of ``state`` on ``L`` copies of ``site`` (charges of the site's
    leg: a vector state with a definite charge conserves; an MPS state runs without charges)."""
    from tenpy.linalg import np_conserved as npc
    from tenpy.networks.mps import MPS

    sites = [site] * L
    if state.kind == "vector":
        labels = [f"p{i}" for i in range(L)]
        psi = npc.Array.from_ndarray(state.dense().reshape([site.dim] * L), [site.leg] * L, labels=labels,
                                     raise_wrong_sector=False)
        mps = MPS.from_full(sites, psi, form="B", cutoff=1e-16, normalize=True, unit_cell_width=L)
    else:
        if site.leg.chinfo.qnumber:
            fail(StateError, "state", state.label, "an MPS state carries no charge blocks", "run with conserve=False "
                 "(or 'auto')")
        Bflat = [np.transpose(a, (1, 0, 2)) for a in state.arrays()]  # TeNPy's order: p, vL, vR
        mps = MPS.from_Bflat(sites, Bflat, SVs=None, bc="finite", dtype=complex, permute=False, form=None,
                             unit_cell_width=L)
        mps.canonical_form()
    mps.convert_form("B")
    return mps.astype(np.complex128) if mps.dtype != np.complex128 else mps
