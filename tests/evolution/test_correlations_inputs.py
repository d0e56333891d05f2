"""Input validation of the transport API: every error names the value and the rule."""

import numpy as np
import pytest

from tnmbl.errors import ObservableError, OptionError, StateError
from tnmbl.evolution.correlations import correlations
from tnmbl.models.quantum import bose_hubbard, xxz
from tnmbl.states.mixed import Thermal


@pytest.mark.parametrize("kwargs, match", [
    (dict(beta=-1.0), "negative"),
    (dict(beta=float("nan")), "finite"),
    (dict(beta=1.0, ensemble="microcanonical"), "ensemble"),
    (dict(beta=1.0, ensemble="canonical"), "needs its total charge"),
    (dict(beta=1.0, charge=2), "grand canonical"),
])
def test_thermal_rejects(kwargs, match):
    with pytest.raises(StateError, match=match):
        Thermal(**kwargs)


def test_canonical_charge_must_exist():
    with pytest.raises(StateError, match="parity"):
        Thermal(0.0, "canonical", 1).check(xxz(4))  # sum of four +-1 is even
    with pytest.raises(StateError, match=r"\[0, 8\]"):
        Thermal(0.0, "canonical", 9).check(bose_hubbard(4, n_max=2))
    assert Thermal(0.0, "canonical", 4).check(bose_hubbard(4, n_max=2)).label == "thermal(beta=0, canonical Q=4)"


def test_purification_refusals():
    with pytest.raises(OptionError, match="open nearest-neighbour"):
        correlations(xxz(6, bc="periodic"), "density", t_max=0.1, dt=0.1)
    with pytest.raises(OptionError, match="uncharged ancilla"):
        correlations(xxz(6), "density", ensemble=Thermal(0.0, "canonical", 0), t_max=0.1, dt=0.1,
                     disentangle="backwards")
    with pytest.raises(OptionError, match="not understood"):
        correlations(xxz(6), "density", t_max=0.1, dt=0.1, chi=10)
    with pytest.raises(OptionError, match="must be a positive integer"):
        correlations(xxz(6), "density", t_max=0.3, dt=0.1, output_dt=0.25)
    with pytest.raises(ObservableError, match="unknown"):
        correlations(xxz(6), "magnetisation", t_max=0.1, dt=0.1)


def test_distance_convention():
    c = correlations(xxz(6, w=np.linspace(-1, 1, 6)), "energy_current", "density", t_max=0.0, method="exact")
    # energy currents sit at b + 1 (b = 0..3), densities at x; y = 3 (the middle density)
    assert np.allclose(c.distance, np.array([1.0, 2.0, 3.0, 4.0]) - 3.0)


def test_callback_returning_true_stops_purification_early():
    """A callback returning True stops ``correlate`` after that output; the rows kept equal
    those of the full run (same state, same gates)."""
    from tnmbl.engines.purification import PurificationCorrelator
    from tnmbl.evolution.correlations import operator_list

    chain = xxz(6, g=1.0, J=0.5)
    ops, _ = operator_list(chain, "density")
    seen = []
    corr = PurificationCorrelator(chain, Thermal(0.0), dt=0.1, method="tebd2", chi_max=16)
    v, health = corr.correlate(ops, ops[3], 6, 1, callback=lambda i, v_, h: seen.append(i) or i == 2)
    full, _ = PurificationCorrelator(chain, Thermal(0.0), dt=0.1, method="tebd2", chi_max=16).correlate(
        ops, ops[3], 6, 1)
    assert seen == [0, 1, 2] and v.shape == (3, 6) and len(health["chi"]) == 3
    assert np.allclose(v, full[:3], atol=1e-14)
