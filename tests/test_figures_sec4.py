"""mdln.figures.sec4 draws Section 4's results: Figures 4 and 7, the λ-collapse, batches, widget frames."""
import dataclasses

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mdln.experiments import sec4 as E  # noqa: E402
from mdln.figures import sec4 as F  # noqa: E402
from mdln.status import Status  # noqa: E402


@pytest.fixture(scope="module")
def r4():
    return F.fig4(F.Fig4Config.preset("test"))


def test_fig4_is_the_experiment_with_a_plot(r4):
    core = E.run_fig4(E.Fig4Config.preset("test"))
    assert isinstance(r4, E.Fig4Result) and r4.config == core.config
    for k, v in core.arrays().items():
        np.testing.assert_array_equal(r4.arrays()[k], v, err_msg=k)
    assert r4.summary().keys() == core.summary().keys()
    fig = r4.plot()
    assert len(fig.axes) == 8             # 2×2: three heatmaps, the capped-run map, their colour bars
    plt.close(fig)
    fig = F.plot_fig4(core)                # the plot takes the core result itself
    hatched = [p for p in fig.axes[0].patches if p.get_hatch() == "///"]
    assert len(hatched) == int(core.cell_diverged.sum())
    plt.close(fig)


def test_plot_fig4_draws_into_given_axes(r4):
    fig, axes = plt.subplots(2, 2)
    assert F.plot_fig4(r4, axes=axes) is fig
    assert axes[1, 1].get_title().startswith(f"runs (of {r4.status.shape[-1]})")
    plt.close(fig)


def test_presets_and_registry_entries():
    with pytest.raises(ValueError, match="fidelity"):
        F.Fig4Config.preset("huge")
    assert set(F.FIGURES) == {"fig4", "fig7"}
    assert F.FIGURES["fig4"]["experiment"] is E.run_fig4 and F.FIGURES["fig4"]["plot"] is F.plot_fig4
    assert F.FIGURES["fig7"]["experiment"] is E.run_fig7 and F.FIGURES["fig7"]["plot"] is F.plot_fig7
    assert F.lambda_collapse is E.lambda_collapse and F.Fig4Config is E.Fig4Config


def test_plot_collapse_bars_are_the_eta_squared(r4):
    fig = F.plot_collapse(r4)
    eta = F.lambda_collapse(r4)
    bars = [p.get_height() for p in fig.axes[3].patches]
    np.testing.assert_allclose(bars, [eta[n + s] for s in ("_lam", "_gamma")
                                      for n in ("test_loss", "delta_norm", "l1")])
    plt.close(fig)


def test_fig7_plot(r4):
    r7 = F.fig7(F.Fig7Config.preset("test"))
    assert isinstance(r7, E.Fig7Result) and hasattr(r7.fig4, "plot")
    fig = r7.plot()
    assert "correlation" in fig.axes[2].get_title() or any("correlation" in a.get_title() for a in fig.axes)
    plt.close(fig)


def test_d2_table_is_the_rows_of_the_experiment():
    cfg = F.D2Config(ratios=(1.0,), horizon=10.0, n=10, d=15, s=3)
    np.testing.assert_array_equal(F.d2_table(cfg), E.run_d2(cfg).rows)


def test_plot_stochastic_one_series_per_batch_size():
    res = F.stochastic_batches(F.StochasticConfig.preset("test"))
    fig = F.plot_stochastic(res)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == [f"B = {B}" for B in res]
    plt.close(fig)


def test_widget_frame_data(r4):
    fig = plt.figure()
    res = F.draw_smgd_frame(fig, (0.1, 0.5), r4, max_steps=5000)
    assert res.trajectory.steps[-1] == res.steps <= 5000
    assert res.gamma == 0.1 and res.beta == 0.5
    assert len(fig.axes) == 4
    plt.close(fig)


def test_widget_update_moves_data_not_axes(r4):
    fig = plt.figure()
    fr = F.SMGDFrame(fig, r4, max_steps=300)
    axes_before = list(fig.axes)
    r = fr.update((0.01, 0.0))                      # 300 steps at γ = 0.01 cannot reach train loss 1e-8
    assert r.code == Status.STEP_CAP and "cut short" in fr.cut_text.get_text()
    np.testing.assert_array_equal(fr.theta_pts.get_ydata(), r.theta)
    assert "λ = 0.01" in fr.title.get_text()
    cell = fr.nearest_cell(0.01, 0.0)
    assert cell["beta"] == 0.0 and cell["runs"] == r4.status.shape[-1]
    r2 = fr.update((0.5, 0.0))
    assert fig.axes == axes_before                  # same axes, only data changed
    x, y = fr.marker.get_data()                     # the marker sits at the pixel of (γ, β)
    assert (x[0], y[0]) == fr.pixel_of(0.5, 0.0)
    assert r2.gamma == 0.5
    plt.close(fig)


def test_smgd_widget_sliders_span_the_grid_and_redraw(r4):
    box = F.smgd_widget(r4, max_steps=300, show=False)
    g, b = box.controls["gamma"], box.controls["beta"]
    assert 10 ** g.min == pytest.approx(r4.gammas[0]) and 10 ** g.max == pytest.approx(r4.gammas[-1])
    assert b.max == pytest.approx(r4.betas[-1])
    png = box.image.value
    box.move(gamma=float(r4.gammas[1]), beta=0.0)
    assert f"λ = γ/(1−β)² = {r4.gammas[1]:.4g}<" in box.readout_html.value
    assert box.image.value[:4] == b"\x89PNG" and box.image.value != png


def test_a_replaced_result_still_draws(r4):
    capped = dataclasses.replace(r4, status=np.full_like(r4.status, Status.STEP_CAP))
    fig = capped.plot()
    assert fig.axes[3].get_title() == f"runs (of {r4.status.shape[-1]}) stopped at the epoch cap"
    plt.close(fig)
