"""Figure 1 at test fidelity: the measured claims of Section 2 hold."""
import matplotlib
import matplotlib.text
import numpy as np
import pytest

from mdln.figures import sec2


@pytest.fixture(scope="module")
def result():
    return sec2.fig1(sec2.Fig1Config.preset("test"))


def test_fig1_gaps_below_five_percent(result):
    s = result.summary()
    assert s["gap_gd_gf"] <= 0.05
    assert s["gap_mgd_mgf"] <= 0.05
    assert s["accel_gap_rho2"] <= 0.05 and s["accel_gap_rho4"] <= 0.05
    assert 0.9 <= s["gap_loglog_slope"] <= 1.15
    # the Grönwall-type bound is orders of magnitude looser than what is measured
    assert np.all(result.gap_bound > 10 * result.gap_values)


def test_fig1_paths_end_near_minimum(result):
    for path in (result.gf_path, result.mgf_path):
        assert np.linalg.norm(path[-1]) < np.linalg.norm(path[0])
    # acceleration rule: MGD(ρ²γ, 1 − ρ(1 − β)) has the same λ and step ρε, so its k-th iterate sits
    # at the same continuous time as MGD(γ, β)'s (ρk)-th: the paths agree there, not index by index
    rho = int(result.config.rho)
    fast, slow = result.fast_path, result.mgd_path
    k = min(len(fast), (len(slow) - 1) // rho + 1)
    scale = np.linalg.norm(slow[0])
    assert np.max(np.linalg.norm(fast[:k] - slow[: rho * (k - 1) + 1: rho], axis=1)) < 0.05 * scale
    assert np.max(np.linalg.norm(fast[:k] - slow[:k], axis=1)) > 0.1 * scale


def test_book_config_claims():
    r = sec2.fig1(sec2.Fig1Config())
    s = r.summary()
    assert max(s["gap_gd_gf"], s["gap_mgd_mgf"], s["accel_gap_rho2"], s["accel_gap_rho4"]) <= 0.05
    assert 0.95 <= s["gap_loglog_slope"] <= 1.1


def test_regimes():
    rg = sec2.regimes()
    gaps = rg.gap_gd_equiv
    assert np.all(np.diff(gaps) < 0)          # γ → 0: MGD approaches GD(γ/(1−β))
    assert gaps[-1] < 0.01 and gaps[-1] < 0.1 * gaps[0]   # the gap shrinks ~linearly in γ
    # β → 1: the last loss of the heaviest momentum is far above the lightest one's
    assert rg.losses_large[-1][-1] > 1e3 * rg.losses_large[0][-1]


def test_slider_frames_are_consistent():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure()
    W, Wc = sec2.draw_mgd_mgf_frame(fig, (0.01, 0.9))
    assert np.max(np.linalg.norm(W - Wc, axis=1)) < 0.05 * np.linalg.norm(W[0])
    fig.clf()
    W, W_hat = sec2.draw_acceleration_frame(fig, 2.0)
    assert np.max(np.linalg.norm(W_hat[: len(W) // 2] - W[: 2 * (len(W) // 2): 2], axis=1)) < 0.05
    plt.close(fig)


def test_preset_rejects_unknown_fidelity():
    with pytest.raises(ValueError, match="fidelity"):
        sec2.Fig1Config.preset("huge")


def test_live_widgets_show_lambda_and_change_the_picture():
    box = sec2.mgd_mgf_widget()                      # starts at the Figure 1 (γ, β) = (0.01, 0.9)
    text1, png1 = box.readout_html.value, box.image.value
    box.move(gamma=0.04, beta=0.8)
    text2, png2 = box.readout_html.value, box.image.value
    assert "λ = γ/(1−β)² = 1<" in text1 and "ε = γ/(1−β) = 0.1" in text1 and "ε = γ/(1−β) = 0.2" in text2
    assert png1[:8] == b"\x89PNG\r\n\x1a\n" and png1 != png2
    box = sec2.acceleration_widget()
    box.controls["rho"].value = 4.0
    text, png = box.readout_html.value, box.image.value
    assert "λ = 1<" in text and "ε̂ = 0.4" in text and png[:4] == b"\x89PNG"


def test_power10_text():
    assert sec2.power10_text(1.49e15) == "1.5·10¹⁵"
    assert sec2.power10_text(9.99e-4) == "1·10⁻³"
    assert sec2.power10_text(-2.5e3) == "-2.5·10³"


def test_registry_pairs_the_experiment_with_its_plot(result):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    entry = sec2.FIGURES["fig1"]
    assert entry["experiment"].__module__ == "mdln.experiments.sec2"
    core = entry["experiment"](result.config)
    assert not hasattr(core, "plot")
    fig = entry["plot"](core)
    assert len(fig.axes) == 4
    plt.close(fig)
    fig = sec2.plot_speedups(core)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_explorer_frames_are_legible_on_a_phone_and_the_flow_is_drawn_over_the_iterates():
    from mdln.widgets import displayed_text_px
    fig = sec2.mgd_mgf_figure(0.01, 0.0)             # β = 0: the densest dots of the grid
    fig.canvas.draw()
    ax = fig.axes[0]
    dots, flow = (next(l for l in ax.lines if l.get_label() == lab)
                  for lab in ("MGD($\\gamma,\\beta$)", "MGF($\\lambda$)"))
    assert flow.get_zorder() > dots.get_zorder()      # the MGF curve stays visible on the dots
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]
    # a 7 in frame at dpi 100 is shown ~368 px wide on a 400 px phone: 10 pt text stays >= 7 px
    assert fig.get_figwidth() == sec2.SLIDER_FIGSIZE[0]
    assert displayed_text_px(min(sizes), fig.get_figwidth(), 100, column_px=368) >= 7


def test_explorer_grid_holds_runs_of_equal_lambda():
    lams = {}
    for g in sec2.EXPLORER_GAMMAS:
        for b in sec2.EXPLORER_BETAS:
            lams.setdefault(round(float(sec2.lam(g, b)), 9), []).append((g, b))
    assert len(lams[1.0]) >= 3                        # the caption's λ = 1 pairs
    out = sec2.mgd_mgf_explorer(gammas=(0.01, 0.04), betas=(0.8, 0.9))
    assert out.gammas == (0.01, 0.04) and out.n_bytes < 4 * 60_000
    assert 'data-text-px="13.89"' in out.data        # 10 pt at dpi 100
