"""Section 2 core: λ, ε, the acceleration rule, MGD and MGF (Proposition 1, Corollary 1)."""
import warnings

import numpy as np
import pytest

import mdln
from mdln.status import DIVERGENCE_FACTOR, Status


def test_lam_and_step_formulas():
    assert mdln.lam(0.1, 0.9) == pytest.approx(0.1 / 0.01, rel=1e-14)
    assert mdln.step(0.1, 0.9) == pytest.approx(1.0, rel=1e-14)
    assert mdln.lam(0.3, 0.0) == 0.3 and mdln.step(0.3, 0.0) == 0.3
    # ε = √(λγ) (Proposition 1)
    for g, b in [(1e-3, 0.5), (0.2, 0.95), (2.0, 0.1)]:
        assert mdln.step(g, b) == pytest.approx(np.sqrt(mdln.lam(g, b) * g), rel=1e-13)


def test_alt_lam_is_central_difference_lambda():
    # Appendix A: γ = ε²/(λ(1+ε/2λ)), β = (1−ε/2λ)/(1+ε/2λ) inverts to λ' and ε = γ/(1−β).
    lam_, eps = 0.7, 0.05
    a = eps / (2 * lam_)
    gamma, beta = eps ** 2 / (lam_ * (1 + a)), (1 - a) / (1 + a)
    assert mdln.alt_lam(gamma, beta) == pytest.approx(lam_, rel=1e-12)
    assert mdln.step(gamma, beta) == pytest.approx(eps, rel=1e-12)
    assert mdln.alt_lam(0.01, 0.999) / mdln.lam(0.01, 0.999) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("rho", [0.5, 2.0, 4.0, 7.5])
def test_accelerate_keeps_lambda_and_scales_step(rho):
    gamma, beta = 0.01, 0.9
    g_hat, b_hat = mdln.accelerate(gamma, beta, rho)
    assert g_hat == pytest.approx(rho ** 2 * gamma)
    assert mdln.lam(g_hat, b_hat) == pytest.approx(mdln.lam(gamma, beta), rel=1e-10)
    assert mdln.step(g_hat, b_hat) == pytest.approx(rho * mdln.step(gamma, beta), rel=1e-10)


def test_accelerate_rejects_beta_outside_range():
    with pytest.raises(ValueError, match="rho"):
        mdln.accelerate(0.01, 0.9, 11.0)   # β̂ = 1 − 11·0.1 < 0
    with pytest.raises(ValueError, match="rho"):
        mdln.accelerate(0.01, 0.9, 0.0)


def _grad_quartic(w):
    return w ** 3 - np.array([1.0, -0.5, 0.25]) + 0.1 * np.roll(w, 1)


def test_mgd_equals_hand_written_recursion():
    w0, w1 = np.array([0.3, -0.2, 0.5]), np.array([0.31, -0.25, 0.45])
    gamma, beta = 0.05, 0.7
    W = mdln.mgd(_grad_quartic, w0, gamma, beta, 200, w1=w1)
    prev, cur = w0.copy(), w1.copy()
    ref = [prev, cur]
    for _ in range(199):
        nxt = cur - gamma * _grad_quartic(cur) + beta * (cur - prev)
        prev, cur = cur, nxt
        ref.append(cur)
    assert W.shape == (201, 3)
    assert np.max(np.abs(W - np.array(ref))) <= 1e-12


def test_mgd_defaults_and_gd():
    q = mdln.Quadratic(np.diag([1.0, 2.0]), np.zeros(2))
    W = mdln.mgd(q.grad, [1.0, 1.0], 0.1, 0.5, 3)
    np.testing.assert_array_equal(W[0], W[1])       # w1 = w0 by default
    G = mdln.gd(q.grad, [1.0, 1.0], 0.1, 5)
    np.testing.assert_allclose(G[-1], (1 - 0.1 * np.array([1.0, 2.0])) ** 5, rtol=1e-14)


def test_mgd_divergence_is_reported():
    q = mdln.Quadratic(np.eye(1), np.zeros(1))
    with pytest.raises(mdln.DivergenceError, match="diverged"):
        mdln.mgd(q.grad, [1.0], 50.0, 0.0, 10_000)


def _damped_oscillator(lam_, h, w0, v0, t):
    """Closed form of λẅ + ẇ + h w = 0 (underdamped or overdamped)."""
    disc = 1 - 4 * lam_ * h
    if disc < 0:
        a, om = -1 / (2 * lam_), np.sqrt(-disc) / (2 * lam_)
        return np.exp(a * t) * (w0 * np.cos(om * t) + (v0 - a * w0) / om * np.sin(om * t))
    r1 = (-1 + np.sqrt(disc)) / (2 * lam_)
    r2 = (-1 - np.sqrt(disc)) / (2 * lam_)
    c2 = (v0 - r1 * w0) / (r2 - r1)
    return (w0 - c2) * np.exp(r1 * t) + c2 * np.exp(r2 * t)


@pytest.mark.parametrize("lam_,h,v0", [(1.0, 2.0, 0.0), (3.0, 1.0, 0.7), (0.05, 1.0, -2.0), (1e-3, 1.5, 0.0)])
@pytest.mark.parametrize("use_jac", [True, False])
def test_mgf_matches_damped_oscillator(lam_, h, v0, use_jac):
    t = np.linspace(0, 15, 301)
    grad = lambda w: h * w
    jac = (lambda w: np.array([[h]])) if use_jac else None
    W = mdln.mgf(grad, [1.3], lam_, t, v0=[v0], jac=jac)
    assert W.shape == (301, 1)
    assert np.max(np.abs(W[:, 0] - _damped_oscillator(lam_, h, 1.3, v0, t))) <= 1e-7


def test_mgf_zero_lambda_is_gradient_flow_and_limit():
    q = mdln.Quadratic(np.array([[1.0, 0.3], [0.3, 0.2]]), np.array([0.5, -1.0]))
    t = np.linspace(0, 10, 101)
    w0 = np.array([2.0, 2.0])
    G = mdln.gf(q.grad, w0, t, jac=q.hess)
    # exact GF: w* + expm(−Ht)(w0 − w*)
    evals, evecs = np.linalg.eigh(q.H)
    exact = q.w_star + (evecs @ (np.exp(-np.outer(t, evals)) * (evecs.T @ (w0 - q.w_star))).T).T
    assert np.max(np.abs(G - exact)) <= 1e-8
    errs = [np.max(np.abs(mdln.mgf(q.grad, w0, lam_, t, jac=q.hess) - G)) for lam_ in (1e-2, 1e-3, 1e-4)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[1] / errs[0] == pytest.approx(0.1, rel=0.3)    # O(λ) convergence to GF
    assert errs[2] <= 1e-3


def test_discretisation_gap_shrinks_linearly():
    # Proposition 1: at fixed λ the gap between MGD(ε²/λ, 1 − ε/λ) and MGF(λ) is O(ε)
    q = mdln.Quadratic(np.diag([1.0, 0.1]), np.zeros(2))
    eps = np.array([0.01, 0.03, 0.1, 0.3])
    gaps = mdln.momentum.gap_vs_step(q.grad, [-1.5, 1.0], 1.0, eps, 10.0, q.w_star, jac=q.hess)
    slope = np.polyfit(np.log(eps), np.log(gaps), 1)[0]
    assert 0.9 <= slope <= 1.1
    assert np.all(np.diff(gaps) > 0)
    # each entry is the discretisation gap at that (γ, β), computed independently here
    e = eps[2]
    n = int(round(10.0 / e))
    W = mdln.mgd(q.grad, [-1.5, 1.0], e * e, 1 - e, n)
    Wc = mdln.mgf_quadratic(q, [-1.5, 1.0], 1.0, e * np.arange(n + 1))
    ref = np.max(np.linalg.norm(W - Wc, axis=1)) / np.linalg.norm([-1.5, 1.0])
    assert gaps[2] == pytest.approx(ref, rel=1e-6)
    with pytest.raises(ValueError, match="eps"):
        mdln.momentum.gap_vs_step(q.grad, [-1.5, 1.0], 1.0, [2.0], 10.0, q.w_star)


def test_acceleration_gap_exact_rule_beats_the_approximation():
    # Corollary 1: MGD(ρ²γ, 1 − ρ(1 − β)) takes every ρ-th step of MGD(γ, β) up to O(ε)
    q = mdln.data.figure1_quadratic()
    w0 = np.array([-1.5, 1.0])
    g2, g4 = (mdln.momentum.acceleration_gap(q.grad, w0, 0.01, 0.9, r, 40.0) for r in (2, 4))
    assert 0 < g2 < g4 < 0.05
    # the same gap for the paper's β^ρ approximation, measured independently, is about twice as large
    g_hat = 4 * 0.01
    n_hat = int(round(40.0 / mdln.step(*mdln.accelerate(0.01, 0.9, 2))))
    W = mdln.mgd(q.grad, w0, 0.01, 0.9, 2 * n_hat)
    Wa = mdln.mgd(q.grad, w0, g_hat, 0.9 ** 2, n_hat)
    path = np.sum(np.linalg.norm(np.diff(W, axis=0), axis=1))
    assert np.max(np.linalg.norm(Wa - W[::2], axis=1)) / path > 1.5 * g2
    with pytest.raises(ValueError, match="rho"):
        mdln.momentum.acceleration_gap(q.grad, w0, 0.01, 0.9, 1.5, 10.0)


@pytest.mark.parametrize("gamma,beta", [(0.01, 0.9), (0.3, 0.2), (1e-3, 0.99), (0.5, 0.0)])
def test_central_difference_params_invert_alt_lam_and_step(gamma, beta):
    lam_p, eps = mdln.alt_lam(gamma, beta), mdln.step(gamma, beta)
    g, b = mdln.momentum.central_difference_params(lam_p, eps)
    assert g == pytest.approx(gamma, rel=1e-12)
    assert b == pytest.approx(beta, rel=1e-12, abs=1e-14)
    # λ' = λ − ε/2: the two discretisations differ by half a step
    assert lam_p == pytest.approx(mdln.lam(gamma, beta) - eps / 2, rel=1e-12)


def test_central_difference_scheme_is_mgd():
    """Solving the central-difference equation of Appendix A literally reproduces MGD(γ, β)."""
    quad = mdln.data.figure1_quadratic()
    gamma, beta = 0.04, 0.8
    W = mdln.mgd(quad.grad, [-1.5, 1.0], gamma, beta, 300)
    Wc = mdln.momentum.central_difference_iterates(quad.grad, [-1.5, 1.0], mdln.alt_lam(gamma, beta),
                                     mdln.step(gamma, beta), 300)
    assert np.max(np.abs(W - Wc)) < 1e-12
    # ...while the backward scheme with λ' would not: the identity is specific to λ'
    Wb = mdln.momentum.central_difference_iterates(quad.grad, [-1.5, 1.0], mdln.lam(gamma, beta), mdln.step(gamma, beta), 300)
    assert np.max(np.abs(W - Wb)) > 1e-3


def test_central_difference_params_reject_bad_arguments():
    with pytest.raises(ValueError, match="eps"):
        mdln.momentum.central_difference_params(0.1, 0.5)
    with pytest.raises(ValueError, match="lam"):
        mdln.momentum.central_difference_params(-1.0, 0.1)


@pytest.mark.parametrize("gamma,beta", [(0.01, 0.9), (1e-3, 0.98), (0.5, 0.3), (1.0, 0.0)])
def test_vectorised_mgd_equals_the_recursion(gamma, beta):
    q = mdln.data.figure1_quadratic()
    w0 = np.array([-1.5, 1.0])
    ref = mdln.mgd(q.grad, w0, gamma, beta, 800)
    assert np.max(np.abs(mdln.momentum.mgd_quadratic(q, w0, gamma, beta, 800) - ref)) < 1e-12


def test_init_velocity_matches_mgd_start():
    # Proposition 1: MGF started at (w0, (w1 − w0)/√(λγ)) tracks MGD started at (w0, w1).
    q = mdln.Quadratic(np.diag([1.0, 0.3]), np.zeros(2))
    w0, v_target = np.array([1.0, -1.0]), np.array([-0.4, 0.6])
    for eps in (0.1, 0.01):
        lam_ = 1.0
        gamma, beta = eps ** 2 / lam_, 1 - eps / lam_
        w1 = w0 + eps * v_target
        v0 = mdln.mgd_init_velocity(w0, w1, gamma, beta)
        np.testing.assert_allclose(v0, v_target, rtol=1e-12)
        np.testing.assert_allclose(v0, (w1 - w0) / eps)
        n = int(10 / eps)
        W = mdln.mgd(q.grad, w0, gamma, beta, n, w1=w1)
        Wc = mdln.mgf(q.grad, w0, lam_, eps * np.arange(n + 1), v0=v0, jac=q.hess)
        gap = np.max(np.linalg.norm(W - Wc, axis=1))
        assert gap <= 0.02 * eps / 0.1


@pytest.mark.parametrize("call,match", [
    (lambda: mdln.lam(0.1, 1.0), r"beta must lie in \[0, 1\)"),
    (lambda: mdln.lam(0.1, -0.1), r"beta must lie in \[0, 1\)"),
    (lambda: mdln.step(0.0, 0.5), r"gamma must be > 0"),
    (lambda: mdln.lam(-1.0, 0.5), r"gamma must be > 0"),
    (lambda: mdln.lam(float("nan"), 0.5), r"gamma must be finite"),
    (lambda: mdln.accelerate(0.1, 0.5, -1.0), r"rho must be > 0"),
    (lambda: mdln.mgf(lambda w: w, [1.0], -0.1, [0, 1]), r"lam must be >= 0"),
    (lambda: mdln.mgf(lambda w: w, [1.0, np.inf], 0.1, [0, 1]), r"w0 must contain only finite"),
    (lambda: mdln.mgf(lambda w: w, [1.0], 0.1, [1, 0]), r"t must be non-decreasing"),
    (lambda: mdln.mgf(lambda w: w, [1.0, 2.0], 0.1, [0, 1], v0=[0.0]), r"v0 must have shape \(2,\)"),
    (lambda: mdln.mgf(lambda w: w[:1], [1.0, 2.0], 0.1, [0, 1]), r"grad\(w0\) must have shape"),
    (lambda: mdln.mgf(lambda w: w, [1.0], 0.1, [0, 1], jac=lambda w: np.eye(2)), r"jac\(w0\) must have shape"),
    (lambda: mdln.mgd(lambda w: w, [1.0], 0.1, 0.5, -1), r"n_steps must be an integer >= 0"),
    (lambda: mdln.mgd(lambda w: w, [[1.0]], 0.1, 0.5, 3), r"w0 must be 1-dimensional"),
    (lambda: mdln.mgd(lambda w: w, [1.0], 0.1, 0.5, 3, w1=[1.0, 2.0]), r"w1 must have shape \(1,\)"),
    (lambda: mdln.mgd("not callable", [1.0], 0.1, 0.5, 3), r"grad must be a callable"),
    (lambda: mdln.mgd_init_velocity([0.0], [1.0], 0.1, 1.5), r"beta must lie"),
])
def test_validation_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_quadratic_validation():
    with pytest.raises(ValueError, match="H must be symmetric"):
        mdln.Quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]), np.zeros(2))
    with pytest.raises(ValueError, match=r"w_star must have shape \(2,\)"):
        mdln.Quadratic(np.eye(2), np.zeros(3))


def test_lam_and_step_are_elementwise_on_arrays():
    """lam/step accept arrays (broadcast) and agree with the scalar formulas entry by entry."""
    g = np.array([0.01, 0.1, 0.5])
    b = np.array([[0.0], [0.5], [0.9]])
    L, E = mdln.lam(g, b), mdln.step(g, b)
    assert L.shape == E.shape == (3, 3)
    for i in range(3):
        for j in range(3):
            assert L[i, j] == mdln.lam(float(g[j]), float(b[i, 0]))
            assert E[i, j] == mdln.step(float(g[j]), float(b[i, 0]))
    np.testing.assert_allclose(E, np.sqrt(L * g), rtol=1e-14)   # ε = √(λγ)
    assert isinstance(mdln.lam(0.1, 0.5), float) and isinstance(mdln.step(0.1, 0.5), float)


@pytest.mark.parametrize("call, match", [
    (lambda: mdln.lam(1e308, 0.5), "lam.*overflows.*gamma=1e\\+308"),
    (lambda: mdln.step(1e308, 0.5), "step.*overflows"),
    (lambda: mdln.lam(1.0, 1 - 1e-200), None),                    # 1 - β rounds to 0: β = 1
    (lambda: mdln.lam(1e300, 1 - 1e-10), "lam.*overflows.*beta"),
    (lambda: mdln.alt_lam(1e308, 0.5), "alt_lam.*overflows"),
    (lambda: mdln.accelerate(1e308, 0.5, 2.0), "gamma_hat.*overflows.*rho"),
    (lambda: mdln.lam(np.array([0.1, 1e308]), 0.5), "overflows.*gamma=1e\\+308"),
    (lambda: mdln.lam([0.1, -1.0], 0.5), "gamma must be > 0"),
    (lambda: mdln.step(0.1, [0.5, 1.0]), r"beta must lie in \[0, 1\)"),
    (lambda: mdln.lam([0.1, np.nan], 0.5), "gamma"),
    (lambda: mdln.lam([0.1, 0.2], [0.5, 0.6, 0.7]), "broadcast"),
])
def test_lam_step_refuse_overflow_and_bad_arrays(call, match):
    with pytest.raises(ValueError, match=match or "beta"):
        call()


def test_mgf_budget_stops_a_runaway_solve():
    """mgf raises SolverBudgetError (a RuntimeError, status STEP_CAP) naming the exhausted budget."""
    q = mdln.Quadratic(np.diag([1.0, 1e6]), np.zeros(2))
    with pytest.raises(mdln.momentum.SolverBudgetError, match="max_evals=50") as e:
        mdln.mgf(q.grad, np.ones(2), 0.5, np.linspace(0, 1e4, 5), max_evals=50)
    assert e.value.budget == "max_evals" and e.value.status is Status.STEP_CAP
    assert isinstance(e.value, RuntimeError)
    with pytest.raises(mdln.momentum.SolverBudgetError, match="max_seconds") as e:
        mdln.mgf(q.grad, np.ones(2), 0.5, np.linspace(0, 1e7, 5), max_seconds=0.2)
    assert e.value.budget == "max_seconds"
    for kw, name in ((dict(max_seconds=0.0), "max_seconds"), (dict(max_evals=0), "max_evals")):
        with pytest.raises(ValueError, match=name):
            mdln.mgf(q.grad, np.ones(2), 0.5, [0.0, 1.0], **kw)


def test_mgf_budget_leaves_a_solve_within_it_untouched():
    """A solve that fits in its budget (a few hundred gradient calls against max_evals = 10⁶, a tiny
    max_seconds would stop it) returns the unbudgeted numbers bit for bit, and they solve the ODE."""
    q = mdln.Quadratic(np.diag([1.0, 40.0]), np.zeros(2))    # an oscillating mode: 4λh = 80 > 1
    t = np.linspace(0.0, 1.0, 6)
    kw = dict(rtol=1e-8, atol=1e-10, jac=q.hess)
    free = mdln.mgf(q.grad, np.ones(2), 0.5, t, max_evals=10 ** 9, max_seconds=1e9, **kw)
    W = mdln.mgf(q.grad, np.ones(2), 0.5, t, max_evals=10 ** 6, **kw)
    np.testing.assert_array_equal(W, free)
    assert np.max(np.abs(W - mdln.mgf_quadratic(q, np.ones(2), 0.5, t))) < 1e-6
    with pytest.raises(mdln.momentum.SolverBudgetError, match="max_evals=20"):
        mdln.mgf(q.grad, np.ones(2), 0.5, t, max_evals=20, **kw)    # the same solve does need > 20 calls


@pytest.mark.parametrize("lam_", [0.0, 0.5])
def test_flow_blow_up_is_reported_early(lam_):
    """Gradient flow / MGF on F(w) = −w²/2 (unbounded below): w grows like e^{ct}. The solve stops with a
    DivergenceError once |w| passes DIVERGENCE_FACTOR·(1 + |w0|), long before floating point overflows
    (t ≈ 700), instead of following the growth until the solver gives up."""
    with pytest.raises(mdln.DivergenceError, match="diverged.*DIVERGENCE_FACTOR") as e:
        mdln.mgf(lambda w: -w, [1.0], lam_, [0.0, 1e4], rtol=1e-8)
    assert e.value.status is Status.DIVERGED
    # |w(t)| = e^{ct} reaches 2·DIVERGENCE_FACTOR at t = ln(2e12)/c, c = 1 (GF) or (√(1+4λ) − 1)/(2λ) (MGF)
    c = 1.0 if lam_ == 0 else (np.sqrt(1 + 4 * lam_) - 1) / (2 * lam_)
    t_hit = float(str(e.value).split("t ≈ ")[1].split()[0])
    assert t_hit == pytest.approx(np.log(2 * DIVERGENCE_FACTOR) / c, rel=0.05)
    with pytest.raises(mdln.DivergenceError):
        mdln.gf(lambda w: -w, [1.0], [0.0, 1e4], rtol=1e-8) if lam_ == 0 else mdln.mgf(
            lambda w: -w, [1.0], lam_, [0.0, 1e4], rtol=1e-8)
    # a flow that stays below the bound is untouched: w(5) of λẅ + ẇ − w = 0, w(0) = 1, ẇ(0) = 0
    W = mdln.mgf(lambda w: -w, [1.0], lam_, [0.0, 5.0], rtol=1e-10)
    if lam_ == 0:
        exact = np.exp(5.0)
    else:
        r1, r2 = c, (-1 - np.sqrt(1 + 4 * lam_)) / (2 * lam_)
        exact = (-r2 * np.exp(5.0 * r1) + r1 * np.exp(5.0 * r2)) / (r1 - r2)
    assert W[-1, 0] == pytest.approx(exact, rel=1e-7)


def test_central_difference_divergence_raises_without_a_warning():
    q = mdln.Quadratic(np.eye(1), np.zeros(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(mdln.DivergenceError, match="diverged|no longer finite"):
            mdln.momentum.central_difference_iterates(q.grad, [1.0], 0.01, 1.0, 100_000)


def test_alt_lam_is_elementwise_on_arrays():
    g = np.array([0.1, 0.2])
    b = np.array([[0.5], [0.0], [0.9]])
    out = mdln.alt_lam(g, b)
    assert out.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            assert out[i, j] == mdln.alt_lam(float(g[j]), float(b[i, 0]))
            assert out[i, j] == pytest.approx((1 + b[i, 0]) * g[j] / (2 * (1 - b[i, 0]) ** 2), rel=1e-15)
    np.testing.assert_array_equal(mdln.alt_lam(np.array([0.1, 0.2]), 0.5),
                                  [mdln.alt_lam(0.1, 0.5), mdln.alt_lam(0.2, 0.5)])
    with pytest.raises(ValueError, match="beta"):
        mdln.alt_lam([0.1, 0.2], [0.5, 1.0])


def test_one_blas_thread_runs_numpy_inside():
    with mdln.momentum.one_blas_thread():
        assert np.ones(3) @ np.ones(3) == 3.0


_Q2 = mdln.Quadratic(np.diag([1.0, 2.0]), np.zeros(2))


@pytest.mark.parametrize("call, match", [
    (lambda: mdln.mgd(_Q2.grad, [1.0, 1.0, 1.0], 0.1, 0.5, 10), r"w0 must have shape \(2,\)"),
    (lambda: mdln.gd(_Q2.grad, [1.0, 1.0, 1.0], 0.1, 10), r"w0 must have shape \(2,\)"),
    (lambda: mdln.mgf(_Q2.grad, [1.0, 1.0, 1.0], 0.1, [0, 1]), r"w0 must have shape \(2,\)"),
    (lambda: mdln.mgd(lambda w: w[5], [1.0], 0.1, 0.5, 3), r"grad\(w0\) failed for w0"),
    (lambda: mdln.mgd(_Q2.grad, [1.0, np.nan], 0.1, 0.5, 3), r"w0 must contain only finite"),
    (lambda: mdln.mgd(_Q2.grad, [1.0, 1.0], 0.1, 0.5, 3, w1=[np.inf, 0.0]), r"w1 must contain only finite"),
    (lambda: mdln.mgd(_Q2.grad, [1.0, 1.0], np.nan, 0.5, 3), r"gamma must be finite"),
    (lambda: mdln.mgd(_Q2.grad, [1.0, 1.0], 0.1, "0.5", 3), r"beta must be a real number"),
    (lambda: mdln.mgd(_Q2.grad, [1.0, 1.0], 0.1, 0.5, 3.0), r"n_steps must be an integer"),
    (lambda: mdln.gf(_Q2.grad, [1.0, 1.0], [0.0, np.nan]), r"t must contain only finite"),
    (lambda: mdln.mgf(_Q2.grad, [1.0, 1.0], 0.1, [0, 1], v0=[np.nan, 0.0]), r"v0 must contain only finite"),
    (lambda: mdln.mgf(_Q2.grad, [1.0, 1.0], 0.1, [0, 1], rtol=np.nan), r"rtol must be finite"),
    (lambda: mdln.mgf(_Q2.grad, [1.0, 1.0], 0.1, [0, 1], jac="H"), r"jac must be a callable"),
    (lambda: mdln.mgf_quadratic(_Q2, [1.0, 1.0], 0.1, [0, np.inf]), r"t must contain only finite"),
    (lambda: mdln.momentum.mgd_quadratic(_Q2, [1.0, np.nan], 0.1, 0.5, 3), r"w0 must contain only finite"),
    (lambda: mdln.momentum.mgd_quadratic(_Q2, [1.0, 1.0, 1.0], 0.1, 0.5, 3), r"w0 must have shape \(2,\)"),
    (lambda: mdln.momentum.mgd_quadratic(_Q2.H, [1.0, 1.0], 0.1, 0.5, 3), r"q must be a mdln.Quadratic"),
    (lambda: mdln.mgd_init_velocity([1.0], [np.nan], 0.1, 0.5), r"w1 must contain only finite"),
    (lambda: mdln.Quadratic(np.array([[np.nan]]), [0.0]), r"H must contain only finite"),
    (lambda: _Q2.grad([np.nan, 0.0]), r"w must contain only finite"),
    (lambda: _Q2.value([1.0, 2.0, 3.0]), r"w must have shape"),
    (lambda: mdln.momentum.relative_gap(np.ones((2, 2)), np.full((2, 2), np.nan), [1.0, 1.0], [0.0, 0.0]),
     r"Wc must contain only finite"),
    (lambda: mdln.momentum.gap_vs_step(_Q2.grad, [1.0, 1.0], 1.0, [np.nan], 1.0, [0.0, 0.0]), r"eps_values"),
    (lambda: mdln.momentum.acceleration_gap(_Q2.grad, [1.0, 1.0], 0.01, 0.9, np.nan, 1.0), r"rho must be"),
    (lambda: mdln.momentum.acceleration_gap(_Q2.grad, [1.0, 1.0], 0.01, 0.9, 2, np.inf), r"horizon must be"),
    (lambda: mdln.momentum.discretisation_gap(_Q2.grad, [1.0, 1.0], 0.1, 0.5, 3, [np.nan, 0.0]), r"w_star"),
    (lambda: mdln.momentum.central_difference_iterates(_Q2.grad, [np.nan, 1.0], 1.0, 0.1, 3), r"w0 must"),
    (lambda: mdln.momentum.mgf_lipschitz(np.full((2, 2), np.inf), 1.0), r"H must contain only finite"),
    (lambda: mdln.accelerate(0.1, np.inf, 2.0), r"beta must be finite"),
    (lambda: mdln.step([0.1, np.inf], 0.5), r"gamma must contain only finite"),
])
def test_nan_inputs_and_wrong_types_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_mgf_lipschitz_bounds_the_vector_field():
    # ‖f(z1) − f(z2)‖ ≤ L_f ‖z1 − z2‖ for f(w, v) = (v, −(v + Hw)/λ), with equality along the top singular vector
    H = mdln.data.figure1_quadratic().H
    lam_ = 0.7
    L = mdln.momentum.mgf_lipschitz(H, lam_)
    f = lambda z: np.concatenate([z[2:], -(z[2:] + H @ z[:2]) / lam_])
    rng = np.random.default_rng(1)
    ratios = []
    for _ in range(200):
        z1, z2 = rng.standard_normal(4), rng.standard_normal(4)
        ratios.append(np.linalg.norm(f(z1) - f(z2)) / np.linalg.norm(z1 - z2))
    assert max(ratios) <= L * (1 + 1e-12)
    assert max(ratios) > 0.8 * L
    with pytest.raises(ValueError, match="lam"):
        mdln.momentum.mgf_lipschitz(H, 0.0)
