"""The overview figure marks the chain's regions: the bath of the model and the bubble of the
initial state, at the edges half-way between sites, on every heat map."""

import matplotlib
from helpers import small_config

import tnmbl
from tnmbl.evolution.figures import plot_result, regions
from tnmbl.runs import runner
from tnmbl.runs.config import validate_config

matplotlib.use("Agg")


def _edges(fig):
    """x of the vertical region lines of each heat-map axis (lines with constant x)."""
    out = []
    for ax in fig.axes:
        xs = sorted({float(line.get_xdata()[0]) for line in ax.lines
                     if len(set(map(float, line.get_xdata()))) == 1 and line.get_label() != "_nolegend_"
                     and line.get_linestyle() in (":", "-") and len(line.get_xdata()) == 2})
        if xs:
            out.append(xs)
    return out


def test_bubble_region_of_a_run_is_marked(tmp_path):
    raw = small_config(tmp_path)  # Bose-Hubbard L = 6, bubble on [2, 4)
    res = tnmbl.load(runner.run(validate_config(raw, name="x")).results)
    assert regions(res) == [("bubble", (2, 4))]
    fig = plot_result(res)
    edges = _edges(fig)
    assert edges and all(xs == [1.5, 3.5] for xs in edges)  # density and energy_density maps


def test_bath_of_the_model_is_marked_and_plain_chains_have_no_marks():
    bath = tnmbl.models.xxz_with_bath(L=8, bath=(0, 3), seed=1)
    res = tnmbl.evolve(bath, tnmbl.states.neel(bath), "tebd2", dt=0.05, t_final=0.2, chi_max=8,
                       observables=["density"])
    assert regions(res) == [("bath", (0, 3))]
    assert _edges(plot_result(res)) == [[-0.5, 2.5]]
    plain = tnmbl.models.xxz(L=8, seed=1)
    res = tnmbl.evolve(plain, tnmbl.states.neel(plain), "tebd2", dt=0.05, t_final=0.2, chi_max=8,
                       observables=["density"])
    assert regions(res) == [] and _edges(plot_result(res)) == []


def test_log_spaced_times_get_log_time_axes_and_phi_its_level(tmp_path):
    """A classical batch with n_log output times: every time axis is logarithmic and the phi
    panel carries the 0.9 level of t0, labelled; evenly spaced times keep linear axes."""
    from tnmbl.states import classical as cs

    chain = tnmbl.models.rotor(8, 1.0)
    state = cs.gibbs(chain, 8, beta=1.0, seed=0)
    res = tnmbl.evolve(chain, state, "leapfrog", dt=0.05, t_final=50.0, n_log=20, observables=["density", "phi"])
    fig = plot_result(res)
    time_axes = [ax for ax in fig.axes if ax.get_xlabel().startswith("time t [")]
    assert time_axes and all(ax.get_xscale() == "log" for ax in time_axes)
    maps = [ax for ax in fig.axes if ax.get_ylabel().startswith("time t [")]
    assert maps and all(ax.get_yscale() == "symlog" for ax in maps)
    (phi_ax,) = [ax for ax in fig.axes if ax.get_title() == "batch averages"]
    level = [line for line in phi_ax.lines if line.get_label() == "phi = 0.9 (t0 level)"]
    assert level and set(level[0].get_ydata()) == {0.9}
    out = res.plot(tmp_path / "log.png")
    assert out.stat().st_size > 0
    even = tnmbl.evolve(chain, state, "leapfrog", dt=0.05, t_final=2.0, output_dt=0.5, observables=["phi"])
    assert all(ax.get_xscale() == "linear" for ax in plot_result(even).axes)
