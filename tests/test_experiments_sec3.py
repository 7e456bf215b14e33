"""mdln.experiments.sec3: configs holding one DataConfig, frozen results, and a cache key that the
figure layer cannot touch (editing a plot or a widget keeps Figure 3's cached runs)."""
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mdln import cache
from mdln.experiments import DataConfig
from mdln.experiments import sec3 as E


@pytest.fixture(scope="module")
def r3():
    return E.run_fig3(E.Fig3Config.preset("test"))


# ------------------------------------------------------------------------------ configs
def test_data_fields_given_by_name_land_in_the_one_data_config():
    a = E.Fig3Config(seeds=(0,), mu=0.5)
    assert a == E.Fig3Config(data=DataConfig(seeds=(0,), mu=0.5))
    assert a.data.seeds == (0,) and a.seeds == (0,) and a.mu == 0.5
    assert dataclasses.replace(a, lams=(0.0, 0.1)).data == a.data
    assert set(f.name for f in dataclasses.fields(E.Fig3Config)) == {"lams", "data"}
    assert E.Fig9Config().data.seeds == (0,) and E.Fig9Config(seeds=(1, 2)).data.seeds == (1, 2)
    with pytest.raises(TypeError, match="DataConfig"):
        E.Fig3Config(data=dict(seeds=(0,)))
    with pytest.raises(AttributeError):
        E.Fig3Config().no_such_field
    with pytest.raises(ValueError, match="alpha must be > 0"):
        E.SimplificationConfig(alpha=-1.0)


def test_d2_link_config_is_validated():
    with pytest.raises(ValueError, match="every eps must lie in"):
        E.D2LinkConfig(lam=0.1, eps=(0.05, 0.1))
    with pytest.raises(ValueError, match="one seed"):
        E.D2LinkConfig(seeds=(0, 1))
    with pytest.raises(ValueError, match="lam"):
        E.D2LinkConfig(lam=-1.0)


def test_slider_grids():
    assert len(E.DELTA_GRID) == 49 and E.DELTA_GRID[0] == -8.0 and E.DELTA_GRID[-1] == 4.0
    assert np.allclose(np.diff(E.DELTA_GRID), 0.25)
    assert E.SLIDER_LAMS == E.Fig3Config().lams


# ------------------------------------------------------------------------------ results
def test_fig3_result_is_frozen_and_complete(r3):
    assert not hasattr(r3, "plot")                      # the core result does not draw
    with pytest.raises(dataclasses.FrozenInstanceError):
        r3.lams = None
    arrays = r3.arrays()
    assert set(arrays) == {"lams", "test_loss", "train_loss", "delta_inf", "theta", "vanished", "converged",
                           "distance", "distance_full", "prop3_bound", "theta_tilde0"}
    shape = (1, 3)
    assert all(arrays[k].shape == shape for k in ("test_loss", "distance", "distance_full", "vanished"))
    assert arrays["theta"].shape == shape + (30,)
    s = r3.summary()
    json.dumps(s)
    assert {"lambda_star", "lambda_max", "gain_over_gf", "max_distance", "max_distance_full",
            "prop3_holds", "all_converged"} <= set(s)



def test_fig3_distances_obey_theorem1(r3):
    """Theorem 1 in full holds to the solver's floor; at λ = 0 (GF) the simplified form is exact too."""
    assert np.max(r3.distance_full) <= 1e-6
    assert np.max(r3.distance[:, 0]) <= 1e-6
    assert np.all(r3.distance_full <= r3.distance + 1e-9)
    assert r3.summary()["max_distance"] == pytest.approx(np.max(r3.distance[:, 1:]))


def test_fig8_extends_fig3(r3):
    r8 = E.run_fig8(E.Fig8Config.preset("test"))
    assert isinstance(r8, E.Fig3Result)
    np.testing.assert_array_equal(r8.test_loss, r3.test_loss)
    s = r8.summary()
    assert s["l1_gf"] == pytest.approx(np.abs(r3.theta[:, 0]).sum(axis=-1).mean())


def test_fig9_shapes_and_keys():
    r9 = E.run_fig9(E.Fig9Config.preset("test"))
    assert r9.test_loss.shape == (2, 1, 3) and r9.theta.shape == (2, 1, 3, 30)
    assert set(r9.arrays()) == {"mus", "lams", "test_loss", "delta_inf", "theta", "vanished", "distance",
                                "converged"}
    s = r9.summary()
    json.dumps(s)
    assert {"mu=0:lambda_star", "mu=1:gain_over_gf", "max_distance", "all_converged"} <= set(s)


def test_mgf_points_share_runs_across_experiments(r3):
    """Figure 9's μ = 1 runs are Figure 3's (the same cached points), whatever the order of μ."""
    p = E.mgf_points(DataConfig(seeds=(0,)), (0.0, 0.05, 0.2), mus=(0.0, 1.0), n_jobs=1)
    assert p["theta"].shape == (2, 1, 3, 30)
    np.testing.assert_array_equal(p["test_loss"][1], r3.test_loss)
    with pytest.raises(TypeError, match="DataConfig"):
        E.mgf_points(dict(seeds=(0,)), (0.0,))


def test_lambda_stats_on_a_known_curve():
    lams = np.array([0.0, 0.1, 0.2, 0.3])
    test = np.array([[1.0, 0.5, 0.8, 2.0]])
    st = E.lambda_stats(lams, test, np.ones_like(test), np.array([[False, False, True, True]]))
    assert st["lambda_star"] == 0.1 and st["gain_over_gf"] == pytest.approx(2.0)
    # λmax: where the log test loss, linear between λ = 0.2 and 0.3, crosses GF's
    t = (st["lambda_max"] - 0.2) / 0.1
    assert 0 < t < 1 and (1 - t) * np.log(0.8) + t * np.log(2.0) == pytest.approx(0.0, abs=1e-12)
    assert st["lambda_nonvanishing_max"] == 0.1 and st["lambda_first_vanishing"] == 0.2


def test_simplification_result():
    r = E.run_simplification(E.SimplificationConfig.preset("test"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.lam = None
    assert set(r.arrays()) == {"lam", "random_support", "vanished", "converged", "distance", "distance_full",
                               "dropped_term", "ratio", "linearised"}
    s = r.summary()
    json.dumps(s)
    assert s["n_runs"] == 4 and s["max_distance_full"] <= 1e-6
    assert s["max_distance"] == pytest.approx(np.max(r.distance))
    glue = r.glue_strings("x_")
    assert glue["x_max_simplified_distance"] == f"{np.max(r.distance):.3f}" and "x_n_runs" in glue
    with pytest.raises(ValueError, match="measure"):
        r.rule("distance")


def test_d2_link_result():
    r = E.run_d2_link(E.D2LinkConfig(eps=(0.05,), tol=1e-9))
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.eps = None
    assert set(r.arrays()) == {"eps", "gamma", "beta", "steps", "a_error", "delta_error", "distance_full"}
    json.dumps(r.summary())
    # MGD(γ = ε²/λ, β = 1 − ε/λ) has λ = γ/(1−β)² and step ε = γ/(1−β) (Appendix D.2)
    assert r.gamma[0] / (1 - r.beta[0]) ** 2 == pytest.approx(0.1)
    assert r.gamma[0] / (1 - r.beta[0]) == pytest.approx(0.05)
    rows = r.rows()                     # the rows chapter 3 prints keep the key ``full_distance``
    assert len(rows) == 1 and rows[0]["full_distance"] == r.distance_full[0]
    assert E.D2LinkConfig.preset("test").eps == (0.05, 0.025) and E.D2LinkConfig.preset("book").data.d == 15


def test_theorem1_forms_result():
    r = E.run_theorem1_forms(E.Theorem1FormsConfig.preset("test"))
    assert set(r.arrays()) == {"lam", "seed", "vanished", "integral_gap", "distance_full_traj",
                               "distance_full_end", "distance"}
    s = r.summary()
    json.dumps(s)
    # λ = 0.01 on seed 0: no sign change, so both forms of I± exist and agree to the integrator's accuracy;
    # Theorem 1 holds with either, far below the simplified form's distance
    assert s["n_vanished"] == 0 and s["max_integral_gap"] < 1e-4
    assert s["max_distance_full"] < 1e-8 < 1e-6 < s["max_distance"]
    assert r.rows() == E.theorem1_forms_table(lams=(0.01,), seeds=(0,))


# ------------------------------------------------------------------------------ the cache key
@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the mdln sources that the code key reads instead of the real ones."""
    src = Path(cache.__file__).resolve().parent
    dst = tmp_path / "src" / "mdln"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "_PACKAGE_DIR", dst)
    monkeypatch.setattr(cache, "_CODE_KEYS", {})
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MDLN_NO_CACHE", raising=False)
    return dst


def _edit(path, old=None, new=None):
    """Replace ``old`` by ``new`` in the copied source ``path`` (without them: append a function)."""
    text = path.read_text()
    if old is None:
        text += "\n\ndef _added_by_a_test():\n    return 1\n"
    else:
        assert old in text, f"{old!r} not in {path}"
        text = text.replace(old, new, 1)
    path.write_text(text)
    cache.clear_code_keys()


def _figure3_entries(folder):
    from mdln.figures import sec3 as F     # through the figure layer, as the book calls it
    F.fig3(E.Fig3Config(lams=(0.0, 0.05), seeds=(0,)))
    return sorted(p.name for p in (folder / "cache").glob("sec3-point-*.npz"))


def test_the_figure3_cache_key_ignores_plots_and_widgets(package_copy):
    deps = cache.code_dependencies("mdln.experiments.sec3")
    assert not [m for m in deps if m.startswith(("mdln.figures", "mdln.widgets", "mdln.text"))], deps
    assert {"mdln.dln", "mdln.implicit", "mdln.experiments.config"} <= set(deps)
    before = _figure3_entries(package_copy.parent.parent)
    assert len(before) == 2
    _edit(package_copy / "figures" / "sec3.py", "figsize=(6.4, 3.8)", "figsize=(6.5, 3.9)")
    _edit(package_copy / "widgets.py")
    assert _figure3_entries(package_copy.parent.parent) == before     # the same two entries: hits


def test_the_figure3_cache_key_follows_the_experiment(package_copy):
    key = cache.code_key("mdln.experiments.sec3")
    _edit(package_copy / "experiments" / "sec3.py", "refine=8", "refine=9")
    assert cache.code_key("mdln.experiments.sec3") != key
    key = cache.code_key("mdln.experiments.sec3")
    _edit(package_copy / "implicit.py")
    assert cache.code_key("mdln.experiments.sec3") != key
    before = _figure3_entries(package_copy.parent.parent)
    _edit(package_copy / "experiments" / "sec3.py", "distance_full=np.array(", "distance_full=np.asarray(")
    after = _figure3_entries(package_copy.parent.parent)
    assert len(after) == 4 and set(before) < set(after)      # two new entries: misses

