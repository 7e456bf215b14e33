"""Tests of mdln.implicit: hyperbolic entropy, Bregman projections, Prop. 3, Cor. 2, App. C.5."""
import numpy as np
import pytest

import mdln
from mdln.implicit import (HyperbolicEntropy, bregman_divergence, hyperbolic_entropy, hyperbolic_entropy_grad,
                           implicit_solution, min_l1_interpolator, min_l2_interpolator, normalised_distance,
                           prop3_bound)


@pytest.fixture(scope="module")
def data():
    return mdln.sparse_regression()


def test_entropy_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    th, delta = rng.standard_normal(6), rng.uniform(0.1, 2.0, 6)
    g = hyperbolic_entropy_grad(th, delta)
    h = 1e-6
    fd = np.array([(hyperbolic_entropy(th + h * e, delta) - hyperbolic_entropy(th - h * e, delta)) / (2 * h)
                   for e in np.eye(6)])
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)
    assert hyperbolic_entropy(np.zeros(6), delta) == 0.0


def test_entropy_limits_l1_and_l2():
    th = np.array([0.5, -1.0, 0.0, 2.0])
    # Δ → 0: ψ_Δ(θ) / (½ ln(1/Δ)) → ‖θ‖₁ (Lemma 4, Appendix E)
    errs = [abs(hyperbolic_entropy(th, dl) / (0.5 * np.log(1 / dl)) - np.abs(th).sum()) for dl in (1e-12, 1e-200)]
    assert errs[1] < 0.05 * np.abs(th).sum() and errs[1] < errs[0] / 10
    # Δ → ∞: ψ_Δ(θ) ≈ ‖θ‖²/(2Δ)
    delta = 1e6
    assert hyperbolic_entropy(th, delta) * delta == pytest.approx(0.5 * np.sum(th ** 2), rel=1e-4)


def test_bregman_divergence_forms_agree_and_are_nonnegative():
    rng = np.random.default_rng(1)
    delta = rng.uniform(0.1, 1, 5)
    a, b = rng.standard_normal(5), rng.standard_normal(5)
    pot = HyperbolicEntropy(delta)
    pair = (lambda t: hyperbolic_entropy(t, delta), lambda t: hyperbolic_entropy_grad(t, delta))
    d1, d2 = bregman_divergence(pot, a, b), bregman_divergence(pair, a, b)
    assert d1 == pytest.approx(d2, rel=1e-14)
    assert d1 > 0 and bregman_divergence(pot, a, a) == 0.0
    quad = (lambda t: 0.5 * t @ t, lambda t: t)   # D = ½‖a − b‖²
    assert bregman_divergence(quad, a, b) == pytest.approx(0.5 * np.sum((a - b) ** 2), rel=1e-12)
    with pytest.raises(ValueError, match="potential"):
        bregman_divergence(42, a, b)


@pytest.mark.parametrize("delta", [1e-8, 1e-6, 1e-4, 1e-2, 1.0, 1e2])
def test_implicit_solution_interpolates_and_satisfies_kkt(data, delta):
    th = implicit_solution(data.X, data.y, delta)
    assert np.linalg.norm(data.X @ th - data.y) <= 1e-12
    g = hyperbolic_entropy_grad(th, delta)
    Q, _ = np.linalg.qr(data.X.T)
    assert np.linalg.norm(g - Q @ (Q.T @ g)) <= 1e-9 * max(1.0, np.linalg.norm(g))


def test_implicit_solution_with_theta0_minimises_the_divergence(data):
    rng = np.random.default_rng(2)
    delta = rng.uniform(1e-4, 1e-3, data.d)
    th0 = 1e-3 * rng.standard_normal(data.d)
    th = implicit_solution(data.X, data.y, delta, theta0=th0)
    assert np.linalg.norm(data.X @ th - data.y) <= 1e-12
    pot = HyperbolicEntropy(delta)
    best = bregman_divergence(pot, th, th0)
    # every feasible perturbation along ker X increases the divergence
    null = np.linalg.svd(data.X)[2][data.n:]
    for k in range(5):
        pert = th + 1e-3 * null.T @ rng.standard_normal(null.shape[0])
        assert bregman_divergence(pot, pert, th0) > best


def test_limits_min_l1_and_min_l2(data):
    l1 = min_l1_interpolator(data.X, data.y)
    l2 = min_l2_interpolator(data.X, data.y)
    assert np.linalg.norm(data.X @ l1 - data.y) < 1e-9
    # independent reference: the minimum-norm solution is the pseudo-inverse solution
    np.testing.assert_allclose(l2, np.linalg.pinv(data.X) @ data.y, atol=1e-12)
    assert normalised_distance(implicit_solution(data.X, data.y, 1e-8), l1) < 1e-3
    assert normalised_distance(implicit_solution(data.X, data.y, 1e6), l2) < 1e-6
    # with n = 20 noiseless samples the min-ℓ1 interpolator recovers the 5-sparse θ*
    assert np.abs(l1).sum() <= np.abs(data.theta_star).sum() + 1e-9


def test_prop3_bound_value(data):
    delta0 = np.full(data.d, 1e-4)
    assert prop3_bound(data.X, data.y, delta0) == pytest.approx(data.n * 1e-4 / (data.y @ data.y))


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_validation(data, bad):
    with pytest.raises(ValueError, match="delta"):
        implicit_solution(data.X, data.y, bad)
    with pytest.raises(ValueError, match="delta"):
        hyperbolic_entropy(np.ones(3), bad)
    with pytest.raises(ValueError):
        implicit_solution(data.X, data.y[:-1], 1.0)
    with pytest.raises(ValueError, match="delta0"):
        prop3_bound(data.X, data.y, np.full(data.d, bad))


def test_corollary2_and_small_lambda_from_trajectory(data):
    r = mdln.train_mgf(data.X, data.y, 1e-3, trajectory=True, refine=8)
    assert not r.vanished
    c2 = mdln.corollary2_delta(r.trajectory, 1e-3)
    assert np.max(np.abs(c2 / r.delta_inf - 1)) <= 1e-3
    assert np.all(r.delta_inf < r.delta0)       # Corollary 2: Δ∞ < Δ0
    small = mdln.small_lambda_delta(r.trajectory, 1e-3, data.X, data.y)
    sim, approx = np.log(r.delta_inf / r.delta0), np.log(small / r.delta0)
    # Appendix C.5: the exponent −2λ∫∇L² matches to first order in λ (here to a few per cent) ...
    assert np.max(np.abs(approx / sim - 1)) < 0.05
    # ... while Section 3.3's Δ∞² ≈ Δ0² e^{−2λ∫∇L²} (half the exponent) is off by a factor 2
    assert np.all(np.abs(0.5 * approx / sim - 1) > 0.4)


def test_kkt_shift_is_the_term_theta_tilde0_adds_to_the_kkt_condition():
    """argmin_S D_ψΔ(θ, θ̃0): arcsinh(2θ/Δ) − kkt_shift(θ̃0, Δ) lies in the row space of X (Theorems 1–2)."""
    from mdln.implicit import kkt_shift
    ds = mdln.sparse_regression(n=10, d=15, s=3, seed=2)
    rng = np.random.default_rng(0)
    delta = 10.0 ** rng.uniform(-5, -3, 15)
    tt0 = 1e-4 * rng.standard_normal(15)
    theta = mdln.implicit_solution(ds.X, ds.y, delta, theta0=tt0)
    z = np.arcsinh(2 * theta / delta) - kkt_shift(tt0, delta)
    Q = np.linalg.qr(ds.X.T)[0]
    assert np.linalg.norm(z - Q @ (Q.T @ z)) < 1e-8 * np.linalg.norm(z)
    np.testing.assert_allclose(kkt_shift(0.5 * delta * np.sinh(1.5), delta), 1.5, rtol=1e-14)
    assert mdln.dropped_term(tt0, delta) == np.max(np.abs(kkt_shift(tt0, delta)))


def _l1_by_linprog(X, y):
    """min ‖θ‖₁ s.t. Xθ = y as the LP min Σ(a + b), X(a − b) = y, a, b ≥ 0 (independent of mdln)."""
    from scipy.optimize import linprog
    d = X.shape[1]
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs-ds")
    assert res.status == 0
    return res.x[:d] - res.x[d:]


def _entropy_gap_bound(theta_l1, delta, d):
    """Bound on ‖θ_Δ‖₁ − ‖θ_ℓ1‖₁ from ψ_Δ(θ_Δ) ≤ ψ_Δ(θ_ℓ1): ψ_Δ(θ) = ½ log(1/Δ)‖θ‖₁ + E(θ) + O(Δ),
    E(θ) = ½ Σ |θ_i|(log 4|θ_i| − 1) ≥ −d/8 (its minimum per coordinate, at |θ_i| = 1/4)."""
    a = np.abs(theta_l1[theta_l1 != 0])
    e_l1 = 0.5 * np.sum(a * (np.log(4 * a) - 1))
    return 2 * (e_l1 + d / 8) / np.log(1 / delta)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("delta", [1e-12, 1e-100, 1e-300, np.finfo(float).tiny])
def test_implicit_solution_reaches_the_l1_limit(seed, delta):
    """Δ → 0 is the ℓ1 limit (Section 3.1, App. E): ‖θ_Δ‖₁ equals the LP's minimum, Xθ = y to 1e-11."""
    ds = mdln.sparse_regression(n=10, d=15, s=3, seed=seed)
    theta = implicit_solution(ds.X, ds.y, delta)
    ref = _l1_by_linprog(ds.X, ds.y)
    assert np.linalg.norm(ds.X @ theta - ds.y) <= 1e-11
    gap = np.abs(theta).sum() - np.abs(ref).sum()
    assert gap >= -1e-10                                   # no interpolator has a smaller ℓ1 norm
    if delta >= 1e-12:
        assert gap <= _entropy_gap_bound(ref, delta, ds.d)
    else:   # the LP solution is unique: θ_Δ equals it up to terms exponentially small in log(1/Δ)
        assert gap <= 1e-10 * np.abs(ref).sum()
        np.testing.assert_allclose(theta, ref, atol=1e-9)


@pytest.mark.parametrize("delta", [1e-30, 1e-100, 1e-300])
def test_implicit_solution_with_theta0_at_tiny_delta_satisfies_kkt(delta):
    """argmin_S D_ψΔ(·, θ0) at tiny Δ: Xθ = y and ∇ψ_Δ(θ) − ∇ψ_Δ(θ0) in the row space of X (Eq. 5)."""
    ds = mdln.sparse_regression(n=10, d=15, s=3, seed=4)
    rng = np.random.default_rng(3)
    theta0 = 0.05 * rng.standard_normal(ds.d)     # |θ0| ≫ Δ: every coordinate's KKT term is resolved
    theta = implicit_solution(ds.X, ds.y, delta, theta0=theta0)
    assert np.linalg.norm(ds.X @ theta - ds.y) <= 1e-10
    assert np.all(theta != 0)
    g = hyperbolic_entropy_grad(theta, delta) - hyperbolic_entropy_grad(theta0, delta)
    Q, _ = np.linalg.qr(ds.X.T)
    assert np.linalg.norm(g - Q @ (Q.T @ g)) <= 1e-8 * np.linalg.norm(g)


def test_implicit_solution_is_continuous_across_the_solver_switch(data):
    """Δ from 1e-90 to 1e-200 spans both solvers (decade-staged Newton, then the log-Δ continuation);
    with a unique ℓ1 minimiser every such Δ gives it to rounding, so the solutions agree."""
    thetas = [implicit_solution(data.X, data.y, dl) for dl in (1e-90, 1e-110, 1e-160, 1e-200)]
    for a, b in zip(thetas, thetas[1:]):
        assert normalised_distance(a, b) < 1e-6


@pytest.mark.parametrize("low", [1e-150, 1e-300])
def test_implicit_solution_for_delta_spanning_many_decades(data, low):
    """Δ_i from ``low`` to 1e-3 across coordinates: an interpolator whose ∇ψ_Δ lies in the row space of X."""
    delta = np.geomspace(low, 1e-3, data.d)[np.random.default_rng(5).permutation(data.d)]
    theta = implicit_solution(data.X, data.y, delta)
    assert np.linalg.norm(data.X @ theta - data.y) <= 1e-11
    g = hyperbolic_entropy_grad(theta, delta)
    Q, _ = np.linalg.qr(data.X.T)
    assert np.linalg.norm(g - Q @ (Q.T @ g)) <= 1e-8 * np.linalg.norm(g)
