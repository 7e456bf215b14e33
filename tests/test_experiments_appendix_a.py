"""mdln.experiments.appendix_a: λ' of the central-difference scheme against MGD, computed without drawing."""
import dataclasses
import json

import numpy as np
import pytest

import mdln
from mdln.experiments import DataConfig
from mdln.experiments import appendix_a as E


@pytest.fixture(scope="module")
def result():
    return E.run_figA(E.FigAConfig.preset("test"))


def test_config_holds_one_data_set():
    cfg = E.FigAConfig()
    assert cfg.data == DataConfig(seeds=(0,)) and {f.name for f in dataclasses.fields(cfg)} >= {"data"}
    with pytest.raises(ValueError, match="one seed"):
        E.FigAConfig(data=DataConfig(seeds=(0, 1)))
    with pytest.raises(ValueError, match="shown_beta"):
        E.FigAConfig(shown_beta=0.42)


def test_result_is_frozen_and_complete(result):
    assert not hasattr(result, "plot")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.betas = None
    arrays = result.arrays()
    assert {"betas", "quad_gap_lam", "quad_gap_lamp", "dln_gap_lam", "dln_test_path_mgd"} <= set(arrays)
    assert all(a.shape == (2,) for k, a in arrays.items() if k.startswith(("quad_gap", "dln_gap")))
    s = result.summary()
    json.dumps(s)
    assert s["n_diverged"] == 0 and s["max_ratio_error"] < 1e-14


def test_lambda_prime_is_lambda_minus_half_a_step(result):
    """λ' = (1+β)γ/(2(1−β)²) = λ − ε/2 at every β (Appendix A)."""
    cfg = result.config
    np.testing.assert_allclose(result.quad_lam_prime, cfg.quad_lam - result.quad_eps / 2, rtol=1e-13)
    np.testing.assert_allclose(result.dln_lam_prime, cfg.dln_lam - result.dln_eps / 2, rtol=1e-13)


def test_quadratic_paths():
    cfg = E.FigAConfig.preset("test")
    p = E.quadratic_paths(0.5, cfg, n_fine=11)
    assert p.gamma == pytest.approx(cfg.quad_lam * 0.25) and p.lam_prime == pytest.approx(p.lam - p.eps / 2)
    assert p.flow_lam.shape == (11, 2) and not p.diverged
    q = cfg.quadratic()
    np.testing.assert_allclose(p.mgd, mdln.mgd(q.grad, np.array(cfg.quad_w0), p.gamma, 0.5, len(p.mgd) - 1))
    with pytest.raises(ValueError, match="beta"):
        E.quadratic_paths(1.0, cfg)
