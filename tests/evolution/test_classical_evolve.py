"""The evolve vocabulary for classical chains: batches, threads, noise, bad input, health."""

import numpy as np
import pytest

import tnmbl
from tnmbl import ConvergenceError, ObservableError, OptionError, StateError
from tnmbl.states import classical as cs


@pytest.mark.parametrize("model", ["rotor", "dnls"])
def test_batch_equals_single_runs(model):
    if model == "rotor":
        chain = tnmbl.models.rotor(10, 0.9)
        st = cs.gibbs(chain, 5, beta=1.0, seed=1)
        method, dt = "yoshida4", 0.02
    else:
        chain = tnmbl.models.dnls(9, 0.4, 1.0, W=1.0, seed=2)
        st = cs.gibbs(chain, 5, density=1.0, seed=3)
        method, dt = "split4", 0.02
    kw = dict(dt=dt, t_final=2.0, output_dt=0.5, observables=["energy_density", "density"])
    batch = tnmbl.evolve_classical(chain, st, method, lanes=4, threads=2, **kw)
    final = batch.engine.state()  # the documented Result API: engine is the ClassicalEvolution
    for m in range(st.M):
        one = tnmbl.evolve_classical(chain, st.subset(m), method, threads=1, **kw)
        np.testing.assert_allclose(one.engine.samples["energy"][:, 0], batch.engine.samples["energy"][:, m],
                                   rtol=1e-13, atol=1e-13)
        for f in final.fields:
            np.testing.assert_allclose(one.engine.engine.state().fields[f][0], final.fields[f][m],
                                       rtol=1e-12, atol=1e-12)
    means = np.mean([tnmbl.evolve_classical(chain, st.subset(m), method, **kw)["density"] for m in range(st.M)], 0)
    np.testing.assert_allclose(batch["density"], means, atol=1e-12)


def test_evolve_dispatches_classical_chains_with_the_quantum_result_shape():
    chain = tnmbl.models.rotor(8, 0.5, bc="open")
    st = cs.gibbs(chain, 4, beta=1.0, seed=0)
    r = tnmbl.evolve(chain, st, dt=0.01, t_final=0.5, observables=["density", "energy_current"])
    assert isinstance(r, tnmbl.Result) and r.meta["method"] == "leapfrog"
    assert r["density"].shape == (len(r.times), 8) and r["energy_current"].shape == (len(r.times), 6)
    assert {"energy", "energy_drift", "charge", "charge_drift"} <= set(r.health)
    with pytest.raises(ObservableError, match="quantum"):
        tnmbl.evolve(chain, st, dt=0.01, t_final=0.5, observables=["entanglement"])


def test_velocity_flips_keep_energy_break_momentum_and_are_seeded():
    chain = tnmbl.models.rotor(16, 0.5)
    st = cs.gibbs(chain, 8, beta=1.0, seed=4)
    kw = dict(dt=0.01, t_final=20.0, output_dt=5.0, observables=["density"], noise_rate=0.5)
    a = tnmbl.evolve_classical(chain, st, "leapfrog", noise_seed=1, **kw)
    b = tnmbl.evolve_classical(chain, st, "leapfrog", noise_seed=1, threads=1, lanes=3, **kw)
    c = tnmbl.evolve_classical(chain, st, "leapfrog", noise_seed=2, **kw)
    np.testing.assert_allclose(a.engine.samples["charge"], b.engine.samples["charge"], atol=1e-12)
    assert np.abs(a.engine.samples["charge"][-1] - c.engine.samples["charge"][-1]).max() > 1e-3
    assert np.abs(a.engine.samples["charge"][-1] - a.engine.samples["charge"][0]).max() > 1e-2
    assert a.health["energy_error"].max() < 1e-3  # flips conserve the energy (w -> -w)


def test_bad_input_is_refused_before_compute():
    rot = tnmbl.models.rotor(8, 1.0)
    st = cs.gibbs(rot, 2, beta=1.0, seed=0)
    with pytest.raises(OptionError, match="beta = 0"):
        cs.gibbs(rot, 2, beta=0)
    with pytest.raises(OptionError, match="beta = -1"):
        cs.gibbs(rot, 2, beta=-1.0)
    with pytest.raises(OptionError, match="M = 0"):
        cs.gibbs(rot, 0, beta=1.0)
    with pytest.raises(OptionError, match="dt = 0"):
        tnmbl.evolve_classical(rot, st, dt=0.0, t_final=1.0)
    with pytest.raises(OptionError, match="dt = -0.1"):
        tnmbl.evolve_classical(rot, st, dt=-0.1, t_final=1.0)
    with pytest.raises(OptionError, match="stability bound"):
        tnmbl.evolve_classical(rot, st, "leapfrog", dt=1.5, t_final=3.0)
    with pytest.raises(OptionError, match="stability bound"):
        tnmbl.evolve_classical(rot, st, "yoshida4", dt=0.7, t_final=1.4)
    tnmbl.evolve_classical(rot, st, "leapfrog", dt=1.5, t_final=3.0, allow_large_dt=True)  # the override
    with pytest.raises(StateError, match=r"shape \(3, 7\)"):
        cs.explicit(rot, theta=np.zeros((3, 7)), w=np.zeros((3, 7)))
    with pytest.raises(StateError, match=r"w\[1, 2\] = nan"):
        w = np.zeros((2, 8))
        w[1, 2] = np.nan
        cs.explicit(rot, theta=np.zeros((2, 8)), w=w)
    with pytest.raises(StateError, match="M >= 1"):
        cs.explicit(rot, theta=np.zeros((0, 8)), w=np.zeros((0, 8)))
    with pytest.raises(OptionError, match="unknown classical method"):
        tnmbl.evolve_classical(rot, st, "tebd4", dt=0.1, t_final=1.0)
    with pytest.raises(OptionError, match="integrates dnls chains"):
        tnmbl.evolve_classical(rot, st, "split2", dt=0.1, t_final=1.0)
    with pytest.raises(OptionError, match="phi needs the inverse temperature"):
        tnmbl.evolve_classical(rot, cs.explicit(rot, theta=np.zeros(8), w=np.ones(8)), dt=0.1, t_final=1.0,
                               observables=["phi"])
    d = tnmbl.models.dnls(8, 1.0, 1.0)
    with pytest.raises(OptionError, match="turn no phase by more than pi"):
        tnmbl.evolve_classical(d, cs.gibbs(d, 2, density=1.0, seed=0), dt=2.0, t_final=4.0)
    with pytest.raises(StateError, match="another chain"):
        tnmbl.evolve_classical(tnmbl.models.rotor(9, 1.0), st, dt=0.1, t_final=1.0)


def test_energy_error_threshold_stops_the_run_with_rows_intact():
    chain = tnmbl.models.rotor(16, 1.0)
    st = cs.gibbs(chain, 4, beta=1.0, seed=6)
    kw = dict(dt=0.25, t_final=50.0, output_dt=0.5, observables=["energy_density"])
    free = tnmbl.evolve_classical(chain, st, "leapfrog", **kw)
    errs = free.health["energy_error"]
    records = [i for i in range(2, len(errs)) if errs[i] > errs[:i].max()]
    assert records  # the bounded error of a symplectic scheme still sets new records now and then
    first_bad = records[-1]
    tol = errs[:first_bad].max()
    seen = []
    with pytest.raises(ConvergenceError, match="energy_error = .* energy_tolerance") as info:
        tnmbl.evolve_classical(chain, st, "leapfrog", energy_tolerance=tol, callback=seen.append, **kw)
    partial = info.value.result
    assert len(seen) == first_bad == len(partial.times)
    np.testing.assert_array_equal(partial["energy_density"], free["energy_density"][:first_bad])
    np.testing.assert_array_equal([r.time for r in seen], free.times[:first_bad])
    assert info.value.row.time == free.times[first_bad]
