"""Every option of ``tnmbl.evolve`` is either used by the chosen method or refused with an
error naming the option and the method: nothing is dropped silently.

The cases are enumerated from ``evolve``'s signature and the method table, so a new option
or a new method is covered without editing this file (only ``VALUES`` / ``USED`` need an entry,
and a test below fails until they have one).
"""

import inspect

import numpy as np
import pytest

import tnmbl
from tnmbl.engines import METHODS
from tnmbl.errors import OptionError
from tnmbl.evolution import DEFAULTS, Evolution
from tnmbl.states import classical as cs

#: a valid, non-default value of every option (valid wherever the method takes it)
VALUES = {"dt": 0.1, "chi_max": 7, "svd_cutoff": 0.5, "observables": ["density"], "output_dt": 0.2,
          "conserve": True, "array_backend": "numpy", "n_log": 3, "beta": 2.0, "energy_tolerance": 1.0,
          "noise_rate": 0.0, "noise_seed": 5, "threads": 1, "lanes": 2, "chunk_outputs": 3, "allow_large_dt": True,
          "per_chain": ["energy"], "precision": "float32",
          "green_kubo": {"lag_max": 0.2, "sample_dt": 0.1}}

#: where an accepted option shows in the built evolution (so "accepted" means "used")
USED = {"dt": lambda ev: ev.dt, "chi_max": lambda ev: ev.options.chi_max,
        "svd_cutoff": lambda ev: ev.options.svd_cutoff, "observables": lambda ev: [o.name for o in ev.observables],
        "output_dt": lambda ev: ev.n_out * ev.dt, "conserve": lambda ev: ev.conserve,
        "array_backend": lambda ev: ev.options.array_backend, "n_log": lambda ev: len(ev.steps),
        "beta": lambda ev: ev.probe.beta, "energy_tolerance": lambda ev: ev.probe.energy_tolerance,
        "noise_rate": lambda ev: ev.engine.noise_rate, "noise_seed": lambda ev: ev.meta()["noise"]["seed"],
        "threads": lambda ev: ev.engine.threads, "lanes": lambda ev: ev.engine.lanes,
        "chunk_outputs": lambda ev: ev.engine.chunk_outputs, "allow_large_dt": lambda ev: ev.options.extra[
            "allow_large_dt"], "per_chain": lambda ev: ev.per_chain, "precision": lambda ev: ev.engine.precision,
        "green_kubo": lambda ev: {"lag_max": (ev.engine.correlator.n_lag - 1) * ev.engine.correlator.lag_dt,
                                  "sample_dt": ev.engine.correlator.lag_dt}}

OPTIONS = [name for name, p in inspect.signature(tnmbl.evolve).parameters.items()
           if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("t_final", "callback", "backend", "progress")]


def chain_and_state(method):
    spec = METHODS[method]
    if spec.sites is None:
        chain = tnmbl.models.xxz(L=6, g=1.0)
        return chain, tnmbl.states.neel(chain)
    if spec.sites == ("rotor",):
        chain = tnmbl.models.rotor(6, 1.0)
        return chain, cs.gibbs(chain, 3, beta=1.0, seed=0)
    chain = tnmbl.models.dnls(6, 0.5, 1.0)
    return chain, cs.gibbs(chain, 3, density=1.0, seed=0)


def test_every_option_has_a_value_a_use_and_a_method():
    assert set(OPTIONS) <= set(VALUES) and set(OPTIONS) <= set(USED)
    assert set(OPTIONS) <= set(DEFAULTS)
    for name in OPTIONS:
        assert any(name in spec.takes for spec in METHODS.values()), f"no method takes {name!r}"


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("method", list(METHODS))
def test_option_is_used_or_refused(method, option):
    chain, state = chain_and_state(method)
    value = VALUES[option]
    if option in METHODS[method].takes:
        ev = Evolution(chain, state, method, t_final=0.4, **{option: value})
        # n_log = 3 log-spaced outputs of the 8 steps (1, 3, 8) after the start
        expected = {"output_dt": 0.2, "n_log": 4, "observables": ["density"]}.get(option, value)
        got = USED[option](ev)
        assert got == pytest.approx(expected) if isinstance(expected, float) else got == expected, (option, got)
    else:
        with pytest.raises(OptionError) as info:
            Evolution(chain, state, method, t_final=0.4, **{option: value})
        assert info.value.key == option and repr(method) in str(info.value)


def test_the_rotor_call_of_issue_12_is_refused_naming_the_option():
    """A rotor run given the MPS options (chi_max, svd_cutoff, conserve, backend, array_backend): each
    is refused by name, none dropped silently."""
    chain = tnmbl.models.rotor(8, 1.0)
    state = cs.gibbs(chain, 2, beta=1.0, seed=0)
    with pytest.raises(OptionError) as info:
        tnmbl.evolve(chain, state, "leapfrog", dt=0.01, t_final=1, chi_max=7, svd_cutoff=0.5, conserve=True,
                     backend="tenpy", array_backend="cupy")
    assert info.value.key == "chi_max" and "'leapfrog'" in str(info.value)
    for key, value in (("svd_cutoff", 0.5), ("conserve", True), ("array_backend", "cupy")):
        with pytest.raises(OptionError) as info:
            tnmbl.evolve(chain, state, "leapfrog", dt=0.01, t_final=1, **{key: value})
        assert info.value.key == key
    with pytest.raises(OptionError) as info:
        tnmbl.evolve(chain, state, "leapfrog", dt=0.01, t_final=1, backend="tenpy")
    assert info.value.key == "backend" and "numba" in str(info.value)


def test_unknown_options_are_refused_by_the_driver():
    chain = tnmbl.models.xxz(L=6, g=1.0)
    with pytest.raises(OptionError) as info:
        Evolution(chain, tnmbl.states.neel(chain), "tebd2", t_final=0.2, chi=8)
    assert info.value.key == "chi"


def test_defaults_are_not_refused():
    """Options left at their default are not "given": a classical run with none works."""
    chain, state = chain_and_state("split2")
    res = tnmbl.evolve(chain, state, dt=0.1, t_final=0.2)
    assert res.meta["method"] == "split2" and np.all(np.isfinite(res["density"]))


def test_a_mixed_bubble_is_sent_to_its_driver():
    from tnmbl.errors import StateError

    chain = tnmbl.models.bose_hubbard(L=6, U=1.0, g=0.1, n_max=2)
    rho = tnmbl.states.mixed_bubble(chain, (2, 4), background=1, beta=0.0)
    with pytest.raises(StateError, match="evolve_mixed") as info:
        tnmbl.evolve(chain, rho, "tebd2", dt=0.1, t_final=0.2)
    assert info.value.key == "state"
