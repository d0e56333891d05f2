"""Which methods accept which chains; one vocabulary through ``evolve``."""

import numpy as np
import pytest
from helpers import WEAK_MODELS

import tnmbl
from tnmbl.engines import METHODS, accepts
from tnmbl.errors import OptionError


def test_accepts_table():
    nn, _ = WEAK_MODELS["xxz"]
    nnn, _ = WEAK_MODELS["xxz_nnn"]
    periodic = tnmbl.models.xxz(L=6, g=1.0, bc="periodic")
    for method in ("tebd2", "tebd4", "tdvp1", "tdvp2", "exact"):
        assert accepts(method, nn) == (True, "")
    for method, ok in (("tebd2", False), ("tebd4", False), ("tdvp1", True), ("tdvp2", True), ("exact", True)):
        got, reason = accepts(method, nnn)
        assert got is ok and (ok or "tdvp" in reason)
    assert accepts("tdvp2", periodic)[0] is False and "open" in accepts("tdvp2", periodic)[1]
    assert accepts("exact", periodic)[0] is True
    assert accepts("tebd2", nn, "quimb")[0] and not accepts("tdvp1", nn, "quimb")[0]
    assert not accepts("tdvp3", nn)[0] and "known" in accepts("tdvp3", nn)[1]


def test_methods_table_defaults():
    assert list(METHODS) == ["tebd2", "tebd4", "tdvp1", "tdvp2", "exact", "leapfrog", "yoshida4", "split2", "split4",
                             "aba864", "srkn6b", "srkn14a", "suzuki5", "mclachlan5", "kahanli9"]
    assert set(METHODS["tebd2"]) == {"tenpy", "quimb"}
    assert next(iter(METHODS["tebd4"])) == "tenpy"
    assert all(set(METHODS[m]) == {"numba"} for m in ("leapfrog", "yoshida4", "split2", "split4", "aba864",
                                                        "srkn6b", "srkn14a", "suzuki5", "mclachlan5", "kahanli9"))


def test_classical_methods_accept_their_own_chains_only():
    rotor, dnls = tnmbl.models.rotor(8, 0.5), tnmbl.models.dnls(8, 0.5, 1.0)
    nn, _ = WEAK_MODELS["xxz"]
    assert accepts("leapfrog", rotor) == (True, "") and accepts("split4", dnls) == (True, "")
    ok, reason = accepts("leapfrog", dnls)
    assert not ok and "split2, split4, suzuki5, mclachlan5, kahanli9" in reason
    ok, reason = accepts("tebd2", rotor)
    assert not ok and "leapfrog, yoshida4" in reason
    ok, reason = accepts("split2", nn)
    assert not ok and "tebd2" in reason and "leapfrog" not in reason


def test_evolve_rejects_tebd_on_nnn_chain():
    chain, state = WEAK_MODELS["xxz_nnn"]
    for backend in ("tenpy", "quimb"):
        with pytest.raises(OptionError, match="nearest-neighbour"):
            tnmbl.evolve(chain, state, "tebd2", backend=backend, dt=0.1, t_final=0.2, observables=["density"])


def test_evolve_array_backend_needs_quimb():
    chain, state = WEAK_MODELS["xxz"]
    with pytest.raises(OptionError, match="array_backend"):
        tnmbl.evolve(chain, state, "tebd2", backend="tenpy", array_backend="torch", dt=0.1, t_final=0.2)


def test_evolve_quimb_same_results_file_as_tenpy():
    chain, state = WEAK_MODELS["bose_hubbard"]
    kw = dict(dt=0.1, t_final=1.0, output_dt=0.5, chi_max=64,
              observables=["density", "energy_density", "energy_current", "entanglement"])
    q = tnmbl.evolve(chain, state, "tebd4", backend="quimb", array_backend="numpy", **kw)
    t = tnmbl.evolve(chain, state, "tebd4", backend="tenpy", **kw)
    assert q.observables == t.observables and set(q.health) == set(t.health)
    for name in q.observables:
        assert np.abs(q[name] - t[name]).max() < 1e-9, name
    assert np.abs(q.health["energy_drift"]).max() < 1e-6
    assert q.meta["backend"] == "quimb" and q.meta["array_backend"] == "numpy"


def test_default_backend_by_the_measured_crossover():
    # benchmarks/bench_backends.py --crossover: quimb while chi * d <= 128 (L <= 16) or 96 (longer)
    from tnmbl.engines import default_backend, quimb_max_theta, reachable_chi

    assert [quimb_max_theta(L) for L in (4, 12, 16, 17, 64, 1000)] == [128, 128, 128, 96, 96, 96]
    xxz12, xxz64 = tnmbl.models.xxz(L=12, g=1.0), tnmbl.models.xxz(L=64, g=1.0)
    bh16, bh64 = tnmbl.models.bose_hubbard(L=16, n_max=4), tnmbl.models.bose_hubbard(L=64, n_max=4)  # d = 5
    assert default_backend("tebd4", xxz12, 64) == "quimb"  # chi * d = 128 on 12 sites: quimb 5x faster
    assert reachable_chi(xxz12, 1024) == 64 and default_backend("tebd2", xxz12, 1024) == "quimb"  # 2 ** 6
    assert default_backend("tebd2", xxz64, 48) == "quimb" and default_backend("tebd2", xxz64, 64) == "tenpy"
    assert default_backend("tebd2", bh16, 16) == "quimb" and default_backend("tebd2", bh16, 32) == "tenpy"
    assert default_backend("tebd2", bh64, 16) == "quimb" and default_backend("tebd4", bh64, 20) == "tenpy"
    assert default_backend("tebd2", bh64, 256, array_backend="torch") == "quimb"
    assert default_backend("tdvp2", xxz12, 8) == "tenpy" and default_backend("exact", xxz12, 8) == "scipy"
    spins, state = WEAK_MODELS["xxz"]
    res = tnmbl.evolve(spins, state, "tebd2", dt=0.1, t_final=0.2, chi_max=16, observables=["density"])
    assert res.meta["backend"] == "quimb"


def test_method_table_holds_each_fact_once():
    from tnmbl.engines import default_method
    from tnmbl.engines.methods import W0
    from tnmbl.runs.budget import METHOD_ORDER

    assert {m: s.order for m, s in METHODS.items()} == {
        "tebd2": 2, "tebd4": 4, "tdvp1": 2, "tdvp2": 2, "exact": None,
        "leapfrog": 2, "yoshida4": 4, "split2": 2, "split4": 4, "aba864": 4, "srkn6b": 4, "srkn14a": 6,
        "suzuki5": 4, "mclachlan5": 4, "kahanli9": 6}
    assert METHOD_ORDER == {m: s.order for m, s in METHODS.items()}  # the budget reads the table
    assert METHODS["yoshida4"].max_substep == abs(W0) and METHODS["leapfrog"].max_substep == 1.0
    assert METHODS["tebd2"].backends == ("tenpy", "quimb") and METHODS["tebd2"]["quimb"].__name__ == "QuimbTEBD"
    assert METHODS["tebd2"] != METHODS["tebd4"]
    nn, _ = WEAK_MODELS["xxz"]
    assert default_method(nn) == "tebd2"
    assert default_method(tnmbl.models.rotor(8, 0.5)) == "leapfrog"
    assert default_method(tnmbl.models.dnls(8, 0.5, 1.0)) == "split2"
