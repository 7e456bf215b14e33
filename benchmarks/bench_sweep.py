"""Nanoseconds per (grid member × MGD step) for the SMGD sweep engine (Figure 4 workload).

Compares, in one process and on the same work ((n, d) = (20, 30), full batch, a (γ, β) grid):

* ``engine``   — ``mdln.mgd_sweep`` (numba lane kernel when numba is installed),
* ``numpy``    — the same engine's pure-numpy fallback (lock-step batched products, compaction),
* ``batched``  — a straightforward batched numpy loop (all members, einsum per step, no Lemma 2 sums),
* ``loop``     — a plain per-member Python loop of Eq. (13) (measured on a few members only),
* ``train_mgd`` — one run, the 1×1×1 grid of the same engine (4 lanes, one busy: bit for bit the
  sweep's cell).

The numba engine is timed at 1, 2 and all threads (``n_threads=``, one process, interleaved and
best of ``REPEAT``), with the parallel efficiency (speed-up over 1 thread; target ≥ 1.7× on 2 cores).

The lane kernel is also timed against the previous kernel (the frozen copy in
``benchmarks/_previous_sweep_kernel.py``) in the same process, on the same member groups, full batch and
B < n, interleaved ``PAIRS`` times: the median of the per-pair ratios previous/new time (target ≥ 0.95) and
whether every output array is bit-identical.
Prints ns per member-step and the ratios; timings are noisy on a shared machine.
Run: ``python benchmarks/bench_sweep.py [steps] [pairs] [kernel]`` (``kernel``: the kernel comparison only).
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from mdln.data import sparse_regression
from mdln.smgd import have_numba, mgd_sweep, train_mgd


REPEAT = 3
PAIRS = 7


def _flat_outputs(M, d, rec_steps):
    """Zeroed flat output arrays by member, as ``mdln.smgd._compute`` allocates them."""
    q = rec_steps.size
    return dict(wp=np.zeros((M, d)), wm=np.zeros((M, d)), wpp=np.zeros((M, d)), wmp=np.zeros((M, d)),
                sp=np.zeros((M, d)), sm=np.zeros((M, d)), crossed=np.zeros(M, bool),
                steps=np.zeros(M, np.int64), loss=np.zeros(M), status=np.zeros(M, np.int64),
                rec_steps=rec_steps, rec_loss=np.zeros((M, q)), rec_delta=np.zeros((M, q, d)),
                rec_theta=np.zeros((M, q, d)), nrec=np.zeros(M, np.int64))


def kernel_vs_previous(X, y, gammas, betas, steps, batch_size, pairs=PAIRS, tol=1e-300, record=0):
    """(median ratio previous/new wall time, all ratios, bit-identical outputs) of the new lane kernel
    (``mdln.smgd._compute_numba``) and the frozen previous one on the same groups and inputs."""
    import numba

    from mdln import smgd
    from _previous_sweep_kernel import run_previous
    Xs, ys = np.ascontiguousarray(X[None]), np.ascontiguousarray(y[None])
    n, d = X.shape
    b = n if batch_size is None else batch_size
    G, B = np.meshgrid(gammas, betas, indexing="ij")
    gam, bet = G.ravel().copy(), B.ravel().copy()
    rep = np.zeros(gam.size, np.int64)
    seeds = np.array([12345], np.uint64)
    rec = np.unique(np.round(np.geomspace(1, steps + 1, record)).astype(np.int64) - 1) if record else (
        np.zeros(0, np.int64))
    groups, grep = smgd._make_groups(gam, bet, rep, 1, smgd._max_threads())
    nth = numba.config.NUMBA_NUM_THREADS

    def new():
        out = _flat_outputs(gam.size, d, rec)
        smgd._compute_numba(Xs, ys, gam, bet, rep, 0.01, b, False, seeds, steps, tol, out, None, nth)
        return out

    def previous():
        out = _flat_outputs(gam.size, d, rec)
        run_previous(Xs, ys, gam, bet, 0.01, b, False, seeds, steps, tol, out, groups, grep, nth)
        return out

    same = all(np.array_equal(u, v) for u, v in zip(new().values(), previous().values()))   # also compiles
    ratios = []
    for i in range(pairs):                     # interleaved, the order alternating
        t = {}
        for name, f in ((("new", new), ("previous", previous)) if i % 2 == 0 else
                        (("previous", previous), ("new", new))):
            t0 = time.perf_counter()
            f()
            t[name] = time.perf_counter() - t0
        ratios.append(t["previous"] / t["new"])
    return float(np.median(ratios)), ratios, same


def plain_loop(X, y, gamma, beta, steps, alpha=0.01):
    """Per-member Python loop of Eq. (13) with Lemma 2 terms (the baseline)."""
    n, d = X.shape
    wp = np.full(d, alpha)
    wm = np.full(d, alpha)
    wpp, wmp = wp.copy(), wm.copy()
    ap, am = np.zeros(d), np.zeros(d)
    for _ in range(steps):
        th = 0.25 * (wp * wp - wm * wm)
        g = X.T @ (X @ th - y) / n
        npl = wp - gamma * g * wp + beta * (wp - wpp)
        nmi = wm + gamma * g * wm + beta * (wm - wmp)
        zp, zm = npl / wp, nmi / wm
        ap += (zp - 1) - np.log(np.abs(zp)) + beta * ((1 / zp - 1) + np.log(np.abs(zp)))
        am += (zm - 1) - np.log(np.abs(zm)) + beta * ((1 / zm - 1) + np.log(np.abs(zm)))
        wpp, wmp, wp, wm = wp, wm, npl, nmi
    return wp, wm, ap, am


def batched_numpy(X, y, gam, bet, steps, alpha=0.01):
    """All members in lock-step with batched numpy products (no early stopping)."""
    n, d = X.shape
    M = gam.size
    g_, b_ = gam[:, None], bet[:, None]
    wp = np.full((M, d), alpha)
    wm = np.full((M, d), alpha)
    wpp, wmp = wp.copy(), wm.copy()
    ap, am = np.zeros((M, d)), np.zeros((M, d))
    for _ in range(steps):
        th = 0.25 * (wp * wp - wm * wm)
        g = (th @ X.T - y) @ X / n
        npl = wp - g_ * g * wp + b_ * (wp - wpp)
        nmi = wm + g_ * g * wm + b_ * (wm - wmp)
        zp, zm = npl / wp, nmi / wm
        ap += (zp - 1) + b_ * (1 / zp - 1)
        am += (zm - 1) + b_ * (1 / zm - 1)
        wpp, wmp, wp, wm = wp, wm, npl, nmi
    return wp, wm, ap, am


def main(steps=20_000, pairs=PAIRS):
    ds = sparse_regression(seed=0)
    X, y = ds.X, ds.y
    gammas = np.geomspace(1e-3, 1e-1, 16)
    betas = np.linspace(0.0, 0.9, 16)
    G, B = np.meshgrid(gammas, betas, indexing="ij")
    M = G.size
    results = {}

    threads = {}
    if have_numba():
        import numba
        mgd_sweep(X, y, gammas[:2], betas[:2], max_steps=10, cache=False)          # compile / load
        allt = numba.config.NUMBA_NUM_THREADS
        counts = sorted({1, min(2, allt), allt})
        threads = {c: np.inf for c in counts}
        for _ in range(REPEAT):                                                   # interleaved
            for c in counts:
                t = time.perf_counter()
                res = mgd_sweep(X, y, gammas, betas, max_steps=steps, tol=1e-300, cache=False,
                                engine="numba", n_threads=c)
                threads[c] = min(threads[c], (time.perf_counter() - t) / res.steps.sum() * 1e9)
        results["engine (numba)"] = threads[allt]

    ms = max(steps // 10, 200)
    t = time.perf_counter()
    res = mgd_sweep(X, y, gammas, betas, max_steps=ms, tol=1e-300, cache=False, engine="numpy")
    results["engine (numpy fallback)"] = (time.perf_counter() - t) / res.steps.sum() * 1e9

    t = time.perf_counter()
    batched_numpy(X, y, G.ravel(), B.ravel(), ms)
    results["straightforward batched numpy"] = (time.perf_counter() - t) / (M * ms) * 1e9

    few, ls = 4, max(steps // 20, 200)
    t = time.perf_counter()
    for g, b in zip(G.ravel()[:few], B.ravel()[:few]):
        plain_loop(X, y, g, b, ls)
    results["per-member Python loop"] = (time.perf_counter() - t) / (few * ls) * 1e9

    train_mgd(X, y, 0.05, 0.5, max_steps=10)     # load the compiled kernel outside the timing
    t = time.perf_counter()
    one = train_mgd(X, y, 0.05, 0.5, max_steps=(10 if have_numba() else 1) * steps, tol=1e-300)
    results["train_mgd (1x1x1 grid)"] = (time.perf_counter() - t) / one.steps * 1e9

    base = results["per-member Python loop"]
    print(f"(n, d) = {X.shape}, {M} members, full batch")
    print(f"{'implementation':>32} {'ns/member-step':>15} {'speed-up vs loop':>17}")
    for k, v in results.items():
        print(f"{k:>32} {v:>15.0f} {base / v:>17.1f}")
    if "engine (numba)" in results:
        print(f"engine vs straightforward batched numpy: "
              f"{results['straightforward batched numpy'] / results['engine (numba)']:.1f}x")
    if threads:
        print(f"\nnumba engine by thread count (best of {REPEAT}, interleaved; "
              f"{numba.config.NUMBA_NUM_THREADS} cores,"
              f" load average {os.getloadavg()[0]:.2f}):")
        print(f"{'threads':>8} {'ns/member-step':>15} {'speed-up':>9} {'efficiency':>11}")
        for c, v in threads.items():
            sp = threads[1] / v
            print(f"{c:>8d} {v:>15.1f} {sp:>8.2f}x {sp / c:>10.0%}")
        if 2 in threads:
            sp2 = threads[1] / threads[2]
            print(f"2-thread speed-up {sp2:.2f}x (target >= 1.7x): {'met' if sp2 >= 1.7 else 'NOT met'}")
    if have_numba():
        compare_kernels(X, y, gammas, betas, steps, pairs)


def compare_kernels(X, y, gammas, betas, steps, pairs=PAIRS):
    """Print the new-vs-previous lane kernel ratios (``kernel_vs_previous``) on four workloads."""
    print(f"\nnew lane kernel vs the previous one (same process, same groups, {pairs} interleaved pairs,"
          f" {steps // 4} steps, load average {os.getloadavg()[0]:.2f};"
          f" ratio = previous time / new time, target >= 0.95):")
    cases = (("full batch", None, 0, None), ("B = 5 < n", 5, 0, None),
             ("full batch, trajectories", None, 40, None),
             ("full batch, tol 1e-9 (members stop)", None, 0, 1e-9))
    for label, bs, rec, tol in cases:
        kw = dict(record=rec) if tol is None else dict(record=rec, tol=tol)
        med, ratios, same = kernel_vs_previous(X, y, gammas, betas, steps // 4, bs, pairs, **kw)
        print(f"{label:>38}: median ratio {med:.3f} ({', '.join(f'{r:.2f}' for r in ratios)}); "
              f"bit-identical outputs: {same}")

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # the frozen previous kernel
    steps_ = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    pairs_ = int(sys.argv[2]) if len(sys.argv) > 2 else PAIRS
    if sys.argv[3:] == ["kernel"]:            # only the new-vs-previous kernel comparison
        ds_ = sparse_regression(seed=0)
        compare_kernels(ds_.X, ds_.y, np.geomspace(1e-3, 1e-1, 16), np.linspace(0.0, 0.9, 16), steps_, pairs_)
    else:
        main(steps_, pairs_)
