"""Frozen copy of the SMGD lane kernel as it was before it was split into named phases (baseline only).

``benchmarks/bench_sweep.py`` times this kernel against :mod:`mdln.smgd`'s in the same process, on the same
inputs, and checks that both give the same bits. Not used by the package; do not edit (it is the baseline).
"""
from __future__ import annotations

import numba as _numba
import numpy as np

from mdln.status import DIVERGENCE_FACTOR, UNREPRESENTABLE, Status

_CONVERGED, _STEP_CAP, _DIVERGED = int(Status.CONVERGED), int(Status.STEP_CAP), int(Status.DIVERGED)
_GRAM_MARGIN = 1e-12
_GOLDEN, _MIX1, _MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB

_u64 = _numba.uint64

# The lane loops touch many arrays; LLVM only vectorises them when allowed enough run-time
# alias checks (its default of 8 is too small), so raise that limit before compiling.
try:
    import llvmlite.binding as _llb
    _llb.set_option("", "-runtime-memory-check-threshold=256")
    _llb.set_option("", "-memory-check-merge-threshold=256")
except Exception:  # pragma: no cover - speed only
    pass
_LANES = 32

@_numba.njit(cache=True, error_model="numpy", inline="always")
def _splitmix_nb(s):
    s = s + _u64(_GOLDEN)
    z = s
    z = (z ^ (z >> _u64(30))) * _u64(_MIX1)
    z = (z ^ (z >> _u64(27))) * _u64(_MIX2)
    z = z ^ (z >> _u64(31))
    return s, np.float64(z >> _u64(11)) * 1.1102230246251565e-16

@_numba.njit(cache=True, error_model="numpy", inline="always")
def _next_batch_nb(s, perm, k, n, b, spe, replace):
    """Refill perm for step k; returns (state, start, stop) of the batch inside perm."""
    if replace:
        for i in range(n):
            perm[i] = i
        for i in range(b):
            s, u = _splitmix_nb(s)
            j = i + np.int64(u * (n - i))
            t = perm[i]
            perm[i] = perm[j]
            perm[j] = t
        return s, 0, b
    pos = k % spe
    if pos == 0:
        for i in range(n):
            perm[i] = i
        for i in range(n - 1, 0, -1):
            s, u = _splitmix_nb(s)
            j = np.int64(u * (i + 1))
            t = perm[i]
            perm[i] = perm[j]
            perm[j] = t
    return s, pos * b, min((pos + 1) * b, n)

@_numba.njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _run_group(X, XT, y, H, bv, c0, members, gam_all, bet_all, alpha, b, replace, seed, max_steps, tol,
               out_wp, out_wm, out_wpp, out_wmp, out_sp, out_sm, out_crossed, out_steps, out_loss,
               out_status, rec_steps, out_rec_loss, out_rec_delta, out_rec_theta, out_nrec):
    """Eq. (13) for the members of one replication on _LANES SIMD lanes, Lemma 2's sums accumulated;
    a lane that stops is written out and refilled at once. Iterates at ``rec_steps`` are recorded."""
    nm = members.shape[0]
    # a single run (train_mgd) uses 4 lanes, not 32; not 1: OpenBLAS turns a one-column gemm into a
    # gemv with another summation order, and a run must equal its sweep cell bit for bit (tested)
    L = min(_LANES, max(nm, 4))
    n, d = X.shape
    spe = (n + b - 1) // b
    full = b == n
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
    ir = np.zeros(L, np.int64)   # iterates recorded so far, per lane
    nrec = rec_steps.shape[0]
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
            # the Gram form cancels to ~eps·c: near tol, the stopping test and the reported loss
            # use the residual form |Xθ − y|²/(2n), lane by lane
            for l in range(L):
                if mid[l] >= 0 and loss[l] < tol + _GRAM_MARGIN * (1.0 + c0):
                    acc = 0.0
                    for i in range(n):
                        ri = -y[i]
                        for j in range(d):
                            ri += X[i, j] * th[j, l]
                        acc += ri * ri
                    loss[l] = acc * (0.5 / n)
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
            if lost or not (np.isfinite(lo) and lo <= DIVERGENCE_FACTOR * (1.0 + loss0[l])):
                stop = _DIVERGED
            elif kk[l] % spe == 0 and lo < tol:
                stop = _CONVERGED
            elif kk[l] >= max_steps:
                stop = _STEP_CAP
            m = mid[l]
            if stop != _DIVERGED:
                while ir[l] < nrec and rec_steps[ir[l]] <= kk[l]:
                    q = ir[l]
                    out_rec_loss[m, q] = lo
                    for j in range(d):
                        out_rec_delta[m, q, j] = abs(wp[j, l] * wm[j, l])
                        out_rec_theta[m, q, j] = th[j, l]
                    ir[l] += 1
            # an iterate whose loss overflowed (or that rounding destroyed) is dropped: report the
            # last finite one, as train_mgd does
            back = stop == _DIVERGED and (lost or not np.isfinite(lo))
            if not back:
                cross[l] = cross[l] or sgn[l] < 0.0
            lossp_l = lossp[l]
            lossp[l] = lo
            if stop < 0:
                continue
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
            out_nrec[m] = ir[l]
            ir[l] = 0
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
                s[l], i0, i1 = _next_batch_nb(s[l], perm[l], kk[l], n, b, spe, replace)
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
              wp, wm, wpp, wmp, sp, sm, crossed, steps, loss, status, rec_steps, rec_loss, rec_delta,
              rec_theta, nrec):
    """Groups of members (one replication each) in parallel, one group per thread at a time."""
    ng = grep.shape[0]
    for q in _numba.prange(ng):
        rr = grep[q]
        mem = groups[q]
        cnt = 0
        for t in range(mem.shape[0]):
            if mem[t] >= 0:
                cnt += 1
        _run_group(Xs[rr], XTs[rr], ys[rr], Hs[rr], bs[rr], cs[rr], mem[:cnt], gam, bet, alpha, b, replace,
                   seeds[rr], max_steps, tol, wp, wm, wpp, wmp, sp, sm, crossed, steps, loss, status,
                   rec_steps, rec_loss, rec_delta, rec_theta, nrec)


def run_previous(Xs, ys, gam, bet, alpha, b, replace, seeds, max_steps, tol, out, groups, grep, n_threads):
    """The previous kernel on the member groups ``groups``/``grep`` (as ``mdln.smgd._compute_numba`` makes
    them), writing into the same ``out`` dict of flat arrays."""
    R, n, d = Xs.shape
    XTs = np.ascontiguousarray(Xs.transpose(0, 2, 1))
    Hs = np.einsum("rni,rnj->rij", Xs, Xs) / n
    bs = np.einsum("rni,rn->ri", Xs, ys) / n
    cs = 0.5 * np.einsum("rn,rn->r", ys, ys) / n
    old_threads, old_chunk = _numba.get_num_threads(), _numba.get_parallel_chunksize()
    _numba.set_num_threads(n_threads)
    _numba.set_parallel_chunksize(1)
    try:
        _sweep_nb(Xs, XTs, ys, Hs, bs, cs, groups, grep, gam, bet, alpha, b, replace, seeds, max_steps, tol,
                  out["wp"], out["wm"], out["wpp"], out["wmp"], out["sp"], out["sm"], out["crossed"],
                  out["steps"], out["loss"], out["status"], out["rec_steps"], out["rec_loss"],
                  out["rec_delta"], out["rec_theta"], out["nrec"])
    finally:
        _numba.set_num_threads(old_threads)
        _numba.set_parallel_chunksize(old_chunk)
