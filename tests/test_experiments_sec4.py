"""mdln.experiments.sec4 (core): Figures 4 and 7, the λ-collapse, Appendix D.2, stochastic batches, at "test"
fidelity; the configs' one DataConfig; and the Figure 4 cache key, which plots and widgets do not enter."""
import dataclasses
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mdln import cache
from mdln.experiments import sec4 as E
from mdln.experiments.config import DataConfig
from mdln.grid import eta_squared
from mdln.implicit import implicit_solution, normalised_distance
from mdln.status import Status


@pytest.fixture(scope="module")
def r4():
    return E.run_fig4(E.Fig4Config.preset("test"))


def test_fig4_result_contract(r4):
    cfg = E.Fig4Config.preset("test")
    assert r4.test_loss.shape == (cfg.n_gamma, cfg.n_beta, len(cfg.seeds))
    fields = {f.name for f in dataclasses.fields(r4)} - {"config"}
    arrays = r4.arrays()
    assert set(arrays) == fields and all(isinstance(v, np.ndarray) for v in arrays.values())
    assert "distance" in arrays and "norm_dist" not in arrays        # the book's one name
    with pytest.raises(dataclasses.FrozenInstanceError):
        r4.test_loss = None
    assert not hasattr(r4, "plot")                                    # the core result does not draw
    s = r4.summary()
    json.dumps(s)
    assert s["runs"] == cfg.n_gamma * cfg.n_beta * len(cfg.seeds)
    # the three statuses partition the runs; converged is recounted from the train losses against tol
    assert s["converged"] + s["step_cap"] + s["diverged"] == s["runs"]
    assert s["converged"] == np.sum(np.isfinite(r4.train_loss) & (r4.train_loss < cfg.tol))
    assert np.all(r4.train_loss[r4.status == Status.STEP_CAP] >= cfg.tol)
    assert s["diverged"] > 0 and r4.cell_diverged[-1].all()        # γ = 3 diverges


def test_fig4_theorem2_and_corollary3(r4):
    assert r4.summary()["theorem2_worst_converged"] <= 1e-6
    calm = (r4.status == Status.CONVERGED) & ~r4.crossed
    np.testing.assert_array_equal(r4.cor3_ok[calm], True)       # Corollary 3 wherever it applies


def test_fig4_distance_only_on_converged_runs(r4):
    assert np.all(np.isnan(r4.distance))               # off by default (experiments.theorems has both forms)
    r = E.run_fig4(dataclasses.replace(E.Fig4Config.preset("test"), distances=True))
    conv = r.status == Status.CONVERGED
    assert np.all(np.isnan(r.distance[~conv])) and np.all(np.isfinite(r.distance[conv]))
    i, j, k = (int(a[0]) for a in np.nonzero(conv))     # one run recomputed from its data set
    ds = r.config.data.dataset(r.config.seeds[k])
    ref = implicit_solution(ds.X, ds.y, r.delta_inf[i, j, k])
    assert r.distance[i, j, k] == pytest.approx(float(normalised_distance(r.theta[i, j, k], ref)), rel=1e-9)
    assert r.summary()["distance_count"] == conv.sum()


def test_configs_hold_one_data_config():
    cfg = E.Fig4Config.preset("test")
    assert isinstance(cfg.data, DataConfig) and (cfg.n, cfg.d, cfg.s, cfg.seeds) == (10, 15, 3, (0,))
    # DataConfig's fields by name build the same config (the book's and the tests' calls)
    assert E.Fig4Config(n=10, d=15, s=3, seeds=(0,), gamma_min=0.05, gamma_max=3.0, n_gamma=4, n_beta=3,
                        beta_max=0.9, max_epochs=20_000) == cfg
    assert dataclasses.replace(cfg, n_gamma=2).data is cfg.data
    assert E.Fig4Config() == E.Fig4Config.preset("book") and E.Fig4Config().data == DataConfig()
    assert E.D2Config(seed=3).data.seeds == (3,) and E.D2Config(seed=3).seed == 3
    assert E.StochasticConfig().fig4.seeds == (0, 1)
    with pytest.raises(ValueError, match="seeds must not be empty"):
        E.Fig4Config(seeds=())
    with pytest.raises(TypeError, match="data must be a DataConfig"):
        E.Fig4Config(data=dict(n=3))
    with pytest.raises(ValueError, match="fidelity"):
        E.Fig4Config.preset("huge")


def test_eta_squared_reference_values():
    assert E.eta_squared is eta_squared                  # one η², in mdln.grid (also used by Figures 2, 6)
    x = np.repeat(np.arange(5.0), 4)
    assert eta_squared(x, x * 2 + 1, n_bins=5) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    v = x + 0.01 * rng.standard_normal(x.size)          # constant within bins plus noise: between-bin share
    assert 0.99 < eta_squared(x, v, n_bins=5) < 1.0
    assert eta_squared(rng.standard_normal(2000), rng.standard_normal(2000), n_bins=5) < 0.01


def test_lambda_collapse_on_synthetic_result(r4):
    # a quantity that is an exact function of λ is fully explained by log λ
    fake = dataclasses.replace(r4, status=np.zeros_like(r4.status),
                               delta_norm=np.broadcast_to(r4.lam[..., None] ** 2, r4.delta_norm.shape).copy())
    eta = E.lambda_collapse(fake, n_bins=50)
    assert eta["delta_norm_lam"] > 0.999


def test_lambda_collapse_rejects_what_is_not_a_result():
    with pytest.raises(TypeError, match="res must be a Fig4Result.*str"):
        E.lambda_collapse("res")


def test_cell_capped_partition(r4):
    conv, div, cap = r4.cell_converged, r4.cell_diverged, r4.cell_capped
    np.testing.assert_array_equal(conv.astype(int) + div.astype(int) + cap.astype(int), 1)
    counts = r4.capped_counts()
    assert np.all(np.isnan(counts[div])) and np.all(counts[cap] >= 1) and np.all(counts[conv] == 0)


def test_capped_runs_against_a_per_run_loop(r4):
    eps, loss = [], []
    for i, j, k in np.ndindex(*r4.status.shape):
        if r4.status[i, j, k] == Status.STEP_CAP:
            eps.append(r4.gammas[i] / (1 - r4.betas[j]))
            loss.append(r4.train_loss[i, j, k])
    cr = r4.capped_runs()
    assert cr["n"] == len(eps)
    if eps:
        assert cr["eps_median"] == pytest.approx(np.median(eps), rel=1e-12)
        assert cr["train_loss_median"] == pytest.approx(np.median(loss), rel=1e-12)
        assert cr["train_loss_max"] == max(loss)
    capped = dataclasses.replace(r4, status=np.full_like(r4.status, Status.STEP_CAP))
    assert capped.capped_runs()["n"] == r4.status.size


def test_nearest_cell_against_a_search(r4):
    g, b = 0.07, 0.33
    cell = r4.nearest_cell(g, b)
    i = min(range(len(r4.gammas)), key=lambda k: abs(np.log10(r4.gammas[k] / g)))
    j = min(range(len(r4.betas)), key=lambda k: abs(r4.betas[k] - b))
    assert (cell["gamma"], cell["beta"]) == (r4.gammas[i], r4.betas[j])
    st = r4.status[i, j]
    assert cell["runs"] == st.size == cell["converged"] + cell["capped"] + cell["diverged"]


def test_fig7_test_fidelity(r4):
    r7 = E.run_fig7(E.Fig7Config.preset("test"), fig4_result=r4)
    assert r7.mgf_log_test.shape == (3, 1)
    assert set(r7.arrays()) == {"lams", "mgf_log_test", "mgd_cells", "mgf_cells"}
    ok = np.isfinite(r7.mgd_cells)
    np.testing.assert_array_equal(ok, np.isfinite(r7.mgf_cells))
    s = r7.summary()
    json.dumps(s)
    assert s["cells_all"] == ok.sum() == np.sum(~r7.fig4.cell_diverged)
    a, b = r7.mgd_cells[ok], r7.mgf_cells[ok]
    da, db = a - a.mean(), b - b.mean()
    ref = np.sum(da * db) / np.sqrt(np.sum(da ** 2) * np.sum(db ** 2))
    assert s["correlation_all"] == pytest.approx(ref, rel=1e-12)
    c4 = r7.config.fig4
    ridx = [list(c4.seeds).index(k) for k in r7.config.mgf_seeds]
    tl = r7.fig4.train_loss[:, :, ridx]
    conv = ok & np.all(np.isfinite(tl) & (tl < c4.tol), axis=-1)
    assert s["cells_converged"] == conv.sum()
    assert s["mean_abs_gap_decades_all"] == pytest.approx(np.mean(np.abs(r7.mgd_cells - r7.mgf_cells)[ok]))
    # without a Figure 4 result given, run_fig7 computes the same one
    again = E.run_fig7(E.Fig7Config.preset("test"))
    np.testing.assert_array_equal(again.mgd_cells, r7.mgd_cells)


def test_d2_factor():
    assert E.D2Config.preset("test") == E.D2Config(ratios=(1.0, 0.5), horizon=20.0, n=10, d=15, s=3)
    res = E.run_d2(E.D2Config.preset("test"))
    rows = res.rows
    eps, gamma, beta = rows[:, 0], rows[:, 1], rows[:, 2]
    np.testing.assert_allclose(gamma / (1 - beta) ** 2, 0.01)      # fixed λ
    np.testing.assert_allclose(gamma / (1 - beta), eps)
    gap_raw, gap_half = rows[:, 6], rows[:, 7]
    # without the (1+β)/2 factor the sums differ by about (1−β)/2; with it the gap shrinks with ε
    np.testing.assert_allclose(gap_raw, (1 - beta) / 2, rtol=0.2)
    assert np.all(gap_half < gap_raw) and gap_half[1] < gap_half[0]
    assert res.summary()["gap_half_last"] == gap_half[-1]


def test_stochastic_batches_test_preset():
    cfg = E.StochasticConfig.preset("test")
    res = E.run_stochastic(cfg)
    assert list(res) == list(cfg.batch_sizes) and len(res) == 3
    G, Bt = cfg.fig4.n_gamma, cfg.fig4.n_beta
    for B, v in res.items():
        st = v["sweep"].status
        assert st.shape == (G, Bt, len(cfg.fig4.seeds))
        assert v["converged"] == np.sum(st == Status.CONVERGED) and v["runs"] == st.size
        assert v["log_test"].shape == (G, Bt)
        assert v["theorem2_worst"] < 1e-6          # Theorem 2 holds for every batch size
    s = res.summary()
    json.dumps(s)
    assert s[f"B{cfg.batch_sizes[0]}_runs"] == G * Bt * len(cfg.fig4.seeds)
    keys = {f"B{B}_{k}" for B in cfg.batch_sizes for k in ("log_test", "log_delta", "status")}
    assert set(res.arrays()) == keys


# ----------------------------------------------------------------------------------- cache keys
@pytest.fixture
def package_copy(tmp_path):
    """A copy of the mdln sources, edited by the test (the real package is left alone)."""
    dst = tmp_path / "mdln"
    shutil.copytree(Path(cache.__file__).resolve().parent, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def _fig4_key(package):
    """The code key of Figure 4's experiment as the copy's own mdln.cache computes it (a fresh module)."""
    spec = importlib.util.spec_from_file_location(f"mdln_cache_copy_{id(package)}", package / "cache.py")
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy.code_key(E.run_fig4.__module__)


def test_figure4_code_key_covers_the_experiment_not_its_plots(package_copy):
    deps = cache.code_dependencies("mdln.experiments.sec4")
    assert "mdln.smgd" in deps
    assert not [m for m in deps if m.startswith(("mdln.figures", "mdln.widgets"))], deps
    k0 = _fig4_key(package_copy)
    assert k0 == cache.code_key("mdln.experiments.sec4")          # the copy keys like the package
    for name in ("figures/sec4.py", "widgets.py", "figures/plotting.py"):
        path = package_copy / name
        path.write_text(path.read_text() + "\n\ndef plot_extra(result, ax=None):\n    return ax\n")
        assert _fig4_key(package_copy) == k0, name
    path = package_copy / "experiments" / "sec4.py"
    path.write_text(path.read_text().replace("max_epochs: int = 10 ** 6", "max_epochs: int = 10 ** 5"))
    assert _fig4_key(package_copy) != k0
