"""analysis/linewidths_xxz.py end to end on a small copy of runs/sweeps/linewidths_xxz.yaml (L = 8,
unitary operator TEBD4 at the full bond dimension 4^4): every member's autocorrelation and line
width equal those of exact diagonalisation; the Mazur plateau equals dense traces; the width fit
returns the rate of an exponential above a plateau."""

import json

import numpy as np
from helpers import load_script, small_copy

from tnmbl.models import xxz
from tnmbl.runs.sweep import load_sweep, run_sweep

lw = load_script("linewidths_xxz")


def test_linewidths_study_small(tmp_path):
    path = small_copy("runs/sweeps/linewidths_xxz.yaml", tmp_path, {
        "model.L": 8, "evolution.t_final": 2.0, "evolution.method": "tebd4", "evolution.dt": 0.05,
        "evolution.chi_max": 256, "ensemble.members": 1,
        "sweep.points": None, "sweep.grid": {"model.W": [2.0, 8.0], "correlation.y": [3, 4]}})
    res = run_sweep(load_sweep(path, workers=0))
    assert not res["failed"], res["failed"]
    lw.main([str(path), "--exact", "--out", str(tmp_path / "fig")])
    out = json.loads((tmp_path / "fig.json").read_text())
    assert [row["W"] for row in out["table"]] == [2.0, 8.0]
    for m in out["members"]:
        assert m["max_dev_exact"] < 1e-4, m                                 # Trotter error of TEBD4 only
        assert abs(m["width"] - m["width_exact"]) < 1e-3 + 0.01 * abs(m["width_exact"]), m
    for row in out["table"]:
        typ, typ_exact = row["width"]["typical"], row["width_exact"]["typical"]
        assert abs(typ - typ_exact) < 1e-3 + 0.01 * typ_exact
    assert (tmp_path / "fig.png").stat().st_size > 10_000


def test_mazur_plateau_against_dense_traces():
    L, g, J = 6, 0.7, 1.3
    chain = xxz(L, g=g, J=J, W=3.0, seed=3)
    w = np.array(chain.params["w"])
    X, Y, Z = np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])

    def op(o, i):
        m = np.eye(1)
        for k in range(L):
            m = np.kron(m, o if k == i else np.eye(2))
        return m

    H = sum(w[i] * op(Z, i) for i in range(L)) + sum(g * (op(X, i) @ op(X, i + 1) + op(Y, i) @ op(Y, i + 1))
                                                      + J * op(Z, i) @ op(Z, i + 1) for i in range(L - 1))
    Q = [sum(op(Z, i) for i in range(L)), H]

    def tr(a, b):
        return np.trace(a @ b).real / 2**L

    for y in (1, 3):
        b = np.array([tr(op(Z, y), q) for q in Q])
        G = np.array([[tr(a, c) for c in Q] for a in Q])
        assert abs(lw.mazur_plateau(chain.params, y) - b @ np.linalg.solve(G, b)) < 1e-12


def test_line_width_of_an_exponential_above_a_plateau():
    t = np.arange(51) * 0.2
    plateau, rate = 0.2, 0.15
    c = plateau + (1 - plateau) * (0.6 * np.exp(-rate * t) + 0.4 * np.exp(-5 * t))   # fast dephasing, slow line
    got, err, window = lw.line_width(t, c, plateau)
    assert window == (5.0, 10.0) and abs(got - rate) < 1e-6 and err < 1e-6
    fast = plateau + (1 - plateau) * np.exp(-2.0 * t)          # gone before t_max / 2: fit the resolved decay
    got, _, window = lw.line_width(t, fast, plateau)
    assert window[1] < 5.0 and abs(got - 2.0) < 1e-6
    assert lw.e_fold_rate(t, c, plateau) == (1 / t[np.argmax(0.6 * np.exp(-rate * t) + 0.4 * np.exp(-5 * t)
                                                                 < np.exp(-1))], False)
