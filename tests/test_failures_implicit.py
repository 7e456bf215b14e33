"""Failures of mdln.implicit: no interpolator is a ValueError saying why, tiny Δ is solved (not refused),
the hyperbolic entropy does not overflow, and the helpers name the problem."""
from types import SimpleNamespace

import numpy as np
import pytest

import mdln
from _raises import assert_raises_case


def _overdetermined():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 5)), rng.standard_normal(40)


@pytest.mark.parametrize("case", ["implicit_solution", "implicit_solution_theta0", "min_l2_interpolator",
                                  "min_l1_interpolator"])
def test_no_interpolator_is_a_value_error_saying_why(case):
    X, y = _overdetermined()
    with pytest.raises(ValueError, match=r"no interpolator: y is not in the range of X \(shape 40×5"):
        if case == "implicit_solution":
            mdln.implicit_solution(X, y, 0.1)
        elif case == "implicit_solution_theta0":
            mdln.implicit_solution(X, y, 0.1, theta0=np.ones(5))
        elif case == "min_l1_interpolator":
            mdln.min_l1_interpolator(X, y)
        else:
            mdln.min_l2_interpolator(X, y)


@pytest.mark.parametrize("delta", [1e-300, np.finfo(float).tiny, 1e-100, 1e-8, 1.0, 1e6])
def test_implicit_solution_interpolates_for_every_delta(delta):
    """From the ℓ1 limit (the smallest normal Δ) to the ℓ2 limit: an interpolator, never an error."""
    ds = mdln.sparse_regression()
    theta = mdln.implicit_solution(ds.X, ds.y, delta)
    assert theta.shape == (ds.d,) and np.linalg.norm(ds.X @ theta - ds.y) < 1e-10


def test_solver_failure_is_an_implicit_solve_error_with_the_residual():
    """A Newton budget too small to reach the interpolator: ImplicitSolveError reports ‖Xθ − y‖."""
    ds = mdln.sparse_regression(n=10, d=15, s=3, seed=0)
    match = r"did not reach an interpolator.*‖Xθ − y‖ = .*max_iter=1"
    with pytest.raises(mdln.ImplicitSolveError, match=match):
        mdln.implicit_solution(ds.X, ds.y, 1e-6, tol=1e-300, max_iter=1)


@pytest.mark.parametrize("theta,delta", [(1e160, 1e-160), (-1e160, 1e-160), (1e300, 1e-10), (1.0, 1e-320)])
def test_hyperbolic_entropy_does_not_overflow(theta, delta):
    val = mdln.hyperbolic_entropy([theta], delta)
    grad = mdln.hyperbolic_entropy_grad([theta], delta)
    # |θ| ≫ Δ: ψ = ¼(2|θ| a − 2|θ|) to rounding, a = ½·∇ψ·2 = log(4|θ|/Δ)
    a = np.log(4.0) + np.log(abs(theta)) - np.log(delta)
    assert np.isfinite(val) and np.isfinite(grad).all()
    np.testing.assert_allclose(grad, [0.5 * np.sign(theta) * a], rtol=1e-12)
    np.testing.assert_allclose(val, 0.25 * (2 * abs(theta) * a - 2 * abs(theta)), rtol=1e-12)
    pot = mdln.HyperbolicEntropy(np.array([delta]))
    assert np.isfinite(mdln.bregman_divergence(pot, [theta], [theta / 2]))
    np.testing.assert_allclose(mdln.implicit.kkt_shift([theta], [delta]), [2 * grad[0]], rtol=1e-12)


_DS = mdln.sparse_regression(n=5, d=8, s=2)

CASES = {
    "small_lambda_delta_dims": (lambda: mdln.small_lambda_delta(
        SimpleNamespace(t=np.arange(3.0), **{k: np.ones((3, 4)) for k in ("w_plus", "w_minus", "wdot_plus",
                                                                           "wdot_minus")}), 0.1, _DS.X, _DS.y),
        ValueError, "coordinates but X has"),
    "corollary2_delta_not_a_trajectory": (lambda: mdln.corollary2_delta(np.ones(3), 0.1), ValueError,
                                          "trajectory must have fields"),
    "prop2_demo_nan_speed": (lambda: mdln.prop2_demo(speed_scale=float("nan")), ValueError,
                             "speed_scale must be finite"),
    "bregman_divergence_not_a_potential": (lambda: mdln.bregman_divergence(42, [1.0], [2.0]), ValueError,
                                           "potential must be"),
    "hyperbolic_entropy_zero_delta": (lambda: mdln.HyperbolicEntropy(np.zeros(2)), ValueError,
                                      "delta must be > 0"),
    "theorem2_predictions_short_theta0": (lambda: mdln.implicit.theorem2_predictions(
        _DS.X, _DS.y, 0.1, np.ones(3)), ValueError, r"theta0 must have shape \(8,\)"),
    "linear_shift_zero_solution": (lambda: mdln.implicit.linear_shift(_DS.X, np.zeros(8), 0.1, np.ones(8)),
                                   ValueError, "theta_simplified must be nonzero"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_helpers_name_the_problem(case):
    assert_raises_case(CASES[case])


def test_prop3_bound_is_infinite_when_y_is_zero():
    """θ0 = 0 already interpolates y = 0, so no λ makes Δ_t vanish (Proposition 3)."""
    assert mdln.prop3_bound(_DS.X, np.zeros(5), 0.01) == float("inf")
