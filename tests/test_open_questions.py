"""The open-questions study: thresholds confirmed by independent runs, Proposition 3 recomputed, executors."""
import json
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from mdln.dln import train_mgf
from mdln.experiments import open_questions as oq
from mdln.smgd import train_mgd
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


def test_process_pool_is_bit_identical_to_serial(test_result):
    # spawn: forking a process that already ran numba's OpenMP-parallel kernels is unsafe
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        _assert_bit_identical(oq.run(test_result.config, executor=ex, use_cache=False), test_result)


def test_dask_cluster_is_bit_identical_to_serial(test_result, tmp_path, capsys):
    """A 2-worker LocalCluster on 127.0.0.1: run(executor=...) and the CLI's --scheduler give the serial numbers."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        _assert_bit_identical(oq.run(test_result.config, executor=client.get_executor(), use_cache=False),
                              test_result)
        oq.main(["--fidelity", "test", "--scheduler", cluster.scheduler_address, "--out", str(tmp_path)])
    written = json.loads((tmp_path / "open_questions_test.json").read_text())
    assert written == json.loads(json.dumps(oq.to_json(test_result)))
