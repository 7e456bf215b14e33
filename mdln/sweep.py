"""Vectorised SMGD over a (γ, β, replication) grid with per-member early stopping (Figures 4, 7).

Every grid member runs Eq. (13) — the w± = u ± v form of SMGD (9) — with the conventions of
:mod:`mdln.smgd` (steps, epochs, stopping and divergence tests, SplitMix64 batches), so member
(i, j, r) reproduces ``train_mgd(X[r], y[r], gammas[i], betas[j], seed=seeds[r])`` to rounding.

The replication axis r indexes *datasets*: the paper's "5 replications" are 5 independent draws
of (X, y) (``sparse_regression(seed=r)``); pass them stacked as X of shape (R, n, d) and y of shape
(R, n). ``seeds[r]`` seeds the mini-batch stream of replication r (unused for full batch); all
(γ, β) members of a replication share that stream (common random numbers).

Lemma 2's sums are accumulated in a cheaper but exactly equivalent form: since
r(z) + βr(1/z) = (z − 1) + β(1/z − 1) − (1 − β) ln|z| and Σ_k ln|w_{k+1}/w_k| = ln|w_K/w_1|
telescopes, S± = [Σ_k (z±,k − 1) + β Σ_k (1/z±,k − 1)]/(1 − β) − ln|w±,K / w±,1|. The dynamical
content of Theorem 2 (the sum over ± of the bracket vanishes up to a boundary term) is *not*
assumed: both sums are accumulated from the actual iterates, step by step.

Two engines give the same numbers: a compiled numba kernel and a pure-numpy fallback that steps all
active members in lock-step with matrix products per replication and compacts the active set
whenever members stop. The numba kernel deals each replication's members, ordered by cost, into
groups of 32 SIMD lanes; the groups run in parallel on ``n_threads`` cores (``prange`` with dynamic
scheduling, one group per thread at a time). The grouping depends only on the grid and on the
machine's core count, never on ``n_threads``, so every member runs the same floating-point operations
on one thread or on all of them: the results are bit-for-bit identical.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_beta, check_finite_array, check_gamma, check_int, check_positive
from .cache import cached_arrays
from .smgd import (DIVERGENCE_FACTOR, STATUS_NAMES, UNREPRESENTABLE, _PyBatches, _check_batch,
                   _numba, _resolve_engine)

__all__ = ["SweepResult", "mgd_sweep"]

SWEEP_VERSION = "sweep-2"


@dataclass(frozen=True)
class SweepResult:
    """SMGD outcomes over the (γ, β, replication) grid; arrays have leading shape (G, Bt, R)."""

    gammas: np.ndarray
    betas: np.ndarray
    theta: np.ndarray
    u: np.ndarray
    v: np.ndarray
    delta_inf: np.ndarray
    S_plus: np.ndarray
    S_minus: np.ndarray
    crossed: np.ndarray
    steps: np.ndarray
    train_loss: np.ndarray
    status: np.ndarray
    boundary: np.ndarray
    alpha: float
    batch_size: int
    n: int

    @property
    def lam(self):
        """λ = γ/(1−β)² on the (G, Bt) grid (Proposition 1)."""
        return self.gammas[:, None] / (1.0 - self.betas[None, :]) ** 2

    @property
    def converged(self):
        """Boolean (G, Bt, R): the run reached the training-loss tolerance."""
        return self.status == 0

    @property
    def diverged(self):
        """Boolean (G, Bt, R): the run diverged."""
        return self.status == 2

    @property
    def epochs(self):
        """Epochs run, steps/⌈n/B⌉ (G, Bt, R)."""
        return self.steps / (-(-self.n // self.batch_size))

    def status_names(self):
        """Status codes as strings ('converged', 'max_steps', 'diverged')."""
        return np.array(STATUS_NAMES)[self.status]

    def theorem2_delta(self, finite=False):
        """Δ0 ⊙ exp(−(S+ + S−)) for every member (Theorem 2); ``finite`` adds the boundary term."""
        return self.alpha ** 2 * np.exp(-(self.S_plus + self.S_minus - (self.boundary if finite else 0.0)))

    def theorem2_error(self, finite=False):
        """(G, Bt, R) max_i |Δ_K − Δ0 exp(−(S+ + S−))| / max(Δ_K, prediction) (Theorem 2), NaN if diverged."""
        pred = self.theorem2_delta(finite)
        den = np.maximum(self.delta_inf, pred)
        with np.errstate(all="ignore"):
            rel = np.where(den > 0, np.abs(self.delta_inf - pred) / den, 0.0)   # both underflowed: 0
        return np.where(self.diverged, np.nan, np.max(rel, axis=-1))

    def arrays(self):
        """All fields as a dict of arrays."""
        return {k: np.asarray(getattr(self, k)) for k in self.__dataclass_fields__}


# ------------------------------------------------------------------------------- kernels
if _numba is not None:
    from .smgd import _splitmix_nb  # noqa: E402  (same batch stream as train_mgd)

    # The lane loops touch many arrays; LLVM only vectorises them when allowed enough run-time
    # alias checks (its default of 8 is too small), so raise that limit before compiling.
    try:
        import llvmlite.binding as _llb
        _llb.set_option("", "-runtime-memory-check-threshold=256")
        _llb.set_option("", "-memory-check-merge-threshold=256")
    except Exception:  # pragma: no cover - speed only
        pass
    _LANES = 32

    @_numba.njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
    def _run_group(X, XT, y, H, bv, c0, members, gam_all, bet_all, alpha, b, replace, seed, max_steps, tol,
                   out_wp, out_wm, out_wpp, out_wmp, out_sp, out_sm, out_crossed, out_steps, out_loss,
                   out_status):
        """Members of one replication on _LANES SIMD lanes; a lane that stops is refilled at once."""
        L = _LANES
        n, d = X.shape
        spe = (n + b - 1) // b
        full = b == n
        nm = members.shape[0]
        wp = np.full((d, L), alpha)
        wm = np.full((d, L), alpha)
        wpp = np.full((d, L), alpha)
        wmp = np.full((d, L), alpha)
        qi = np.full((d, L), 1.0 / (alpha * alpha))  # 1/(w+ w−) of the current iterate
        a0 = np.zeros((d, L))  # Σ(z+ − 1)
        a1 = np.zeros((d, L))  # Σ(1/z+ − 1)
        a2 = np.zeros((d, L))  # Σ(z− − 1)
        a3 = np.zeros((d, L))  # Σ(1/z− − 1)
        lossp = np.zeros(L)    # loss of the previous iterate (reported when the new one overflows)
        big = np.zeros(L)      # max_i |γ g_i| of the last update (≥ 2^52: its iterate is not representable)
        th = np.zeros((d, L))
        g = np.zeros((d, L))
        r = np.zeros((n, L))
        rw = np.zeros((n, L))
        wgt = np.zeros((n, L))
        loss = np.zeros(L)
        gam = np.zeros(L)
        geff = np.zeros(L)
        bet = np.zeros(L)
        sgn = np.zeros(L)
        kk = np.zeros(L, np.int64)
        s = np.zeros(L, np.uint64)
        loss0 = np.full(L, -1.0)
        cross = np.zeros(L, np.bool_)
        fresh = np.ones(L, np.bool_)
        mid = np.full(L, -1, np.int64)
        perm = np.empty((L, n), np.int64)
        nxt = 0
        active = 0
        for l in range(L):
            s[l] = seed
            if nxt < nm:
                mid[l] = members[nxt]
                gam[l] = gam_all[mid[l]]
                bet[l] = bet_all[mid[l]]
                nxt += 1
                active += 1
        while active > 0:
            for j in range(d):
                wpj = wp[j]
                wmj = wm[j]
                tj = th[j]
                for l in range(L):
                    tj[l] = 0.25 * (wpj[l] - wmj[l]) * (wpj[l] + wmj[l])   # = u v, no cancellation
            if full:
                # Gram form: g = Hθ − b (one BLAS product for all lanes), L(θ) = ½θ·(g − b) + c
                np.dot(H, th, g)
                for l in range(L):
                    loss[l] = c0
                for j in range(d):
                    gj = g[j]
                    bj = bv[j]
                    tj = th[j]
                    for l in range(L):
                        gj[l] -= bj
                        loss[l] += 0.5 * tj[l] * (gj[l] - bj)
            else:
                # residual r = Xθ − y (BLAS), L(θ) = |r|²/(2n)
                np.dot(X, th, r)
                for l in range(L):
                    loss[l] = 0.0
                for i in range(n):
                    ri = r[i]
                    yi = y[i]
                    for l in range(L):
                        ri[l] -= yi
                        loss[l] += ri[l] * ri[l]
                for l in range(L):
                    loss[l] *= 0.5 / n
            # per-lane stop tests; a stopped lane is written out and refilled
            for l in range(L):
                if mid[l] < 0:
                    continue
                lo = loss[l]
                if loss0[l] < 0.0:
                    loss0[l] = lo
                stop = -1
                lost = big[l] >= UNREPRESENTABLE
                if lost or not (np.isfinite(lo) and lo <= 1e12 * (1.0 + loss0[l])):
                    stop = 2
                elif kk[l] % spe == 0 and lo < tol:
                    stop = 0
                elif kk[l] >= max_steps:
                    stop = 1
                # an iterate whose loss overflowed (or that rounding destroyed) is dropped: report the
                # last finite one, as train_mgd does
                back = stop == 2 and (lost or not np.isfinite(lo))
                if not back:
                    cross[l] = cross[l] or sgn[l] < 0.0
                lossp_l = lossp[l]
                lossp[l] = lo
                if stop < 0:
                    continue
                m = mid[l]
                bb = bet[l]
                if back:
                    # drop the last update's Lemma 2 terms (recomputed from the same operands; a
                    # non-finite difference is cleaned up by _compute)
                    lo = lossp_l if np.isfinite(lossp_l) else 1e300
                    for j in range(d):
                        a = wpp[j, l]
                        c = wmp[j, l]
                        npl = wp[j, l]
                        nmi = wm[j, l]
                        qo = 1.0 / (a * c)
                        qn = 1.0 / (npl * nmi)
                        dp = npl - a
                        dm = nmi - c
                        s0_ = a0[j, l] - dp * (c * qo)
                        s1_ = a1[j, l] + dp * (nmi * qn)
                        s2_ = a2[j, l] - dm * (a * qo)
                        s3_ = a3[j, l] + dm * (npl * qn)
                        out_wp[m, j] = a
                        out_wm[m, j] = c
                        out_wpp[m, j] = a
                        out_wmp[m, j] = c
                        out_sp[m, j] = (s0_ + bb * s1_) / (1.0 - bb) - np.log(np.abs(a / alpha))
                        out_sm[m, j] = (s2_ + bb * s3_) / (1.0 - bb) - np.log(np.abs(c / alpha))
                else:
                    for j in range(d):
                        out_wp[m, j] = wp[j, l]
                        out_wm[m, j] = wm[j, l]
                        out_wpp[m, j] = wpp[j, l]
                        out_wmp[m, j] = wmp[j, l]
                        out_sp[m, j] = (a0[j, l] + bb * a1[j, l]) / (1.0 - bb) - np.log(np.abs(wp[j, l] / alpha))
                        out_sm[m, j] = (a2[j, l] + bb * a3[j, l]) / (1.0 - bb) - np.log(np.abs(wm[j, l] / alpha))
                out_crossed[m] = cross[l]
                out_steps[m] = kk[l]
                out_loss[m] = lo
                out_status[m] = stop
                if nxt < nm:
                    mid[l] = members[nxt]
                    gam[l] = gam_all[mid[l]]
                    bet[l] = bet_all[mid[l]]
                    nxt += 1
                else:
                    mid[l] = -1
                    gam[l] = 0.0
                    bet[l] = 0.0
                    active -= 1
                for j in range(d):
                    wp[j, l] = alpha
                    wm[j, l] = alpha
                    wpp[j, l] = alpha
                    wmp[j, l] = alpha
                    qi[j, l] = 1.0 / (alpha * alpha)
                    a0[j, l] = 0.0
                    a1[j, l] = 0.0
                    a2[j, l] = 0.0
                    a3[j, l] = 0.0
                fresh[l] = True  # no update this round: the next round checks its θ_0 first
                kk[l] = 0
                s[l] = seed
                loss0[l] = -1.0
                cross[l] = False
            if active == 0:
                break
            if not full:
                # per-lane mini-batches as row weights, g = Xᵀ(w ⊙ r)
                for l in range(L):
                    for i in range(n):
                        wgt[i, l] = 0.0
                    if mid[l] < 0 or fresh[l]:
                        continue
                    sl = s[l]
                    k = kk[l]
                    if replace:
                        for i in range(n):
                            perm[l, i] = i
                        for i in range(b):
                            sl, u = _splitmix_nb(sl)
                            jj = i + np.int64(u * (n - i))
                            t = perm[l, i]
                            perm[l, i] = perm[l, jj]
                            perm[l, jj] = t
                        i0, i1 = 0, b
                    else:
                        pos = k % spe
                        if pos == 0:
                            for i in range(n):
                                perm[l, i] = i
                            for i in range(n - 1, 0, -1):
                                sl, u = _splitmix_nb(sl)
                                jj = np.int64(u * (i + 1))
                                t = perm[l, i]
                                perm[l, i] = perm[l, jj]
                                perm[l, jj] = t
                        i0, i1 = pos * b, min((pos + 1) * b, n)
                    s[l] = sl
                    for t in range(i0, i1):
                        wgt[perm[l, t], l] = 1.0 / (i1 - i0)
                for i in range(n):
                    ri = r[i]
                    wi = wgt[i]
                    rwi = rw[i]
                    for l in range(L):
                        rwi[l] = ri[l] * wi[l]
                np.dot(XT, rw, g)
            # Eq. (13) with Lemma 2's terms accumulated from the iterates (z = w_{k+1}/w_k);
            # one division per coordinate: q = 1/(w+ w−) gives both reciprocals.
            for l in range(L):
                geff[l] = 0.0 if fresh[l] else gam[l]
                sgn[l] = 1.0
                big[l] = 0.0
            for j in range(d):   # max_i |γ g_i| of this update, per lane (UNREPRESENTABLE test)
                gj = g[j]
                for l in range(L):
                    big[l] = max(big[l], abs(gj[l]))
            for l in range(L):
                big[l] *= geff[l]
            for j in range(d):
                gj = g[j]
                wpj = wp[j]
                wmj = wm[j]
                wppj = wpp[j]
                wmpj = wmp[j]
                qj = qi[j]
                a0j = a0[j]
                a1j = a1[j]
                a2j = a2[j]
                a3j = a3[j]
                for l in range(L):
                    gg = geff[l] * gj[l]
                    bb = bet[l]
                    a = wpj[l]
                    c = wmj[l]
                    npl = a - gg * a + bb * (a - wppj[l])
                    nmi = c + gg * c + bb * (c - wmpj[l])
                    qo = qj[l]
                    qn = 1.0 / (npl * nmi)
                    dp = npl - a
                    dm = nmi - c
                    a0j[l] += dp * (c * qo)
                    a1j[l] -= dp * (nmi * qn)
                    a2j[l] += dm * (a * qo)
                    a3j[l] -= dm * (npl * qn)
                    sgn[l] = min(sgn[l], min(npl * a, nmi * c))
                    wppj[l] = a
                    wmpj[l] = c
                    wpj[l] = npl
                    wmj[l] = nmi
                    qj[l] = qn
            for l in range(L):
                if fresh[l]:
                    fresh[l] = False
                elif mid[l] >= 0:
                    kk[l] += 1

    @_numba.njit(cache=True, error_model="numpy", parallel=True)
    def _sweep_nb(Xs, XTs, ys, Hs, bs, cs, groups, grep, gam, bet, alpha, b, replace, seeds, max_steps, tol,
                  wp, wm, wpp, wmp, sp, sm, crossed, steps, loss, status):
        """Groups of members (one replication each) in parallel, one group per thread at a time."""
        ng = grep.shape[0]
        for q in _numba.prange(ng):
            rr = grep[q]
            mem = groups[q]
            cnt = 0
            for t in range(mem.shape[0]):
                if mem[t] >= 0:
                    cnt += 1
            _run_group(Xs[rr], XTs[rr], ys[rr], Hs[rr], bs[rr], cs[rr], mem[:cnt], gam, bet, alpha, b, replace, seeds[rr], max_steps,
                       tol, wp, wm, wpp, wmp, sp, sm, crossed, steps, loss, status)


def _sweep_numpy(Xs, ys, gam, bet, rep, alpha, b, replace, seeds, max_steps, tol, out, progress_cb):
    """Pure-numpy engine: lock-step over active members, products per replication, compaction."""
    R, n, d = Xs.shape
    M = gam.shape[0]
    spe = -(-n // b)
    full = b == n
    act = np.arange(M)
    g_, b_, rp = gam[:, None], bet[:, None], rep.copy()
    wp = np.full((M, d), alpha)
    wm = np.full((M, d), alpha)
    wpp, wmp = wp.copy(), wm.copy()
    ip, im = 1.0 / wp, 1.0 / wm
    ap, bp, am, bm = (np.zeros((M, d)) for _ in range(4))
    pap, pbp, pam, pbm = (np.zeros((M, d)) for _ in range(4))
    cr = np.zeros(M, bool)
    pcr = np.zeros(M, bool)
    streams = [_PyBatches(n, b, replace, int(seeds[r])) for r in range(R)]
    loss0 = None
    k = 0
    lost = np.zeros(M, bool)

    def finish(sel, st, loss_sel):
        idx = act[sel]
        out["wp"][idx], out["wm"][idx] = wp[sel], wm[sel]
        out["wpp"][idx], out["wmp"][idx] = wpp[sel], wmp[sel]
        bb = b_[sel]
        out["sp"][idx] = (ap[sel] + bb * bp[sel]) / (1 - bb) - np.log(np.abs(wp[sel] / alpha))
        out["sm"][idx] = (am[sel] + bb * bm[sel]) / (1 - bb) - np.log(np.abs(wm[sel] / alpha))
        out["crossed"][idx] = cr[sel]
        out["steps"][idx] = k
        out["loss"][idx] = loss_sel
        out["status"][idx] = st
        if progress_cb is not None:
            progress_cb(len(idx))

    def member_loss(wp_, wm_, rp_):
        th = 0.25 * (wp_ - wm_) * (wp_ + wm_)
        res = np.einsum("mnd,md->mn", Xs[rp_], th) - ys[rp_]
        return res, 0.5 * np.einsum("mn,mn->m", res, res) / n

    with np.errstate(all="ignore"):
        while act.size:
            res, loss = member_loss(wp, wm, rp) if R > 1 and act.size < 8 else _grouped_loss(
                Xs, ys, wp, wm, rp, R)
            if loss0 is None:
                loss0 = loss.copy()
            bad = lost | ~(np.isfinite(loss) & (loss <= DIVERGENCE_FACTOR * (1.0 + loss0)))
            fin = np.isfinite(loss) & ~lost
            commit = ~bad | fin
            ap[commit] += pap[commit]
            bp[commit] += pbp[commit]
            am[commit] += pam[commit]
            bm[commit] += pbm[commit]
            cr[commit] |= pcr[commit]
            if np.any(bad & ~fin):  # revert to the previous finite iterate
                sel = bad & ~fin
                wp[sel], wm[sel] = wpp[sel], wmp[sel]
                _, l2 = member_loss(wp[sel], wm[sel], rp[sel])
                loss = loss.copy()
                loss[sel] = np.where(np.isfinite(l2), l2, 1e300)
            done = bad.copy()
            st = np.where(bad, 2, 0)
            if k % spe == 0:
                conv = ~bad & (loss < tol)
                done |= conv
            if k >= max_steps:
                st = np.where(done, st, 1)
                done[:] = True
            if np.any(done):
                finish(done, st[done], loss[done])
                keep = ~done
                act, rp, g_, b_ = act[keep], rp[keep], g_[keep], b_[keep]
                wp, wm, wpp, wmp, ip, im = wp[keep], wm[keep], wpp[keep], wmp[keep], ip[keep], im[keep]
                ap, bp, am, bm = ap[keep], bp[keep], am[keep], bm[keep]
                cr, res, loss0, lost = cr[keep], res[keep], loss0[keep], lost[keep]
                if not act.size:
                    break
            if full:
                g = np.empty_like(wp)
                for r in np.unique(rp):
                    sel = rp == r
                    g[sel] = res[sel] @ Xs[r] / n
            else:
                g = np.empty_like(wp)
                batches = {r: streams[r].batch(k) for r in range(R)}
                for r in np.unique(rp):
                    sel = rp == r
                    idx = batches[r]
                    g[sel] = res[sel][:, idx] @ Xs[r][idx] / len(idx)
            gg = g_ * g
            lost = np.max(np.abs(gg), axis=1) >= UNREPRESENTABLE
            npl = wp - gg * wp + b_ * (wp - wpp)
            nmi = wm + gg * wm + b_ * (wm - wmp)
            inp, inm = 1.0 / npl, 1.0 / nmi
            pap, pbp = (npl - wp) * ip, (wp - npl) * inp
            pam, pbm = (nmi - wm) * im, (wm - nmi) * inm
            pcr = np.any((npl * wp < 0) | (nmi * wm < 0), axis=1)
            wpp, wmp, wp, wm, ip, im = wp, wm, npl, nmi, inp, inm
            k += 1


def _grouped_loss(Xs, ys, wp, wm, rp, R):
    th = 0.25 * (wp - wm) * (wp + wm)   # = u v without the cancellation of w+² − w−²
    res = np.empty((wp.shape[0], Xs.shape[1]))
    for r in range(R):
        sel = rp == r
        if np.any(sel):
            res[sel] = th[sel] @ Xs[r].T - ys[r]
    return res, 0.5 * np.einsum("mn,mn->m", res, res) / Xs.shape[1]


def _max_threads():
    """Cores the numba engine may use (NUMBA_NUM_THREADS, by default every core)."""
    return int(_numba.config.NUMBA_NUM_THREADS) if _numba is not None else 1


def _make_groups(gam, bet, rep, R, nthreads):
    """Split each replication's members into groups of similar total cost (members dealt round-robin
    in order of decreasing cost ~ 1/ε, ε = γ/(1−β)), padded with −1; returns (groups, replication).
    ``nthreads`` is the machine's core count (not the threads used), so the grouping, and with it
    every member's arithmetic, is the same whatever ``n_threads`` a sweep runs on."""
    per = max(1, -(-4 * nthreads // R))   # at least 4 groups per thread
    rows, reps = [], []
    for r in range(R):
        mem = np.flatnonzero(rep == r)
        mem = mem[np.argsort(gam[mem] / (1.0 - bet[mem]), kind="stable")]
        for p in range(per):
            if mem[p::per].size:
                rows.append(mem[p::per])
                reps.append(r)
    width = max(len(x) for x in rows)
    groups = np.full((len(rows), width), -1, np.int64)
    for q, x in enumerate(rows):
        groups[q, :len(x)] = x
    return groups, np.array(reps, np.int64)


def _as_stack(X, y, seeds):
    X = check_finite_array(X, "X")
    y = check_finite_array(y, "y")
    if X.ndim == 2:
        X = X[None]
    if y.ndim == 1:
        y = y[None]
    if X.ndim != 3 or y.ndim != 2:
        raise ValueError(f"X must have shape (n, d) or (R, n, d) and y (n,) or (R, n); got {X.shape}, {y.shape}")
    if y.shape[1] != X.shape[1]:
        raise ValueError(f"y must have {X.shape[1]} samples per replication to match X, got shape {y.shape}")
    seeds = np.atleast_1d(np.asarray(seeds))
    if seeds.ndim != 1 or seeds.size == 0 or not np.issubdtype(seeds.dtype, np.integer) or np.any(seeds < 0):
        raise ValueError(f"seeds must be an integer in [0, 2**64 - 1] or a 1-D sequence of them, got {seeds!r}")
    R = max(X.shape[0], y.shape[0], seeds.size)
    for name, a in (("X", X), ("y", y), ("seeds", seeds)):
        if a.shape[0] not in (1, R):
            raise ValueError(f"{name} has {a.shape[0]} replications, expected 1 or {R}")
    X = np.ascontiguousarray(np.broadcast_to(X, (R,) + X.shape[1:]))
    y = np.ascontiguousarray(np.broadcast_to(y, (R,) + y.shape[1:]))
    seeds = np.broadcast_to(seeds, (R,)).astype(np.uint64)
    return X, y, seeds


def mgd_sweep(X, y, gammas, betas, seeds=0, alpha=0.01, batch_size=None, replace=False,
              max_steps=10 ** 6, tol=1e-8, engine="auto", progress=False, cache=True, n_threads=None):
    """SMGD (Eq. 9/13) on every (γ, β, replication) of the grid, stopping members one by one (Figure 4).

    X is (n, d) or (R, n, d) (one dataset per replication), y is (n,) or (R, n), ``seeds`` the batch
    seed(s) per replication. Results are cached on disk keyed by every argument (data included).
    ``n_threads`` (numba engine; default: every core) runs groups of members in parallel; the results
    do not depend on it, bit for bit.
    """
    gammas = np.array([check_gamma(g, "gammas") for g in np.atleast_1d(gammas)], dtype=float)
    betas = np.array([check_beta(b_, "betas") for b_ in np.atleast_1d(betas)], dtype=float)
    for name, grid in (("gammas", gammas), ("betas", betas)):
        if grid.size == 0:
            raise ValueError(f"{name} must hold at least one value, got an empty list")
    Xs, ys, seeds = _as_stack(X, y, seeds)
    R, n, d = Xs.shape
    alpha = check_positive(alpha, "alpha")
    b = _check_batch(batch_size, n)
    max_steps = check_int(max_steps, "max_steps", minimum=0)
    tol = check_positive(tol, "tol")
    if not isinstance(replace, (bool, np.bool_)):
        raise ValueError(f"replace must be True or False, got {replace!r}")
    eng = _resolve_engine(engine)
    nmax = _max_threads()
    n_threads = nmax if n_threads is None else check_int(n_threads, "n_threads", minimum=1)
    if n_threads > nmax:
        raise ValueError(f"n_threads must lie in [1, {nmax}] (NUMBA_NUM_THREADS), got {n_threads}")
    params = dict(X=Xs, y=ys, gammas=gammas, betas=betas, seeds=seeds.astype(np.uint64), alpha=alpha,
                  batch_size=b, replace=bool(replace), max_steps=max_steps, tol=tol, version=SWEEP_VERSION,
                  engine=eng)
    compute = lambda: _compute(Xs, ys, gammas, betas, seeds, alpha, b, bool(replace), max_steps, tol,
                               eng, progress, n_threads)
    arr = cached_arrays("mgd_sweep", params, compute, use_cache=cache)
    G, Bt = gammas.size, betas.size
    sh = (G, Bt, R)
    wp, wm = arr["wp"].reshape(sh + (d,)), arr["wm"].reshape(sh + (d,))
    u, v = 0.5 * (wp + wm), 0.5 * (wp - wm)
    wpp, wmp = arr["wpp"].reshape(sh + (d,)), arr["wmp"].reshape(sh + (d,))
    bet = betas[None, :, None, None]
    with np.errstate(all="ignore"):
        boundary = np.nan_to_num(bet / (1 - bet) * ((wpp - wp) / wp + (wmp - wm) / wm), nan=0.0,
                                 posinf=1e300, neginf=-1e300)
    return SweepResult(gammas=gammas, betas=betas, theta=4.0 * u * v * 0.25, u=u, v=v,
                       boundary=boundary,
                       delta_inf=np.abs(wp * wm), S_plus=arr["sp"].reshape(sh + (d,)),
                       S_minus=arr["sm"].reshape(sh + (d,)), crossed=arr["crossed"].reshape(sh).astype(bool),
                       steps=arr["steps"].reshape(sh).astype(np.int64), train_loss=arr["loss"].reshape(sh),
                       status=arr["status"].reshape(sh).astype(np.int64), alpha=alpha, batch_size=b, n=n)


def _compute(Xs, ys, gammas, betas, seeds, alpha, b, replace, max_steps, tol, engine, progress, n_threads=None):
    R, n, d = Xs.shape
    gg, bb, rr = np.meshgrid(gammas, betas, np.arange(R), indexing="ij")
    gam, bet, rep = gg.ravel().copy(), bb.ravel().copy(), rr.ravel().astype(np.int64)
    M = gam.size
    out = dict(wp=np.zeros((M, d)), wm=np.zeros((M, d)), wpp=np.zeros((M, d)), wmp=np.zeros((M, d)),
               sp=np.zeros((M, d)), sm=np.zeros((M, d)), crossed=np.zeros(M, bool), steps=np.zeros(M, np.int64), loss=np.zeros(M),
               status=np.zeros(M, np.int64))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=M, desc="MGD sweep", unit="run")
    try:
        if engine == "numba":
            XTs = np.ascontiguousarray(Xs.transpose(0, 2, 1))
            Hs = np.einsum("rni,rnj->rij", Xs, Xs) / n
            bs = np.einsum("rni,rn->ri", Xs, ys) / n
            cs = 0.5 * np.einsum("rn,rn->r", ys, ys) / n
            groups, grep = _make_groups(gam, bet, rep, R, _max_threads())
            nth = _max_threads() if n_threads is None else int(n_threads)
            # groups have similar costs (members dealt round-robin by cost); with a bar, hand them
            # over nthreads at a time so that every chunk keeps all threads busy. Chunk size 1 =
            # dynamic scheduling: a thread slowed down by another process does not hold up the rest.
            step_ = len(grep) if bar is None else nth
            old_threads, old_chunk = _numba.get_num_threads(), _numba.get_parallel_chunksize()
            _numba.set_num_threads(nth)
            _numba.set_parallel_chunksize(1)
            try:
                for c0 in range(0, len(grep), step_):
                    chunk = np.arange(c0, min(c0 + step_, len(grep)))
                    _sweep_nb(Xs, XTs, ys, Hs, bs, cs, groups[chunk], grep[chunk], gam, bet, alpha, b, replace,
                              seeds, max_steps, tol, out["wp"], out["wm"], out["wpp"], out["wmp"], out["sp"],
                              out["sm"], out["crossed"], out["steps"], out["loss"], out["status"])
                    if bar is not None:
                        bar.update(int(np.sum(groups[chunk] >= 0)))
            finally:
                _numba.set_num_threads(old_threads)
                _numba.set_parallel_chunksize(old_chunk)
        else:
            _sweep_numpy(Xs, ys, gam, bet, rep, alpha, b, replace, seeds, max_steps, tol, out,
                         None if bar is None else bar.update)
    finally:
        if bar is not None:
            bar.close()
    # a diverged member stops at the first iterate whose loss exceeds the threshold, which is finite
    # in practice; should an overflow still slip through, report huge finite numbers, never NaN
    div = out["status"] == 2
    for key in ("wp", "wm", "wpp", "wmp", "sp", "sm", "loss"):
        x = out[key]
        if np.any(div) and not np.all(np.isfinite(x[div])):
            x[div] = np.nan_to_num(x[div], nan=0.0, posinf=1e300, neginf=-1e300)
    return out
