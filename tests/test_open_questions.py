"""The open-questions study: thresholds confirmed by independent runs, Proposition 3 recomputed, executors."""
import dataclasses
import json
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mdln.data import sparse_regression
from mdln.dln import train_mgf
from mdln.experiments import open_questions as oq
from mdln.experiments.sec4 import Fig4Config, Fig7Config, run_fig4, run_fig7
from mdln.smgd import have_numba, mgd_sweep, train_mgd
from mdln.status import Status


@pytest.fixture(scope="module")
def test_result():
    return oq.run(oq.OpenQuestionsConfig.preset("test"), use_cache=False)


def _fields(result):
    """Every array of the MGF and SMGD results, in order, for exact comparison."""
    out = []
    for m in result.mgf:
        out += [np.asarray(getattr(m, k)) for k in m.__dataclass_fields__]
    for i, r in result.smgd:
        out += [np.asarray(i)] + [np.asarray(getattr(r, k)) for k in r.__dataclass_fields__]
    return out + [result.test_losses]


def _assert_bit_identical(a, b):
    fa, fb = _fields(a), _fields(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        np.testing.assert_array_equal(x, y)


def test_prop3_bound_recomputed_from_its_formula(test_result):
    for p, m in zip(test_result.problems, test_result.mgf):
        X, y, _ = p.data()
        assert m.bound == pytest.approx(X.shape[0] * p.alpha ** 2 / float(np.sum(y ** 2)), rel=1e-12)


def test_lambda_c_is_never_below_proposition3(test_result):
    for m in test_result.mgf:
        assert m.found and m.lam_c > m.bound


def test_lambda_c_confirmed_by_train_mgf_below_and_above(test_result):
    rtol = test_result.config.mgf_rtol
    for p, m in zip(test_result.problems[:2], test_result.mgf[:2]):
        X, y, _ = p.data()
        assert m.lam_lo < m.lam_c <= m.lam_lo * (1 + rtol) * (1 + 1e-12)
        assert not train_mgf(X, y, m.lam_lo, alpha=p.alpha).vanished
        above = train_mgf(X, y, m.lam_c, alpha=p.alpha, trajectory=True)
        assert above.vanished
        t, i, side = oq.first_vanishing(above.trajectory)
        assert (t, i, side) == (m.time, m.coordinate, m.side)
        w = above.trajectory.w_plus if side == 1 else above.trajectory.w_minus
        k = int(np.searchsorted(above.trajectory.t, t))
        assert np.sign(w[k, i]) != np.sign(w[0, i]) and np.all(np.sign(w[:k]) == np.sign(w[0]))


def test_gamma_c_confirmed_by_train_mgd_below_and_above(test_result):
    found = [(i, r) for i, r in test_result.smgd if math.isfinite(r.gamma_c)]
    assert found
    for i, r in found:
        X, y, _ = test_result.problems[i].data()
        alpha = test_result.problems[i].alpha
        for gamma, crossed in ((r.gamma_lo, False), (r.gamma_c, True)):
            steps = math.ceil(r.horizon * (1 - r.beta) / gamma)
            run = train_mgd(X, y, gamma, r.beta, alpha=alpha, batch_size=r.batch_size, seed=r.seed,
                            max_steps=steps)
            assert (run.crossed and run.code != Status.DIVERGED) == crossed


def test_smgd_threshold_on_a_hand_made_crossing():
    # n = d = 1, x = y = 1, u0 = α, v0 = 0: the first step gives w− = α(1 − γ) whatever β, so within one
    # step w− changes sign exactly when γ > 1
    X, y = np.ones((1, 1)), np.ones(1)
    for beta in (0.0, 0.5):
        r = oq.smgd_sign_change_gamma(X, y, beta, alpha=1e-3, lams=np.array([0.4, 2.0]) / (1 - beta) ** 2,
                                      rtol=1e-3, horizon=1e-6)
        assert r.gamma_lo < 1.0 < r.gamma_c <= r.gamma_lo * (1 + 1e-3) * (1 + 1e-12)
        assert r.monotone and not r.runs_diverged.any()


def test_first_vanishing_on_a_hand_made_trajectory():
    t = np.arange(6.0)
    wp = np.ones((6, 3))
    wm = np.ones((6, 3))
    wm[3:, 1] = -0.5          # w−,1 changes sign at t = 3
    wp[4:, 2] = -1.0          # w+,2 later
    tr = SimpleNamespace(t=t, w_plus=wp, w_minus=wm)
    assert oq.first_vanishing(tr) == (3.0, 1, -1)
    assert oq.first_vanishing(SimpleNamespace(t=t, w_plus=np.ones((6, 3)), w_minus=np.ones((6, 3)))) is None


def test_monotone_flags():
    assert oq.switches_once([False, False, True, True])
    assert not oq.switches_once([False, True, False, True])


def test_law_fit_recovers_an_exact_law_and_rejects_noise():
    rng = np.random.default_rng(0)
    F = rng.standard_normal((30, 3))
    z = 1.0 + 2.0 * F[:, 0] - F[:, 2]
    fit = oq.fit_law(F, z, np.zeros(30))
    assert fit.predicts and fit.r2_test == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(fit.coef, [2.0, 0.0, -1.0], atol=1e-10)
    noise = oq.fit_law(F, rng.standard_normal(30), np.zeros(30))
    assert not noise.predicts


def test_toeplitz_design_has_the_stated_covariance():
    p = oq.Problem(kind="toeplitz", n=200_000, d=4, s=2, mu=0.5, sigma=1.5, rho=0.6)
    X = p.data()[0]
    np.testing.assert_allclose(X.T @ X / p.n, p.covariance(), atol=0.05)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="kind"):
        oq.Problem(kind="uniform")
    with pytest.raises(ValueError, match="lams"):
        oq.mgf_sign_change_lambda(np.ones((2, 2)), np.ones(2), lams=[1.0, 0.1])
    with pytest.raises(ValueError, match="beta"):
        oq.smgd_sign_change_gamma(np.ones((2, 2)), np.ones(2), 1.0)
    with pytest.raises(ValueError, match="fidelity"):
        oq.OpenQuestionsConfig.preset("huge")


@pytest.fixture(scope="module")
def spawn_pool():
    """Two worker processes (spawn: forking a process that already ran numba's OpenMP-parallel kernels is
    unsafe)."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        yield ex


@pytest.fixture(scope="module")
def dask_cluster():
    """The suite's one dask.distributed LocalCluster: 2 single-thread worker processes on 127.0.0.1."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield SimpleNamespace(address=cluster.scheduler_address, executor=client.get_executor())


def test_process_pool_is_bit_identical_to_serial(test_result, spawn_pool):
    _assert_bit_identical(oq.run(test_result.config, executor=spawn_pool, use_cache=False), test_result)


def test_dask_cluster_is_bit_identical_to_serial(test_result, dask_cluster, tmp_path):
    """A 2-worker LocalCluster on 127.0.0.1: run(executor=...) and the CLI's --scheduler give the serial numbers."""
    _assert_bit_identical(oq.run(test_result.config, executor=dask_cluster.executor, use_cache=False),
                          test_result)
    oq.main(["--fidelity", "test", "--scheduler", dask_cluster.address, "--out", str(tmp_path)])
    written = json.loads((tmp_path / "open_questions_test.json").read_text())
    assert written.pop("run")["executor"] == "dask"      # and the run's wall time, recorded
    assert written == json.loads(json.dumps(oq.to_json(test_result)))


def _assert_same_dataclass(a, b):
    """Every field of two frozen results equal, arrays bit for bit."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name


@pytest.fixture(scope="module")
def fig7_serial():
    """Figure 7 (with its Figure 4 sweep) at test fidelity, computed serially, uncached."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MDLN_NO_CACHE", "1")
        return run_fig7(Fig7Config.preset("test"))


@pytest.mark.parametrize("pool", ["spawn_pool", "dask_cluster"])
def test_figure4_and_7_sweeps_through_executors_are_bit_identical(fig7_serial, pool, request, monkeypatch):
    """run_fig4 / run_fig7 through a process pool or a Dask cluster: the serial numbers, bit for bit."""
    if not have_numba():
        pytest.skip("the numpy engine runs in-process")
    fixture = request.getfixturevalue(pool)
    executor = getattr(fixture, "executor", fixture)
    monkeypatch.setenv("MDLN_NO_CACHE", "1")
    f4 = run_fig4(fig7_serial.config.fig4, executor=executor)
    _assert_same_dataclass(f4, fig7_serial.fig4)
    f7 = run_fig7(fig7_serial.config, fig4_result=f4, executor=executor)
    np.testing.assert_array_equal(f7.mgf_log_test, fig7_serial.mgf_log_test)
    np.testing.assert_array_equal(f7.mgf_cells, fig7_serial.mgf_cells)


@pytest.mark.parametrize("pool", ["spawn_pool", "dask_cluster"])
def test_stochastic_sweep_through_executors_is_bit_identical(pool, request):
    """mgd_sweep (one task per member group) with mini-batches, two replications, converged, capped and
    diverged members, through a process pool or a Dask cluster: the serial sweep, bit for bit."""
    if not have_numba():
        pytest.skip("the numpy engine runs in-process")
    fixture = request.getfixturevalue(pool)
    dss = [sparse_regression(n=10, d=15, s=3, seed=s) for s in (1, 2)]
    X, y = np.stack([d.X for d in dss]), np.stack([d.y for d in dss])
    gammas, betas = np.geomspace(0.02, 3.0, 4), np.linspace(0.0, 0.9, 3)
    kw = dict(seeds=[3, 4], batch_size=3, max_steps=3000, tol=1e-10, cache=False)
    serial = mgd_sweep(X, y, gammas, betas, **kw)
    remote = mgd_sweep(X, y, gammas, betas, executor=getattr(fixture, "executor", fixture), **kw)
    assert np.any(serial.diverged) and np.any(serial.converged) and np.any(serial.status == Status.STEP_CAP)
    for f, a in serial.arrays().items():
        np.testing.assert_array_equal(a, remote.arrays()[f], err_msg=f)


def test_executor_must_be_an_executor():
    with pytest.raises(TypeError, match="executor"):
        run_fig4(Fig4Config.preset("test"), executor="tcp://127.0.0.1:8786")
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        run_fig7(Fig7Config.preset("test"), executor=2)
    with pytest.raises(TypeError, match="executor"):
        oq.run(oq.OpenQuestionsConfig.preset("test"), executor=object())


def test_page_texts_name_the_bound_exponent_furthest_from_the_fit():
    """texts() names the quantity whose fitted exponent is furthest from the bound n·α²/‖y‖²'s."""
    from mdln.figures import open_questions as fig
    doc = json.loads((Path(oq.__file__).resolve().parents[2] / "book" / "open_questions_paper.json").read_text())
    exact = {"log α": 2.0, "log n": 1.0, "log ‖y‖": -2.0}
    doc["summary"]["law_coef"] = {k: exact.get(k, 0.0) for k in oq.FEATURES}
    doc["summary"]["law_coef"]["log d"] = 0.7
    doc["summary"]["law_coef"]["log ‖y‖"] = -2.5
    t = fig.texts(doc)
    assert (t["coef_furthest"], t["coef_furthest_gap"]) == ("d", "0.7")
    assert "<td>log d</td><td>+0.70</td><td>0</td>" in fig.law_table(doc).data
