"""Tests of mdln.figures.sec3 at 'test' fidelity: figure contract, Prop. 2, Cor. 2 / C.5 tables, slider data;
the figure layer draws results of mdln.experiments.sec3."""
import json

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import mdln  # noqa: E402
from mdln.figures import sec3 as F  # noqa: E402


@pytest.fixture(scope="module")
def r3():
    return F.fig3(F.Fig3Config.preset("test"))


def test_fig3_contract_and_claims(r3):
    s = r3.summary()
    json.dumps(s)
    assert s["all_converged"] and s["worst_train_loss"] < 1e-20
    assert s["prop3_holds"]
    # μ = 1: λ = 0.05 keeps Δ_t > 0 and beats gradient flow; Theorem 1's distance is small there
    j = list(r3.config.lams).index(0.05)
    assert not r3.vanished[0, j]
    assert r3.test_loss[0, j] < r3.test_loss[0, 0]
    assert r3.distance[0, j] < 0.01
    assert np.all(r3.delta_norm[0, j] < r3.delta_norm[0, 0])
    assert set(r3.arrays()) >= {"lams", "test_loss", "delta_inf", "vanished"}
    # the book and paper presets contain GF (λ = 0) first
    for fid in ("book", "paper"):
        assert F.Fig3Config.preset(fid).lams[0] == 0.0
    with pytest.raises(ValueError, match="fidelity"):
        F.Fig3Config.preset("huge")
    plt.close(r3.plot())


def test_fig8_and_fig9_contract():
    r8 = F.fig8(F.Fig8Config.preset("test"))
    json.dumps(r8.summary())
    plt.close(r8.plot())
    r9 = F.fig9(F.Fig9Config.preset("test"))
    s = r9.summary()
    json.dumps(s)
    assert r9.test_loss.shape == (2, 1, 3)
    # centered data (μ = 0): λ changes the test loss by less than 10 %; uncentered (μ = 1): by more than 2x
    per = r9.per_mu()
    assert per["0"]["test_loss_range"] < 1.1 and per["1"]["test_loss_range"] > 2
    plt.close(r9.plot())
    for name in ("fig3", "fig8", "fig9", "fig3b"):
        assert set(F.FIGURES[name]) >= {"fn", "config", "title", "seconds", "experiment", "plot"}


def test_prop2_alvarez():
    p = mdln.implicit.prop2_demo(lam=0.5)
    assert p.distance <= 1e-8
    assert p.distance_to_gf_projection > 0.1     # the initial speed really moves the limit
    assert p.train_loss < 1e-20


def test_corollary2_and_small_lambda_tables():
    rows = F.corollary2_table(lams=(1e-3, 0.03))
    for lam, van, err in rows:
        assert not van and err <= 1e-3
    lams, sim, approx = F.small_lambda_table(lams=(1e-4, 1e-3))
    assert np.all(sim < 0)
    np.testing.assert_allclose(approx, sim, rtol=0.05)


def test_delta_path_and_frame():
    path = F.delta_path(log10_deltas=(-8.0, 0.0, 4.0))
    l1 = np.abs(path["thetas"]).sum(axis=1)
    assert l1[0] == pytest.approx(np.abs(path["l1"]).sum(), rel=1e-3)
    assert l1[-1] == pytest.approx(np.abs(path["l2"]).sum(), rel=1e-3)
    assert np.all(np.diff(l1) > 0)
    fig = plt.figure()
    F.draw_delta_frame(fig, -2.0, path)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_lambda_path_and_frame(r3):
    p = F.lambda_path(0.05)
    assert p["theta"].shape == (240, 30) and np.all(np.diff(p["t"]) >= 0)
    np.testing.assert_allclose(p["delta"][0], 1e-4, rtol=1e-12)
    ds = mdln.sparse_regression()
    assert float(p["test_loss"]) == pytest.approx(ds.test_loss(p["theta_final"]))
    fig = plt.figure()
    F.draw_lambda_frame(fig, 0.05, r3)
    assert len(fig.axes) >= 4
    plt.close(fig)


def test_fig3_full_theorem_columns(r3):
    """Theorem 1 in full on the Figure 3 runs: full distance at the solver floor, below the simplified one."""
    assert r3.distance_full.shape == r3.distance.shape
    assert np.max(r3.distance_full) <= 1e-6
    rows = F.theorem1_table(r3)
    assert [len(r) for r in rows] == [6] * (len(r3.lams) - 1)
    for lam, full, mx, mean, drop, nvan in rows:
        assert full <= mx and mean <= mx and drop >= 0


def test_fig3b_contract_and_rule():
    r = F.fig3b(F.SimplificationConfig.preset("test"))
    s = r.summary()
    json.dumps(s)
    assert s["n_runs"] == 4 and s["n_datasets"] == 2 and r.random_support.sum() == 2
    assert s["max_distance_full"] <= 1e-6
    # the first-order shift predicts the simplified distance to within a small factor
    ratio = r.distance / r.linearised
    assert np.all((ratio > 0.2) & (ratio < 5))
    rule = r.rule("linearised", level=1e-4)   # a level some test runs exceed, so the threshold is finite
    assert np.isfinite(rule["threshold"]) and rule["n_over_level"] >= 1
    assert np.all(r.distance[r.linearised < rule["threshold"]] < 1e-4)
    plt.close(r.plot())
    assert "fig3b" in F.FIGURES
    with pytest.raises(ValueError, match="fidelity"):
        F.SimplificationConfig.preset("huge")


def test_sliders_update_in_place(r3):
    """The Δ and λ views are built once; update() moves the same artists (no new axes)."""
    fig = mdln.widgets.agg_figure((8.6, 3.4))
    update = F.delta_view(fig, F.delta_path(log10_deltas=(-8.0, -4.0, 0.0)))
    n_axes = len(fig.axes)
    update(-4.0)
    stems = fig.axes[0].collections[0]
    seg_a = [s.copy() for s in stems.get_segments()]
    update(0.0)
    assert len(fig.axes) == n_axes
    assert not all(np.allclose(a, b) for a, b in zip(seg_a, stems.get_segments()))
    fig = mdln.widgets.agg_figure((9.0, 5.8))
    update = F.lambda_view(fig, r3, lams=(0.0, 0.05))
    update(0.05)
    fig.canvas.draw()
    assert "0.05" in fig.axes[3].get_title() and len(mdln.widgets.png_bytes(fig)) > 1000


def test_sparse_regression_random_support():
    a = mdln.sparse_regression(seed=12)
    b = mdln.sparse_regression(seed=12, support="random")
    np.testing.assert_array_equal(a.X, b.X)
    assert np.count_nonzero(b.theta_star) == 5 and not np.array_equal(a.theta_star, b.theta_star)
    np.testing.assert_allclose(b.y, b.X @ b.theta_star)
    with pytest.raises(ValueError, match="support"):
        mdln.sparse_regression(support="last")


def test_registry_pairs_each_experiment_with_its_plot():
    """The registry's experiment returns a core result; its plot draws that result (no .plot() needed)."""
    from mdln.experiments import sec3 as E
    for name, entry in F.FIGURES.items():
        assert entry["experiment"].__module__ == "mdln.experiments.sec3"
        assert entry["plot"].__module__ == "mdln.figures.sec3"
    cfg = F.Fig3Config.preset("test")
    res = F.FIGURES["fig3"]["experiment"](cfg)
    assert type(res) is E.Fig3Result and not hasattr(res, "plot")
    fig = F.FIGURES["fig3"]["plot"](res)
    assert len(fig.axes) == 2          # test loss and its twin ‖Δ∞‖₂ axis
    plt.close(fig)
    fig, ax = plt.subplots()
    assert F.plot_fig3(res, ax=ax) is fig
    plt.close(fig)
    wrapped = F.fig3(cfg)
    assert isinstance(wrapped, E.Fig3Result)
    for k, v in res.arrays().items():
        np.testing.assert_array_equal(wrapped.arrays()[k], v)


def test_the_chapters_config_calls_keep_working():
    """Chapter 3 builds ``Fig3Config(seeds=(0,))`` and reads ``config.seeds``."""
    cfg = F.Fig3Config(seeds=(0,))
    assert cfg.seeds == (0,) and cfg.data.seeds == (0,) and len(F.DELTA_GRID) == 49


def test_delta_slider_title_is_a_power_of_ten_inside_the_frame():
    """The Δ frame's title reads Δ = 10^k (mathtext), and lies inside the figure (not cut off at the top)."""
    fig = mdln.widgets.agg_figure((8.6, 3.4))
    update = F.delta_view(fig, F.delta_path(log10_deltas=(-8.0, -6.5, 0.0)))
    for log10_delta, shown in ((-8.0, "10^{-8}"), (-6.5, "10^{-6.5}")):
        update(log10_delta)
        title = fig.axes[0].title
        assert shown in title.get_text() and "1e" not in title.get_text()
        fig.canvas.draw()
        box = title.get_window_extent(fig.canvas.get_renderer())
        assert box.y1 <= fig.bbox.y1 and box.y0 >= 0
    plt.close(fig)


def test_lambda_slider_says_why_gradient_flows_delta_panel_is_one_line(r3):
    """At λ = 0 the Δ_t panel's lines coincide (Δ_t is conserved); the frame says so, and only that frame."""
    fig = mdln.widgets.agg_figure((9.0, 5.8))
    update = F.lambda_view(fig, r3, lams=(0.0, 0.05))

    def note():
        return " ".join(t.get_text() for t in fig.axes[1].texts)
    update(0.0)
    assert "conserves" in note() and "10^{-4}" in note()
    lines = [ln.get_ydata() for ln in fig.axes[1].lines]
    assert all(np.allclose(y, 1e-4, rtol=1e-3) for y in lines)
    update(0.05)
    assert note().strip() == ""
    plt.close(fig)
