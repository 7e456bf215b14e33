"""mdln.experiments.nets (core): Figures 2 and 6 computed without drawing, at "test" fidelity."""
import dataclasses
import json

import numpy as np
import pytest

import mdln
from mdln import nets
from mdln.experiments import nets as E
from mdln.experiments.config import DataConfig


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MDLN_NO_CACHE", raising=False)
    return tmp_path


@pytest.mark.parametrize("run, cls", [(E.run_fig2, E.Fig2Config), (E.run_fig6, E.Fig6Config)])
def test_results_are_frozen_with_arrays_and_summary(run, cls, tmp_cache):
    res = run(cls.preset("test"))
    assert res.config == cls.preset("test") and not hasattr(res, "plot")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.gammas = None
    arrays = res.arrays()
    assert {"gammas", "betas", "test_loss", "train_loss", "lam_levels"} <= set(arrays)
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    s = res.summary()
    json.dumps(s)
    assert set(E.QUANTIFICATION_KEYS) <= set(s)
    assert list(tmp_cache.glob("*.npz")), "result was not cached on disk"


def test_fig6_data_config_is_the_replications():
    cfg = dataclasses.replace(E.Fig6Config.preset("test"), seed=3, n_reps=2)
    assert cfg.data == DataConfig(n=cfg.n, d=cfg.widths[0], s=cfg.s, mu=cfg.mu, sigma=cfg.sigma, seeds=(3, 4))
    ds = cfg.data.dataset(4)
    ref = mdln.sparse_regression(n=cfg.n, d=cfg.widths[0], s=cfg.s, seed=4)
    np.testing.assert_array_equal(ds.X, ref.X)


def test_fig2_statuses_partition_the_grid():
    cfg = E.Fig2Config.preset("test")
    res = E.run_fig2(cfg)
    counts = [np.sum(res.status == c) for c in (nets.CONVERGED, nets.STEP_CAP, nets.DIVERGED)]
    assert sum(counts) == cfg.n_gamma * cfg.n_beta
    assert np.all(res.test_loss[res.status == nets.DIVERGED] == np.inf)
