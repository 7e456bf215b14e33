"""Appendix A: the central-difference discretisation and its λ' = (1+β)γ/(2(1−β)²)."""
import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import mdln
from mdln.figures.appendix_a import FIGURES, FigAConfig, FigAResult, figA


@pytest.fixture(scope="module")
def quad():
    return FigAConfig().quadratic()


@pytest.fixture(scope="module")
def result():
    return figA(FigAConfig.preset("test"))


def test_figA_identities_and_gaps(result):
    s = result.summary()
    json.dumps(s)
    assert s["n_diverged"] == 0
    assert s["max_ratio_error"] < 1e-14
    # both λ and λ' track MGD within a few percent, and better as β → 1 at fixed λ (ε = λ(1−β) → 0)
    for pre in ("quad", "dln"):
        for key in ("gap_lam", "gap_lamp", "gap_lamp2"):
            g = getattr(result, f"{pre}_{key}")
            assert np.all(g > 0) and np.all(g < 0.1), (pre, key, g)
            assert g[-1] < g[0], (pre, key, g)
        # with MGD's usual start w1 = w0 both flows are first-order approximations ...
        assert 0.6 < s[f"{pre}_order_lam"] < 1.5
        assert 0.6 < s[f"{pre}_order_lamp"] < 1.5
        # ... and the consistent start makes the central scheme second order against MGF(λ')
        assert 1.7 < s[f"{pre}_order_lamp2"] < 2.6
    # MGF(λ) does not depend on β: the same flow at every β
    assert np.ptp(result.dln_test_lam) < 1e-6 * result.dln_test_lam[0]
    # the recovered models generalise alike (the paper: "similar results")
    assert s["dln_test_rel_diff_lam_max"] < 0.05 and s["dln_test_rel_diff_lamp_max"] < 0.05


def test_figA_result_contract(result):
    assert isinstance(result, FigAResult)
    text = result.report()
    assert text.count("\n 0.50 ") == 2 and text.count("\n 0.90 ") == 2  # one row per beta, in both tables
    assert "order in eps" in text
    arrays = result.arrays()
    assert {"betas", "quad_gap_lam", "dln_gap_lamp", "quad_path_mgd"} <= set(arrays)
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    again = figA(FigAConfig.preset("test"))  # from the cache: identical numbers
    assert np.array_equal(again.dln_gap_lam, result.dln_gap_lam)
    fig = result.plot()
    assert len(fig.axes) == 4
    import matplotlib.pyplot as plt
    plt.close(fig)
    assert set(FIGURES["figA"]["seconds"]) == {"test", "book", "paper"}
    assert FIGURES["figA"]["experiment"].__module__ == "mdln.experiments.appendix_a"
    fig = FIGURES["figA"]["plot"](FIGURES["figA"]["experiment"](FigAConfig.preset("test")))
    assert len(fig.axes) == 4
    plt.close(fig)
    assert FigAConfig.preset("book") == FigAConfig()


@pytest.mark.parametrize("kwargs,name", [
    (dict(betas=(0.5, 1.0)), "betas"),
    (dict(shown_beta=0.4), "shown_beta"),
    (dict(quad_lam=0.0), "quad_lam"),
    (dict(dln_horizon=-1.0), "dln_horizon"),
    (dict(n_times=1), "n_times"),
])
def test_config_rejects_bad_values(kwargs, name):
    with pytest.raises(ValueError, match=name):
        FigAConfig(**kwargs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="fidelity"):
        FigAConfig.preset("fast")
    with pytest.raises(ValueError, match="config"):
        figA("book")


def test_quadratic_paths_feed_the_scrubber_frames():
    """The frame data: MGD at γ = λ(1−β)², both flows, and the gap the figure reports at that β."""
    import matplotlib.pyplot as plt
    from mdln.figures.appendix_a import draw_quadratic_frame, quadratic_paths
    cfg = FigAConfig.preset("test")
    p = quadratic_paths(0.5, cfg)
    assert p.gamma == pytest.approx(cfg.quad_lam * 0.25) and p.lam_prime == pytest.approx(0.75 * cfg.quad_lam)
    q = cfg.quadratic()
    assert np.array_equal(p.mgd, mdln.mgd(q.grad, cfg.quad_w0, p.gamma, 0.5, len(p.mgd) - 1))
    assert len(p.mgd) - 1 == round(cfg.quad_horizon / p.eps)
    # at t = 0 both flows start at w0 and they separate by O(λ − λ') = O(ε) later on
    assert np.allclose(p.flow_lam[0], cfg.quad_w0) and np.allclose(p.flow_lamp[0], cfg.quad_w0)
    assert 1e-3 < np.max(np.linalg.norm(p.flow_lam - p.flow_lamp, axis=1)) < 0.5
    # β = 0: plain GD with γ = λ; λ' = λ/2
    p0 = quadratic_paths(0.0, cfg)
    assert p0.gamma == pytest.approx(cfg.quad_lam) and p0.lam_prime == pytest.approx(cfg.quad_lam / 2)
    fig = plt.figure()
    drawn = draw_quadratic_frame(fig, 0.9, cfg)
    assert drawn.beta == 0.9 and len(fig.axes) == 1 and "0.9" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="beta"):
        quadratic_paths(1.0, cfg)


def test_gap_tables_hold_the_reports_numbers_as_html(result):
    """gap_tables lays out report()'s numbers (2 significant digits) as two HTML tables, one output."""
    from mdln.figures.appendix_a import gap_tables
    html = gap_tables(result)._repr_html_()
    assert html.count("<table>") == 2 and "<pre" not in html
    rows = html.count("<tr>")
    assert rows == 2 * (1 + result.betas.size) + sum(
        result.summary()[f"{pre}_order_lam"] is not None for pre in ("quad", "dln"))
    for pre in ("quad", "dln"):
        for gap in (getattr(result, f"{pre}_gap_lam"), getattr(result, f"{pre}_gap_lamp")):
            for g in gap:
                assert f"<td>{g:.2g}</td>" in html
