"""Theorem 2 in full (θ^MGD = argmin_S D_ψΔ∞(·, θ̃0)) against MGD runs, and the simplification."""
import numpy as np
import pytest

import mdln
from mdln import theorems as T
from mdln.status import Status

TIGHT = 1e-16      # train-loss tolerance of the "tight" runs: distances scale like √tol (≈ 5e-8 here)


@pytest.fixture(scope="module")
def ds():
    return mdln.sparse_regression(n=20, d=30, s=5, mu=1.0, seed=4242)


def _check(ds, gamma, beta, batch_size=None, tol=TIGHT):
    r = mdln.train_mgd(ds.X, ds.y, gamma, beta, batch_size=batch_size, tol=tol, max_steps=10 ** 7)
    assert r.status == Status.CONVERGED
    return r, T.check_run(r, ds.X, ds.y)


@pytest.mark.parametrize("gamma, beta, batch_size, crossed", [
    (0.1, 0.0, None, False),     # full batch, plain GD: no sign change
    (0.1, 0.8, None, True),      # full batch with momentum: w± change sign, |θ̃0| ~ 1e7
    (0.05, 0.5, 5, True),        # stochastic B = 5 < n, sign changes
    (0.01, 0.5, 1, False),       # stochastic B = 1, no sign change
])
def test_full_theorem2_tight(ds, gamma, beta, batch_size, crossed):
    r, c = _check(ds, gamma, beta, batch_size)
    assert r.crossed == crossed
    assert c.distance_full < 1e-6                         # Theorem 2 as stated, to the stopping precision
    assert c.resid_full < 1e-9 and c.resid_simplified < 1e-9
    if crossed:
        # the simplification is off by far more than the stopping precision where θ̃0 ≫ Δ∞
        assert c.distance > 100 * c.distance_full
        assert c.dropped > 1.0
    else:
        assert np.max(np.abs(r.theta_tilde0())) < r.alpha ** 2      # Corollary 3


def test_distance_shrinks_with_tolerance(ds):
    full, simp = [], []
    for tol in (1e-8, 1e-11, 1e-14):
        _, c = _check(ds, 0.1, 0.8, tol=tol)
        full.append(c.distance_full)
        simp.append(c.distance)
    full = np.array(full)
    assert np.all(full[1:] < 0.1 * full[:-1])         # √tol: a factor ~30 per three decades
    assert simp[-1] > 0.5 * simp[0] > 1e-3            # the simplified form levels off instead


def test_hidden_data_random_support():
    """Another data set (random support, (n, d, s, μ) = (15, 40, 3, 1.5)) and a run with sign changes."""
    ds = mdln.sparse_regression(n=15, d=40, s=3, mu=1.5, seed=7, support="random")
    assert not np.all(np.nonzero(ds.theta_star)[0] == np.arange(3))
    r, c = _check(ds, 0.05, 0.7)
    assert r.crossed and c.distance_full < 1e-6 < 1e-3 < c.distance


def test_extreme_theta_tilde0_is_solved():
    """β = 0.95, large γ: |arcsinh(2θ̃0/Δ∞)| ≈ 200, where a cold Newton start stalls; KKT certified."""
    ds = mdln.sparse_regression(seed=1)
    r = mdln.train_mgd(ds.X, ds.y, 0.1304, 0.95, max_steps=200_000)
    assert r.status == Status.CONVERGED
    tt0 = r.theta_tilde0()
    assert mdln.dropped_term(tt0, r.delta_inf) > 100
    full, simp = T.theorem2_predictions(ds.X, ds.y, r.delta_inf, tt0)
    assert np.linalg.norm(ds.X @ full - ds.y) < 1e-9
    # KKT of argmin_S D(·, θ̃0): arcsinh(2θ/Δ) − arcsinh(2θ̃0/Δ) lies in the row space of X
    z = np.arcsinh(2 * full / r.delta_inf) - np.arcsinh(2 * tt0 / r.delta_inf)
    Q = np.linalg.qr(ds.X.T)[0]
    assert np.linalg.norm(z - Q @ (Q.T @ z)) < 1e-8 * np.linalg.norm(z)
    assert np.linalg.norm(r.theta - full) / np.linalg.norm(full) < 2e-3     # tol 1e-8 floor ≈ 8e-4


def test_theta_tilde0_matches_run_and_sweep(ds):
    r = mdln.train_mgd(ds.X, ds.y, 0.05, 0.5, max_steps=50_000)
    np.testing.assert_allclose(T.theta_tilde0(r.S_plus, r.S_minus, r.alpha), r.theta_tilde0())
    sw = mdln.mgd_sweep(ds.X[None], ds.y[None], [0.05], [0.5], alpha=r.alpha, max_steps=50_000, cache=False)
    np.testing.assert_allclose(T.theta_tilde0(sw.S_plus, sw.S_minus, sw.alpha)[0, 0, 0], r.theta_tilde0(),
                               rtol=1e-6, atol=1e-14)
    c = T.check_sweep(sw, ds.X[None], ds.y[None], 1e-8, cache=False)
    assert c.distance_full.shape == (1, 1, 1)
    s = c.summary()
    assert s["runs"] == 1 and s["n_all"] == s["converged"]


def test_linear_shift_is_first_order(ds):
    """For a small θ̃0 the first-order shift predicts the gap between the two predictions."""
    delta = np.full(ds.d, 1e-3)
    rng = np.random.default_rng(0)
    tt0 = 1e-6 * rng.standard_normal(ds.d)
    full, simp = T.theorem2_predictions(ds.X, ds.y, delta, tt0)
    gap = np.linalg.norm(full - simp) / np.linalg.norm(simp)
    shift = T.linear_shift(ds.X, simp, delta, tt0)
    assert gap > 1e-6
    assert abs(shift / gap - 1) < 0.05


def test_bad_shapes(ds):
    with pytest.raises(ValueError, match="theta"):
        T.check_runs(np.stack([ds.X, ds.X]), np.stack([ds.y, ds.y]), np.zeros((3, ds.d)), np.ones((3, ds.d)),
                     np.zeros((3, ds.d)), np.zeros((3, ds.d)), 0.01, np.zeros(3), np.zeros(3, bool),
                     np.zeros(3), 1e-8, cache=False)
