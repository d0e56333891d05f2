"""The classical models (tnmbl/models/classical.py): chains of term functions whose equations of
motion are the papers'."""

import numpy as np
from helpers import classical_sample as sample

import tnmbl
from tnmbl import Chain, OnSite
from tnmbl.chain import classical as cc


def test_models_are_chains_of_term_functions():
    c = tnmbl.models.rotor(8, 0.5)
    assert isinstance(c, Chain) and c.site.kind == "classical"
    assert [t.op if isinstance(t, OnSite) else t.ops for t in c.terms] == ["kinetic", ("cos",)]
    d = tnmbl.models.dnls(8, 0.1, 2.0, W=1.0, seed=1)
    np.testing.assert_allclose(d.strength(0), np.asarray(d.params["w"]))
    assert tnmbl.models.MODELS["rotor"] is tnmbl.models.rotor and "dnls" in tnmbl.models.MODELS


def test_rotor_equations_of_motion_are_the_papers():
    c = tnmbl.models.rotor(7, 0.9)
    q, p = sample(c).canonical()
    dq, dp = cc.equations_of_motion(c, q, p)
    np.testing.assert_allclose(dq, p)
    force = 0.9 * (np.sin(np.roll(q, -1, -1) - q) - np.sin(q - np.roll(q, 1, -1)))
    np.testing.assert_allclose(dp, force, atol=1e-14)


def test_dnls_equations_of_motion_are_the_papers():
    c = tnmbl.models.dnls(7, 0.3, 0.8, W=1.0, seed=5)
    st = sample(c)
    psi = st.psi
    dq, dp = cc.equations_of_motion(c, *st.canonical())
    dpsi = (dq + 1j * dp) / np.sqrt(2)
    w = np.asarray(c.params["w"])
    lap = np.roll(psi, -1, -1) + np.roll(psi, 1, -1) - 2 * psi
    np.testing.assert_allclose(1j * dpsi, w * psi + 2 * 0.8 * np.abs(psi) ** 2 * psi - 0.3 * lap, atol=1e-13)
