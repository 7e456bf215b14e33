"""Theorem 1 in full: θ^MGF = argmin_S D_{ψ_Δ∞}(θ, θ̃0), with I± from the trajectory."""
import numpy as np
import pytest
from scipy.optimize import minimize

import mdln
from mdln.dln import perturbed_initialisation, theorem1_integrals, theorem1_integrals_no_sign_change
from mdln.figures.sec3 import d2_link
from mdln.status import Status


def _run(seed, lam, mu=1.0, n=20, d=30, s=5):
    ds = mdln.sparse_regression(n=n, d=d, s=s, mu=mu, seed=seed)
    return ds, mdln.train_mgf(ds.X, ds.y, lam, trajectory=True)


@pytest.mark.parametrize("seed,lam,mu", [(0, 0.01, 1.0), (1, 0.03, 1.0), (2, 0.05, 1.0), (3, 0.02, 1.5)])
def test_full_theorem1_without_sign_changes(seed, lam, mu):
    ds, r = _run(seed, lam, mu)
    assert r.converged and not r.vanished
    # Lemma 1 with sgn ≡ 1 reduces to I± = λ∫(ẇ±/w±)²; it must agree with the C.3.1 endpoint form.
    traj = r.integrals()
    ends = r.integrals(ds.X, ds.y)
    assert np.max(np.abs(traj[0] - ends[0])) < 1e-4 and np.max(np.abs(traj[1] - ends[1])) < 1e-4
    # Δ∞ = Δ0 exp(−(I+ + I−)) (Theorem 1).
    assert np.max(np.abs(r.delta0 * np.exp(-(traj[0] + traj[1])) / r.delta_inf - 1)) < 1e-4
    for tt0 in (r.theta_tilde0(), r.theta_tilde0(ds.X, ds.y)):
        assert np.all(np.abs(tt0) < 0.01 ** 2)   # Corollary 2: |θ̃0| < α²
        full = mdln.implicit_solution(ds.X, ds.y, r.delta_inf, theta0=tt0)
        assert mdln.normalised_distance(r.theta, full) <= 1e-6
    # The simplified form (θ̃0 = 0) is measurably further away: θ̃0 is not what limits the check.
    simple = mdln.implicit_solution(ds.X, ds.y, r.delta_inf)
    assert mdln.normalised_distance(r.theta, simple) > 100 * mdln.normalised_distance(r.theta, full)


def test_full_theorem1_with_sign_changes_endpoint_form():
    ds, r = _run(0, 0.3)
    assert r.converged and r.vanished
    with pytest.raises(ValueError, match="changes sign"):
        r.integrals()
    full = r.theorem1_solution(ds.X, ds.y)
    assert mdln.normalised_distance(r.theta, full) <= 1e-6
    assert mdln.dropped_term(r.theta_tilde0(ds.X, ds.y), r.delta_inf) > 1.0   # θ̃0 is not negligible here


def test_gradient_flow_has_no_perturbation():
    ds = mdln.sparse_regression(seed=0)
    r = mdln.train_gf(ds.X, ds.y, trajectory=True)
    ip, im = theorem1_integrals(r.trajectory, 0.0, ds.X, ds.y)
    assert np.max(np.abs(ip)) < 1e-4 and np.max(np.abs(im)) < 1e-4   # I± = 0 up to the solver's rtol
    assert np.max(np.abs(r.theta_tilde0(ds.X, ds.y))) < 1e-4 * 0.01 ** 2   # θ0 = u0 ⊙ v0 = 0


def test_integrals_bad_input():
    ds = mdln.sparse_regression(seed=0)
    r = mdln.train_mgf(ds.X, ds.y, 0.01)
    with pytest.raises(ValueError, match="trajectory"):
        r.theta_tilde0()
    r = mdln.train_mgf(ds.X, ds.y, 0.01, trajectory=True)
    with pytest.raises(ValueError, match="together"):
        r.integrals(ds.X, None)
    with pytest.raises(ValueError, match="columns"):
        theorem1_integrals(r.trajectory, 0.01, ds.X[:, :5], ds.y)
    with pytest.raises(ValueError, match="lam"):
        theorem1_integrals_no_sign_change(r.trajectory, -1.0)
    tt0 = perturbed_initialisation(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2))
    assert np.all(tt0 == 0)


def test_d2_link_converges_as_eps_shrinks():
    """Appendix D.2: at fixed λ, MGD's S± → I± as ε = γ/(1−β) → 0; θ̃0 and the full prediction follow."""
    rows = d2_link(lam=0.1, eps=(0.05, 0.025), seed=0, n=10, d=15, s=3, tol=1e-9)
    assert all(row["mgd_status"] is Status.CONVERGED for row in rows)
    assert rows[0]["vanished"]   # the case with sign changes, where the trajectory integral is unavailable
    a0, a1 = rows[0]["a_error"], rows[1]["a_error"]
    f0, f1 = rows[0]["full_distance"], rows[1]["full_distance"]
    assert a1 < 0.75 * a0 and f1 < 0.75 * f0   # first order in ε: halving ε roughly halves both
    assert f1 < 1e-2


def test_implicit_solution_with_theta0_against_slsqp():
    """implicit_solution(X, y, Δ, θ0) against a generic constrained solve of min D_ψΔ(θ, θ0) s.t. Xθ = y."""
    rng = np.random.default_rng(7)
    n, d = 3, 6
    X = rng.standard_normal((n, d)) + 0.5
    y = X @ rng.standard_normal(d)
    delta = np.exp(rng.uniform(np.log(0.2), np.log(2.0), d))
    theta0 = rng.standard_normal(d)
    pot = mdln.HyperbolicEntropy(delta)
    ref = minimize(lambda th: mdln.bregman_divergence(pot, th, theta0), mdln.min_l2_interpolator(X, y),
                   jac=lambda th: pot.grad(th) - pot.grad(theta0), method="SLSQP",
                   constraints=[dict(type="eq", fun=lambda th: X @ th - y, jac=lambda th: X)],
                   options=dict(ftol=1e-15, maxiter=1000))
    assert ref.success
    ours = mdln.implicit_solution(X, y, delta, theta0=theta0)
    assert np.linalg.norm(X @ ours - y) < 1e-10
    assert np.max(np.abs(ours - ref.x)) < 1e-6
    # θ0 matters: the unperturbed minimiser is far from both.
    assert np.max(np.abs(mdln.implicit_solution(X, y, delta) - ref.x)) > 1e-2
