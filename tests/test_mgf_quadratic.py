"""Closed-form MGF(λ) on a quadratic agrees with the Radau solve of ``mdln.mgf`` in every damping regime."""
import numpy as np
import pytest

import mdln
from mdln import Quadratic, mgf, mgf_quadratic


def _quadratic(eigs, angle=0.4, w_star=(0.3, -0.2)):
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    return Quadratic(R @ np.diag(eigs) @ R.T, np.array(w_star))


# (eigenvalues, λ): 4λh < 1 overdamped, = 1 critical, > 1 oscillating, mixed across modes, gradient flow
CASES = {
    "overdamped": ((1.0, 0.1), 0.1),
    "critical-both": ((1.0, 1.0), 0.25),
    "critical-one": ((1.0, 0.1), 0.25),           # mode h=1 critical, mode h=0.1 overdamped
    "oscillating": ((1.0, 0.1), 10.0),
    "mixed": ((1.0, 0.1), 1.0),                   # h=1 oscillates (4λh = 4), h=0.1 overdamped (0.4)
    "tiny-lambda": ((1.0, 0.1), 1e-3),
    "gradient-flow": ((1.0, 0.1), 0.0),
    "flat-mode": ((1.0, 0.0), 0.5),
}


@pytest.mark.parametrize("name", list(CASES))
def test_closed_form_matches_ode_solver(name):
    eigs, lam = CASES[name]
    q = _quadratic(eigs)
    w0, v0 = np.array([-1.5, 1.0]), np.array([0.4, 0.7])
    t = np.linspace(0.0, 20.0, 201)
    ref = mgf(q.grad, w0, lam, t, v0=v0, jac=q.hess, rtol=1e-12, atol=1e-14)
    got = mgf_quadratic(q, w0, lam, t, v0=v0)
    assert got.shape == ref.shape
    assert np.max(np.abs(got - ref)) < 1e-8


def test_near_critical_is_continuous():
    """sinh(st)/s → t as s → 0 from both sides: no jump across critical damping."""
    q = _quadratic((1.0, 1.0))
    w0, t = np.array([-1.5, 1.0]), np.linspace(0, 30, 61)
    at = mgf_quadratic(q, w0, 0.25, t)
    for dl in (1e-9, -1e-9):
        assert np.max(np.abs(mgf_quadratic(q, w0, 0.25 + dl, t) - at)) < 1e-7


def test_ode_and_initial_conditions_hold():
    """w(0) = w0, ẇ(0) = v0, and λẅ + ẇ + H(w − w*) = 0 by finite differences (independent of mgf)."""
    q = _quadratic((2.0, 0.3))
    w0, v0, lam, h = np.array([1.0, -0.5]), np.array([0.2, 0.1]), 0.7, 1e-4
    t = np.array([0.0, h, 2 * h])
    W = mgf_quadratic(q, w0, lam, t, v0=v0)
    assert np.allclose(W[0], w0, atol=1e-14)
    assert np.allclose((W[1] - W[0]) / h, v0, atol=1e-3)
    tm = np.array([3.0 - h, 3.0, 3.0 + h])
    W = mgf_quadratic(q, w0, lam, tm, v0=v0)
    acc = (W[2] - 2 * W[1] + W[0]) / h ** 2
    vel = (W[2] - W[0]) / (2 * h)
    assert np.max(np.abs(lam * acc + vel + q.grad(W[1]))) < 1e-5


def test_small_lambda_does_not_overflow():
    q = _quadratic((1.0, 0.1))
    W = mgf_quadratic(q, [-1.5, 1.0], 1e-6, np.linspace(0, 40, 5))
    assert np.all(np.isfinite(W))
    assert np.allclose(W, mgf_quadratic(q, [-1.5, 1.0], 0.0, np.linspace(0, 40, 5)), atol=1e-5)


def test_bad_input():
    q = _quadratic((1.0, 0.1))
    with pytest.raises(ValueError, match="q must"):
        mgf_quadratic(q.H, [0, 0], 1.0, [0, 1])
    with pytest.raises(ValueError, match="lam"):
        mgf_quadratic(q, [0, 0], -1.0, [0, 1])
    with pytest.raises(ValueError, match="t must"):
        mgf_quadratic(q, [0, 0], 1.0, [-1, 1])
    with pytest.raises(ValueError, match="w0"):
        mgf_quadratic(q, [0, 0, 0], 1.0, [0, 1])
    assert mdln.mgf_quadratic is mgf_quadratic
