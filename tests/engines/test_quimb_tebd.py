"""The quimb TEBD adapter: what quimb 1.15's own TEBD gets wrong is pinned here.

* true 4th order (quimb's ``order=4`` converges as dt^2),
* no error jump when the evolution is split over many ``advance`` calls (quimb truncates
  away from the orthogonality centre at the end of each ``update_to``),
* ``truncation_error`` is the accumulated discarded weight, as TeNPy's ``trunc_err.eps``,
  and the state stays normalized,
* measurement of 1-3 site operators and entanglement against exact evolution,
* the same run on torch arrays (CPU here; GPU under ``-m gpu``).
"""

import dataclasses

import numpy as np
import pytest
from helpers import WEAK_MODELS, exact_densities, options, run_engine

import tnmbl
from tnmbl.chain import charge_densities, energy_currents, energy_densities
from tnmbl.engines import EngineOptions, ExactEngine, QuimbTEBD, TenpyTEBD
from tnmbl.engines.quimb_tebd import SUZUKI_P, sweep_schedule
from tnmbl.errors import OptionError


def test_suzuki_schedule_sums_to_one_step_per_parity():
    for order, n in ((2, 1), (2, 5), (4, 1), (4, 3)):
        sched = sweep_schedule(order, n)
        assert all(a[0] != b[0] for a, b in zip(sched, sched[1:]))  # equal parities merged
        for parity in (0, 1):
            assert np.isclose(sum(f for p, f in sched if p == parity), n)
    assert len(sweep_schedule(4, 1)) == 11
    assert np.isclose(4 * SUZUKI_P + (1 - 4 * SUZUKI_P), 1) and 4 * SUZUKI_P ** 3 + (1 - 4 * SUZUKI_P) ** 3 < 1e-14


def test_tebd4_is_fourth_order():
    errs = [np.abs(run_engine("xxz", "tebd4", "quimb", dt, t=1.6)[1] - exact_densities("xxz", 1.6)).max()
            for dt in (0.4, 0.2, 0.1)]
    slopes = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all((slopes > 3.6) & (slopes < 4.4)), f"errors {errs}, slopes {slopes}"


def test_many_advance_calls_equal_one():
    one, d_one = run_engine("bose_hubbard", "tebd4", "quimb", 0.1)
    chain, state = WEAK_MODELS["bose_hubbard"]
    many = QuimbTEBD(chain, state, options("tebd4", 0.1, chain))
    for _ in range(20):
        many.advance(1)
        many.expect("density", charge_densities(chain))  # measuring moves the centre
    d_many = many.expect("density", charge_densities(chain))
    assert np.abs(d_many - d_one).max() < 1e-10
    assert np.abs(d_many - exact_densities("bose_hubbard")).max() < 1e-6


def test_split_calls_with_truncation_do_not_jump():
    """With chi_max truncating, 20 calls of one step stay as close to exact as one call."""
    chain = tnmbl.models.xxz(L=10, g=1.0, J=0.4, W=0.5, seed=5)
    state = tnmbl.states.neel(chain)
    opts = options("tebd4", 0.1, chain, chi_max=10)
    ex = ExactEngine(chain, state, opts)
    ex.advance(20)
    ref = ex.expect("d", charge_densities(chain))
    one, many = QuimbTEBD(chain, state, opts), QuimbTEBD(chain, state, opts)
    one.advance(20)
    for _ in range(20):
        many.advance(1)
        many.expect("d", charge_densities(chain))
    e_one = np.abs(one.expect("d", charge_densities(chain)) - ref).max()
    e_many = np.abs(many.expect("d", charge_densities(chain)) - ref).max()
    assert one.health()["truncation_error"] > 1e-6  # the test truncates
    assert e_many < 2 * e_one + 1e-8, (e_one, e_many)


def test_truncation_is_at_the_centre_and_counts_the_discarded_weight():
    """One truncated gate: the overlap with the untruncated result is 1 - eps exactly.

    That holds only if the SVD is taken at the orthogonality centre (then the discarded
    Schmidt weight is the norm lost); the gate is applied far from where the centre sits.
    """
    chain = tnmbl.models.xxz(L=10, g=1.0, J=0.4, W=0.5, seed=5)
    state = tnmbl.states.neel(chain)
    full = QuimbTEBD(chain, state, options("tebd4", 0.1, chain))
    full.advance(10)
    cut = QuimbTEBD(chain, state, options("tebd4", 0.1, chain, chi_max=3))
    cut.set_resume_data(full.get_resume_data())
    full._move_centre(0)
    cut._move_centre(0)
    for eng in (full, cut):
        eng._apply(5, eng._gate(5, 0.5), "right")
    eps = cut.health()["truncation_error"] - full.health()["truncation_error"]
    overlap = abs(np.vdot(full.psi.to_dense().ravel(), cut.psi.to_dense().ravel())) ** 2
    assert eps > 1e-4
    assert abs((1 - overlap) - eps) < 1e-12, (1 - overlap, eps)
    assert abs(cut.health()["norm"] - 1) < 1e-12  # renormalized after the truncation


def test_truncation_error_matches_tenpy_on_same_run():
    chain = tnmbl.models.xxz(L=16, g=1.0, J=0.4, W=0.5, seed=6)
    state = tnmbl.states.neel(chain)
    opts = options("tebd2", 0.05, chain, chi_max=8, svd_cutoff=1e-10)
    q, t = QuimbTEBD(chain, state, opts), TenpyTEBD(chain, state, opts)
    q.advance(20)
    t.advance(20)
    eq, et = q.health()["truncation_error"], t.health()["truncation_error"]
    assert eq > 1e-5
    assert abs(eq - et) < 0.01 * et, (eq, et)  # same splitting and truncation rule: same weight


def test_local_operators_and_entanglement_against_exact():
    chain, state = WEAK_MODELS["bose_hubbard"]
    opts = options("tebd4", 0.1, chain)
    ex, q = ExactEngine(chain, state, opts), QuimbTEBD(chain, state, opts)
    ex.advance(10)
    q.advance(10)
    for key, ops in (("e", energy_densities(chain)), ("j", energy_currents(chain))):
        assert np.abs(q.expect(key, ops) - ex.expect(key, ops)).max() < 1e-6
    assert np.abs(q.entanglement() - ex.entanglement()).max() < 1e-6
    assert abs(q.energy() - ex.energy()) < 1e-6


def test_rejects_longer_range_and_unknown_array_backend():
    chain, state = WEAK_MODELS["xxz_nnn"]
    with pytest.raises(OptionError, match="nearest-neighbour"):
        QuimbTEBD(chain, state, options("tebd2", 0.1, chain))
    chain, state = WEAK_MODELS["xxz"]
    with pytest.raises(OptionError, match="array_backend"):
        QuimbTEBD(chain, state, options("tebd2", 0.1, chain, array_backend="jax"))


def _torch_vs_numpy(device_required):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    if device_required and not torch.cuda.is_available():
        pytest.skip("no CUDA GPU visible to PyTorch")
    chain, state = WEAK_MODELS["bose_hubbard"]
    out = {}
    for ab in ("numpy", "torch"):
        eng = QuimbTEBD(chain, state, options("tebd4", 0.1, chain, chi_max=24, array_backend=ab))
        eng.advance(10)
        out[ab] = (eng.expect("n", charge_densities(chain)), eng.expect("j", energy_currents(chain)),
                   eng.entanglement(), eng.health()["truncation_error"])
        if ab == "torch":
            assert isinstance(eng.arrays[3], torch.Tensor) and eng.arrays[3].dtype == torch.complex128
            assert eng.arrays[3].is_cuda == device_required
    for a, b in zip(out["numpy"], out["torch"]):
        assert np.max(np.abs(np.asarray(a) - np.asarray(b))) < 1e-8


def _cuda():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.skipif(_cuda(), reason="with a CUDA GPU visible, quimb's torch arrays live on the GPU: "
                    "test_gpu_torch_agrees_with_numpy (-m gpu) runs this comparison there")
def test_torch_arrays_agree_with_numpy():
    _torch_vs_numpy(device_required=False)


@pytest.mark.gpu
def test_gpu_torch_agrees_with_numpy():
    _torch_vs_numpy(device_required=True)


@pytest.mark.gpu
def test_gpu_cupy_agrees_with_numpy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
    if cupy.cuda.runtime.getDeviceCount() == 0:
        pytest.skip("no CUDA device visible to CuPy")
    chain, state = WEAK_MODELS["xxz"]
    res = []
    for ab in ("numpy", "cupy"):
        eng = QuimbTEBD(chain, state, options("tebd4", 0.1, chain, chi_max=16, array_backend=ab))
        eng.advance(10)
        res.append(eng.expect("n", charge_densities(chain)))
    assert np.abs(res[0] - res[1]).max() < 1e-8


def test_engine_options_default_array_backend_is_numpy():
    # positional order kept (extra, the engine-specific knobs, comes after array_backend)
    names = [f.name for f in dataclasses.fields(EngineOptions)]
    assert names[:6] == ["method", "dt", "chi_max", "svd_cutoff", "conserve", "array_backend"]
    assert EngineOptions(method="tebd2", dt=0.1).array_backend is None
