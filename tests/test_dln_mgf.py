"""Tests of mdln.dln: the diagonal network, MGF(λ) in w± coordinates, sign changes, Prop. 3 and 4, Thm 1."""
import re

import numpy as np
import pytest

import mdln
from mdln.status import Status
from mdln.dln import (balancedness, dln_grad, dln_loss, from_w, mirror_flow_check, theta_from_w, to_w,
                      train_gf, train_mgf)


@pytest.fixture(scope="module")
def data():
    return mdln.sparse_regression()


def test_gradient_matches_finite_differences(data):
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal(data.d), rng.standard_normal(data.d)
    gu, gv = dln_grad(data.X, data.y, u, v)
    h = 1e-6
    E = np.eye(data.d)
    fu = [(dln_loss(data.X, data.y, u + h * e, v) - dln_loss(data.X, data.y, u - h * e, v)) / (2 * h) for e in E]
    fv = [(dln_loss(data.X, data.y, u, v + h * e) - dln_loss(data.X, data.y, u, v - h * e)) / (2 * h) for e in E]
    np.testing.assert_allclose(gu, fu, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gv, fv, rtol=1e-6, atol=1e-8)


def test_w_reparametrisation_identities():
    rng = np.random.default_rng(1)
    u, v = rng.standard_normal(7), rng.standard_normal(7)
    wp, wm = to_w(u, v)
    np.testing.assert_allclose(theta_from_w(wp, wm), u * v, atol=1e-15)
    np.testing.assert_allclose(np.abs(wp * wm), balancedness(u, v), atol=1e-15)
    np.testing.assert_allclose(np.concatenate(from_w(wp, wm)), np.concatenate([u, v]), atol=1e-15)


def test_gf_conserves_balancedness_and_reaches_the_woodworth_interpolator(data):
    r = train_gf(data.X, data.y, trajectory=True, rtol=1e-12, atol=1e-16)
    assert r.converged and r.train_loss < 1e-20 and not r.vanished
    D = r.trajectory.delta
    assert np.max(np.abs(D / D[0] - 1)) <= 1e-9          # Δ_t = Δ0 for gradient flow
    ref = mdln.implicit_solution(data.X, data.y, r.delta0)  # Eq. (5) with θ0 = u0⊙v0 = 0
    assert mdln.normalised_distance(r.theta, ref) < 1e-7


@pytest.mark.parametrize("lam", [1e-4, 0.5, 1.0])
def test_mgf_converges_to_an_interpolator(data, lam):
    r = train_mgf(data.X, data.y, lam)
    assert r.status is Status.CONVERGED and r.train_loss < 1e-20 and r.code == r.status and r.converged
    assert "below tol" in r.message and not r.reached_t_max
    assert r.t > 1e3
    np.testing.assert_allclose(r.theta, r.u * r.v, rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(r.delta_inf, balancedness(r.u, r.v), rtol=1e-10)


def test_mgf_changes_balancedness(data):
    r = train_mgf(data.X, data.y, 0.03)
    assert not r.vanished
    assert np.all(r.delta_inf < r.delta0)                 # Corollary 2: Δ∞ < Δ0
    assert np.max(1 - r.delta_inf / r.delta0) > 0.1


def test_w_form_agrees_with_generic_mgf_in_uv(data):
    """Eq. (12) in w± against the generic MGF integrator (mdln.mgf) on F(u, v) in (u, v) coordinates."""
    X, y, d = data.X, data.y, data.d
    lam, T = 0.5, 30.0

    def grad(w):
        gu, gv = dln_grad(X, y, w[:d], w[d:])
        return np.concatenate([gu, gv])
    w0 = np.concatenate([0.01 * np.ones(d), np.zeros(d)])
    W = mdln.mgf(grad, w0, lam, np.array([0.0, T]), rtol=1e-11, atol=1e-14)
    r = train_mgf(X, y, lam, t_max=T, rtol=1e-11, atol=1e-14)
    assert r.status is Status.STEP_CAP and r.reached_t_max and "t_max" in r.message
    assert r.t == pytest.approx(T)
    np.testing.assert_allclose(r.u, W[-1, :d], atol=1e-7)
    np.testing.assert_allclose(r.v, W[-1, d:], atol=1e-7)


def test_sign_change_detection_against_a_fine_reference(data):
    """`vanished` agrees with the signs of w± = u ± v on a fine time grid from an independent solver."""
    X, y, d = data.X, data.y, data.d
    crosses = {}
    for lam, T in [(0.01, 60.0), (0.5, 60.0)]:
        def grad(w):
            gu, gv = dln_grad(X, y, w[:d], w[d:])
            return np.concatenate([gu, gv])
        ts = np.linspace(0, T, 3001)
        W = mdln.mgf(grad, np.concatenate([0.01 * np.ones(d), np.zeros(d)]), lam, ts, rtol=1e-10, atol=1e-13)
        wp, wm = W[:, :d] + W[:, d:], W[:, :d] - W[:, d:]
        ref = bool(np.any(wp <= 0) or np.any(wm <= 0))
        r = train_mgf(X, y, lam, t_max=T)
        assert r.vanished == ref
        crosses[lam] = ref
    assert crosses == {0.01: False, 0.5: True}  # λ = 0.5 crosses zero within t ≤ 60, λ = 0.01 does not


def test_prop3_no_vanishing_below_the_bound(data):
    bound = mdln.prop3_bound(data.X, data.y, np.full(data.d, 1e-4))
    r = train_mgf(data.X, data.y, bound)
    assert not r.vanished and r.converged


def test_theorem1_distance_small_where_balancedness_stays_positive(data):
    for lam in (0.01, 0.05):
        r = train_mgf(data.X, data.y, lam)
        ref = mdln.implicit_solution(data.X, data.y, r.delta_inf)
        assert not r.vanished
        assert mdln.normalised_distance(r.theta, ref) < 0.01


def test_prop4_mirror_flow_span(data):
    c = mirror_flow_check(data.X, data.y, 0.01, np.linspace(0.0, 50.0, 26), rtol=1e-10, atol=1e-12)
    assert c.status is Status.CONVERGED and "keeping its sign" in c.message
    assert c.max_relative_distance <= 1e-8
    assert c.identity_error <= 1e-8
    assert c.uncorrected_relative_distance > 1e-5   # the φ_t correction matters


@pytest.mark.parametrize("kwargs, name", [
    (dict(lam=-1.0), "lam"), (dict(lam=np.nan), "lam"), (dict(lam=0.1, alpha=0.0), "alpha"),
    (dict(lam=0.1, tol=-1.0), "tol"), (dict(lam=0.1, u0=np.ones(3)), "u0"),
    (dict(lam=0.1, u0=np.zeros(30)), "u0"),
])
def test_validation(data, kwargs, name):
    with pytest.raises(ValueError, match=name):
        train_mgf(data.X, data.y, **kwargs)


def test_validation_of_data(data):
    with pytest.raises(ValueError, match="y"):
        train_mgf(data.X, data.y[:-1], 0.1)
    X = data.X.copy()
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="X"):
        train_mgf(X, data.y, 0.1)


@pytest.mark.parametrize("lam", [0.0, 1e-3, 0.3])
def test_compiled_bdf_agrees_with_scipy_bdf(data, lam):
    """The compiled BDF of train_mgf against scipy's solve_ivp(BDF) on the same system, stopped at the
    same time: the same state to the tolerances (an independent implementation of the integrator)."""
    from scipy.integrate import solve_ivp
    from mdln.dln import _system
    X, y, d = data.X, data.y, data.d
    r = train_mgf(X, y, lam)
    assert r.status is Status.CONVERGED and r.train_loss < 1e-20
    fun, jac = _system(X, y, lam)
    s0 = np.concatenate([0.01 * np.ones(2 * d)] + ([] if lam == 0.0 else [np.zeros(2 * d)]))
    sol = solve_ivp(fun, (0.0, r.t), s0, method="BDF", jac=jac, rtol=1e-8, atol=1e-12)
    ref = theta_from_w(sol.y[:d, -1], sol.y[d:2 * d, -1])
    assert np.linalg.norm(r.theta - ref) / np.linalg.norm(ref) < 1e-6


def test_trajectory_is_the_refined_grid_and_carries_the_sign_changes(data):
    r = train_mgf(data.X, data.y, 0.5, trajectory=True, refine=3)
    tr = r.trajectory
    assert r.vanished and r.converged
    assert len(tr.t) == 4 * r.n_steps + 1 and tr.t[0] == 0.0 and tr.t[-1] == r.t
    assert np.all(np.diff(tr.t) > 0)
    np.testing.assert_allclose(tr.w_plus[-1], r.u + r.v, rtol=0, atol=1e-15)   # (u, v) = from_w(w±)
    W = np.concatenate([tr.w_plus, tr.w_minus], axis=1).T
    sg = np.sign(W)
    count = np.sum(sg[:, 1:] * sg[:, :-1] < 0, axis=1) + np.sum(W[:, 1:] == 0, axis=1)
    np.testing.assert_array_equal(r.sign_changes, count)
    # the speed in the trajectory is the derivative of the positions (finite differences, mid-run)
    k = len(tr.t) // 2
    fd = (tr.w_plus[k + 1] - tr.w_plus[k - 1]) / (tr.t[k + 1] - tr.t[k - 1])
    np.testing.assert_allclose(fd, tr.wdot_plus[k], rtol=1e-2, atol=1e-6)


def test_python_fallback_gives_the_same_numbers(data, monkeypatch):
    """MDLN_NO_NUMBA=1 runs the same BDF code as plain Python: the same result."""
    a = train_mgf(data.X, data.y, 0.5, t_max=40.0, trajectory=True)
    monkeypatch.setenv("MDLN_NO_NUMBA", "1")
    b = train_mgf(data.X, data.y, 0.5, t_max=40.0, trajectory=True)
    assert a.status == b.status == Status.STEP_CAP and a.reached_t_max and b.reached_t_max
    assert a.n_steps == b.n_steps and a.t == b.t == 40.0
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(b.sign_changes, a.sign_changes)
    np.testing.assert_allclose(b.trajectory.w_minus, a.trajectory.w_minus, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("lam", [0.0, 0.02, 0.5])
def test_compiled_and_python_paths_agree_to_rounding(monkeypatch, lam):
    """Whole runs to convergence, λ = 0.5 with sign changes: compiled vs plain Python (MDLN_NO_NUMBA=1) agree
    to a relative 1e-12 on θ and Δ∞ (they perform the same operations in the same order: bitwise today),
    with the same status, step count, stopping time and sign changes."""
    ds = mdln.sparse_regression(n=4, d=6, s=2, seed=1)
    a = train_mgf(ds.X, ds.y, lam, tol=1e-10)
    monkeypatch.setenv("MDLN_NO_NUMBA", "1")
    b = train_mgf(ds.X, ds.y, lam, tol=1e-10)
    assert a.status is b.status is Status.CONVERGED and a.message == b.message
    assert a.vanished == b.vanished == (lam == 0.5)
    assert a.n_steps == b.n_steps and a.t == b.t
    np.testing.assert_array_equal(a.sign_changes, b.sign_changes)
    assert np.max(np.abs(a.theta - b.theta)) <= 1e-12 * np.max(np.abs(a.theta))
    assert np.max(np.abs(a.delta_inf / b.delta_inf - 1)) <= 1e-12


def test_python_lu_matches_the_compiled_lu_bitwise():
    """The vectorised LU of the Python path and the compiled loops: the same factors and solutions, bit for
    bit, and both solve the system (residual at rounding level)."""
    from mdln import _bdf
    rng = np.random.default_rng(3)
    for m in (1, 2, 7, 24):
        M = rng.standard_normal((m, m)) * np.exp(rng.uniform(-3, 3, (m, 1)))
        r = rng.standard_normal(m)
        Mc, Mp = M.copy(), M.copy()
        pc, pp = np.zeros(m, np.int64), np.zeros(m, np.int64)
        _bdf.lu_factor(Mc, pc)
        _bdf.lu_factor_vec(Mp, pp)
        np.testing.assert_array_equal(Mc, Mp)
        np.testing.assert_array_equal(pc, pp)
        xc, xp = _bdf.lu_solve(Mc, pc, r.copy()), _bdf.lu_solve_vec(Mp, pp, r.copy())
        np.testing.assert_array_equal(xc, xp)
        assert np.linalg.norm(M @ xc - r) <= 1e-10 * np.linalg.norm(M, 2) * np.linalg.norm(xc)


def test_first_compile_prints_one_notice_on_stderr(tmp_path, data):
    """A process with an empty numba cache says on stderr, before its first result, that it compiles (the
    process is stopped once the notice is read: the compile itself is the expensive part); a process whose
    cache is warm prints nothing on either stream over two calls."""
    import os
    import subprocess
    import sys
    code = ("import mdln, sys\nds = mdln.sparse_regression(n=4, d=5, s=2)\n"
            "mdln.train_mgf(ds.X, ds.y, 0.1, tol=1e-8)\nsys.stderr.write('SECOND\\n')\n"
            "mdln.train_mgf(ds.X, ds.y, 0.2, tol=1e-8)\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    env.pop("MDLN_NO_NUMBA", None)
    cold = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = ""
    try:
        for line in cold.stderr:                    # the notice comes as the compile starts
            seen += line
            if mdln._bdf.COMPILE_NOTICE.strip() in seen or "SECOND" in seen:
                break
    finally:
        cold.kill()
        cold.communicate(timeout=60)
    assert mdln._bdf.COMPILE_NOTICE.strip() in seen and "SECOND" not in seen, seen
    assert seen.count(mdln._bdf.COMPILE_NOTICE.strip()) == 1
    train_mgf(data.X, data.y, 0.1, tol=1e-8)      # this process fills the default on-disk cache if it was cold
    env = dict(os.environ)
    env.pop("MDLN_NO_NUMBA", None)
    warm = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout == "" and mdln._bdf.COMPILE_NOTICE.strip() not in warm.stderr, warm.stderr


def test_runaway_solve_stops_at_its_budget(data):
    """α = 1e3 is a runaway solve (it ran for > 20 min): a step or wall-clock budget ends it with a status."""
    r = train_mgf(data.X, data.y, 0.05, alpha=1e3, max_seconds=1.0)
    assert r.status is Status.STEP_CAP and "max_seconds" in r.message and not r.reached_t_max
    assert np.all(np.isfinite(r.theta)) and 0 < r.t < 1e7 and r.n_steps > 0
    r = train_mgf(data.X, data.y, 0.05, alpha=1e3, max_steps=300, trajectory=True)
    assert r.status is Status.STEP_CAP and "max_steps = 300" in r.message and r.n_steps == 300
    assert not r.converged and r.code == 1 and not r.reached_t_max
    assert r.trajectory.t[-1] == r.t and np.all(np.isfinite(r.trajectory.w_plus))
    ok = train_mgf(data.X, data.y, 0.05, max_steps=10 ** 5)     # an ordinary solve is untouched
    assert ok.converged and ok.n_steps < 10 ** 5


@pytest.mark.parametrize("kwargs, name", [
    (dict(max_steps=0), "max_steps"), (dict(max_steps=1.5), "max_steps"), (dict(max_steps=True), "max_steps"),
    (dict(max_seconds=0.0), "max_seconds"), (dict(max_seconds=np.nan), "max_seconds"),
])
def test_budget_validation(data, kwargs, name):
    with pytest.raises(ValueError, match=name):
        train_mgf(data.X, data.y, 0.1, **kwargs)


def test_dln_grad_and_hess_match_finite_differences():
    data = mdln.sparse_regression(n=6, d=8, s=2, seed=3)
    grad, hess = mdln.dln.stacked_dln_grad(data.X, data.y), mdln.dln.stacked_dln_hess(data.X, data.y)
    rng = np.random.default_rng(0)
    w = rng.standard_normal(16)
    F = lambda w: data.train_loss(w[:8] * w[8:])
    h = 1e-6
    fd = np.array([(F(w + h * e) - F(w - h * e)) / (2 * h) for e in np.eye(16)])
    assert np.max(np.abs(grad(w) - fd)) < 1e-7 * max(1.0, np.max(np.abs(fd)))
    fdH = np.array([(grad(w + h * e) - grad(w - h * e)) / (2 * h) for e in np.eye(16)])
    assert np.max(np.abs(hess(w) - fdH)) < 1e-6 * max(1.0, np.max(np.abs(fdH)))
    assert np.allclose(hess(w), hess(w).T)


def test_mirror_flow_check_reports_a_sign_change(data):
    """Proposition 4's check needs Δ_t > 0: at λ = 0.5 some w± crosses 0 before t = 60 (see the sign-change
    test above), and the check stops there with Status.SIGN_CHANGE."""
    c = mirror_flow_check(data.X, data.y, 0.5, np.linspace(0.0, 60.0, 7), rtol=1e-8, atol=1e-10)
    assert c.status is Status.SIGN_CHANGE and re.search("reached 0|shrank", c.message)
    assert c.t[-1] < 60.0


_X = np.ones((3, 5)) + np.arange(15.0).reshape(3, 5) / 10
_Y = np.ones(3)
_NAN5 = np.full(5, np.nan)
_TRAJ = mdln.MGFTrajectory(t=np.array([0.0, 1.0]), w_plus=np.ones((2, 5)), w_minus=np.full((2, 5), np.nan),
                           wdot_plus=np.zeros((2, 5)), wdot_minus=np.zeros((2, 5)))


@pytest.mark.parametrize("call, name", [
    (lambda: dln_loss(_X, _Y, _NAN5, np.ones(5)), "u"),
    (lambda: dln_loss(_X, _Y, np.ones(5), np.full(5, np.inf)), "v"),
    (lambda: dln_loss(np.where(_X > 1.5, np.nan, _X), _Y, np.ones(5), np.ones(5)), "X"),
    (lambda: dln_grad(_X, np.array([1.0, np.nan, 0.0]), np.ones(5), np.ones(5)), "y"),
    (lambda: mdln.loss_grad(_X, _Y, _NAN5), "theta"),
    (lambda: dln_loss(_X, _Y, None, np.ones(5)), "u"),
    (lambda: dln_grad(_X, _Y, "abc", np.ones(5)), "u"),
    (lambda: balancedness(_NAN5, np.ones(5)), "u"),
    (lambda: to_w(np.ones(5), _NAN5), "v"),
    (lambda: from_w(_NAN5, np.ones(5)), "w_plus"),
    (lambda: theta_from_w(np.ones(5), [1.0, 2.0]), "w_minus"),
    (lambda: mdln.dln.stacked_dln_grad(_X, [np.nan] * 3), "y"),
    (lambda: mdln.dln.stacked_dln_hess(None, _Y), "X"),
    (lambda: train_mgf(_X, _Y, 0.1, u0=_NAN5), "u0"),
    (lambda: train_mgf(_X, _Y, 0.1, v0=[0.0] * 4), "v0"),
    (lambda: train_mgf(_X, _Y, 0.1, t_max=np.inf), "t_max"),
    (lambda: train_mgf(_X, _Y, 0.1, rtol="1e-8"), "rtol"),
    (lambda: train_mgf(_X, _Y, 0.1, refine=2.0), "refine"),
    (lambda: train_mgf(_X, _Y, 0.1, trajectory="yes"), "trajectory"),
    (lambda: train_mgf(_X, _Y, 0.1, alpha=np.nan, u0=np.ones(5)), "alpha"),
    (lambda: mirror_flow_check(_X, _Y, 0.1, [0.0, np.nan]), "t_eval"),
    (lambda: mirror_flow_check(_X, _Y, 0.1, [0.0, 1.0], atol=np.nan), "atol"),
    (lambda: mdln.theorem1_integrals(_TRAJ, 0.1, _X, _Y), "trajectory.w_minus"),
    (lambda: mdln.theorem1_integrals_no_sign_change(_TRAJ, np.nan), "lam"),
    (lambda: mdln.theorem1_integrals_no_sign_change("not a trajectory", 0.1), "trajectory"),
])
def test_nan_and_wrong_types_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()
