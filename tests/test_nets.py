"""Tests of mdln.nets: exact gradients, the batched MGD grid trainer against mdln.mgd, divergence, validation."""
import numpy as np
import pytest

import mdln
from mdln import nets


def finite_difference(f, w, h=1e-6):
    g = np.zeros_like(w)
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = h
        g[i] = (f(w + e) - f(w - e)) / (2 * h)
    return g


@pytest.fixture(scope="module")
def ts():
    return nets.teacher_student(n_test=2000, seed=3)


@pytest.fixture(scope="module")
def small_linear():
    ds = mdln.sparse_regression(n=8, d=6, s=2, seed=1)
    net = nets.DeepLinearNet(ds.X, ds.y, (6, 5, 4, 1))
    w0 = nets.deep_linear_init(net.widths, np.random.default_rng(0), std=0.5)
    return ds, net, w0


def test_relu_gradient_matches_finite_differences(ts):
    rng = np.random.default_rng(0)
    for _ in range(3):
        w = ts.w0 + 0.3 * rng.standard_normal(ts.w0.size)
        g = ts.student.grad(w)
        fd = finite_difference(ts.student.loss, w)
        assert np.max(np.abs(g - fd)) <= 1e-7 * max(1.0, np.max(np.abs(g)))


def test_relu_batched_equals_single(ts):
    rng = np.random.default_rng(1)
    W = ts.w0 + 0.2 * rng.standard_normal((4, ts.w0.size))
    loss, g = ts.student.loss_grad(W)
    for i in range(4):
        li, gi = ts.student.loss_grad(W[i])
        assert loss[i] == pytest.approx(li, rel=1e-13)
        np.testing.assert_allclose(g[i], gi, rtol=1e-12, atol=1e-15)


def test_teacher_embedded_in_student_has_zero_loss(ts):
    # Student = teacher's 5 units + 15 silent units (a_j = 0): same function, so train and test loss are 0.
    Wt, bt, at, ct = ts.teacher.unpack(ts.w_teacher)
    w = np.zeros(ts.student.n_params)
    W, b, a, c = ts.student.unpack(w)
    W[:5], b[:5], a[:5], c[...] = Wt, bt, at, ct
    W[5:] = 1.0
    assert ts.student.loss(w) < 1e-30
    assert ts.test_loss(w) < 1e-30
    assert ts.test_loss(ts.w0) > 1e-3


def test_deep_linear_gradient_matches_finite_differences(small_linear):
    _, net, w0 = small_linear
    g = net.grad(w0)
    fd = finite_difference(net.loss, w0)
    assert np.max(np.abs(g - fd)) <= 1e-8 * max(1.0, np.max(np.abs(g)))


def test_deep_linear_paper_widths_gradient_spot_check():
    ds = mdln.sparse_regression()
    net = nets.DeepLinearNet(ds.X, ds.y)
    assert net.n_params == 30 * 60 + 60 * 120 + 120 * 60 + 60
    w = nets.deep_linear_init(net.widths, np.random.default_rng(5))
    g = net.grad(w)
    rng = np.random.default_rng(6)
    for i in rng.choice(w.size, 12, replace=False):
        e = np.zeros_like(w)
        e[i] = 1e-6
        fd = (net.loss(w + e) - net.loss(w - e)) / 2e-6
        assert fd == pytest.approx(g[i], rel=1e-5, abs=1e-9)


def test_deep_linear_end_to_end_vector(small_linear):
    ds, net, w0 = small_linear
    W1, W2, W3 = net.layers(w0)
    theta = (W3 @ W2 @ W1).ravel()
    np.testing.assert_allclose(net.end_to_end(w0), theta, rtol=1e-13)
    np.testing.assert_allclose(net.predict(w0), ds.X @ theta, rtol=1e-12)
    assert net.loss(w0) == pytest.approx(ds.train_loss(theta), rel=1e-12)


def _first_index_below(loss, traj, tol):
    vals = np.array([loss(w) for w in traj])
    return int(np.flatnonzero(vals <= tol)[0]) if np.any(vals <= tol) else None


def test_grid_trainer_equals_per_member_mgd_with_stopping(ts):
    gammas = np.array([0.05, 0.2, 0.2, 0.5, 0.1])
    betas = np.array([0.0, 0.0, 0.6, 0.3, 0.9])
    run = nets.train_grid(ts.student, ts.w0, gammas, betas, 4000, tol=1e-4)
    assert run.status_counts()["converged"] >= 3
    assert len(set(run.steps[run.status == nets.CONVERGED])) >= 3      # members stop at different steps
    for i in range(len(gammas)):
        k = int(run.steps[i])
        traj = mdln.mgd(ts.student.grad, ts.w0, gammas[i], betas[i], k + 1)
        np.testing.assert_allclose(run.w[i], traj[-1], rtol=1e-8, atol=1e-10)
        assert run.train_loss[i] == pytest.approx(ts.student.loss(traj[-1]), rel=1e-8)
        if run.status[i] == nets.CONVERGED:
            # stopped at the FIRST iterate with L ≤ tol (traj[1] = traj[0] = w0)
            assert _first_index_below(ts.student.loss, traj[1:], 1e-4) == k
        else:
            assert run.status[i] == nets.STEP_CAP and k == 4000


def test_grid_trainer_fixed_steps_and_chunk_invariance(small_linear):
    _, net, w0 = small_linear
    gammas = np.array([0.001, 0.01, 0.003, 0.02])
    betas = np.array([0.0, 0.5, 0.9, 0.8])
    run = nets.train_grid(net, w0, gammas, betas, 150)
    run1 = nets.train_grid(net, w0, gammas, betas, 150, chunk=1)
    np.testing.assert_allclose(run.w, run1.w, rtol=1e-12, atol=1e-14)
    assert np.all(run.steps == 150) and np.all(run.status == nets.STEP_CAP)
    for i in range(4):
        ref = mdln.mgd(net.grad, w0, gammas[i], betas[i], 151)[-1]
        np.testing.assert_allclose(run.w[i], ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(run.lam, gammas / (1 - betas) ** 2)


def test_divergence_is_a_status_not_nan(ts):
    gammas = np.array([0.1, 50.0, 0.1])
    betas = np.array([0.5, 0.9, 0.0])
    run = nets.train_grid(ts.student, ts.w0, gammas, betas, 500)
    assert list(run.status) == [nets.STEP_CAP, nets.DIVERGED, nets.STEP_CAP]
    assert run.diverged.tolist() == [False, True, False]
    assert not np.any(np.isnan(run.w)) and np.all(np.isfinite(run.w))
    assert run.train_loss[1] == np.inf and not np.any(np.isnan(run.train_loss))
    assert run.steps[1] < 100
    # a diverging neighbour does not disturb the others
    solo = nets.train_grid(ts.student, ts.w0, gammas[[0, 2]], betas[[0, 2]], 500)
    np.testing.assert_array_equal(run.w[[0, 2]], solo.w)
    with pytest.raises(mdln.DivergenceError):
        mdln.mgd(ts.student.grad, ts.w0, 50.0, 0.9, 3000)


def test_grid_status_is_int_codes_and_the_message_counts_them(ts):
    gammas = np.array([0.1, 50.0, 0.1, 0.05])
    betas = np.array([0.5, 0.9, 0.0, 0.5])
    run = nets.train_grid(ts.student, ts.w0, gammas, betas, 200)
    assert run.status.dtype.kind == "i"
    assert [mdln.status.Status(int(c)) for c in run.status] == [mdln.status.STEP_CAP, mdln.status.DIVERGED,
                                                                  mdln.status.STEP_CAP, mdln.status.STEP_CAP]
    assert run.message.startswith("MGD on 4 grid members: 0 converged (no tol), 3 stopped at the step cap "
                                  "(200 steps), 1 diverged")
    loose = nets.train_grid(ts.student, ts.w0, gammas[[0, 2]], betas[[0, 2]], 7, tol=1e30)  # L(w0) ≤ tol
    assert np.all(loose.status == mdln.status.CONVERGED) and np.all(loose.steps == 0)
    assert "2 converged (L ≤ 1e+30), 0 stopped at the step cap (7 steps), 0 diverged" in loose.message


@pytest.mark.parametrize("kwargs, match", [
    (dict(gammas=[0.1, -0.1], betas=[0.0, 0.0]), "gammas"),
    (dict(gammas=[0.1, 0.0], betas=[0.0, 0.0]), "gammas"),
    (dict(gammas=[0.1, 0.1], betas=[0.0, 1.0]), "betas"),
    (dict(gammas=[0.1, 0.1], betas=[-0.1, 0.5]), "betas"),
    (dict(gammas=[0.1, np.nan], betas=[0.0, 0.0]), "gammas"),
    (dict(gammas=[0.1, 0.1], betas=[0.0]), "same shape"),
    (dict(max_steps=0), "max_steps"),
    (dict(tol=-1.0), "tol"),
    (dict(blowup=0.0), "blowup"),
    (dict(w0=np.zeros(3)), "w0"),
    (dict(w0=np.full(81, np.inf)), "w0"),
])
def test_train_grid_validation(ts, kwargs, match):
    args = dict(net=ts.student, w0=ts.w0, gammas=[0.1, 0.1], betas=[0.0, 0.5], max_steps=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        nets.train_grid(**args)


def test_constructor_validation(ts):
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="net"):
        nets.train_grid("not a net", ts.w0, [0.1], [0.0], 10)
    with pytest.raises(ValueError, match="widths"):
        nets.DeepLinearNet(X, np.ones(4), (2, 5, 1))
    with pytest.raises(ValueError, match="widths"):
        nets.DeepLinearNet(X, np.ones(4), (3, 5, 2))
    with pytest.raises(ValueError, match="y"):
        nets.ReluNet(X, np.ones(5), 4)
    with pytest.raises(ValueError, match="width"):
        nets.ReluNet(X, np.ones(4), 0)
    with pytest.raises(ValueError, match="n"):
        nets.teacher_student(n=0)
    with pytest.raises(ValueError, match="w"):
        ts.student.loss(np.zeros(7))


def test_progress_bar_does_not_change_results(small_linear):
    _, net, w0 = small_linear
    a = nets.train_grid(net, w0, [0.01, 0.02], [0.5, 0.9], 40, chunk=1, progress=True)
    b = nets.train_grid(net, w0, [0.01, 0.02], [0.5, 0.9], 40, chunk=1)
    np.testing.assert_array_equal(a.w, b.w)
    np.testing.assert_array_equal(a.steps, b.steps)
