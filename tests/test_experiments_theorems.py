"""mdln.experiments.theorems (core): Theorem 2 checks over Figure 4's runs, the configs of the two studies."""
import dataclasses
import json

import numpy as np
import pytest

from mdln import theorems as T
from mdln.experiments import sec4 as E
from mdln.experiments import theorems as X
from mdln.experiments.config import DataConfig
from mdln.status import Status


@pytest.fixture(scope="module")
def r4():
    return E.run_fig4(E.Fig4Config.preset("test"))


def test_check_fig4_covers_every_run_of_the_grid(r4):
    c = X.check_fig4(r4)
    assert c.status.shape == r4.status.shape
    np.testing.assert_array_equal(c.status, r4.status)        # the same (cached) sweep as Figure 4
    assert c.distance is c.distance and c.distance_full is c.distance_full
    conv = c.converged
    assert conv.any() and np.all(c.distance_full[conv] < 1e-2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.tol = 0.0
    s = c.summary()
    json.dumps(s)
    assert s["converged"] == np.sum(r4.status == Status.CONVERGED)
    again = X.check_fig4("test").summary()                     # a fidelity name gives the same check
    assert json.dumps(again, sort_keys=True) == json.dumps(s, sort_keys=True)


def test_check_fig4_rejects_other_types():
    with pytest.raises(TypeError, match="check_fig4: config"):
        X.check_fig4(3.0)


def test_study_configs_hold_one_data_config():
    tc = X.ToleranceConfig()
    assert tc.data == DataConfig(seeds=(4242,)) and tc.seeds == (4242,)
    assert X.ToleranceConfig(seed=7).data.seeds == (7,)
    with pytest.raises(ValueError, match="one seed"):
        X.ToleranceConfig(seeds=(1, 2))
    dc = X.DroppedTermConfig()
    assert list(dc.supports()) == ["first"] * 10 + ["random"] * 10
    with pytest.raises(TypeError, match="ToleranceConfig"):
        X.tolerance_study(dc)


def test_tolerance_study_small(tmp_path, monkeypatch):
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    st = X.tolerance_study(runs=((0.1, 0.0, None),), tols=(1e-8, 1e-12), max_steps=10 ** 6)
    assert st.distance_full.shape == (1, 2) and np.all(st.status == Status.CONVERGED)
    assert st.distance_full[0, 1] < st.distance_full[0, 0]            # the full-theorem distance shrinks with tol
    assert "| 0.1 | 0 | n |" in st.markdown()


def test_presentation_module_reexports_the_core():
    assert T.check_fig4 is X.check_fig4 and T.tolerance_study is X.tolerance_study
    assert callable(T.plot_distance_heatmaps) and callable(T.plot_dropped_scatter)


def test_presets_and_the_dropped_term_study_at_test_fidelity(tmp_path, monkeypatch):
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    for cls in (X.ToleranceConfig, X.DroppedTermConfig):
        assert cls.preset("book") == cls() == cls.preset("paper")
        with pytest.raises(ValueError, match="fidelity"):
            cls.preset("huge")
    cfg = X.DroppedTermConfig.preset("test")
    st = X.dropped_term_study(cfg)
    assert st.check.status.shape == (2, 2, 2) and list(st.support) == ["first", "random"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.seeds = None
    s = st.summary()
    json.dumps(s)
    assert s["datasets"] == 2 and s["random_support"] == 1 and s["converged"] == st.check.converged.sum()
