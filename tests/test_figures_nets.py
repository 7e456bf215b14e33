"""Tests of mdln.figures.nets (Figures 2 and 6) at the tiny "test" fidelity, and of the λ quantification."""
import dataclasses
import json

import numpy as np
import pytest

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import mdln
from mdln import nets
from mdln.figures import nets as fig_nets  # noqa: E402


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MDLN_NO_CACHE", raising=False)
    return tmp_path


def _check_contract(res, config_cls, tmp_cache):
    assert res.config == config_cls.preset("test")
    summary = res.summary()
    json.dumps(summary)                                   # plain JSON-able
    arrays = res.arrays()
    for name, a in arrays.items():
        assert isinstance(a, np.ndarray) and not np.any(np.isnan(a)), name
    assert list(tmp_cache.glob("*.npz")), "result was not cached on disk"
    fig = res.plot()
    hatched = [p for ax in fig.axes for p in ax.patches if p.get_hatch()]
    assert len(hatched) == int(np.sum(res.status == nets.DIVERGED)) * (len(fig.axes) // 2)
    plt.close(fig)
    return summary


def test_fig2_test_fidelity(tmp_cache):
    cfg = fig_nets.Fig2Config.preset("test")
    res = fig_nets.fig2(cfg)
    assert res.test_loss.shape == (cfg.n_gamma, cfg.n_beta)      # the one grid layout: rows γ
    s = _check_contract(res, fig_nets.Fig2Config, tmp_cache)
    assert s["n_converged"] + s["n_step_cap"] + s["n_diverged"] == cfg.n_gamma * cfg.n_beta
    conv = res.status == nets.CONVERGED
    assert s["n_converged"] > 0 and np.all(res.train_loss[conv] <= cfg.tol)
    assert np.all(res.test_loss[res.status == nets.DIVERGED] == np.inf)
    again = fig_nets.fig2(cfg)                             # from the cache: identical
    np.testing.assert_array_equal(again.test_loss, res.test_loss)
    np.testing.assert_array_equal(again.steps, res.steps)
    np.testing.assert_allclose(res.lam, res.gammas[:, None] / (1 - res.betas[None, :]) ** 2)


def test_fig6_test_fidelity(tmp_cache):
    cfg = fig_nets.Fig6Config.preset("test")
    res = fig_nets.fig6(cfg)
    assert res.test_loss_reps.shape == (cfg.n_reps, cfg.n_gamma, cfg.n_beta)
    s = _check_contract(res, fig_nets.Fig6Config, tmp_cache)
    ok = res.status != nets.DIVERGED
    np.testing.assert_allclose(res.test_loss[ok], res.test_loss_reps.mean(axis=0)[ok], rtol=1e-14)
    assert s["n_reps"] == cfg.n_reps and "train_r2_log_lam" in s


def test_fig6_replication_uses_data_and_population_loss(tmp_cache):
    # rerun one grid cell by hand: replication r = data seed + r, exact population test loss
    cfg = dataclasses.replace(fig_nets.Fig6Config.preset("test"), n_gamma=2, n_beta=2, n_reps=1)
    res = fig_nets.fig6(cfg)
    import mdln
    ds = mdln.sparse_regression(n=cfg.n, d=cfg.widths[0], s=cfg.s, seed=cfg.seed)
    net = nets.DeepLinearNet(ds.X, ds.y, cfg.widths)
    w0 = nets.deep_linear_init(net.widths, np.random.default_rng([cfg.seed, 0, 6]), cfg.init_std)
    w = mdln.mgd(net.grad, w0, res.gammas[1], res.betas[0], cfg.epochs + 1)[-1]
    assert res.test_loss[1, 0] == pytest.approx(ds.test_loss(net.end_to_end(w)), rel=1e-8)
    assert res.train_loss[1, 0] == pytest.approx(net.loss(w), rel=1e-8)


def test_quantification_on_synthetic_surfaces():
    gammas, betas = mdln.grid.omb_axes(15, 14, 1e-3, 1.0, 1e-2)
    G, B = np.meshgrid(gammas, betas, indexing="ij")      # (γ, β), the layout of mdln.grid
    log_lam = np.log10(G / (1 - B) ** 2)
    valid = np.ones(G.shape, bool)
    levels = mdln.grid.lam_levels(gammas, betas)
    q = mdln.grid.lambda_quantification(log_lam, gammas, betas, valid, levels, n_bins=30)
    assert q["r2_log_lam"] > 0.99
    assert q["r2_log_gamma"] < 0.9 and q["r2_log_one_minus_beta"] < 0.9
    assert q["spread_along"] < 1e-12 < q["spread_across"]      # exactly constant along λ lines
    q = mdln.grid.lambda_quantification(np.log10(G), gammas, betas, valid, levels, n_bins=30)
    assert q["r2_log_gamma"] > 0.99 and q["r2_log_lam"] < q["r2_log_gamma"]
    assert q["spread_along"] > 0.3 * q["spread_across"]
    rng = np.random.default_rng(0)
    q = mdln.grid.lambda_quantification(rng.standard_normal(G.shape), gammas, betas, valid, levels)
    assert max(q["r2_log_lam"], q["r2_log_gamma"], q["r2_log_one_minus_beta"]) < 0.2


def test_presets_and_registry():
    for C in (fig_nets.Fig2Config, fig_nets.Fig6Config):
        assert C.preset("book") == C()
        assert C.preset("paper") != C()
        with pytest.raises(ValueError, match="fidelity"):
            C.preset("huge")
    assert fig_nets.Fig2Config().n_gamma >= 15 and fig_nets.Fig2Config().n_beta >= 15
    assert fig_nets.Fig6Config().n_gamma >= 12 and fig_nets.Fig6Config().epochs == 1000
    assert set(fig_nets.FIGURES) == {"fig2", "fig6"}
    for entry in fig_nets.FIGURES.values():
        assert set(entry["seconds"]) == {"test", "book", "paper"}


def test_fig_validation():
    with pytest.raises(ValueError, match="config"):
        fig_nets.fig2(fig_nets.Fig6Config())
    with pytest.raises(ValueError, match="gamma_max"):
        fig_nets.fig2(fig_nets.Fig2Config(gamma_min=1.0, gamma_max=0.5))
    with pytest.raises(ValueError, match="one_minus_beta_min"):
        fig_nets.fig6(fig_nets.Fig6Config(one_minus_beta_min=1.5))
    with pytest.raises(ValueError, match="n_reps"):
        fig_nets.fig6(fig_nets.Fig6Config(n_reps=0))


def test_transient_progress_restores_tqdm_and_reraises():
    import tqdm.auto
    from mdln.figures.nets import transient_progress
    before = tqdm.auto.tqdm
    with pytest.raises(ZeroDivisionError):
        with transient_progress():
            assert tqdm.auto.tqdm is not before        # plain-text bars inside the block
            1 / 0
    assert tqdm.auto.tqdm is before


def test_fig2_lambda_labels_are_outlined_inside_the_axes_and_the_beta_axis_says_its_spacing(tmp_cache):
    res = fig_nets.fig2(fig_nets.Fig2Config.preset("test"))
    fig = res.plot()
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text().startswith("λ=")]
    assert labels
    box = ax.get_window_extent()
    for t in labels:
        assert t.get_path_effects(), t.get_text()     # white text with a dark outline: legible on any cell
        bb = t.get_window_extent()
        assert box.x0 <= bb.x0 and bb.x1 <= box.x1 and box.y0 <= bb.y0 and bb.y1 <= box.y1, t.get_text()
    assert "−log(1−β)" in ax.get_ylabel()
    plt.close(fig)


def test_lambda_label_spot_prefers_converged_cells():
    xe, ye = np.arange(5.0), np.arange(5.0) / 2          # 4 × 4 cells; the line x = log10(λ) − 2y
    status = np.full((4, 4), nets.DIVERGED)
    status[1, :] = nets.CONVERGED                         # only column 1 (x in [1, 2]) converged
    x, y = fig_nets._label_spot(10 ** 3.0, xe, ye, status)
    assert 1 <= x <= 2 and abs(x - (3.0 - 2 * y)) < 1e-9  # on the line, on a converged cell
    assert fig_nets._label_spot(10 ** -5.0, xe, ye, status) is None   # the line misses the axes
