"""Lemma 1's I± and Lemma 2's S± from their definitions (mdln.lemmas) against closed forms and the
endpoint / telescoped forms; deliberate errors (plain p.v., Λ± dropped) must be detected."""
import numpy as np
import pytest

from mdln.data import sparse_regression
from mdln.dln import MGFTrajectory, theorem1_integrals_no_sign_change, train_mgf
from mdln.lemmas import (endpoint_integrals, lemma1_integrals, lemma2_sums, lemma2_sums_telescoped,
                         momentum_gd_iterates)
from mdln.smgd import train_mgd


def _exponential_trajectory(lam, A, B):
    """w± = A + B e^{−t/λ}: it solves Eq. (16) with ∇L ≡ 0 (X = [[1]], y = [0], θ = 0)."""
    t = np.concatenate([[0.0], np.geomspace(1e-3, 60.0, 400)]) * lam
    w = A + B * np.exp(-t / lam)
    wd = -(B / lam) * np.exp(-t / lam)
    col = lambda a: a[:, None]   # noqa: E731
    return MGFTrajectory(t=t, w_plus=col(w), w_minus=col(w), wdot_plus=col(wd), wdot_minus=col(wd))


def _omega_closed_form(A, B):
    """Ω for w = A + Be^{−t/λ} with one zero T1 (e^{−T1/λ} = −A/B), from integrating λg̈ + ġ = −λ(ẇ/w)²
    (g = ln|w|) with the initial speed ġ0 = ẇ0/w0 carried as ġ0 sgn(w_t w_0) e^{−t/λ}: ln|w∞/w0| =
    λġ0(1 − 2e^{−T1/λ}) − Ω − P with P = 1 (one zero) and Q = 0 (Lemma 1, Appendix C.3.2)."""
    lam_g0 = -B / (A + B)
    return lam_g0 * (1 + 2 * A / B) - 1.0 - np.log(abs(A / (A + B)))


@pytest.mark.parametrize("lam", [0.1, 2.0])
@pytest.mark.parametrize("A, B", [(1.0, -2.0), (1.0, -1.2), (1.0, -5.0)])
def test_one_crossing_closed_form(lam, A, B):
    res = lemma1_integrals(_exponential_trajectory(lam, A, B), lam, np.ones((1, 1)), np.zeros(1))
    assert res.n_zeros == 2 and np.allclose(res.zeros_plus[0], -lam * np.log(-A / B), rtol=1e-12)
    assert abs(res.omega_plus[0] - _omega_closed_form(A, B)) < 1e-6
    assert res.parity_plus[0] == 1 and res.q_plus[0] == 0.0
    # the plain principal value instead of the m.p.v. (Eq. 11) misses the closed form by O(1)
    plain = lemma1_integrals(_exponential_trajectory(lam, A, B), lam, np.ones((1, 1)), np.zeros(1), mpv=False)
    assert abs(plain.omega_plus[0] - _omega_closed_form(A, B)) > 0.5


def test_no_crossing_closed_form():
    lam, A, B = 0.5, 1.0, 0.5        # w > 0: Ω = λġ0 − ln|w∞/w0| (no zero)
    res = lemma1_integrals(_exponential_trajectory(lam, A, B), lam, np.ones((1, 1)), np.zeros(1))
    expected = -B / (A + B) - np.log(A / (A + B))
    assert res.n_zeros == 0 and abs(res.omega_plus[0] - expected) < 1e-9


@pytest.fixture(scope="module")
def small():
    return sparse_regression(n=10, d=15, s=3, seed=0)


@pytest.fixture(scope="module")
def crossing_run(small):
    r = train_mgf(small.X, small.y, 0.2, alpha=0.01, trajectory=True, rtol=1e-9)
    assert r.vanished
    return r


def _gap(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def test_definition_matches_endpoint_with_sign_changes(small, crossing_run):
    r = crossing_run
    lem = lemma1_integrals(r.trajectory, 0.2, small.X, small.y)
    end = endpoint_integrals(r.trajectory, 0.2, small.X, small.y)
    assert lem.n_zeros == int(r.sign_changes.sum()) > 0
    assert _gap(lem.i_plus, end[0]) < 1e-4 and _gap(lem.i_minus, end[1]) < 1e-4
    # Theorem 1's Δ∞ from the definition form
    pred = r.delta0 * np.exp(-(lem.i_plus + lem.i_minus))
    assert _gap(pred, r.delta_inf) < 1e-3
    # deliberate errors are detected: plain p.v. and Λ± dropped move I± by O(1)
    for wrong in (dict(mpv=False), dict(with_lambda=False)):
        bad = lemma1_integrals(r.trajectory, 0.2, small.X, small.y, **wrong)
        gap = max(_gap(bad.i_plus, end[0]), _gap(bad.i_minus, end[1]))
        assert gap > 0.05


def test_definition_without_sign_changes_matches_lambda_integral(small):
    r = train_mgf(small.X, small.y, 0.05, alpha=0.01, trajectory=True, rtol=1e-9)
    assert not r.vanished
    lem = lemma1_integrals(r.trajectory, 0.05, small.X, small.y)
    ref = theorem1_integrals_no_sign_change(r.trajectory, 0.05)
    assert lem.n_zeros == 0 and np.all(lem.lambda_plus == 0) and np.all(lem.lambda_minus == 0)
    assert _gap(lem.i_plus, ref[0]) < 1e-3 and _gap(lem.i_minus, ref[1]) < 1e-3


def test_lemma2_forms_on_sign_changing_smgd(small):
    gamma, beta = 0.05, 0.5
    wp, wm = momentum_gd_iterates(small.X, small.y, gamma, beta, 3000, alpha=0.01)
    assert np.any(wp[1:] * wp[:-1] < 0) or np.any(wm[1:] * wm[:-1] < 0)
    sp, sm = lemma2_sums(wp, wm, beta)
    tp, tm = lemma2_sums_telescoped(wp, wm, beta)
    assert _gap(sp, tp) < 1e-10 and _gap(sm, tm) < 1e-10
    ref = train_mgd(small.X, small.y, gamma, beta, alpha=0.01, max_steps=3000, tol=1e-300)
    assert ref.steps == 3000
    assert _gap(np.concatenate([sp, sm]), np.concatenate([ref.S_plus, ref.S_minus])) < 1e-9
    assert _gap(0.5 * (wp[-1] + wm[-1]), ref.u) < 1e-10
    # Theorem 2 at finite K: Δ_K = Δ0 exp(−(S+ + S−) + boundary); dropping the β r(1/z) half breaks it
    bnd = beta / (1 - beta) * ((wp[-2] - wp[-1]) / wp[-1] + (wm[-2] - wm[-1]) / wm[-1])
    delta = np.abs(wp[-1] * wm[-1])
    assert _gap(1e-4 * np.exp(-(sp + sm - bnd)), delta) < 1e-8
    zp, zm = wp[1:] / wp[:-1], wm[1:] / wm[:-1]
    r = lambda z: (z - 1) - np.log(np.abs(z))   # noqa: E731
    half = (r(zp).sum(0) + r(zm).sum(0)) / (1 - beta)
    assert _gap(1e-4 * np.exp(-half + bnd), delta) > 1e-3


@pytest.mark.parametrize("call, match", [
    (lambda s: lemma1_integrals(object(), 0.1, s.X, s.y), "MGFTrajectory"),
    (lambda s: lemma1_integrals(_exponential_trajectory(1.0, 1.0, -2.0), 0.0, np.ones((1, 1)), np.zeros(1)),
     "lam"),
    (lambda s: lemma1_integrals(_exponential_trajectory(1.0, 1.0, -2.0), 1.0, s.X, s.y), "shape"),
    (lambda s: lemma1_integrals(_exponential_trajectory(1.0, 1.0, -2.0), np.nan, np.ones((1, 1)),
                                np.zeros(1)), "lam"),
    (lambda s: lemma2_sums(np.ones((3, 2)), np.ones((3, 2)), 1.0), "beta"),
    (lambda s: lemma2_sums(np.ones((1, 2)), np.ones((1, 2)), 0.5), "K ≥ 2"),
    (lambda s: lemma2_sums(np.zeros((3, 2)), np.ones((3, 2)), 0.5), "zero"),
    (lambda s: lemma2_sums(np.full((3, 2), np.nan), np.ones((3, 2)), 0.5), "w_plus"),
    (lambda s: momentum_gd_iterates(s.X, s.y, -1.0, 0.5, 10), "gamma"),
    (lambda s: momentum_gd_iterates(s.X, s.y, 0.1, 0.5, 0), "steps"),
])
def test_bad_inputs(small, call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(small)


def test_experiment_config_checks():
    from mdln.experiments.lemma_forms import LemmaFormsConfig, run_lemma_forms
    assert LemmaFormsConfig.preset("test").lams == (0.02, 0.2)
    for bad in (dict(lams=(-0.1,)), dict(mgd=((0.1, 1.0, 0),)), dict(mgd_steps=0), dict(rtol=0.0)):
        with pytest.raises(ValueError):
            LemmaFormsConfig(**bad)
    with pytest.raises(ValueError, match="fidelity"):
        LemmaFormsConfig.preset("fast")
    with pytest.raises(TypeError, match="LemmaFormsConfig"):
        run_lemma_forms(object())
