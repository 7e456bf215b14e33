"""mdln.data: the sparse-regression generator's distribution and its closed-form population test loss."""
import numpy as np
import pytest

import mdln
from mdln.data import sparse_regression


@pytest.mark.parametrize("mu,sigma", [(1.0, 1.0), (0.0, 2.0), (-0.5, 0.3)])
def test_test_loss_matches_monte_carlo(mu, sigma):
    """½(θ−θ*)ᵀ(σ²I + μ²11ᵀ)(θ−θ*) against ½ E[(⟨x, θ−θ*⟩)²] over fresh x ~ N(μ1, σ²I)."""
    data = sparse_regression(n=5, d=8, s=3, mu=mu, sigma=sigma, seed=1)
    rng = np.random.default_rng(123)
    thetas = rng.standard_normal((4, data.d))
    N = 200_000
    x = mu + sigma * rng.standard_normal((N, data.d))
    for theta in thetas:
        samples = 0.5 * (x @ (theta - data.theta_star)) ** 2
        se = samples.std(ddof=1) / np.sqrt(N)
        assert abs(data.test_loss(theta) - samples.mean()) < 5 * se
    # vectorised over leading axes, and zero exactly at θ*
    np.testing.assert_allclose(data.test_loss(thetas), [data.test_loss(t) for t in thetas], rtol=1e-14)
    assert data.test_loss(data.theta_star) == 0.0
    # the closed form is ½ rᵀ E[xxᵀ] r with the second-moment matrix the class reports
    r = thetas[0] - data.theta_star
    assert data.test_loss(thetas[0]) == pytest.approx(0.5 * r @ data.covariance() @ r, rel=1e-12)


def test_train_loss_is_the_empirical_mean():
    data = sparse_regression(n=7, d=5, s=2, seed=4)
    theta = np.linspace(-1, 1, data.d)
    ref = np.mean([(yi - xi @ theta) ** 2 for xi, yi in zip(data.X, data.y)]) / 2
    assert data.train_loss(theta) == pytest.approx(ref, rel=1e-13)
    assert data.train_loss(data.theta_star) == pytest.approx(0.0, abs=1e-28)


@pytest.mark.parametrize("mu,sigma", [(1.0, 1.0), (-2.0, 0.5)])
def test_design_entries_have_mean_mu_and_variance_sigma2(mu, sigma):
    n, d = 400, 100
    data = sparse_regression(n=n, d=d, s=5, mu=mu, sigma=sigma, seed=7)
    X = data.X
    assert X.shape == (n, d) and data.n == n and data.d == d
    N = X.size
    # sample mean: standard error σ/√N; sample variance of Gaussians: standard error σ²√(2/(N−1))
    assert abs(X.mean() - mu) < 5 * sigma / np.sqrt(N)
    assert abs(X.var(ddof=1) - sigma ** 2) < 5 * sigma ** 2 * np.sqrt(2 / (N - 1))
    # coordinates independent: each off-diagonal sample covariance has standard error ≈ σ²/√n
    C = np.cov(X, rowvar=False)
    assert np.max(np.abs(C[~np.eye(d, dtype=bool)])) < 6 * sigma ** 2 / np.sqrt(n)


@pytest.mark.parametrize("s", [1, 5, 30])
def test_theta_star_is_s_sparse_and_labels_are_noiseless(s):
    data = sparse_regression(n=20, d=30, s=s, seed=3)
    nz = np.flatnonzero(data.theta_star)
    np.testing.assert_array_equal(nz, np.arange(s))
    np.testing.assert_array_equal(data.theta_star[nz], 1 / np.sqrt(s))
    assert np.linalg.norm(data.theta_star) == pytest.approx(1.0)
    np.testing.assert_array_equal(data.y, data.X @ data.theta_star)


def test_random_support_keeps_X_and_draws_s_distinct_coordinates():
    d, s = 30, 5
    supports = []
    for seed in range(11, 31):
        a = sparse_regression(n=20, d=d, s=s, seed=seed)
        r = sparse_regression(n=20, d=d, s=s, seed=seed, support="random")
        np.testing.assert_array_equal(r.X, a.X)               # same design as 'first'
        nz = np.flatnonzero(r.theta_star)
        assert nz.size == s                                    # s distinct coordinates
        np.testing.assert_array_equal(r.theta_star[nz], 1 / np.sqrt(s))
        np.testing.assert_array_equal(r.y, r.X @ r.theta_star)
        supports.append(tuple(nz))
    # the support is random: it varies with the seed and is not always the first s coordinates
    assert len(set(supports)) > 1 and any(sup != tuple(range(s)) for sup in supports)
    # deterministic given the seed
    again = sparse_regression(n=20, d=d, s=s, seed=11, support="random")
    assert tuple(np.flatnonzero(again.theta_star)) == supports[0]


def test_figure1_quadratic_is_the_rotated_diagonal():
    q = mdln.data.figure1_quadratic((1.0, 0.1), np.pi / 6)
    h, Q = np.linalg.eigh(q.H)
    np.testing.assert_allclose(h, [0.1, 1.0], rtol=1e-14)
    # the eigenvector of the large eigenvalue is the x-axis rotated by π/6
    np.testing.assert_allclose(np.abs(Q[:, 1]), [np.cos(np.pi / 6), np.sin(np.pi / 6)], rtol=1e-12)
    assert np.array_equal(q.w_star, np.zeros(2))
    w = np.array([0.3, -0.7])
    assert q.value(w) == pytest.approx(0.5 * w @ q.H @ w, rel=1e-14)


def test_stacked_regressions_are_the_single_replications():
    dss, X, y = mdln.data.stacked_regressions((3, 7), n=6, d=9, s=2, mu=0.5)
    assert X.shape == (2, 6, 9) and y.shape == (2, 6)
    for r, seed in enumerate((3, 7)):
        one = mdln.sparse_regression(n=6, d=9, s=2, mu=0.5, seed=seed)
        np.testing.assert_array_equal(X[r], one.X)
        np.testing.assert_array_equal(y[r], one.y)
        np.testing.assert_array_equal(dss[r].theta_star, one.theta_star)

