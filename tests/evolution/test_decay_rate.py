"""The decay-rate fit of current autocorrelations (tnmbl/evolution/correlations.py) on an analytic input."""

import numpy as np
import pytest

from tnmbl.errors import ObservableError
from tnmbl.evolution.correlations import decay_rate


def test_decay_rate_fit():
    t = np.linspace(0, 5, 51)
    gamma, err, n = decay_rate(t, 2.0 * np.exp(-0.7 * t) * (1 + 0.01 * np.cos(9 * t)))
    assert abs(gamma - 0.7) < 3 * err + 1e-3 and err < 0.01 and n == 50
    with pytest.raises(ObservableError, match="points"):
        decay_rate(t, np.exp(-50 * t))
