"""Tests for SMGD on diagonal linear networks: Eq. (9), Lemma 2, Theorem 2, Corollary 3."""
import numpy as np
import pytest

import mdln

from mdln.data import sparse_regression
from mdln.momentum import mgd
from mdln.smgd import _PyBatches, have_numba, lemma2_r, train_mgd
from mdln.status import Status

ENGINES = ["numpy"] + (["numba"] if have_numba() else [])


@pytest.fixture(scope="module")
def small():
    return sparse_regression(n=10, d=15, s=3, seed=1)


def _uv_grad(X, y):
    n, d = X.shape

    def grad(w):
        u, v = w[:d], w[d:]
        g = X.T @ (X @ (u * v) - y) / n
        return np.concatenate([g * v, g * u])
    return grad


@pytest.mark.parametrize("engine", ENGINES)
def test_iterates_match_generic_mgd_on_uv(small, engine):
    """Full-batch Eq. (9) equals generic MGD on F(u, v) = L(u⊙v) from (α1, 0), w1 = w0."""
    X, y, d = small.X, small.y, small.d
    K = 300
    W = mgd(_uv_grad(X, y), np.concatenate([np.full(d, 0.01), np.zeros(d)]), 0.1, 0.6, K)
    res = train_mgd(X, y, 0.1, 0.6, max_steps=K - 1, tol=1e-30, engine=engine)
    # W[k] is w_k with w_1 = w_0; after m updates train_mgd holds w_{1+m}
    assert res.status == Status.STEP_CAP and res.steps == K - 1
    np.testing.assert_allclose(res.u, W[K, :d], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res.v, W[K, d:], rtol=1e-10, atol=1e-14)


def test_lemma2_sums_from_independent_trajectory(small):
    """S± recomputed from the generic-MGD trajectory with r(z) agree with the accumulated sums."""
    X, y, d = small.X, small.y, small.d
    K, gamma, beta = 400, 0.2, 0.7
    W = mgd(_uv_grad(X, y), np.concatenate([np.full(d, 0.01), np.zeros(d)]), gamma, beta, K)
    wp, wm = W[1:, :d] + W[1:, d:], W[1:, :d] - W[1:, d:]        # w_1 .. w_K
    zp, zm = wp[1:] / wp[:-1], wm[1:] / wm[:-1]
    Sp = np.sum(lemma2_r(zp) + beta * lemma2_r(1 / zp), axis=0) / (1 - beta)
    Sm = np.sum(lemma2_r(zm) + beta * lemma2_r(1 / zm), axis=0) / (1 - beta)
    res = train_mgd(X, y, gamma, beta, max_steps=K - 1, tol=1e-30)
    np.testing.assert_allclose(res.S_plus, Sp, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.S_minus, Sm, rtol=1e-9, atol=1e-12)


def test_r_is_positive_for_positive_ratios():
    z = np.array([0.1, 0.5, 0.99, 1.01, 2.0, 10.0])
    assert np.all(lemma2_r(z) > 0)
    assert lemma2_r(1.0) == 0.0
    # r(z) ~ (z − 1)²/2 near 1 (Appendix D.2)
    assert abs(lemma2_r(1 + 1e-4) / 0.5e-8 - 1) < 1e-3


@pytest.mark.parametrize("batch_size,replace", [(None, False), (2, False), (3, True), (1, False)])
def test_theorem2_balancedness(small, batch_size, replace):
    """Δ∞ = Δ0 exp(−(S+ + S−)) at convergence, full batch and B < n (Theorem 2)."""
    res = train_mgd(small.X, small.y, 0.1, 0.5, batch_size=batch_size, replace=replace, tol=1e-12,
                    max_steps=400_000)
    assert res.status == Status.CONVERGED
    assert res.train_loss < 1e-12
    assert res.theorem2_error() <= 1e-6
    assert res.theorem2_error(finite=True) <= 1e-6   # exact at finite K up to rounding in (u, v)


def test_theorem2_with_and_without_sign_changes(small):
    crossing = train_mgd(small.X, small.y, 0.3, 0.9, tol=1e-12, max_steps=400_000)
    calm = train_mgd(small.X, small.y, 0.2, 0.0, tol=1e-12, max_steps=400_000)
    assert crossing.crossed and not calm.crossed
    for res in (crossing, calm):
        assert res.status == Status.CONVERGED
        assert res.theorem2_error() <= 1e-6


def test_corollary3_without_sign_change(small):
    """No sign change ⇒ Δ∞ < Δ0 coordinate-wise and |θ̃0| < α² (Corollary 3)."""
    res = train_mgd(small.X, small.y, 0.2, 0.0, tol=1e-10, max_steps=400_000)
    assert not res.crossed
    assert np.all(res.S_plus > 0) and np.all(res.S_minus > 0)
    assert np.all(res.delta_inf < res.delta0)
    assert np.all(np.abs(res.theta_tilde0()) < res.alpha ** 2)


def test_converged_run_interpolates(small):
    res = train_mgd(small.X, small.y, 0.1, 0.5)
    assert res.status == Status.CONVERGED and res.train_loss < 1e-8
    assert np.linalg.norm(small.X @ res.theta - small.y) / np.sqrt(small.n) < 2e-4


@pytest.mark.parametrize("batch_size,replace", [(None, False), (3, False), (4, True)])
def test_engines_agree(small, batch_size, replace):
    if not have_numba():
        pytest.skip("numba not installed")
    kw = dict(batch_size=batch_size, replace=replace, max_steps=3000, tol=1e-30, record=12)
    a = train_mgd(small.X, small.y, 0.15, 0.7, engine="numba", **kw)
    b = train_mgd(small.X, small.y, 0.15, 0.7, engine="numpy", **kw)
    assert a.steps == b.steps and a.crossed == b.crossed and a.status == b.status
    for f in ("theta", "S_plus", "S_minus", "delta_inf"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-9, atol=1e-13)
    np.testing.assert_array_equal(a.trajectory.steps, b.trajectory.steps)
    np.testing.assert_allclose(a.trajectory.delta, b.trajectory.delta, rtol=1e-9, atol=1e-15)


def test_divergence_is_a_status_never_nan(small):
    res = train_mgd(small.X, small.y, 5.0, 0.5, record=5)
    assert res.status == Status.DIVERGED
    for f in ("theta", "u", "v", "delta_inf", "S_plus", "S_minus"):
        assert np.all(np.isfinite(getattr(res, f)))
    assert np.isfinite(res.train_loss)
    assert np.all(np.isfinite(res.trajectory.train_loss))


def test_max_steps_and_epochs(small):
    res = train_mgd(small.X, small.y, 0.001, 0.0, batch_size=3, max_steps=20)
    assert res.status == Status.STEP_CAP and res.steps == 20
    assert res.epochs == pytest.approx(20 / 4)     # ⌈10/3⌉ = 4 steps per epoch
    assert res.batch_size == 3


def test_batches_without_replacement_partition_each_epoch():
    b = _PyBatches(10, 3, False, seed=7)
    seen = []
    for k in range(8):          # two epochs of ⌈10/3⌉ = 4 steps
        seen.append(b.batch(k))
    for e in range(2):
        ep = np.concatenate(seen[4 * e:4 * e + 4])
        assert sorted(ep.tolist()) == list(range(10))
    assert [len(x) for x in seen[:4]] == [3, 3, 3, 1]
    assert not np.array_equal(np.concatenate(seen[:4]), np.concatenate(seen[4:]))


def test_batches_with_replacement_are_distinct_subsets():
    b = _PyBatches(10, 4, True, seed=3)
    batches = [b.batch(k) for k in range(50)]
    assert all(len(set(x.tolist())) == 4 for x in batches)
    counts = np.bincount(np.concatenate(batches), minlength=10)
    assert counts.min() > 5     # every sample is drawn


def test_trajectory_records_final_iterate(small):
    res = train_mgd(small.X, small.y, 0.1, 0.5, record=30)
    tr = res.trajectory
    assert tr.steps[-1] == res.steps and tr.steps[0] == 0
    assert np.all(np.diff(tr.steps) > 0)
    np.testing.assert_allclose(tr.theta[-1], res.theta)
    np.testing.assert_allclose(tr.delta[0], np.full(small.d, 1e-4))
    assert tr.train_loss[-1] == pytest.approx(res.train_loss)


@pytest.mark.parametrize("kw,match", [
    (dict(gamma=0.0), "gamma"), (dict(gamma=-1.0), "gamma"), (dict(beta=1.0), "beta"),
    (dict(beta=-0.1), "beta"), (dict(batch_size=0), "batch_size"), (dict(batch_size=11), "batch_size"),
    (dict(alpha=0.0), "alpha"), (dict(max_steps=-1), "max_steps"), (dict(tol=0.0), "tol"),
    (dict(engine="gpu"), "engine"), (dict(replace="yes"), "replace"), (dict(seed=-1), "seed"),
])
def test_bad_arguments(small, kw, match):
    args = dict(gamma=0.1, beta=0.5)
    args.update(kw)
    g, b = args.pop("gamma"), args.pop("beta")
    with pytest.raises(ValueError, match=match):
        train_mgd(small.X, small.y, g, b, **args)


def test_bad_data(small):
    X = small.X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="X"):
        train_mgd(X, small.y, 0.1, 0.5)
    with pytest.raises(ValueError, match="y"):
        train_mgd(small.X, small.y[:-1], 0.1, 0.5)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", [2 ** 64, 2 ** 70, -1, 1.0, True, "0"])
def test_seed_range_is_checked_for_every_engine(small, engine, seed):
    """The same ValueError, naming seed and its range, on every engine."""
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64 - 1\]"):
        train_mgd(small.X, small.y, 0.1, 0.5, batch_size=3, seed=seed, max_steps=10, engine=engine)


def test_largest_seed_gives_the_same_batches_on_every_engine(small):
    runs = [train_mgd(small.X, small.y, 0.1, 0.5, batch_size=3, seed=2 ** 64 - 1, max_steps=90, tol=1e-30,
                      engine=e) for e in ENGINES]
    zero = train_mgd(small.X, small.y, 0.1, 0.5, batch_size=3, seed=0, max_steps=90, tol=1e-30)
    assert not np.allclose(runs[0].theta, zero.theta)          # not silently seed 0's batches
    for r in runs[1:]:
        np.testing.assert_allclose(r.theta, runs[0].theta, rtol=1e-10, atol=1e-14)
    top, zero = _PyBatches(10, 3, False, 2 ** 64 - 1), _PyBatches(10, 3, False, 0)
    assert top.batch(0).tolist() != zero.batch(0).tolist()


@pytest.mark.parametrize("engine", ENGINES)
def test_unrepresentable_update_is_divergence(small, engine):
    """An update multiplying w± by more than 2^52 ends the run as DIVERGED at the last finite iterate."""
    r = train_mgd(small.X, small.y, 1e50, 0.5, max_steps=100, engine=engine)
    assert r.status == Status.DIVERGED and r.steps == 1
    np.testing.assert_array_equal(r.theta, 0.0)                     # iterate 0: θ0 = u0⊙v0 = 0
    assert np.isfinite(r.train_loss) and np.all(np.isfinite(r.S_plus)) and np.all(r.delta_inf == 1e-4)


def test_corollary3_holds_on_runs_that_do_not_cross():
    """Corollary 3: if w± never change sign, |θ̃0| < α² and Δ∞ < Δ0 = α² (checked coordinate-wise)."""
    ds = mdln.sparse_regression(seed=3)
    seen = 0
    for gamma, beta in [(0.01, 0.0), (0.01, 0.5), (0.05, 0.5), (0.02, 0.9), (0.005, 0.0)]:
        r = mdln.train_mgd(ds.X, ds.y, gamma, beta, max_steps=100_000)
        assert r.status != Status.DIVERGED
        if r.crossed:
            continue
        seen += 1
        a2 = r.alpha ** 2
        manual = all(abs(t) < a2 and dl < a2 for t, dl in zip(r.theta_tilde0(), r.delta_inf))
        assert r.corollary3() and manual
    assert seen >= 3


def test_corollary3_holds_is_false_where_a_coordinate_fails_or_is_nan():
    from mdln.smgd import corollary3_holds
    a = 0.1
    delta = np.array([[0.005, 0.009], [0.005, 0.011], [np.nan, 0.001]])
    tt0 = np.array([[0.001, -0.009], [0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(corollary3_holds(delta, tt0, a), [True, False, False])
    np.testing.assert_array_equal(corollary3_holds(delta[:1], np.array([[0.02, 0.0]]), a), [False])


# ------------------------------------------------------------------ the batch RNG contract, every seed
SEEDS = [0, 2 ** 63 - 1, 2 ** 63, 2 ** 63 + 5, 2 ** 64 - 1]


def _contract_uniforms(seed, count):
    """The documented stream, re-implemented on numpy uint64 (wrapping) arithmetic: SplitMix64 from
    ``seed`` (state += 0x9E3779B97F4A7C15, then the two xor-shift-multiply rounds), top 53 bits / 2^53."""
    with np.errstate(over="ignore"):
        s = np.uint64(seed) + np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (s ^ (s >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z, (z >> np.uint64(11)).astype(np.float64) / 2.0 ** 53


def _contract_batches(seed, n, b, replace, steps):
    """Batches of the conventions in mdln.smgd: without replacement a Fisher–Yates permutation per epoch
    (i = n−1 … 1, j = ⌊u(i+1)⌋) cut into ⌈n/B⌉ pieces; with replacement a partial Fisher–Yates of the
    identity per step (i = 0 … B−1, j = i + ⌊u(n−i)⌋), the batch being its first B entries."""
    spe = -(-n // b)
    _, u = _contract_uniforms(seed, steps * n)
    it = iter(u.tolist())
    out = []
    for k in range(steps):
        if replace:
            p = list(range(n))
            for i in range(b):
                j = i + int(next(it) * (n - i))
                p[i], p[j] = p[j], p[i]
            out.append(p[:b])
            continue
        if k % spe == 0:
            perm = list(range(n))
            for i in range(n - 1, 0, -1):
                j = int(next(it) * (i + 1))
                perm[i], perm[j] = perm[j], perm[i]
        pos = k % spe
        out.append(perm[pos * b:(pos + 1) * b])
    return out


def test_contract_generator_is_the_published_splitmix64():
    """The re-implementation gives the published SplitMix64 outputs (Vigna's splitmix64.c, seed 1234567),
    and the engines' Python stream takes its uniforms from the same 64-bit outputs."""
    z, u = _contract_uniforms(1234567, 5)
    assert z.tolist() == [6457827717110365317, 3203168211198807973, 9817491932198370423,
                          4593380528125082431, 16408922859458223821]
    from mdln.smgd import _splitmix_py
    s, got = 1234567, []
    for _ in range(5):
        s, v = _splitmix_py(s)
        got.append(v)
    assert got == u.tolist()


@pytest.mark.parametrize("replace,b", [(False, 3), (True, 4)])
@pytest.mark.parametrize("seed", SEEDS)
def test_batch_streams_follow_the_contract_for_every_seed(seed, replace, b):
    """Both engines' batch streams equal the independent re-implementation, element for element, for
    seeds on both sides of 2^63 (three epochs)."""
    n, steps = 10, 12
    want = _contract_batches(seed, n, b, replace, steps)
    py = _PyBatches(n, b, replace, seed)
    assert [py.batch(k).tolist() for k in range(steps)] == want
    if have_numba():
        from mdln.smgd import _next_batch_nb
        perm, s = np.arange(n), np.uint64(seed)
        got = []
        for k in range(steps):
            s, i0, i1 = _next_batch_nb(np.uint64(s), perm, k, n, b, -(-n // b), replace)
            got.append(perm[i0:i1].tolist())
        assert got == want


def test_seeds_above_2_63_are_not_folded_onto_smaller_ones():
    """2^63 + 5 is its own stream: neither seed 5's (top bit dropped) nor 2^63 − 1 − 5's (sign flipped)."""
    first = [_PyBatches(10, 3, False, s).batch(0).tolist() for s in (2 ** 63 + 5, 5, 2 ** 63 - 6)]
    assert first[0] == _contract_batches(2 ** 63 + 5, 10, 3, False, 1)[0]
    assert first[0] != first[1] and first[0] != first[2]


@pytest.mark.parametrize("seed", SEEDS)
def test_engines_run_the_same_batches_for_every_seed(small, seed):
    """Mini-batch runs (B = 3 < n) on the numba lanes and the numpy twin: same batches, hence the same
    steps, status and sign changes, and θ, S± equal to rounding (the arithmetic differs, not the data)."""
    if not have_numba():
        pytest.skip("numba not installed")
    kw = dict(batch_size=3, seed=seed, max_steps=400, tol=1e-30)
    a = train_mgd(small.X, small.y, 0.05, 0.5, engine="numba", **kw)
    b = train_mgd(small.X, small.y, 0.05, 0.5, engine="numpy", **kw)
    assert (a.status, a.steps, a.crossed) == (b.status, b.steps, b.crossed)
    assert a.status == Status.STEP_CAP and a.steps == 400
    for f in ("theta", "S_plus", "S_minus"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-10, atol=1e-14, err_msg=f)
    other = train_mgd(small.X, small.y, 0.05, 0.5, engine="numpy", **dict(kw, seed=(seed + 1) % 2 ** 64))
    assert not np.allclose(other.theta, b.theta, rtol=1e-6)       # the seed does change the batches


# ------------------------------------------------------------------ status and message
def test_status_is_a_status_with_a_message_saying_why(small):
    conv = train_mgd(small.X, small.y, 0.1, 0.5)
    cap = train_mgd(small.X, small.y, 0.1, 0.5, max_steps=1000)
    div = train_mgd(small.X, small.y, 5.0, 0.5)
    lost = train_mgd(small.X, small.y, 1e50, 0.5, max_steps=100)
    assert [r.status for r in (conv, cap, div, lost)] == [Status.CONVERGED, Status.STEP_CAP, Status.DIVERGED,
                                                            Status.DIVERGED]
    assert all(type(r.status) is Status and r.code is r.status for r in (conv, cap, div, lost))
    assert conv.message == f"train loss {conv.train_loss:.4g} < tol 1e-08 after {conv.steps} steps"
    assert conv.train_loss < 1e-8 and conv.steps > 0
    assert cap.message.startswith("step cap of 10^3 steps reached with train loss ")
    assert f"{cap.train_loss:.4g}" in cap.message and cap.train_loss >= 1e-8
    L0 = 0.5 * small.y @ small.y / small.n
    assert div.train_loss > 1e12 * (1 + L0)
    assert div.message == (f"diverged at step {div.steps}: loss {div.train_loss:.4g} > 1e12·(1+L0) = "
                           f"{1e12 * (1 + L0):.4g}")
    assert lost.message.startswith("diverged at step 1: ") and "2^52" in lost.message
    assert f"train loss {lost.train_loss:.4g}" in lost.message
    # printed as its name, whatever the format spec (the chapter tables use f"{r.status:>10}")
    assert f"{conv.status:>10}|{cap.status}|{div.status!s}" == " converged|step_cap|diverged"


def test_step_cap_message_prints_other_budgets_in_digits(small):
    r = train_mgd(small.X, small.y, 0.1, 0.5, max_steps=1234)
    assert r.status == Status.STEP_CAP and "step cap of 1234 steps" in r.message


# ------------------------------------------------------------------ bad input names the parameter
@pytest.mark.parametrize("z", [np.nan, np.inf, -np.inf, [1.0, np.nan], 0.0, [2.0, 0.0], "1", None, [1, "a"]])
def test_lemma2_r_rejects_values_outside_its_domain(z):
    with pytest.raises(ValueError, match=r"\bz\b"):
        lemma2_r(z)


def test_lemma2_r_keeps_shapes_and_negative_ratios():
    """r(z) = (z − 1) − ln|z| on any shape; a sign change (z < 0) is allowed, as in Lemma 2."""
    z = np.array([[0.5, -2.0], [3.0, 1.0]])
    np.testing.assert_allclose(lemma2_r(z), (z - 1) - np.log(np.abs(z)))
    assert lemma2_r(-1.0) == pytest.approx(-2.0)


@pytest.mark.parametrize("kw,exc,match", [
    (dict(gamma=np.nan), ValueError, "gamma"), (dict(gamma="0.1"), ValueError, "gamma"),
    (dict(beta=np.inf), ValueError, "beta"), (dict(beta=[0.5]), ValueError, "beta"),
    (dict(alpha=np.nan), ValueError, "alpha"), (dict(tol=np.inf), ValueError, "tol"),
    (dict(record=1.5), ValueError, "record"), (dict(record=-1), ValueError, "record"),
    (dict(max_steps=10.0), ValueError, "max_steps"), (dict(batch_size=2.5), ValueError, "batch_size"),
    (dict(engine=["numba"]), ValueError, "engine"), (dict(engine=np.array(["numpy"])), ValueError, "engine"),
    (dict(seed=np.nan), ValueError, "seed"), (dict(seed=np.float64(3.0)), ValueError, "seed"),
    (dict(replace=1), ValueError, "replace"),
])
def test_train_mgd_names_the_bad_argument(small, kw, exc, match):
    args = dict(gamma=0.1, beta=0.5, max_steps=10)
    args.update(kw)
    g, b = args.pop("gamma"), args.pop("beta")
    with pytest.raises(exc, match=match):
        train_mgd(small.X, small.y, g, b, **args)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_train_mgd_rejects_non_finite_data(small, bad):
    X, y = small.X.copy(), small.y.copy()
    X[3, 2] = bad
    y[4] = bad
    with pytest.raises(ValueError, match="X"):
        train_mgd(X, small.y, 0.1, 0.5)
    with pytest.raises(ValueError, match="y"):
        train_mgd(small.X, y, 0.1, 0.5)
    with pytest.raises(ValueError, match="X"):
        train_mgd("data", small.y, 0.1, 0.5)


def test_result_methods_check_their_flags(small):
    r = train_mgd(small.X, small.y, 0.1, 0.5, max_steps=50)
    with pytest.raises(TypeError, match="finite"):
        r.theorem2_delta(finite="yes")
    with pytest.raises(TypeError, match="finite"):
        r.theorem2_error(finite=1)
    np.testing.assert_array_equal(r.theorem2_delta(finite=np.True_), r.theorem2_delta(True))


def test_corollary3_holds_checks_its_arguments():
    from mdln.smgd import corollary3_holds
    d, t = np.full((2, 3), 1e-3), np.zeros((2, 3))
    with pytest.raises(ValueError, match="delta_inf"):
        corollary3_holds(d, t[:, :2], 0.1)
    with pytest.raises(ValueError, match="delta_inf"):
        corollary3_holds("abc", t, 0.1)
    with pytest.raises(ValueError, match="theta_tilde0"):
        corollary3_holds(d, [["a"] * 3] * 2, 0.1)
    for alpha in (0.0, -0.1, np.nan, "0.1"):
        with pytest.raises(ValueError, match="alpha"):
            corollary3_holds(d, t, alpha)
    np.testing.assert_array_equal(corollary3_holds(d, t, 0.1), [True, True])
