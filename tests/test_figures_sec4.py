"""Figures 4 and 7, the λ-collapse, Appendix D.2 and the widget frames at "test" fidelity."""
import dataclasses
import json

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mdln.figures import sec4 as F  # noqa: E402
from mdln.status import Status  # noqa: E402


@pytest.fixture(scope="module")
def r4():
    return F.fig4(F.Fig4Config.preset("test"))


def test_fig4_contract(r4):
    cfg = F.Fig4Config.preset("test")
    assert r4.test_loss.shape == (cfg.n_gamma, cfg.n_beta, len(cfg.seeds))
    s = r4.summary()
    json.dumps(s)                         # plain JSON-able
    assert s["runs"] == cfg.n_gamma * cfg.n_beta * len(cfg.seeds)
    # the three statuses partition the runs; converged is recounted from the train losses against tol
    assert s["converged"] + s["step_cap"] + s["diverged"] == s["runs"]
    assert s["converged"] == np.sum(np.isfinite(r4.train_loss) & (r4.train_loss < cfg.tol))
    assert np.all(r4.train_loss[r4.status == 1] >= cfg.tol)
    assert s["diverged"] > 0              # γ = 3 diverges: hatched cells exist
    assert r4.cell_diverged[-1].all()
    for k, v in r4.arrays().items():
        assert isinstance(v, np.ndarray), k
    fig = r4.plot()
    assert len(fig.axes) == 8             # 2×2: three heatmaps, the capped-run map, their colour bars
    plt.close(fig)


def test_fig4_theorem2_and_corollary3(r4):
    s = r4.summary()
    assert s["theorem2_worst_converged"] <= 1e-6
    conv = r4.status == 0
    calm = conv & ~r4.crossed
    np.testing.assert_array_equal(r4.cor3_ok[calm], True)       # Corollary 3 wherever it applies


def test_fig4_norm_dist_only_on_converged(r4):
    assert np.all(np.isnan(r4.norm_dist))               # off by default (mdln.theorems has both forms)
    import dataclasses
    r = F.fig4(dataclasses.replace(F.Fig4Config.preset("test"), distances=True))
    nd = r.norm_dist
    assert np.all(np.isnan(nd[r.status != 0]))
    assert np.all(np.isfinite(nd[r.status == 0]))


def test_presets():
    # the paper preset is checked against the paper's set-up in tests/test_figures_registry.py
    with pytest.raises(ValueError, match="fidelity"):
        F.Fig4Config.preset("huge")
    assert set(F.FIGURES) == {"fig4", "fig7"}


def test_eta_squared_reference_values():
    from mdln.grid import eta_squared
    assert F.eta_squared is eta_squared                  # one η², in mdln.grid (also used by Figures 2, 6)
    x = np.repeat(np.arange(5.0), 4)
    assert eta_squared(x, x * 2 + 1, n_bins=5) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(x.size)
    # values constant within bins plus noise: η² is the between-bin share of the variance
    v = x + 0.01 * noise
    assert 0.99 < eta_squared(x, v, n_bins=5) < 1.0
    assert eta_squared(rng.standard_normal(2000), rng.standard_normal(2000), n_bins=5) < 0.01


def test_lambda_collapse_on_synthetic_result(r4):
    # a quantity that is an exact function of λ is fully explained by log λ
    fake = r4.__class__(**{**{f: getattr(r4, f) for f in r4.__dataclass_fields__},
                           "status": np.zeros_like(r4.status),
                           "delta_norm": np.broadcast_to(r4.lam[..., None] ** 2, r4.delta_norm.shape).copy()})
    eta = F.lambda_collapse(fake, n_bins=50)
    assert eta["delta_norm_lam"] > 0.999


def test_fig7_test_fidelity():
    r7 = F.fig7(F.Fig7Config.preset("test"))
    assert r7.mgf_log_test.shape == (3, 1)
    ok = np.isfinite(r7.mgd_cells)
    np.testing.assert_array_equal(ok, np.isfinite(r7.mgf_cells))
    s = r7.summary()
    assert s["cells_all"] == ok.sum() == np.sum(~r7.fig4.cell_diverged)
    # Pearson correlation recomputed with numpy from the two heatmaps
    a, b = r7.mgd_cells[ok], r7.mgf_cells[ok]
    ref = np.sum((a - a.mean()) * (b - b.mean())) / np.sqrt(np.sum((a - a.mean()) ** 2) * np.sum((b - b.mean()) ** 2))
    assert s["correlation_all"] == pytest.approx(ref, rel=1e-12)
    # converged cells recounted from the train losses: every mgf_seeds run below tol, none diverged
    c4 = r7.config.fig4
    ridx = [list(c4.seeds).index(k) for k in r7.config.mgf_seeds]
    tl = r7.fig4.train_loss[:, :, ridx]
    assert np.all((r7.fig4.status[:, :, ridx] == 0) == (np.isfinite(tl) & (tl < c4.tol)))
    conv = ok & np.all(np.isfinite(tl) & (tl < c4.tol), axis=-1)
    assert s["cells_converged"] == conv.sum()
    a, b = r7.mgd_cells[conv], r7.mgf_cells[conv]
    if conv.sum() > 2:
        assert s["correlation_converged"] == pytest.approx(np.corrcoef(a, b)[0, 1], rel=1e-12)
    else:
        assert np.isnan(s["correlation_converged"])
    assert s["mean_abs_gap_decades_all"] == pytest.approx(np.mean(np.abs(r7.mgd_cells - r7.mgf_cells)[ok]))
    plt.close(r7.plot())


def test_d2_factor():
    rows = F.d2_table(F.D2Config(ratios=(1.0, 0.5), horizon=20.0, n=10, d=15, s=3))
    eps, gamma, beta = rows[:, 0], rows[:, 1], rows[:, 2]
    np.testing.assert_allclose(gamma / (1 - beta) ** 2, 0.01)      # fixed λ
    np.testing.assert_allclose(gamma / (1 - beta), eps)
    gap_raw, gap_half = rows[:, 6], rows[:, 7]
    # without the (1+β)/2 factor the sums differ by about (1−β)/2; with it the gap shrinks with ε
    np.testing.assert_allclose(gap_raw, (1 - beta) / 2, rtol=0.2)
    assert np.all(gap_half < gap_raw) and gap_half[1] < gap_half[0]


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
    assert r.status == Status.STEP_CAP and "cut short" in fr.cut_text.get_text()
    np.testing.assert_array_equal(fr.theta_pts.get_ydata(), r.theta)
    assert "λ = 0.01" in fr.title.get_text()
    cell = fr.nearest_cell(0.01, 0.0)
    assert cell["beta"] == 0.0 and cell["runs"] == r4.status.shape[-1]
    r2 = fr.update((0.5, 0.0))
    assert fig.axes == axes_before                  # same axes, only data changed
    # the marker sits in the heatmap image at the pixel of (γ, β)
    x, y = fr.marker.get_data()
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


def test_cell_capped_partition(r4):
    # each cell is exactly one of: all converged, some diverged, or (no divergence and) some capped
    conv, div, cap = r4.cell_converged, r4.cell_diverged, r4.cell_capped
    np.testing.assert_array_equal(conv.astype(int) + div.astype(int) + cap.astype(int), 1)


def test_capped_runs_against_a_per_run_loop(r4):
    """capped_runs(): the runs with status 1, their ε = γ/(1−β) and train losses, recounted run by run."""
    eps, loss = [], []
    G, Bt, R = r4.status.shape
    for i in range(G):
        for j in range(Bt):
            for k in range(R):
                if r4.status[i, j, k] == 1:
                    eps.append(r4.gammas[i] / (1 - r4.betas[j]))
                    loss.append(r4.train_loss[i, j, k])
    cr = r4.capped_runs()
    assert cr["n"] == len(eps)
    if eps:
        assert cr["eps_median"] == pytest.approx(np.median(eps), rel=1e-12)
        assert cr["train_loss_median"] == pytest.approx(np.median(loss), rel=1e-12)
        assert cr["train_loss_max"] == max(loss) and all(l >= r4.config.tol for l in loss)
    capped = dataclasses.replace(r4, status=np.ones_like(r4.status))
    assert capped.capped_runs()["n"] == r4.status.size


def test_lambda_labels_outlined_inside_the_axes(r4):
    """Figure 4's λ = 10^k labels: one per visible level, outlined (path effects), inside the axes box."""
    fig = r4.plot()
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text().startswith("λ = ")]
    assert labels
    box = ax.get_window_extent()
    for t in labels:
        assert t.get_path_effects(), t.get_text()
        bb = t.get_window_extent()
        assert box.x0 - 1 <= bb.x0 and bb.x1 <= box.x1 + 1 and box.y0 - 1 <= bb.y0 and bb.y1 <= box.y1 + 1
    levels = [float(t.get_text().split("=")[1]) for t in labels]
    assert len(set(levels)) == len(levels) and all(np.log10(v) == round(np.log10(v)) for v in levels)
    plt.close(fig)


def test_l1_panel_in_its_own_units(r4):
    """The ‖θ‖₁ panel shows the geometric mean of ‖θ‖₁ over data sets, not its log₁₀."""
    fig = r4.plot()
    mesh = fig.axes[2].collections[0]
    shown = np.ma.masked_invalid(mesh.get_array()).ravel()
    ref = (10 ** r4.cell_mean("l1")).ravel()
    ok = ~np.ma.getmaskarray(shown)
    assert ok.any()
    np.testing.assert_allclose(np.asarray(shown)[ok], ref[ok], rtol=1e-12)
    assert np.all(np.asarray(shown)[ok] > 0.1)      # ‖θ‖₁ ≈ ‖θ*‖₁ = √3 here, not a log
    plt.close(fig)


def test_floored_moves_only_values_below_the_floor():
    v = np.array([-3.0, -5.0, -12.5, -40.0, np.nan])
    level = F.band_level(v, floor=-12)
    assert level == -6.0                          # one unit under the lowest real value, not at -40
    y, n = F.floored(v, floor=-12)
    assert n == 2
    np.testing.assert_array_equal(y[:2], v[:2])
    np.testing.assert_array_equal(y[2:4], level)
    assert np.isnan(y[4])
    fig, ax = plt.subplots()
    ax.plot([0, 1], [-3, -5])
    F.floor_band(ax, n, level, floor=-12)
    assert ax.get_ylim()[0] > -7 and any("2 cells below 10⁻¹²" in t.get_text() for t in ax.texts)
    plt.close(fig)


def test_path_grid_diagonals_share_lambda():
    g, b = F.path_grid(6)
    lam = g[:, None] / (1 - b[None, :]) ** 2
    np.testing.assert_allclose(lam[1:, :-1], lam[:-1, 1:], rtol=1e-12)   # (i+1, j) and (i, j+1)
    np.testing.assert_allclose(g[1:] / g[:-1], 2.0)                      # increasing, as sliders need
    assert g[-1] == 0.2 and b[0] == 0.0 and np.all(np.diff(b) > 0) and b[-1] < 1


def test_path_frame_at_dpi_100(r4):
    fig = F.smgd_path_frame(0.1, 0.5, r4, horizon=20.0)
    assert fig.dpi == 100 and fig.get_figwidth() <= 7.8
    title = fig._suptitle.get_text()
    assert "λ = γ/(1−β)² = 0.4" in title and "ε = γ/(1−β) = 0.2" in title
    a0 = fig.axes[0]
    assert r"$\theta^\star_i$" in [t.get_text() for t in a0.get_legend().get_texts()]   # mathtext, not "θ*"
    assert any(len(line.get_xdata()) for line in a0.lines)
    fig.canvas.draw()


def test_glue_strings_and_tables(r4):
    g = r4.glue_strings()
    assert all(k.startswith("ch4_") and isinstance(v, str) for k, v in g.items())
    assert g["ch4_runs"] == str(r4.status.size)
    html = F.theorem2_runs_html([F.widget_run(r4.config, 0.1, 0.5, 0, 3000)[1]], ["one run"]).data
    assert html.count("<table>") == 1 and html.count("<tr>") == 2
