"""Convergence order of plain quimb ``TEBD`` (``order=2`` and ``4``) against exact evolution, for
the version installed: why tnmbl runs its own sweep on the quimb backend (README, "Methods and
backends"). XXZ (Pauli convention of quimb's ``ham_1d_heis``, j = (1, 1, 0.4)), L = 8, Neel
state, t = 1; max |<Z_x>| error over the sites at three time steps, and the slopes.

Run: python benchmarks/quimb_tebd_order.py  (seconds)
"""

import numpy as np
import quimb
import quimb.tensor as qtn
import scipy.sparse.linalg as sla
from quimb import expec, ham_heis, ikron, spin_operator

L, T, J = 8, 1.0, (1.0, 1.0, 0.4)


def errors(order, cutoff, dts):
    psi0 = qtn.MPS_computational_state("01" * (L // 2))
    vt = sla.expm_multiply(-1j * T * ham_heis(L, j=J, cyclic=False, sparse=True), psi0.to_dense())
    Z = np.asarray(spin_operator("Z"))
    exact = np.array([np.real(expec(ikron(Z, [2] * L, i), vt)) for i in range(L)])
    out = []
    for dt in dts:
        tebd = qtn.TEBD(psi0, qtn.ham_1d_heis(L, j=J), dt=dt, split_opts=dict(cutoff=cutoff, max_bond=64),
                        progbar=False)
        tebd.update_to(T, order=order)
        ps = tebd.pt
        vals = np.array([np.real(ps.local_expectation(Z, i)) for i in range(L)]) / (ps.H @ ps).real
        out.append(np.max(np.abs(vals - exact)))
    return np.array(out)


if __name__ == "__main__":
    print(f"quimb {quimb.__version__}, XXZ L = {L}, t = {T}")
    for order, cutoff in [(2, 0.0), (4, 0.0), (4, 1e-14)]:
        dts = (0.2, 0.1, 0.05) if cutoff == 0.0 else (0.1, 0.05, 0.025)
        e = errors(order, cutoff, dts)
        print(f"order={order} cutoff={cutoff:g}: dt {dts} errors {np.array2string(e, precision=3)} "
              f"slopes {np.array2string(np.log2(e[:-1] / e[1:]), precision=2)}")
