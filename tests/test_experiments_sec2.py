"""mdln.experiments.sec2: Figure 1, the regimes and the sliders' paths, computed without drawing."""
import dataclasses
import json

import numpy as np
import pytest

import mdln
from mdln.experiments import sec2 as E


@pytest.fixture(scope="module")
def r1():
    return E.run_fig1(E.Fig1Config.preset("test"))


def test_fig1_result_is_frozen_and_complete(r1):
    assert not hasattr(r1, "plot")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r1.gap_slope = 0.0
    assert set(r1.arrays()) == {"gd_path", "gf_path", "mgd_path", "mgf_path", "fast_path", "approx_path",
                                "gd_slow_loss", "gd_fast_loss", "gap_eps", "gap_values", "gap_bound"}
    s = r1.summary()
    json.dumps(s)
    assert {"gap_gd_gf", "gap_mgd_mgf", "gap_loglog_slope", "accel_gap_rho2", "accel_gap_rho4"} <= set(s)


def test_fig1_acceleration_rule(r1):
    """Corollary 1: (γ̂, β̂) = (ρ²γ, 1 − ρ(1 − β)) keeps λ and multiplies the step by ρ."""
    cfg = r1.config
    g_hat, b_hat = r1.accelerated()
    assert g_hat == pytest.approx(cfg.rho ** 2 * cfg.gamma)
    assert b_hat == pytest.approx(1 - cfg.rho * (1 - cfg.beta))
    assert mdln.lam(g_hat, b_hat) == pytest.approx(mdln.lam(cfg.gamma, cfg.beta), rel=1e-12)
    assert mdln.step(g_hat, b_hat) == pytest.approx(cfg.rho * mdln.step(cfg.gamma, cfg.beta), rel=1e-12)


def test_slider_paths_match_the_iterations():
    """The closed forms the sliders draw equal MGD iterated step by step (and MGF's ODE solve)."""
    cfg = E.Fig1Config.preset("test")
    q = E.quadratic_of(cfg)
    t, W, Wc = E.mgd_mgf_paths(0.04, 0.8, cfg)
    n = len(t) - 1
    assert t[-1] == pytest.approx(cfg.horizon) and W.shape == Wc.shape == (n + 1, 2)
    np.testing.assert_allclose(W, mdln.mgd(q.grad, np.array(cfg.w0), 0.04, 0.8, n), atol=1e-12)
    np.testing.assert_allclose(Wc, mdln.mgf(q.grad, np.array(cfg.w0), mdln.lam(0.04, 0.8), t, jac=q.hess),
                               atol=1e-6)
    paths = E.acceleration_paths(cfg)
    g1, b1, same = paths.accelerated(1.0)        # ρ = 1 is the identity
    assert (g1, b1) == (cfg.gamma, cfg.beta)
    np.testing.assert_allclose(same, paths.path, atol=1e-14)


def test_regimes_result():
    rg = E.run_regimes(E.Fig1Config.preset("test"))
    arrays = rg.arrays()
    assert {"gammas_small", "gap_gd_equiv", "example_mgd", "example_gd", "losses_beta0.9"} <= set(arrays)
    assert all(isinstance(v, np.ndarray) for v in arrays.values())
    s = rg.summary()
    json.dumps(s)
    assert len(s) == len(rg.gammas_small)
