"""xxz_with_bath(bath_link=0) is the chain with the bath cut off (states.bubbles.decoupled), with
the same fields; bath_link scales only the bonds that cross the bath's edges."""

import numpy as np

import tnmbl
from tnmbl.states.bubbles import decoupled


def strengths(chain):
    return [np.asarray(chain.strength(i), float) for i in range(len(chain.terms))]


def test_bath_link_zero_is_the_decoupled_chain():
    kw = dict(L=10, g=1.0, J=0.3, W=4.0, bath=(2, 5), bath_hx=0.6, seed=11)
    cut = tnmbl.models.xxz_with_bath(**kw, bath_link=0.0)
    ref = decoupled(tnmbl.models.xxz_with_bath(**kw), (2, 5))
    for a, b in zip(strengths(cut), strengths(ref)):
        np.testing.assert_array_equal(a, b)
    assert cut.params["w"] == ref.params["w"]


def test_bath_link_scales_the_edge_bonds_only():
    kw = dict(L=10, g=1.0, J=0.3, W=4.0, bath=(2, 5), seed=11)
    full, half = tnmbl.models.xxz_with_bath(**kw), tnmbl.models.xxz_with_bath(**kw, bath_link=0.5)
    ratio = strengths(half)[1] / strengths(full)[1]  # the hopping bonds (x, x+1), x = 0..8
    np.testing.assert_allclose(ratio, [1, 0.5, 1, 1, 0.5, 1, 1, 1, 1])
