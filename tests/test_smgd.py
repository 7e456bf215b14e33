"""Tests for SMGD on diagonal linear networks: Eq. (9), Lemma 2, Theorem 2, Corollary 3."""
import numpy as np
import pytest

import mdln

from mdln.data import sparse_regression
from mdln.momentum import mgd
from mdln.smgd import _PyBatches, have_numba, lemma2_r, train_mgd

ENGINES = ["numpy"] + (["numba"] if have_numba() else [])


@pytest.fixture(scope="module")
def small():
    return sparse_regression(n=10, d=15, s=3, seed=1)


def _uv_grad(X, y):
    n, d = X.shape

    def grad(w):
        u, v = w[:d], w[d:]
        g = X.T @ (X @ (u * v) - y) / n
        return np.concatenate([g * v, g * u])
    return grad


@pytest.mark.parametrize("engine", ENGINES)
def test_iterates_match_generic_mgd_on_uv(small, engine):
    """Full-batch Eq. (9) equals generic MGD on F(u, v) = L(u⊙v) from (α1, 0), w1 = w0."""
    X, y, d = small.X, small.y, small.d
    K = 300
    W = mgd(_uv_grad(X, y), np.concatenate([np.full(d, 0.01), np.zeros(d)]), 0.1, 0.6, K)
    res = train_mgd(X, y, 0.1, 0.6, max_steps=K - 1, tol=1e-30, engine=engine)
    # W[k] is w_k with w_1 = w_0; after m updates train_mgd holds w_{1+m}
    assert res.status == "step_cap" and res.steps == K - 1
    np.testing.assert_allclose(res.u, W[K, :d], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res.v, W[K, d:], rtol=1e-10, atol=1e-14)


def test_lemma2_sums_from_independent_trajectory(small):
    """S± recomputed from the generic-MGD trajectory with r(z) agree with the accumulated sums."""
    X, y, d = small.X, small.y, small.d
    K, gamma, beta = 400, 0.2, 0.7
    W = mgd(_uv_grad(X, y), np.concatenate([np.full(d, 0.01), np.zeros(d)]), gamma, beta, K)
    wp, wm = W[1:, :d] + W[1:, d:], W[1:, :d] - W[1:, d:]        # w_1 .. w_K
    zp, zm = wp[1:] / wp[:-1], wm[1:] / wm[:-1]
    Sp = np.sum(lemma2_r(zp) + beta * lemma2_r(1 / zp), axis=0) / (1 - beta)
    Sm = np.sum(lemma2_r(zm) + beta * lemma2_r(1 / zm), axis=0) / (1 - beta)
    res = train_mgd(X, y, gamma, beta, max_steps=K - 1, tol=1e-30)
    np.testing.assert_allclose(res.S_plus, Sp, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.S_minus, Sm, rtol=1e-9, atol=1e-12)


def test_r_is_positive_for_positive_ratios():
    z = np.array([0.1, 0.5, 0.99, 1.01, 2.0, 10.0])
    assert np.all(lemma2_r(z) > 0)
    assert lemma2_r(1.0) == 0.0
    # r(z) ~ (z − 1)²/2 near 1 (Appendix D.2)
    assert abs(lemma2_r(1 + 1e-4) / 0.5e-8 - 1) < 1e-3


@pytest.mark.parametrize("batch_size,replace", [(None, False), (2, False), (3, True), (1, False)])
def test_theorem2_balancedness(small, batch_size, replace):
    """Δ∞ = Δ0 exp(−(S+ + S−)) at convergence, full batch and B < n (Theorem 2)."""
    res = train_mgd(small.X, small.y, 0.1, 0.5, batch_size=batch_size, replace=replace, tol=1e-12,
                    max_steps=400_000)
    assert res.status == "converged"
    assert res.train_loss < 1e-12
    assert res.theorem2_error() <= 1e-6
    assert res.theorem2_error(finite=True) <= 1e-6   # exact at finite K up to rounding in (u, v)


def test_theorem2_with_and_without_sign_changes(small):
    crossing = train_mgd(small.X, small.y, 0.3, 0.9, tol=1e-12, max_steps=400_000)
    calm = train_mgd(small.X, small.y, 0.2, 0.0, tol=1e-12, max_steps=400_000)
    assert crossing.crossed and not calm.crossed
    for res in (crossing, calm):
        assert res.status == "converged"
        assert res.theorem2_error() <= 1e-6


def test_corollary3_without_sign_change(small):
    """No sign change ⇒ Δ∞ < Δ0 coordinate-wise and |θ̃0| < α² (Corollary 3)."""
    res = train_mgd(small.X, small.y, 0.2, 0.0, tol=1e-10, max_steps=400_000)
    assert not res.crossed
    assert np.all(res.S_plus > 0) and np.all(res.S_minus > 0)
    assert np.all(res.delta_inf < res.delta0)
    assert np.all(np.abs(res.theta_tilde0()) < res.alpha ** 2)


def test_converged_run_interpolates(small):
    res = train_mgd(small.X, small.y, 0.1, 0.5)
    assert res.status == "converged" and res.train_loss < 1e-8
    assert np.linalg.norm(small.X @ res.theta - small.y) / np.sqrt(small.n) < 2e-4


@pytest.mark.parametrize("batch_size,replace", [(None, False), (3, False), (4, True)])
def test_engines_agree(small, batch_size, replace):
    if not have_numba():
        pytest.skip("numba not installed")
    kw = dict(batch_size=batch_size, replace=replace, max_steps=3000, tol=1e-30, record=12)
    a = train_mgd(small.X, small.y, 0.15, 0.7, engine="numba", **kw)
    b = train_mgd(small.X, small.y, 0.15, 0.7, engine="numpy", **kw)
    assert a.steps == b.steps and a.crossed == b.crossed and a.status == b.status
    for f in ("theta", "S_plus", "S_minus", "delta_inf"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-9, atol=1e-13)
    np.testing.assert_array_equal(a.trajectory.steps, b.trajectory.steps)
    np.testing.assert_allclose(a.trajectory.delta, b.trajectory.delta, rtol=1e-9, atol=1e-15)


def test_divergence_is_a_status_never_nan(small):
    res = train_mgd(small.X, small.y, 5.0, 0.5, record=5)
    assert res.status == "diverged"
    for f in ("theta", "u", "v", "delta_inf", "S_plus", "S_minus"):
        assert np.all(np.isfinite(getattr(res, f)))
    assert np.isfinite(res.train_loss)
    assert np.all(np.isfinite(res.trajectory.train_loss))


def test_max_steps_and_epochs(small):
    res = train_mgd(small.X, small.y, 0.001, 0.0, batch_size=3, max_steps=20)
    assert res.status == "step_cap" and res.steps == 20
    assert res.epochs == pytest.approx(20 / 4)     # ⌈10/3⌉ = 4 steps per epoch
    assert res.batch_size == 3


def test_batches_without_replacement_partition_each_epoch():
    b = _PyBatches(10, 3, False, seed=7)
    seen = []
    for k in range(8):          # two epochs of ⌈10/3⌉ = 4 steps
        seen.append(b.batch(k))
    for e in range(2):
        ep = np.concatenate(seen[4 * e:4 * e + 4])
        assert sorted(ep.tolist()) == list(range(10))
    assert [len(x) for x in seen[:4]] == [3, 3, 3, 1]
    assert not np.array_equal(np.concatenate(seen[:4]), np.concatenate(seen[4:]))


def test_batches_with_replacement_are_distinct_subsets():
    b = _PyBatches(10, 4, True, seed=3)
    batches = [b.batch(k) for k in range(50)]
    assert all(len(set(x.tolist())) == 4 for x in batches)
    counts = np.bincount(np.concatenate(batches), minlength=10)
    assert counts.min() > 5     # every sample is drawn


def test_trajectory_records_final_iterate(small):
    res = train_mgd(small.X, small.y, 0.1, 0.5, record=30)
    tr = res.trajectory
    assert tr.steps[-1] == res.steps and tr.steps[0] == 0
    assert np.all(np.diff(tr.steps) > 0)
    np.testing.assert_allclose(tr.theta[-1], res.theta)
    np.testing.assert_allclose(tr.delta[0], np.full(small.d, 1e-4))
    assert tr.train_loss[-1] == pytest.approx(res.train_loss)


@pytest.mark.parametrize("kw,match", [
    (dict(gamma=0.0), "gamma"), (dict(gamma=-1.0), "gamma"), (dict(beta=1.0), "beta"),
    (dict(beta=-0.1), "beta"), (dict(batch_size=0), "batch_size"), (dict(batch_size=11), "batch_size"),
    (dict(alpha=0.0), "alpha"), (dict(max_steps=-1), "max_steps"), (dict(tol=0.0), "tol"),
    (dict(engine="gpu"), "engine"), (dict(replace="yes"), "replace"), (dict(seed=-1), "seed"),
])
def test_bad_arguments(small, kw, match):
    args = dict(gamma=0.1, beta=0.5)
    args.update(kw)
    g, b = args.pop("gamma"), args.pop("beta")
    with pytest.raises(ValueError, match=match):
        train_mgd(small.X, small.y, g, b, **args)


def test_bad_data(small):
    X = small.X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="X"):
        train_mgd(X, small.y, 0.1, 0.5)
    with pytest.raises(ValueError, match="y"):
        train_mgd(small.X, small.y[:-1], 0.1, 0.5)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", [2 ** 64, 2 ** 70, -1, 1.0, True, "0"])
def test_seed_range_is_checked_for_every_engine(small, engine, seed):
    """Issue 12 group 6: the same ValueError, naming seed and its range, on every engine."""
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64 - 1\]"):
        train_mgd(small.X, small.y, 0.1, 0.5, batch_size=3, seed=seed, max_steps=10, engine=engine)


def test_largest_seed_gives_the_same_batches_on_every_engine(small):
    runs = [train_mgd(small.X, small.y, 0.1, 0.5, batch_size=3, seed=2 ** 64 - 1, max_steps=90, tol=1e-30,
                      engine=e) for e in ENGINES]
    zero = train_mgd(small.X, small.y, 0.1, 0.5, batch_size=3, seed=0, max_steps=90, tol=1e-30)
    assert not np.allclose(runs[0].theta, zero.theta)          # not silently seed 0's batches
    for r in runs[1:]:
        np.testing.assert_allclose(r.theta, runs[0].theta, rtol=1e-10, atol=1e-14)
    assert _PyBatches(10, 3, False, 2 ** 64 - 1).batch(0).tolist() != _PyBatches(10, 3, False, 0).batch(0).tolist()


@pytest.mark.parametrize("engine", ENGINES)
def test_unrepresentable_update_is_divergence(small, engine):
    """An update multiplying w± by more than 2^52 ends the run as 'diverged' at the last finite iterate."""
    r = train_mgd(small.X, small.y, 1e50, 0.5, max_steps=100, engine=engine)
    assert r.status == "diverged" and r.steps == 1
    np.testing.assert_array_equal(r.theta, 0.0)                     # iterate 0: θ0 = u0⊙v0 = 0
    assert np.isfinite(r.train_loss) and np.all(np.isfinite(r.S_plus)) and np.all(r.delta_inf == 1e-4)


def test_corollary3_holds_on_runs_that_do_not_cross():
    """Corollary 3: if w± never change sign, |θ̃0| < α² and Δ∞ < Δ0 = α² (checked coordinate-wise)."""
    ds = mdln.sparse_regression(seed=3)
    seen = 0
    for gamma, beta in [(0.01, 0.0), (0.01, 0.5), (0.05, 0.5), (0.02, 0.9), (0.005, 0.0)]:
        r = mdln.train_mgd(ds.X, ds.y, gamma, beta, max_steps=100_000)
        assert r.status != "diverged"
        if r.crossed:
            continue
        seen += 1
        a2 = r.alpha ** 2
        manual = all(abs(t) < a2 and dl < a2 for t, dl in zip(r.theta_tilde0(), r.delta_inf))
        assert r.corollary3() and manual
    assert seen >= 3


def test_corollary3_holds_is_false_where_a_coordinate_fails_or_is_nan():
    from mdln.smgd import corollary3_holds
    a = 0.1
    delta = np.array([[0.005, 0.009], [0.005, 0.011], [np.nan, 0.001]])
    tt0 = np.array([[0.001, -0.009], [0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(corollary3_holds(delta, tt0, a), [True, False, False])
    np.testing.assert_array_equal(corollary3_holds(delta[:1], np.array([[0.02, 0.0]]), a), [False])
