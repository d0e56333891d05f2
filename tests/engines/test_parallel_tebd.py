"""Bond-parallel TEBD (``threads`` of tebd2 / tebd4 on TeNPy) against the serial sweep.

Every bond of a layer is updated by the same operations whatever thread runs it, and the
norm factors and truncation errors are combined in bond order after the layer, so
``threads = 1`` and ``threads = 2`` must give *bitwise* the same MPS, rows and health figures.
Against TeNPy's own ``TEBDEngine`` only 1e-12: TeNPy's SVD is scipy's LAPACK, ours numpy's (a
different OpenBLAS build), which may round differently. The default ``threads`` is the cores the
run is allowed (``os.sched_getaffinity``, mocked here), or ``$TNMBL_THREADS``.

The pool is used below its default thresholds (small chi) by lowering them for these tests;
the default thresholds are tested to fall back to the serial sweep.
"""

import numpy as np
import pytest

import tnmbl
from tnmbl.engines import EngineOptions, TenpyTEBD
from tnmbl.engines import tenpy_parallel as tp
from tnmbl.errors import OptionError
from tnmbl.evolution import Evolution

OBSERVABLES = ["density", "energy_density", "energy_current", "entanglement"]


def models():
    """One L = 12 chain per nearest-neighbour quantum model, strongly enough coupled that
    chi_max = 12 truncates within t = 1."""
    bh = tnmbl.models.bose_hubbard(L=12, U=1.0, g=0.4, n_max=3, W=0.5, seed=1)
    xxz = tnmbl.models.xxz(L=12, g=1.0, J=0.4, W=0.5, seed=2)
    bath = tnmbl.models.xxz_with_bath(L=12, g=1.0, J=0.3, W=1.0, bath=(0, 4), bath_hx=0.6, seed=3)
    return {
        "bose_hubbard": (bh, tnmbl.states.product(bh, occupations=[2, 0, 3, 0, 1, 2, 0, 2, 1, 3, 0, 1])),
        "xxz": (xxz, tnmbl.states.neel(xxz)),
        "xxz_with_bath": (bath, tnmbl.states.neel(bath)),
    }


MODELS = models()


@pytest.fixture
def pool_always(monkeypatch):
    """Run every layer with >= 2 bonds on the pool, whatever chi."""
    monkeypatch.setattr(tp, "PARALLEL_MIN_BONDS", 2)
    monkeypatch.setattr(tp, "PARALLEL_MIN_CHI", 1)


def run(name, method, threads, t_final=1.0, chi_max=12):
    chain, state = MODELS[name]
    ev = Evolution(chain, state, method, t_final=t_final, dt=0.1, output_dt=0.5, chi_max=chi_max, svd_cutoff=1e-12,
                   backend="tenpy", threads=threads, observables=OBSERVABLES)
    return ev, list(ev)


def arrays(psi):
    return [b.to_ndarray() for b in psi._B], [np.asarray(s) for s in psi._S]


def assert_bitwise(psi_a, psi_b):
    (ba, sa), (bb, sb) = arrays(psi_a), arrays(psi_b)
    assert all(np.array_equal(x, y) for x, y in zip(ba, bb))
    assert all(np.array_equal(x, y) for x, y in zip(sa, sb))
    assert psi_a.norm == psi_b.norm


@pytest.mark.parametrize("method", ["tebd2", "tebd4"])
@pytest.mark.parametrize("name", list(MODELS))
def test_parallel_equals_serial_bitwise(name, method, pool_always):
    serial, rows1 = run(name, method, 1)
    parallel, rows2 = run(name, method, 2)
    assert serial.engine.tebd.parallel_layers == 0
    assert parallel.engine.tebd.parallel_layers > 0
    health = serial.engine.health()
    assert health["truncation_error"] > 1e-10 and health["chi"] == 12  # truncation active
    assert_bitwise(serial.engine.psi, parallel.engine.psi)
    assert parallel.engine.health() == health
    for a, b in zip(rows1, rows2):
        assert a.health == b.health
        for key in OBSERVABLES:
            assert np.array_equal(a.values[key], b.values[key]), key


@pytest.mark.parametrize("method", ["tebd2", "tebd4"])
def test_parallel_equals_tenpy_serial_within_1e12(method, pool_always, monkeypatch):
    parallel, rows2 = run("bose_hubbard", method, 2)
    from tenpy.algorithms.tebd import TEBDEngine

    from tnmbl.engines import tenpy_tebd

    monkeypatch.setattr(tenpy_tebd, "bond_parallel_tebd", lambda psi, model, options, threads:
                        TEBDEngine(psi, model, options))
    tenpy, rows0 = run("bose_hubbard", method, 2)  # TeNPy's own engine (scipy SVD): only rounding may differ
    assert type(tenpy.engine.tebd) is TEBDEngine
    assert parallel.engine.tebd.parallel_layers > 0
    assert abs(abs(tenpy.engine.psi.overlap(parallel.engine.psi)) - 1) < 1e-12
    for a, b in zip(rows0, rows2):
        for key in OBSERVABLES:
            np.testing.assert_allclose(a.values[key], b.values[key], rtol=0, atol=1e-12)
        assert a.health["truncation_error"] == pytest.approx(b.health["truncation_error"], rel=1e-9, abs=1e-15)


def test_workers_use_the_gil_releasing_svd(monkeypatch, pool_always):
    calls = []
    numpy_svd = np.linalg.svd

    def counting(*args, **kw):
        calls.append(1)
        return numpy_svd(*args, **kw)

    monkeypatch.setattr(np.linalg, "svd", counting)
    run("xxz", "tebd2", 2, t_final=0.2)
    assert calls
    calls.clear()
    from tenpy.linalg import np_conserved as npc

    npc.svd_flat(np.eye(3), full_matrices=False)  # outside the engine's updates: TeNPy's own (scipy) SVD
    assert not calls


def test_short_chains_and_small_chi_fall_back_to_serial(monkeypatch):
    ev, _ = run("xxz", "tebd2", 2, t_final=0.5, chi_max=12)  # default thresholds: chi 12 < PARALLEL_MIN_CHI
    assert ev.engine.tebd.threads == 2 and ev.engine.tebd.parallel_layers == 0
    monkeypatch.setattr(tp, "PARALLEL_MIN_CHI", 1)  # chi no longer decides; the number of bonds does
    short = tnmbl.models.xxz(L=7, g=1.0)  # 3 bonds per layer < PARALLEL_MIN_BONDS = 4
    ev = Evolution(short, tnmbl.states.neel(short), "tebd2", t_final=0.3, dt=0.1, backend="tenpy", threads=2)
    list(ev)
    assert ev.engine.tebd.parallel_layers == 0
    ev, _ = run("xxz", "tebd2", 2, t_final=0.3)  # L = 12: 5 and 6 bonds per layer
    assert ev.engine.tebd.parallel_layers > 0


def test_resumed_parallel_run_equals_uninterrupted(tmp_path, pool_always):
    from tenpy.tools import hdf5_io

    chain, state = MODELS["bose_hubbard"]
    opts = EngineOptions(method="tebd4", dt=0.1, chi_max=12, svd_cutoff=1e-12, conserve=True, extra={"threads": 2})
    # uninterrupted with an output (a checkpoint chance) at step 4: TeNPy merges the half-steps of
    # consecutive Trotter steps inside one advance(), so the split is part of the run
    straight = TenpyTEBD(chain, state, opts)
    straight.advance(4)
    straight.advance(6)
    first = TenpyTEBD(chain, state, opts)
    first.advance(4)
    hdf5_io.save(first.get_resume_data(), tmp_path / "resume.h5")  # as the checkpoints store it
    resumed = TenpyTEBD(chain, state, opts)
    resumed.set_resume_data(hdf5_io.load(tmp_path / "resume.h5"))
    resumed.advance(6)
    assert resumed.tebd.parallel_layers > 0 and resumed.step == straight.step == 10
    assert_bitwise(straight.psi, resumed.psi)
    a, b = straight.health(), resumed.health()
    assert a["truncation_error"] > 0
    # the resumed figure is (sum over the first 4 steps) + (sum over the last 6): another
    # order of the same additions
    assert b["truncation_error"] == pytest.approx(a["truncation_error"], rel=1e-13)
    assert (a["chi"], a["norm"]) == (b["chi"], b["norm"])


@pytest.mark.parametrize("threads", [0, -1, True, 1.5, "2"])
def test_bad_threads_are_refused(threads):
    chain, state = MODELS["xxz"]
    with pytest.raises(OptionError) as info:
        Evolution(chain, state, "tebd2", t_final=0.2, backend="tenpy", threads=threads)
    assert info.value.key == "threads"


def test_quimb_refuses_more_than_one_thread():
    chain, state = MODELS["xxz"]
    with pytest.raises(OptionError, match="backend='tenpy'") as info:
        Evolution(chain, state, "tebd2", t_final=0.2, backend="quimb", threads=2)
    assert info.value.key == "threads"
    assert Evolution(chain, state, "tebd2", t_final=0.2, backend="quimb", threads=1).engine.threads == 1


def test_mixed_bubble_refuses_threads():
    from tnmbl.evolution import evolve_mixed
    from tnmbl.states.bubbles import mixed_bubble

    chain = tnmbl.models.xxz(L=6, g=1.0)
    with pytest.raises(OptionError) as info:
        evolve_mixed(chain, mixed_bubble(chain, (1, 4), "up"), dt=0.1, t_final=0.1, threads=2)
    assert info.value.key == "threads"


@pytest.fixture
def cores(monkeypatch):
    """A run allowed 3 cores (``os.sched_getaffinity`` mocked), no ``$TNMBL_THREADS``."""
    monkeypatch.delenv(tp.THREADS_ENV, raising=False)
    monkeypatch.setattr(tp.os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    return 3


def test_default_threads_are_the_cores_the_run_is_allowed(cores, monkeypatch, pool_always):
    assert tp.default_threads() == cores
    ev, _ = run("xxz", "tebd2", None, t_final=0.3)  # threads not given: the allowed cores
    assert ev.engine.threads == ev.engine.tebd.threads == cores and ev.engine.tebd.parallel_layers > 0
    monkeypatch.setenv(tp.THREADS_ENV, "2")  # a sweep worker's share, or tnmbl run --threads 2
    assert tp.default_threads() == 2 and run("xxz", "tebd2", None, t_final=0.1)[0].engine.tebd.threads == 2
    monkeypatch.delenv(tp.THREADS_ENV)
    monkeypatch.delattr(tp.os, "sched_getaffinity")  # platforms without an affinity mask
    monkeypatch.setattr(tp.os, "cpu_count", lambda: 7)
    assert tp.default_threads() == 7


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_threads_environment_is_refused(cores, monkeypatch, value):
    monkeypatch.setenv(tp.THREADS_ENV, value)
    with pytest.raises(OptionError) as info:
        run("xxz", "tebd2", None, t_final=0.1)
    assert info.value.key == tp.THREADS_ENV and info.value.value == value


def test_explicit_one_thread_runs_serially_and_equals_the_default(cores, pool_always):
    serial, rows1 = run("bose_hubbard", "tebd2", 1)
    default, rows3 = run("bose_hubbard", "tebd2", None)
    assert serial.engine.tebd.threads == 1 and serial.engine.tebd.parallel_layers == 0
    assert serial.engine.tebd._pool is None  # no pool was ever made
    assert default.engine.tebd.threads == cores and default.engine.tebd.parallel_layers > 0
    assert_bitwise(serial.engine.psi, default.engine.psi)
    for a, b in zip(rows1, rows3):
        for key in OBSERVABLES:
            assert np.array_equal(a.values[key], b.values[key]), key
