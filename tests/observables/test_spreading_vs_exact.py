"""Every spreading observable from the MPS engines agrees with exact evolution (L <= 10), for
pure bubbles (TeNPy / quimb TEBD4, TDVP2), the mixed bubble (purification vs the exact
density matrix) and the sampled ensemble; and the same functions take classical results and
results files."""

import numpy as np
import pytest
import scipy.linalg as sla

import tnmbl
from tnmbl.chain import charge_densities, energy_densities, hamiltonian_terms
from tnmbl.engines.exact import SectorBasis
from tnmbl.evolution import ensemble_average, evolve_mixed
from tnmbl.observables import spreading as sp
from tnmbl.states.bubbles import mixed_bubble, sampled_bubble

OBS = ["density", "energy_density", "entanglement"]


@pytest.fixture(scope="module")
def bh_bubble():
    chain = tnmbl.models.bose_hubbard(L=8, U=1.0, g=0.3, n_max=2)
    psi = tnmbl.states.bubble(chain, (3, 5), 2, 0)
    kw = dict(dt=0.05, t_final=1.0, output_dt=0.5, observables=OBS)
    exact = tnmbl.evolve(chain, psi, "exact", **kw)
    return chain, psi, kw, exact


def _summary(res):
    out = {}
    for name in OBS:
        s = sp.spreading(res, name, threshold=0.05 if name != "entanglement" else 0.02)
        out[name] = (s.excess, s.centre, s.width, s.total)
    return out


@pytest.mark.parametrize("method,backend", [("tebd4", "tenpy"), ("tebd4", "quimb"), ("tdvp2", "tenpy")])
def test_mps_spreading_observables_agree_with_exact(bh_bubble, method, backend):
    chain, psi, kw, exact = bh_bubble
    res = tnmbl.evolve(chain, psi, method, backend=backend, chi_max=81, **kw)
    assert res.health["truncation_error"][-1] < 1e-10
    ref, got = _summary(exact), _summary(res)
    # TDVP2 time-step error at dt = 0.05: 1.3e-5 in <n_x>; centre and width of the entanglement
    # excess divide by the (small, at t = 0.5) total entropy, which amplifies it to 1.6e-4
    tol = 3e-4 if method == "tdvp2" else 1e-6
    for name in OBS:
        for a, b in zip(ref[name], got[name]):
            np.testing.assert_allclose(b, a, atol=tol, err_msg=f"{method}/{backend} {name}")
    # the excess spreads (the comparison is not between two frozen profiles)
    assert ref["density"][2][-1] > ref["density"][2][0] + 0.05
    fr = sp.front(np.arange(8.0), sp.excess(exact, "density")[2], 0.05)
    np.testing.assert_allclose(sp.front(np.arange(8.0), sp.excess(res, "density")[2], 0.05), fr, atol=1e-4)


def _exact_mixed(chain, state, times, ops):
    basis = SectorBasis(chain.L, chain.site.charges)
    H = sum(basis.operator(op) for op in hamiltonian_terms(chain)).toarray()
    mats = [basis.operator(op).toarray() for op in ops]
    rho0 = state.dense()
    out = []
    for t in times:
        U = sla.expm(-1j * H * t)
        rho = U @ rho0 @ U.conj().T
        out.append([np.trace(rho @ m).real for m in mats])
    return np.array(out)


@pytest.mark.filterwarnings("ignore::tnmbl.errors.AnalysisWarning")  # fronts reach the edge; widths checked
def test_mixed_bubble_purification_agrees_with_exact_density_matrix():
    chain = tnmbl.models.xxz(L=7, g=1.0, J=0.4, W=1.0, seed=2)
    state = mixed_bubble(chain, (2, 5), "down")
    res = evolve_mixed(chain, state, "tebd4", dt=0.05, t_final=1.0, output_dt=0.5, chi_max=128,
                       observables=["density", "energy_density"])
    ref_n = _exact_mixed(chain, state, res.times, charge_densities(chain))
    ref_h = _exact_mixed(chain, state, res.times, energy_densities(chain))
    np.testing.assert_allclose(res["density"], ref_n, atol=2e-6)
    np.testing.assert_allclose(res["energy_density"], ref_h, atol=2e-6)
    for name, ref in (("density", ref_n), ("energy_density", ref_h)):
        s_mps = sp.spreading(res, name, background=res[name][0][0] if name == "density" else None, sign=1)
        s_ex = sp.spreading(sp.Series(res.times, res.positions[name], ref, name),
                            background=ref[0][0] if name == "density" else None, sign=1)
        np.testing.assert_allclose(s_mps.width, s_ex.width, atol=1e-5)
        np.testing.assert_allclose(s_mps.centre, s_ex.centre, atol=1e-5)
    assert np.ptp(ref_n[:, 1]) > 0.01  # the background next to the bubble moves


def test_sampled_ensemble_approaches_the_mixed_bubble():
    chain = tnmbl.models.xxz(L=6, g=1.0, J=0.4, W=1.0, seed=2)
    states = sampled_bubble(chain, (2, 4), "down", n_samples=40, seed=5)
    ens = ensemble_average(chain, states, method="exact", dt=0.1, t_final=1.0, output_dt=0.5,
                           observables=["density"])
    ref = _exact_mixed(chain, mixed_bubble(chain, (2, 4), "down"), ens.times, charge_densities(chain))
    z = np.abs(ens["density"] - ref)[1:] / np.maximum(ens.sem["density"][1:], 1e-3)
    assert np.all(z < 4.5)
    np.testing.assert_allclose(ens["density"][0][[0, 1, 4, 5]], -1)  # the background is exact


@pytest.mark.filterwarnings("ignore::tnmbl.errors.AnalysisWarning")  # fronts reach the edge; widths checked
def test_same_functions_take_classical_results_and_results_files(tmp_path):
    chain = tnmbl.models.dnls(16, g=0.5, U=0.2, bc="open")
    from tnmbl.states import classical as cs

    st = cs.bubble(chain, 64, region=(6, 10), inside=3.0, outside=1.0, seed=1)
    r = tnmbl.evolve_classical(chain, st, "split2", dt=0.01, t_final=2.0, output_dt=0.5, observables=["density"])
    s = sp.spreading(r, "density", background=1.0, threshold=0.2)
    assert s.centre[0] == pytest.approx(7.5) and s.width[-1] > s.width[0]
    _, _, e = sp.excess(r, "density", background=1.0)
    np.testing.assert_allclose(e.sum(1), e[0].sum(), rtol=1e-8)  # the norm is conserved
    from tnmbl.runs import runner
    from tnmbl.runs.config import validate_config

    cfg = validate_config({
        "model": {"name": "bose_hubbard", "L": 6, "U": 1.0, "g": 0.3, "n_max": 2},
        "state": {"kind": "bubble", "region": [2, 4], "background": 2, "inside": 0},
        "evolution": {"method": "exact", "dt": 0.1, "t_final": 0.4},
        "observables": {"names": ["density"], "output_dt": 0.2},
        "output": {"path": str(tmp_path / "r.h5"), "figure": False}, "seed": 1})
    summary = runner.run(cfg)
    direct = tnmbl.evolve(*_bh6(), "exact", dt=0.1, t_final=0.4, output_dt=0.2, observables=["density"])
    a, b = sp.spreading(summary.results, "density"), sp.spreading(direct, "density")
    np.testing.assert_allclose(a.width, b.width, atol=1e-10)
    np.testing.assert_allclose(a.times, b.times)


def _bh6():
    chain = tnmbl.models.bose_hubbard(L=6, U=1.0, g=0.3, n_max=2)
    return chain, tnmbl.states.bubble(chain, (2, 4), 2, 0)


@pytest.mark.parametrize("backend", ["tenpy", "quimb"])
def test_thermalization_distance_from_mps_agrees_with_exact(backend):
    chain = tnmbl.models.xxz_with_bath(L=8, g=1.0, J=0.3, W=3.0, bath=(0, 3), bath_hx=0.6, seed=3)
    psi = tnmbl.states.neel(chain)
    kw = dict(dt=0.05, t_final=2.0, output_dt=0.25, observables=["density"])
    exact = tnmbl.evolve(chain, psi, "exact", **kw)
    res = tnmbl.evolve(chain, psi, "tebd4", backend=backend, chi_max=64, **kw)
    _, _, r_ex = sp.relaxed_fraction(exact, "density", window=2)
    _, _, r_mps = sp.relaxed_fraction(res, "density", window=2)
    np.testing.assert_allclose(r_mps, r_ex, atol=1e-5)
    margin = np.abs(r_ex - 0.5).min()  # no site sits on the level, so the distances must agree exactly
    assert margin > 1e-3
    _, d_ex = sp.thermalization_distance(exact, "density", bath=(0, 3), level=0.5, window=2)
    _, d_mps = sp.thermalization_distance(res, "density", bath=(0, 3), level=0.5, window=2)
    np.testing.assert_array_equal(d_mps, d_ex)
    assert d_ex.max() >= 1  # the bath does thermalize a neighbour in this window


def test_series_reads_a_sweep_summary_point_as_its_ensemble_mean():
    t = np.arange(3.0)
    point = {"time": t, "observables": {"density": {"mean": np.ones((3, 4)), "sem": np.zeros((3, 4)),
                                                    "positions": np.arange(4.0)}}}
    s = sp.series(point, "density")
    np.testing.assert_array_equal(s.values, 1.0)
    np.testing.assert_array_equal(s.positions, np.arange(4.0))
