"""Accuracy figures of the foundation engines, printed (the tests assert thresholds only).

On the small chains of ``tests/helpers.py::small_models``:
* Trotter order: max error of density / energy density at t = 2 against ``method="exact"``
  for TeNPy TEBD2 and TEBD4 at dt = 0.2, 0.1, 0.05 (XXZ L=10), and the fitted slopes;
* continuity equation: residual of d<h_b>/dt - (<j_{b-1}> - <j_b>) at t = 0.7 from exact
  evolution (centred difference, eps = 1e-4), for every model;
* energy bookkeeping: |sum_b <h_b> - <H>| with <H> from the sparse Hamiltonian.

Run:  OMP_NUM_THREADS=1 python analysis/foundation_accuracy.py   (about a minute)
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import small_models  # noqa: E402

import tnmbl  # noqa: E402
from tnmbl.testing import continuity_check  # noqa: E402


def main():
    models = small_models()
    chain, st = models["xxz"]
    obs = ["density", "energy_density"]
    ex = tnmbl.evolve(chain, st, "exact", dt=0.05, t_final=2.0, output_dt=2.0, observables=obs)
    dts = (0.2, 0.1, 0.05)
    for method in ("tebd2", "tebd4"):
        errs = []
        for dt in dts:
            r = tnmbl.evolve(chain, st, method, dt=dt, t_final=2.0, output_dt=2.0, chi_max=512, svd_cutoff=1e-14,
                             observables=obs, backend="tenpy")
            errs.append(max(np.abs(r[k][-1] - ex[k][-1]).max() for k in obs))
        slopes = np.diff(np.log(errs)) / np.diff(np.log(dts))
        print(f"{method} (XXZ L=10) errors at dt {dts}: {['%.2e' % e for e in errs]}; slopes {np.round(slopes, 2)}")
    for name, (chain, st) in models.items():
        check = continuity_check(chain, st, t=0.7, eps=1e-4)
        dh, rhs = check["energy"]
        residual, e_sum = np.abs(dh - rhs).max(), check["energy_sum_error"]
        print(f"{name}: continuity residual {residual:.1e} (max |dh/dt| {np.abs(dh).max():.2f}); "
              f"|sum h_b - <H>| {e_sum:.1e}")


if __name__ == "__main__":
    main()
