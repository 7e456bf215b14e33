"""Compiled BDF integrator for MGF(λ) on a diagonal network (Eq. 12), used by ``mdln.dln.train_mgf``.

scipy's BDF (variable order 1–5, NDF, quasi-constant step; Shampine & Reichelt 1997) ported step for
step so that a whole solve runs in one compiled call: the Newton systems use the structure of the
Jacobian J = [[0, I], [A/λ, −I/λ]] (an LU of the 2d×2d matrix (λ + c)I − c²A instead of a 4d×4d one),
and the loss event and the sign checks on the refined grid run inside the kernel. Kept in its own
module so that edits elsewhere in ``dln.py`` do not invalidate numba's on-disk cache.

One algorithm, two executions: ``kernels(compiled=False)`` (and the whole module without numba) runs the
same function bodies as plain Python (``.py_func``), with every kernel they call also in Python. Both
executions perform the same IEEE operations in the same order: reductions are sequential sums
(``np.cumsum``, which numba and numpy both accumulate left to right; ``np.sum`` would not, numpy sums
pairwise), the matrix-vector products go through the same BLAS, libm supplies log/pow to both, numba
compiles without fastmath (no FMA contraction, no reassociation), and the LU factorisation and
solves are written twice (compiled loops, vectorised numpy) with the same operations in the same order.
The two paths are bitwise identical on the problems tested (tests/test_dln_mgf.py; bound stated in
``mdln.dln.train_mgf``).

The first compilation in a fresh environment takes about 45 s on an idle 2-core machine (over 2 min on a
busy one); loading the kernels from numba's on-disk cache (``cache=True``) takes about 1 s.
``compile_notice`` says so once, on stderr, and only when numba really compiles (its cache missed); never
inside a Jupyter kernel, so that notebook outputs do not depend on the state of the cache.
"""
from __future__ import annotations

import contextlib
import functools
import math
import sys
import types

import numpy as np

try:  # optional: compiled when numba is present
    import numba as _numba
except ImportError:  # pragma: no cover
    _numba = None

__all__ = ["BDF_KAPPA", "BDF_GAMMA", "BDF_ALPHA", "BDF_ERRC", "BDF_CHUNK", "GO", "EVENT", "BOUND", "lu_factor",
           "lu_solve", "lu_factor_vec", "lu_solve_vec",
           "TOO_SMALL", "HAVE_NUMBA", "bdf_init", "bdf_chunk", "kernels", "compile_notice", "COMPILE_NOTICE"]

HAVE_NUMBA = _numba is not None
BDF_KAPPA = np.array([0.0, -0.1850, -1.0 / 9.0, -0.0823, -0.0415, 0.0])
BDF_GAMMA = np.hstack((0.0, np.cumsum(1.0 / np.arange(1, 6))))
BDF_ALPHA = (1.0 - BDF_KAPPA) * BDF_GAMMA
BDF_ERRC = BDF_KAPPA * BDF_GAMMA + 1.0 / np.arange(1, 7)
BDF_CHUNK = 2000            # steps per compiled call (the wall-clock budget is checked in between)
GO, EVENT, BOUND, TOO_SMALL = 0, 1, 2, -1     # return codes of bdf_chunk
_GO, _EVENT, _BOUND, _TOO_SMALL = GO, EVENT, BOUND, TOO_SMALL   # as seen inside the kernels
# float state: t, h_abs, c of the current inverse, event value g(t), t_end
# int state: order, n_equal_steps, n_steps, have_inverse, nfev, njev, nlu, n_grid


def _jit(fn):
    return _numba.njit(cache=True, error_model="numpy")(fn) if _numba is not None else fn


@_jit
def _f_w(H, bv, lam, s, d, out):
    """Right-hand side of Eq. (12), first-order form (w+, w−, ẇ+, ẇ−); λ = 0: gradient flow in w±."""
    wp = s[:d]
    wm = s[d:2 * d]
    g = H @ (0.25 * (wp * wp - wm * wm)) - bv
    if lam == 0.0:
        out[:d] = -g * wp
        out[d:2 * d] = g * wm
    else:
        out[:2 * d] = s[2 * d:]
        out[2 * d:3 * d] = (-g * wp - s[2 * d:3 * d]) / lam
        out[3 * d:] = (g * wm - s[3 * d:]) / lam


@_jit
def _force_jac(H, bv, s, d, A):
    """A = ∂(−∇L⊙w+, ∇L⊙w−)/∂(w+, w−), the force block of the Jacobian of Eq. (12)."""
    wp = s[:d]
    wm = s[d:2 * d]
    g = H @ (0.25 * (wp * wp - wm * wm)) - bv
    A[:d, :d] = -0.5 * np.outer(wp, wp) * H
    A[:d, d:] = 0.5 * np.outer(wp, wm) * H
    A[d:, :d] = 0.5 * np.outer(wm, wp) * H
    A[d:, d:] = -0.5 * np.outer(wm, wm) * H
    for i in range(d):
        A[i, i] -= g[i]
        A[d + i, d + i] += g[i]


@_jit
def _rms(x):
    """Root mean square, summed left to right (np.cumsum: the same order compiled and in Python)."""
    return math.sqrt(np.cumsum(x * x)[-1] / x.size)


@_jit
def _change_D(D, order, factor):
    """Rescale the backward differences to a new step size (scipy's change_D)."""
    o = order + 1
    R = np.zeros((o, o))
    U = np.zeros((o, o))
    for i in range(o):
        R[0, i] = 1.0
        U[0, i] = 1.0
    for i in range(1, o):
        for j in range(1, o):
            R[i, j] = R[i - 1, j] * (i - 1 - factor * j) / i
            U[i, j] = U[i - 1, j] * (i - 1 - j) / i
    RU = R @ U
    new = RU.T @ D[:o]
    D[:o] = new


@_jit
def _interp(tq, t, h, order, D, out):
    """BDF dense output at time tq of the step ending at t (scipy's BdfDenseOutput)."""
    out[:] = D[0]
    p = 1.0
    for j in range(order):
        p *= (tq - (t - h * j)) / (h * (1 + j))
        out += D[j + 1] * p


@_jit
def _event_g(X, y, s, d, log_tol):
    """log L(θ) − log(tol/2): the terminal event (loss below tol)."""
    r = X @ (0.25 * (s[:d] * s[:d] - s[d:2 * d] * s[d:2 * d])) - y
    val = 0.5 * (r @ r) / X.shape[0]
    return math.log(val) - log_tol if val > 0.0 else -np.inf


def lu_factor_vec(M, piv):
    """In-place LU with partial pivoting, vectorised numpy: the same operations, in the same order, as
    the compiled loops of ``lu_factor`` (first maximal pivot, row scaling, rank-1 update)."""
    m = M.shape[0]
    for k in range(m):
        col = np.abs(M[k:, k])
        p = k + int(np.argmax(col))
        piv[k] = p
        if p != k:
            M[[k, p]] = M[[p, k]]
        if M[k, k] != 0.0:
            M[k + 1:, k] /= M[k, k]
        M[k + 1:, k + 1:] -= np.outer(M[k + 1:, k], M[k, k + 1:])


def lu_solve_vec(LU, piv, b):
    """Solve with the factors of ``lu_factor_vec``: the compiled ``lu_solve``'s operations and order
    (forward substitution by columns, back substitution as a left-to-right running sum per row)."""
    m = LU.shape[0]
    for k in range(m):
        p = piv[k]
        if p != k:
            b[k], b[p] = b[p], b[k]
    for j in range(m - 1):
        b[j + 1:] -= LU[j + 1:, j] * b[j]
    for i in range(m - 1, -1, -1):
        terms = np.empty(m - i)
        terms[0] = b[i]
        np.multiply(LU[i, i + 1:], b[i + 1:], out=terms[1:])
        np.negative(terms[1:], out=terms[1:])
        b[i] = np.cumsum(terms)[-1] / LU[i, i]
    return b


if _numba is not None:
    @_jit
    def lu_factor(M, piv):
        """In-place LU factorisation with partial pivoting (getrf's algorithm, compiled loops)."""
        m = M.shape[0]
        for k in range(m):
            p = k
            amax = abs(M[k, k])
            for i in range(k + 1, m):
                if abs(M[i, k]) > amax:
                    amax = abs(M[i, k])
                    p = i
            piv[k] = p
            if p != k:
                for j in range(m):
                    t = M[k, j]
                    M[k, j] = M[p, j]
                    M[p, j] = t
            if M[k, k] != 0.0:
                for i in range(k + 1, m):
                    M[i, k] /= M[k, k]
            for i in range(k + 1, m):
                lik = M[i, k]
                if lik != 0.0:
                    for j in range(k + 1, m):
                        M[i, j] -= lik * M[k, j]

    @_jit
    def lu_solve(LU, piv, b):
        """Solve with the factors of lu_factor (b is overwritten and returned)."""
        m = LU.shape[0]
        for k in range(m):
            p = piv[k]
            if p != k:
                t = b[k]
                b[k] = b[p]
                b[p] = t
        for i in range(1, m):
            acc = b[i]
            for j in range(i):
                acc -= LU[i, j] * b[j]
            b[i] = acc
        for i in range(m - 1, -1, -1):
            acc = b[i]
            for j in range(i + 1, m):
                acc -= LU[i, j] * b[j]
            b[i] = acc / LU[i, i]
        return b
else:  # pragma: no cover - pure-Python fallback
    lu_factor, lu_solve = lu_factor_vec, lu_solve_vec


@_jit
def _newton_solve(A, LU, piv, lam, c, r, d, out):
    """Solve (I − cJ) x = r using the block structure of J (Schur complement on the ẇ block)."""
    if lam == 0.0:
        out[:] = lu_solve(LU, piv, r.copy())
    else:
        m = 2 * d
        x2 = lu_solve(LU, piv, lam * r[m:] + c * (A @ r[:m]))
        out[m:] = x2
        out[:m] = r[:m] + c * x2


@_jit
def _grid_point(s, d, sgn, cnt):
    """Sign-change count of w± at one more point of the refined grid."""
    for i in range(2 * d):
        v = s[i]
        sv = 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)
        if sv * sgn[i] < 0.0:
            cnt[i] += 1
        if v == 0.0:
            cnt[i] += 1
        sgn[i] = sv


@_jit
def bdf_init(H, bv, lam, s0, d, t_bound, rtol, atol, D, A, fs, ist):
    """Initial step (scipy's select_initial_step, order 1), differences and Jacobian."""
    N = s0.size
    f0 = np.empty(N)
    _f_w(H, bv, lam, s0, d, f0)
    scale = atol + np.abs(s0) * rtol
    d0 = _rms(s0 / scale)
    d1 = _rms(f0 / scale)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h0 = min(h0, t_bound)
    f1 = np.empty(N)
    _f_w(H, bv, lam, s0 + h0 * f0, d, f1)
    d2 = _rms((f1 - f0) / scale) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** 0.5
    h_abs = min(100 * h0, h1, t_bound)
    D[:] = 0.0
    D[0] = s0
    D[1] = f0 * h_abs
    _force_jac(H, bv, s0, d, A)
    fs[0] = 0.0
    fs[1] = h_abs
    fs[2] = np.nan
    ist[0] = 1
    ist[1] = 0
    ist[2] = 0
    ist[3] = 0
    ist[4] = 2
    ist[5] = 1
    ist[6] = 0
    ist[7] = 0


@_jit
def bdf_chunk(X, y, H, bv, lam, d, rtol, atol, t_bound, log_tol, refine, nmax, D, A, LU, piv, fs, ist,
               sgn, cnt, s_end, grid_t, grid_s, alpha, gamma, errc):
    """Up to ``nmax`` accepted BDF steps of Eq. (12); returns _GO, _EVENT, _BOUND or _TOO_SMALL."""
    N = D.shape[1]
    m = 2 * d if lam > 0.0 else N
    newton_tol = max(10 * 2.220446049250313e-16 / rtol, min(0.03, rtol ** 0.5))
    want = grid_t.size > 0
    y_new = np.empty(N)
    dvec = np.empty(N)
    f = np.empty(N)
    dy = np.empty(N)
    yq = np.empty(N)
    for _ in range(nmax):
        t = fs[0]
        h_abs = fs[1]
        order = ist[0]
        if t == 0.0:
            min_step = 5e-323
        else:
            mt, et = math.frexp(abs(t))
            min_step = 10.0 * math.ldexp(1.0, et - 53)
        if h_abs < min_step:
            _change_D(D, order, min_step / h_abs)
            h_abs = min_step
            ist[1] = 0
        current_jac = False
        accepted = False
        t_new = t
        n_iter = 0
        scale = np.empty(N)
        while not accepted:
            if h_abs < min_step:
                s_end[:] = D[0]
                fs[4] = t
                return _TOO_SMALL
            h = h_abs
            t_new = t + h
            if t_new - t_bound > 0:
                t_new = t_bound
                _change_D(D, order, abs(t_new - t) / h_abs)
                ist[1] = 0
                ist[3] = 0
            h = t_new - t
            h_abs = abs(h)
            y_predict = D[0].copy()
            for j in range(1, order + 1):
                y_predict += D[j]
            scale = atol + rtol * np.abs(y_predict)
            psi = np.zeros(N)
            for j in range(1, order + 1):
                psi += D[j] * gamma[j]
            psi /= alpha[order]
            converged = False
            c = h / alpha[order]
            while not converged:
                if ist[3] == 0:   # as scipy, keep the factors (and their c) until h or J change
                    if lam == 0.0:
                        LU[:, :] = np.eye(m) - c * A
                    else:
                        LU[:, :] = (lam + c) * np.eye(m) - (c * c) * A
                    lu_factor(LU, piv)
                    fs[2] = c
                    ist[3] = 1
                    ist[6] += 1
                # Newton iterations (scipy's solve_bdf_system)
                y_new[:] = y_predict
                dvec[:] = 0.0
                dy_norm_old = -1.0
                converged = False
                n_iter = 0
                for k in range(4):
                    n_iter = k + 1
                    _f_w(H, bv, lam, y_new, d, f)
                    ist[4] += 1
                    if not np.all(np.isfinite(f)):
                        break
                    _newton_solve(A, LU, piv, lam, fs[2], c * f - psi - dvec, d, dy)
                    dy_norm = _rms(dy / scale)
                    has_rate = dy_norm_old >= 0.0
                    rate = dy_norm / dy_norm_old if has_rate else 0.0
                    if has_rate and (rate >= 1 or rate ** (4 - k) / (1 - rate) * dy_norm > newton_tol):
                        break
                    y_new += dy
                    dvec += dy
                    if dy_norm == 0 or (has_rate and rate / (1 - rate) * dy_norm < newton_tol):
                        converged = True
                        break
                    dy_norm_old = dy_norm
                if not converged:
                    if current_jac:
                        break
                    _force_jac(H, bv, y_predict, d, A)
                    ist[5] += 1
                    ist[3] = 0
                    current_jac = True
            if not converged:
                h_abs *= 0.5
                _change_D(D, order, 0.5)
                ist[1] = 0
                ist[3] = 0
                continue
            safety = 0.9 * 9.0 / (8.0 + n_iter)
            scale = atol + rtol * np.abs(y_new)
            error_norm = _rms(errc[order] * dvec / scale)
            if error_norm > 1:
                factor = max(0.2, safety * error_norm ** (-1.0 / (order + 1)))
                h_abs *= factor
                _change_D(D, order, factor)
                ist[1] = 0
            else:
                accepted = True
        ist[1] += 1
        t_old = t
        D[order + 2] = dvec - D[order + 1]
        D[order + 1] = dvec
        for i in range(order, -1, -1):
            D[i] += D[i + 1]
        if ist[1] >= order + 1:
            em = _rms(errc[order - 1] * D[order] / scale) if order > 1 else np.inf
            ep = _rms(errc[order + 1] * D[order + 2] / scale) if order < 5 else np.inf
            norms = (em, error_norm, ep)
            best = -1.0
            delta = 0
            for q in range(3):
                fq = norms[q] ** (-1.0 / (order + q)) if norms[q] > 0 else np.inf
                if fq > best:
                    best = fq
                    delta = q - 1
            order += delta
            factor = min(10.0, safety * best)
            h_abs *= factor
            _change_D(D, order, factor)
            ist[1] = 0
            ist[3] = 0
        fs[0] = t_new
        fs[1] = h_abs
        ist[0] = order
        ist[2] += 1
        # the interpolant of [t_old, t_new] is (t_new, h_abs, order, D[:order + 1])
        code = _GO
        t_end = t_new
        s_end[:] = y_new
        g_new = _event_g(X, y, y_new, d, log_tol)
        if fs[3] >= 0.0 and g_new <= 0.0:
            lo, hi = t_old, t_new
            for _it in range(200):
                if hi - lo <= 4 * 2.220446049250313e-16 * abs(hi):
                    break
                mid = 0.5 * (lo + hi)
                _interp(mid, t_new, h_abs, order, D, yq)
                if _event_g(X, y, yq, d, log_tol) > 0.0:
                    lo = mid
                else:
                    hi = mid
            t_end = hi
            if t_end < t_new:
                _interp(t_end, t_new, h_abs, order, D, s_end)
            code = _EVENT
        elif t_new >= t_bound:
            code = _BOUND
        fs[3] = g_new
        fs[4] = t_end
        for j in range(1, refine + 1):
            tq = t_old + j / (refine + 1) * (t_end - t_old)
            _interp(tq, t_new, h_abs, order, D, yq)
            _grid_point(yq, d, sgn, cnt)
            if want:
                grid_t[ist[7]] = tq
                grid_s[ist[7]] = yq
                ist[7] += 1
        _grid_point(s_end, d, sgn, cnt)
        if want:
            grid_t[ist[7]] = t_end
            grid_s[ist[7]] = s_end
            ist[7] += 1
        if code != _GO:
            return code
    return _GO




@functools.lru_cache(maxsize=None)
def _python_kernels():
    """(bdf_init, bdf_chunk) as plain Python: every function's ``.py_func`` in a namespace where the
    kernels they call are Python too (the LU is ``lu_factor_vec`` / ``lu_solve_vec``)."""
    env = dict(globals())
    for name, obj in list(env.items()):
        f = getattr(obj, "py_func", None)
        if f is not None and getattr(f, "__module__", None) == __name__:
            env[name] = types.FunctionType(f.__code__, env, f.__name__, f.__defaults__, f.__closure__)
    env["lu_factor"], env["lu_solve"] = lu_factor_vec, lu_solve_vec
    return env["bdf_init"], env["bdf_chunk"]


def kernels(compiled=True):
    """(bdf_init, bdf_chunk): compiled when ``compiled`` and numba is present, else plain Python."""
    if compiled and HAVE_NUMBA:
        return bdf_init, bdf_chunk
    return _python_kernels()


# ------------------------------------------------------------------ the one-time compile notice
COMPILE_NOTICE = ("mdln: compiling its numba kernels once (about a minute); "
                  "cached on disk afterwards\n")
_notice = {"shown": False, "armed": True}


def _say_compiling():
    """Write COMPILE_NOTICE to stderr once per process (never inside a Jupyter kernel, see below)."""
    if _notice["shown"]:
        return
    _notice["shown"] = True
    if "ipykernel" in sys.modules:   # notebook outputs (and nbval's stored stderr) must not depend on
        return                       # whether numba's on-disk cache was warm when the book was built
    sys.stderr.write(COMPILE_NOTICE)
    sys.stderr.flush()


if HAVE_NUMBA:
    from numba.core import event as _event

    class _CompileListener(_event.Listener):
        """Fires when numba starts compiling (after its on-disk cache missed), not on a cache load."""

        def on_start(self, event):
            _say_compiling()

        def on_end(self, event):
            pass


def compile_notice():
    """Context around the first calls of the kernels: a real numba compilation prints COMPILE_NOTICE.

    numba raises its "numba:compile" event only after the in-memory and on-disk caches both missed, so
    a warm cache stays silent. Once a compiled call has completed in this process, this is a no-op.
    """
    if not (HAVE_NUMBA and _notice["armed"]):
        return contextlib.nullcontext()
    return _armed_listener()


@contextlib.contextmanager
def _armed_listener():
    with _event.install_listener("numba:compile", _CompileListener()):
        yield
    _notice["armed"] = False
