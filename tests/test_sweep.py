"""Tests for the (γ, β, replication) SMGD sweep engine (Figures 4, 7); executors: test_open_questions."""
import numpy as np
import pytest

import mdln.smgd as sweep_mod
from mdln.data import sparse_regression
from mdln.smgd import have_numba, train_mgd
from mdln.smgd import mgd_sweep
from mdln.status import Status

GAMMAS = np.array([0.2, 0.3, 3.0])        # the last one diverges
BETAS = np.array([0.6, 0.9])


@pytest.fixture(scope="module")
def data():
    dss = [sparse_regression(n=10, d=15, s=3, seed=s) for s in (1, 2)]
    return np.stack([d.X for d in dss]), np.stack([d.y for d in dss])


@pytest.fixture(scope="module")
def full(data):
    X, y = data
    return mgd_sweep(X, y, GAMMAS, BETAS, max_steps=200_000, tol=1e-12, cache=False)


def test_shapes_and_status(full):
    G, Bt, R, d = 3, 2, 2, 15
    assert full.theta.shape == (G, Bt, R, d) and full.steps.shape == (G, Bt, R)
    assert np.all(full.status[2] == 2)                     # γ = 3 diverges everywhere
    assert np.all(full.status[:2] == 0)                    # the others converge
    assert np.all(full.train_loss[:2] < 1e-12)
    np.testing.assert_allclose(full.lam, GAMMAS[:, None] / (1 - BETAS[None]) ** 2)


def test_divergence_never_nan(full):
    for f in ("theta", "u", "v", "delta_inf", "S_plus", "S_minus", "train_loss"):
        assert np.all(np.isfinite(getattr(full, f)))


def test_theorem2_on_every_converged_member(full):
    err = full.theorem2_error()
    assert np.nanmax(err[full.converged]) <= 1e-6
    assert np.nanmax(full.theorem2_error(finite=True)[~full.diverged]) <= 1e-9   # exact at finite K


def test_members_match_train_mgd(data, full):
    """Converged members of a long full-batch sweep (tol 1e-12) are train_mgd runs, bit for bit."""
    X, y = data
    for (i, j, r) in [(0, 0, 0), (1, 1, 1), (0, 1, 0)]:
        ref = train_mgd(X[r], y[r], GAMMAS[i], BETAS[j], max_steps=200_000, tol=1e-12)
        assert ref.steps == full.steps[i, j, r] and ref.crossed == full.crossed[i, j, r]
        exact = np.testing.assert_array_equal if have_numba() else (
            lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-15))
        for f in ("theta", "S_plus", "S_minus", "delta_inf"):
            exact(getattr(full, f)[i, j, r], getattr(ref, f))


@pytest.mark.parametrize("batch_size,replace", [(3, False), (4, True)])
def test_stochastic_members_match_train_mgd(data, batch_size, replace):
    X, y = data
    res = mgd_sweep(X, y, [0.05, 0.1], [0.0, 0.5], seeds=[5, 6], batch_size=batch_size,
                    replace=replace, max_steps=3000, tol=1e-30, cache=False)
    for (i, j, r) in [(0, 0, 0), (1, 1, 1)]:
        ref = train_mgd(X[r], y[r], [0.05, 0.1][i], [0.0, 0.5][j], batch_size=batch_size,
                        replace=replace, seed=[5, 6][r], max_steps=3000, tol=1e-30)
        assert ref.steps == res.steps[i, j, r] == 3000
        np.testing.assert_allclose(res.theta[i, j, r], ref.theta, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(res.S_plus[i, j, r], ref.S_plus, rtol=1e-7, atol=1e-10)
    assert res.epochs[0, 0, 0] == pytest.approx(3000 / -(-10 // batch_size))


@pytest.mark.parametrize("batch_size", [None, 3])
def test_numba_and_numpy_engines_agree(data, batch_size):
    if not have_numba():
        pytest.skip("numba not installed")
    X, y = data
    kw = dict(seeds=[1, 2], batch_size=batch_size, max_steps=20_000, tol=1e-9, cache=False)
    a = mgd_sweep(X, y, GAMMAS, BETAS, engine="numba", **kw)
    b = mgd_sweep(X, y, GAMMAS, BETAS, engine="numpy", **kw)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.crossed, b.crossed)
    ok = ~a.diverged
    for f in ("theta", "delta_inf", "S_plus", "S_minus"):
        np.testing.assert_allclose(getattr(a, f)[ok], getattr(b, f)[ok], rtol=1e-7, atol=1e-11)


@pytest.mark.parametrize("batch_size", [None, 3])
def test_threads_give_bit_identical_results(data, batch_size):
    """The numba engine on 1 thread and on 2 threads (prange over member groups): same bits."""
    import numba
    if not have_numba() or numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs numba and at least 2 cores")
    X, y = data
    gammas, betas = np.geomspace(0.02, 3.0, 7), np.linspace(0.0, 0.95, 6)   # 84 members, some diverge
    kw = dict(seeds=[3, 4], batch_size=batch_size, max_steps=5000, tol=1e-10, cache=False, engine="numba")
    one = mgd_sweep(X, y, gammas, betas, n_threads=1, **kw)
    two = mgd_sweep(X, y, gammas, betas, n_threads=2, **kw)
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS   # restored afterwards
    assert np.any(one.diverged) and np.any(one.converged) and np.any(one.status == 1)
    for f, a in one.arrays().items():
        np.testing.assert_array_equal(a, two.arrays()[f], err_msg=f)


def test_single_dataset_broadcasts_over_seeds(data):
    X, y = data
    res = mgd_sweep(X[0], y[0], [0.1], [0.5], seeds=[0, 1, 2], batch_size=2, max_steps=500,
                    tol=1e-30, cache=False)
    assert res.theta.shape == (1, 1, 3, 15)
    assert not np.allclose(res.theta[0, 0, 0], res.theta[0, 0, 1])   # different batch streams


def test_cache_is_keyed_by_data(data, tmp_path, monkeypatch):
    monkeypatch.setenv("MDLN_CACHE_DIR", str(tmp_path))
    X, y = data
    calls = []
    real = sweep_mod._compute

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)
    monkeypatch.setattr(sweep_mod, "_compute", counting)
    a = mgd_sweep(X, y, [0.1], [0.5], max_steps=200)
    b = mgd_sweep(X, y, [0.1], [0.5], max_steps=200)
    assert len(calls) == 1
    np.testing.assert_array_equal(a.theta, b.theta)
    mgd_sweep(X, y * 1.0001, [0.1], [0.5], max_steps=200)
    mgd_sweep(X, y, [0.1], [0.5], max_steps=201)
    assert len(calls) == 3


@pytest.mark.parametrize("kw,match", [
    (dict(gammas=[0.1, -1.0]), "gammas"), (dict(betas=[1.0]), "betas"), (dict(seeds=[-1]), "seeds"),
    (dict(batch_size=99), "batch_size"), (dict(seeds=[0, 1, 2]), "replications"),
    (dict(engine="cuda"), "engine"), (dict(tol=-1.0), "tol"), (dict(n_threads=0), "n_threads"),
    (dict(n_threads=10 ** 6), "n_threads"), (dict(n_threads=1.5), "n_threads"),
])
def test_bad_arguments(data, kw, match):
    X, y = data
    args = dict(gammas=[0.1], betas=[0.5], cache=False, max_steps=10)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        mgd_sweep(X, y, **args)


def test_bad_data_shapes(data):
    X, y = data
    with pytest.raises(ValueError, match="y"):
        mgd_sweep(X, y[:, :-1], [0.1], [0.5], cache=False)
    with pytest.raises(ValueError, match="X"):
        mgd_sweep(X[..., None], y, [0.1], [0.5], cache=False)


def test_works_without_numba():
    """With numba unimportable, mdln imports and the sweep runs on the numpy fallback."""
    import subprocess
    import sys
    code = ("import sys; sys.modules['numba'] = None\n"
            "import numpy as np, mdln\n"
            "from mdln.smgd import have_numba\n"
            "ds = mdln.sparse_regression(n=10, d=15, s=3, seed=1)\n"
            "r = mdln.mgd_sweep(ds.X, ds.y, [0.2], [0.6], max_steps=3000, cache=False)\n"
            "t = mdln.train_mgd(ds.X, ds.y, 0.2, 0.6, max_steps=3000)\n"
            "assert not have_numba()\n"
            "print(float(np.max(np.abs(r.theta[0, 0, 0] - t.theta))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.strip()) < 1e-10


@pytest.mark.parametrize("gamma", [1e50, 1e200])
@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_overflow_in_one_step_keeps_the_last_finite_state(data, engine, gamma):
    """A member that blows up in one step is DIVERGED with the last finite iterate,
    the same step count, θ and loss as train_mgd (both engines), never NaN, a zero loss or Δ∞ = inf."""
    if engine == "numba" and not have_numba():
        pytest.skip("numba not installed")
    X, y = data
    res = mgd_sweep(X[0], y[0], [gamma, 0.2], [0.5], max_steps=100, cache=False, engine=engine)
    ref = train_mgd(X[0], y[0], gamma, 0.5, max_steps=100, engine=engine)
    assert res.status[0, 0, 0] == ref.status == Status.DIVERGED
    assert res.steps[0, 0, 0] == ref.steps
    for f in ("theta", "u", "v", "delta_inf", "S_plus", "S_minus", "train_loss", "boundary"):
        assert np.all(np.isfinite(getattr(res, f)[0])), f
    np.testing.assert_allclose(res.theta[0, 0, 0], ref.theta, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(res.delta_inf[0, 0, 0], ref.delta_inf, rtol=1e-12)
    assert res.train_loss[0, 0, 0] == pytest.approx(ref.train_loss, rel=1e-12) and ref.train_loss > 0
    assert res.status[1, 0, 0] != 2                                 # the sane member next to it


def test_huge_and_out_of_range_seeds(data):
    """Seeds are integers in [0, 2^64); the largest one works on both engines alike."""
    X, y = data
    kw = dict(batch_size=3, max_steps=60, tol=1e-30, cache=False)
    a = mgd_sweep(X[0], y[0], [0.1], [0.5], seeds=2 ** 64 - 1, engine="numpy", **kw)
    b = train_mgd(X[0], y[0], 0.1, 0.5, batch_size=3, seed=2 ** 64 - 1, max_steps=60, tol=1e-30,
                  engine="numpy")
    np.testing.assert_allclose(a.theta[0, 0, 0], b.theta, rtol=1e-10, atol=1e-14)
    assert not np.allclose(a.theta[0, 0, 0], mgd_sweep(X[0], y[0], [0.1], [0.5], seeds=0, engine="numpy",
                                                        **kw).theta[0, 0, 0])
    if have_numba():
        c = mgd_sweep(X[0], y[0], [0.1], [0.5], seeds=2 ** 64 - 1, engine="numba", **kw)
        np.testing.assert_allclose(c.theta, a.theta, rtol=1e-10, atol=1e-14)
    for bad in (2 ** 64, [0, 2 ** 64], -1, [1.5]):
        with pytest.raises(ValueError, match=r"seeds must be an integer in \[0, 2\*\*64 - 1\]"):
            mgd_sweep(X[0], y[0], [0.1], [0.5], seeds=bad, **kw)


# ------------------------------------------------------------------ one engine: lanes, twin, train_mgd
GRID_G, GRID_B = np.array([0.01, 0.1, 3.0]), np.array([0.0, 0.7])   # γ = 3 diverges, γ = 0.01 hits the cap
CAP, TOL = 3000, 1e-5


@pytest.mark.parametrize("batch_size,replace", [(None, False), (3, False), (4, True)])
def test_lanes_and_numpy_twin_record_the_same_trajectories(data, batch_size, replace):
    """The numba lane kernel and its numpy lock-step twin record the iterates at the same steps, end with
    the same statuses and step counts, and agree on the recorded loss, Δ and θ to rounding."""
    if not have_numba():
        pytest.skip("numba not installed")
    X, y = data
    seeds = np.array([7, 8], np.uint64)
    rec = np.array([0, 1, 5, 40, 300, 1999, CAP])
    b = 10 if batch_size is None else batch_size
    runs = {e: sweep_mod._compute(X, y, GRID_G, GRID_B, seeds, 0.01, b, replace, CAP, TOL, e, False,
                                  rec_steps=rec) for e in ("numba", "numpy")}
    a, n = runs["numba"], runs["numpy"]
    np.testing.assert_array_equal(a["status"], n["status"])
    np.testing.assert_array_equal(a["steps"], n["steps"])
    np.testing.assert_array_equal(a["nrec"], n["nrec"])
    assert set(a["status"].tolist()) == {0, 1, 2}                      # every outcome is exercised
    for m in range(a["status"].size):
        q = a["nrec"][m]
        # recorded exactly at the requested steps up to where the member stopped (a diverged iterate is
        # never recorded)
        last = a["steps"][m] - (a["status"][m] == 2)
        assert q == np.sum(rec <= last)
        np.testing.assert_allclose(a["rec_loss"][m, :q], n["rec_loss"][m, :q], rtol=1e-8, atol=1e-14)
        np.testing.assert_allclose(a["rec_delta"][m, :q], n["rec_delta"][m, :q], rtol=1e-8, atol=1e-14)
        np.testing.assert_allclose(a["rec_theta"][m, :q], n["rec_theta"][m, :q], rtol=1e-7, atol=1e-12)
        if q:
            np.testing.assert_allclose(a["rec_delta"][m, 0], 1e-4)      # Δ0 = α²


@pytest.mark.parametrize("engine", ["numba", "numpy"])
@pytest.mark.parametrize("batch_size,replace", [(None, False), (3, False), (4, True)])
def test_train_mgd_is_the_one_by_one_sweep(data, engine, batch_size, replace):
    """train_mgd(γ, β, seed) is the (γ, β, r) cell of mgd_sweep: bit for bit on the numba lanes (a member's
    arithmetic does not depend on its lane or its neighbours), to rounding on the numpy twin (whose
    products are batched over however many members are active)."""
    if engine == "numba" and not have_numba():
        pytest.skip("numba not installed")
    X, y = data
    kw = dict(batch_size=batch_size, replace=replace, max_steps=CAP, tol=TOL)
    sw = mgd_sweep(X, y, GRID_G, GRID_B, seeds=[7, 8], cache=False, engine=engine, **kw)
    assert set(sw.status.ravel().tolist()) == {0, 1, 2}
    for i, j, r in np.ndindex(sw.status.shape):
        one = train_mgd(X[r], y[r], GRID_G[i], GRID_B[j], seed=[7, 8][r], engine=engine, **kw)
        assert one.status == sw.status[i, j, r] and one.steps == sw.steps[i, j, r]
        assert one.crossed == sw.crossed[i, j, r]
        for f in ("theta", "u", "v", "delta_inf", "S_plus", "S_minus", "boundary", "train_loss"):
            got, want = getattr(one, f), getattr(sw, f)[i, j, r]
            if engine == "numba":
                np.testing.assert_array_equal(got, want, err_msg=f)
            else:
                np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15, err_msg=f)


def test_status_values_partition_the_runs(data):
    """Every run ends CONVERGED, STEP_CAP or DIVERGED, and each code means what it says: converged runs
    stopped at an epoch boundary with train loss < tol, capped runs used the whole budget above tol,
    diverged runs stopped early or at the cap with a finite reported loss."""
    from mdln.status import STATUS_NAMES, Status, status_name
    X, y = data
    tol, cap, b = TOL, CAP, 3
    sw = mgd_sweep(X, y, GRID_G, GRID_B, seeds=[7, 8], batch_size=b, max_steps=cap, tol=tol, cache=False)
    from mdln.status import TRAINER_STATUSES
    masks = [sw.status == s for s in TRAINER_STATUSES]
    assert np.all(sum(m.astype(int) for m in masks) == 1)               # disjoint and exhaustive
    assert all(np.any(m) for m in masks)
    conv, capd, div = masks
    np.testing.assert_array_equal(conv, sw.converged)
    np.testing.assert_array_equal(div, sw.diverged)
    assert np.all(sw.train_loss[conv] < tol) and np.all(sw.steps[conv] % -(-10 // b) == 0)
    assert np.all(sw.steps[capd] == cap) and np.all(sw.train_loss[capd] >= tol)
    assert np.all(sw.steps[div] <= cap) and np.all(np.isfinite(sw.train_loss[div]))
    assert [status_name(s) for s in Status] == list(STATUS_NAMES) == ["converged", "step_cap", "diverged",
                                                                        "solver_failed", "sign_change"]
    np.testing.assert_array_equal(sw.status_names() == "step_cap", capd)
    with pytest.raises(ValueError, match="status code"):
        status_name(5)


def test_message_counts_the_statuses(data):
    """SweepResult.status stays an int code array; its message counts each trainer status."""
    import re
    X, y = data
    sw = mgd_sweep(X, y, GRID_G, GRID_B, seeds=[7, 8], batch_size=3, max_steps=CAP, tol=TOL, cache=False)
    assert sw.status.dtype == np.int64
    m = re.fullmatch(r"(\d+) runs: (\d+) converged, (\d+) step_cap, (\d+) diverged", sw.message)
    assert m, sw.message
    counts = [int(c) for c in m.groups()]
    assert counts == [sw.status.size] + [int(np.sum(sw.status == s)) for s in
                                         (Status.CONVERGED, Status.STEP_CAP, Status.DIVERGED)]
    assert min(counts) > 0 and sum(counts[1:]) == counts[0]


def test_seeds_on_both_sides_of_2_63_run_the_same_batches_on_both_engines(data):
    """One sweep with seeds 2^63 − 1, 2^63 and 2^64 − 1 (one dataset per seed): the numba lanes and the numpy
    twin agree member by member (same batches: same steps and statuses, θ to rounding), and each
    replication equals train_mgd with its seed."""
    if not have_numba():
        pytest.skip("numba not installed")
    X, y = data
    seeds = [2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1]
    Xs, ys = np.stack([X[0], X[1], X[0]]), np.stack([y[0], y[1], y[0]])
    kw = dict(seeds=seeds, batch_size=3, max_steps=300, tol=1e-30, cache=False)
    a = mgd_sweep(Xs, ys, [0.05, 0.2], [0.0, 0.5], engine="numba", **kw)
    b = mgd_sweep(Xs, ys, [0.05, 0.2], [0.0, 0.5], engine="numpy", **kw)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-10, atol=1e-14)
    assert not np.allclose(a.theta[:, :, 0], a.theta[:, :, 2], rtol=1e-6)    # same data, other seed
    for r, s in enumerate(seeds):
        one = train_mgd(Xs[r], ys[r], 0.2, 0.5, batch_size=3, seed=s, max_steps=300, tol=1e-30,
                        engine="numba")
        np.testing.assert_array_equal(one.theta, a.theta[1, 1, r])


@pytest.mark.parametrize("kw,exc,match", [
    (dict(gammas=[0.1, np.nan]), ValueError, "gammas"), (dict(gammas="0.1"), ValueError, "gammas"),
    (dict(gammas=[[0.1, 0.2]]), ValueError, "gammas"), (dict(betas=[np.inf]), ValueError, "betas"),
    (dict(betas=[[0.5]]), ValueError, "betas"), (dict(betas=[]), ValueError, "betas"),
    (dict(alpha=np.nan), ValueError, "alpha"), (dict(max_steps=np.inf), ValueError, "max_steps"),
    (dict(seeds=np.nan), ValueError, "seeds"), (dict(seeds=[0.0]), ValueError, "seeds"),
    (dict(progress="yes"), TypeError, "progress"), (dict(cache=1), TypeError, "cache"),
    (dict(engine=None), ValueError, "engine"), (dict(replace=None), ValueError, "replace"),
    (dict(executor=2), TypeError, "executor"), (dict(executor=map), TypeError, "concurrent.futures"),
])
def test_bad_arguments_name_the_parameter(data, kw, exc, match):
    X, y = data
    args = dict(gammas=[0.1], betas=[0.5], cache=False, max_steps=10)
    args.update(kw)
    with pytest.raises(exc, match=match):
        mgd_sweep(X, y, **args)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data_is_rejected(data, bad):
    X, y = data[0].copy(), data[1].copy()
    X[1, 2, 3] = bad
    with pytest.raises(ValueError, match="X"):
        mgd_sweep(X, data[1], [0.1], [0.5], cache=False)
    y[0, 4] = bad
    with pytest.raises(ValueError, match="y"):
        mgd_sweep(data[0], y, [0.1], [0.5], cache=False)
