"""The t0(g) model comparison (tnmbl.observables.classical): each fit recovers the parameters
of synthetic data drawn from it, the rule picks the generating family on clean data and says
'undecided' where the data cannot tell, and the local slopes are exact on a power law."""

import numpy as np
import pytest

from tnmbl.errors import ObservableError
from tnmbl.observables.classical import (
    T0_MODELS,
    compare_t0_models,
    fit_t0_model,
    local_slopes,
    model_local_slope,
    t0_model_curve,
)

G = np.array([1.0, 0.7, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1])  # the Fig. 2 couplings
TRUE = {"power": {"a": 3.7, "alpha": 4.5}, "stretched": {"a": -2.0, "b": 5.5, "c": 0.6},
        "exp": {"a": 2.0, "c": 1.1}}


def synthetic(model, rel=0.03, seed=0, g=G):
    """t0 from ``model`` with TRUE parameters, Gaussian relative noise ``rel`` and that error."""
    f = T0_MODELS[model][0]
    t0 = np.exp(f(g, *TRUE[model].values()))
    noisy = t0 * (1 + rel * np.random.default_rng(seed).standard_normal(len(g)))
    return g, noisy, rel * noisy


@pytest.mark.parametrize("model", list(T0_MODELS))
def test_each_fit_recovers_its_parameters(model):
    g, t0, err = synthetic(model)
    fit = fit_t0_model(model, g, t0, err)
    for name, value in TRUE[model].items():
        assert abs(fit["params"][name] - value) < 3 * fit["errors"][name], (name, fit)
    assert fit["dof"] == len(g) - len(TRUE[model]) and fit["chi2_dof"] < 3 and fit["p_value"] > 0.01
    assert fit["aic"] == pytest.approx(fit["chi2"] + 2 * fit["k"])
    # the curve and the local exponent of the fit match the truth
    assert np.allclose(t0_model_curve(fit, g), np.exp(T0_MODELS[model][0](g, *TRUE[model].values())), rtol=0.05)


@pytest.mark.parametrize("model,family", [("power", "power law"), ("stretched", "super-polynomial"),
                                          ("exp", "super-polynomial")])
def test_the_rule_picks_the_generating_family_on_clean_data(model, family):
    g, t0, err = synthetic(model, rel=0.02, seed=1)
    cmp = compare_t0_models(g, t0, err)
    assert cmp["preferred"] == family and not cmp["poor_fit"], (cmp["delta_aic"], cmp["delta_bic"])
    assert abs(cmp["delta_aic"]) > cmp["threshold"] and abs(cmp["delta_bic"]) > cmp["threshold"]
    if model != "power":  # within the family the generating form (or the one that contains it) wins
        assert cmp["best"]["super-polynomial"] in (model, "stretched")
        assert cmp["fits"]["stretched"]["params"]["c"] == pytest.approx(TRUE[model].get("c", 1.0)
                                                                        if model == "stretched" else 1.0, abs=0.3)


@pytest.mark.parametrize("model", ["power", "exp"])
def test_the_rule_is_undecided_when_the_data_cannot_tell(model):
    """Errors of 30% over a short range of g (1 ... 0.4), the values exactly on the generating
    curve: the families differ by less than the errors, both fit."""
    g = np.array([1.0, 0.8, 0.7, 0.6, 0.5, 0.4])
    t0 = np.exp(T0_MODELS[model][0](g, *TRUE[model].values()))
    cmp = compare_t0_models(g, t0, 0.3 * t0)
    assert cmp["preferred"] == "undecided" and abs(cmp["delta_aic"]) <= 4, cmp["delta_aic"]
    assert "undecided" in cmp["rule"]


def test_local_slopes_and_their_errors():
    g = np.array([1.0, 0.5, 0.25])
    t0 = 2.0 * g ** -4.0
    gm, alpha, err = local_slopes(g, t0, 0.1 * t0)
    assert np.allclose(gm, [np.sqrt(0.125), np.sqrt(0.5)]) and np.allclose(alpha, 4.0)
    assert np.allclose(err, np.hypot(0.1, 0.1) / np.log(2))
    fit = fit_t0_model("stretched", *synthetic("stretched")[:3])
    gg = np.array([0.2, 0.5])
    h = 1e-6
    numeric = -(np.log(t0_model_curve(fit, gg * (1 + h))) - np.log(t0_model_curve(fit, gg))) / np.log(1 + h)
    assert np.allclose(model_local_slope(fit, gg), numeric, rtol=1e-4)


def test_bad_input_is_refused():
    with pytest.raises(ObservableError) as info:
        fit_t0_model("cubic", G, G, G)
    assert info.value.key == "model"
    with pytest.raises(ObservableError) as info:
        fit_t0_model("stretched", G[:3], G[:3] ** -4, 0.1 * G[:3] ** -4)
    assert info.value.key == "g"
