"""Beyond diagonal networks: a ReLU teacher–student network and a deep linear network trained by
MGD(γ, β) over a whole (γ, β) grid at once (Section 2, Figure 2; Appendix F.1, Figure 6).

Every network stores its parameters as ONE flat vector ``w`` of length ``n_params`` (or a batch
``(G, n_params)`` of them, one row per grid member), so the same loss and gradient serve
``mdln.mgd`` (one member) and :func:`train_grid` (G members in batched matmuls).

Modelling choices (the paper leaves them open; documented here):

* Square loss L(w) = (1/2n) Σ_i (f_w(x_i) − y_i)², the convention of Eq. (3).
* :class:`ReluNet` — f(x) = Σ_j a_j relu(⟨w_j, x⟩ + b_j) + c: hidden AND output biases (the
  ``torch.nn.Linear`` default). Teacher and student are initialised like ``nn.Linear``: every weight and
  bias uniform on ±1/√fan_in (fan_in = input dimension for the hidden layer, width for the output).
* :class:`DeepLinearNet` — f(x) = W_L ⋯ W_1 x without biases, so f(x) = ⟨θ, x⟩ with the end-to-end
  vector θ = (W_L ⋯ W_1)ᵀ; weights i.i.d. N(0, 0.1²).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from ._checks import (check_beta, check_finite_array, check_gamma, check_instance, check_int, check_nonneg,
                      check_positive)
from .status import CONVERGED, DIVERGED, STATUS_NAMES, STEP_CAP, TRAINER_STATUSES  # noqa: F401  (re-exported: mdln.nets.*)

__all__ = [
    "ReluNet", "DeepLinearNet", "TeacherStudent", "teacher_student", "relu_init", "deep_linear_init",
    "GridRun", "train_grid", "STATUS_NAMES", "CONVERGED", "STEP_CAP", "DIVERGED",
]



def _batched(w, n_params, name="w"):
    """(w as a 2-D batch, whether the input was a single vector); validates the last dimension."""
    arr = np.asarray(w, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[-1] != n_params:
        raise ValueError(f"{name} must have shape ({n_params},) or (G, {n_params}), got {arr.shape}")
    return (arr[None, :], True) if arr.ndim == 1 else (arr, False)


class _Net:
    """Shared loss/grad plumbing: subclasses define ``n_params``, ``X``, ``y`` and ``_loss_grad``."""

    def predict(self, w, X=None):
        """Outputs f_w(x) on the rows of X (training inputs by default): shape (n,) or (G, n)."""
        X = self.X if X is None else self._check_inputs(X)
        wb, single = _batched(w, self.n_params)
        out = self._forward(wb, X)
        return out[0] if single else out

    def loss(self, w):
        """Training loss L(w) = (1/2n) Σ (f_w(x_i) − y_i)² (Eq. 3 convention); scalar or (G,)."""
        wb, single = _batched(w, self.n_params)
        r = self._forward(wb, self.X) - self.y
        out = 0.5 * np.mean(r * r, axis=-1)
        return float(out[0]) if single else out

    def grad(self, w):
        """Exact gradient ∇L(w), same shape as w."""
        return self.loss_grad(w)[1]

    def loss_grad(self, w):
        """(L(w), ∇L(w)) in one pass; w of shape (P,) or (G, P)."""
        wb, single = _batched(w, self.n_params)
        loss, g = self._loss_grad(wb)
        return (float(loss[0]), g[0]) if single else (loss, g)

    def _check_inputs(self, X):
        X = check_finite_array(X, "X", ndim=2)
        if X.shape[1] != self.X.shape[1]:
            raise ValueError(f"X must have {self.X.shape[1]} columns, got shape {X.shape}")
        return X


@dataclass(frozen=True, eq=False)
class ReluNet(_Net):
    """One-hidden-layer ReLU network f(x) = aᵀ relu(Wx + b) + c with square loss on (X, y) (App. F.1)."""

    X: np.ndarray
    y: np.ndarray
    width: int

    def __post_init__(self):
        X = check_finite_array(self.X, "X", ndim=2)
        y = check_finite_array(self.y, "y", ndim=1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X of shape {X.shape}, got {y.shape}")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "width", check_int(self.width, "width", minimum=1))

    @property
    def n_params(self):
        """Number of parameters: m·d (W) + m (b) + m (a) + 1 (c)."""
        m, d = self.width, self.X.shape[1]
        return m * d + 2 * m + 1

    def unpack(self, w):
        """Views (W (…, m, d), b (…, m), a (…, m), c (…)) into a flat parameter vector or batch."""
        w = np.asarray(w)
        m, d = self.width, self.X.shape[1]
        lead = w.shape[:-1]
        W = w[..., :m * d].reshape(*lead, m, d)
        return W, w[..., m * d:m * d + m], w[..., m * d + m:m * d + 2 * m], w[..., -1]

    def _forward(self, wb, X):
        W, b, a, c = self.unpack(wb)
        H = np.matmul(W, X.T) + b[:, :, None]            # (G, m, n)
        A = np.maximum(H, 0.0)
        return np.matmul(a[:, None, :], A)[:, 0, :] + c[:, None]

    def _loss_grad(self, wb):
        W, b, a, c = self.unpack(wb)
        X, n = self.X, self.X.shape[0]
        H = np.matmul(W, X.T) + b[:, :, None]            # (G, m, n)
        A = np.maximum(H, 0.0)
        r = np.matmul(a[:, None, :], A)[:, 0, :] + c[:, None] - self.y   # (G, n)
        loss = 0.5 * np.mean(r * r, axis=-1)
        s = r / n                                         # dL/df
        g = np.empty_like(wb)
        gW, gb, ga, gc = self.unpack(g)
        dH = a[:, :, None] * s[:, None, :] * (H > 0.0)   # (G, m, n)
        np.matmul(dH, X, out=gW)
        np.sum(dH, axis=-1, out=gb)
        ga[...] = np.matmul(A, s[:, :, None])[:, :, 0]
        gc[...] = np.sum(s, axis=-1)
        return loss, g


def relu_init(width, d, rng):
    """Flat parameters of a ReLU net drawn like ``torch.nn.Linear``: uniform on ±1/√fan_in (App. F.1)."""
    width, d = check_int(width, "width", minimum=1), check_int(d, "d", minimum=1)
    rng = check_instance(rng, np.random.Generator, "rng")
    k1, k2 = 1.0 / np.sqrt(d), 1.0 / np.sqrt(width)
    W = rng.uniform(-k1, k1, (width, d))
    b = rng.uniform(-k1, k1, width)
    a = rng.uniform(-k2, k2, width)
    c = rng.uniform(-k2, k2, 1)
    return np.concatenate([W.ravel(), b, a, c])


@dataclass(frozen=True, eq=False)
class TeacherStudent:
    """Teacher–student data of Figure 2: teacher parameters, training set and a fixed large test set."""

    student: ReluNet
    teacher: ReluNet
    w_teacher: np.ndarray
    w0: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    seed: int

    def test_loss(self, w):
        """½ E[(f_w(x) − f_teacher(x))²] estimated on the fixed test set (fresh N(0, I) inputs)."""
        wb, single = _batched(w, self.student.n_params)
        out = np.empty(wb.shape[0])
        for i in range(0, wb.shape[0], 16):          # chunks keep (G, m, n_test) small
            r = self.student._forward(wb[i:i + 16], self.X_test) - self.y_test
            out[i:i + 16] = 0.5 * np.mean(r * r, axis=-1)
        return float(out[0]) if single else out


def teacher_student(n=15, d=2, teacher_width=5, student_width=20, n_test=10_000, seed=0):
    """Teacher (5 ReLU units) labels n standard-normal inputs in R^d; student (20 units) init (App. F.1)."""
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    teacher_width = check_int(teacher_width, "teacher_width", minimum=1)
    student_width = check_int(student_width, "student_width", minimum=1)
    n_test = check_int(n_test, "n_test", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng([seed, 2])
    X = rng.standard_normal((n, d))
    X_test = rng.standard_normal((n_test, d))
    w_t = relu_init(teacher_width, d, rng)
    w0 = relu_init(student_width, d, rng)
    teacher = ReluNet(X, np.zeros(n), teacher_width)
    y = teacher.predict(w_t)
    y_test = teacher.predict(w_t, X_test)
    return TeacherStudent(student=ReluNet(X, y, student_width), teacher=ReluNet(X, y, teacher_width),
                          w_teacher=w_t, w0=w0, X_test=X_test, y_test=y_test, seed=seed)


@dataclass(frozen=True, eq=False)
class DeepLinearNet(_Net):
    """Deep linear network f(x) = W_L⋯W_1 x, widths (d, h_1, …, 1), square loss (App. F.1, Figure 6)."""

    X: np.ndarray
    y: np.ndarray
    widths: tuple = (30, 60, 120, 60, 1)
    _offsets: tuple = field(init=False, repr=False)

    def __post_init__(self):
        X = check_finite_array(self.X, "X", ndim=2)
        y = check_finite_array(self.y, "y", ndim=1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X of shape {X.shape}, got {y.shape}")
        widths = _check_widths(self.widths)
        if widths[0] != X.shape[1] or widths[-1] != 1:
            raise ValueError(f"widths must start with the input dimension {X.shape[1]} and end with 1, "
                             f"got {widths}")
        offsets = np.cumsum([0] + [widths[i] * widths[i + 1] for i in range(len(widths) - 1)])
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "widths", tuple(int(k) for k in widths))
        object.__setattr__(self, "_offsets", tuple(int(o) for o in offsets))

    @property
    def n_params(self):
        """Number of weights Σ_l h_l h_{l−1}."""
        return self._offsets[-1]

    def layers(self, w):
        """Views W_l of shape (…, h_l, h_{l−1}), l = 1..L, into flat parameters."""
        w = np.asarray(w)
        lead, o, h = w.shape[:-1], self._offsets, self.widths
        return [w[..., o[i]:o[i + 1]].reshape(*lead, h[i + 1], h[i]) for i in range(len(h) - 1)]

    def _backward_rows(self, Ws):
        """Row vectors a_l = W_L⋯W_{l+1} (a_L = 1) and the end-to-end vector θ = (W_L⋯W_1)ᵀ."""
        G = Ws[0].shape[0]
        rows = [None] * len(Ws)
        a = np.ones((G, 1))
        for l in range(len(Ws) - 1, -1, -1):
            rows[l] = a
            a = np.matmul(a[:, None, :], Ws[l])[:, 0, :]
        return rows, a

    def end_to_end(self, w):
        """End-to-end vector θ = (W_L⋯W_1)ᵀ ∈ R^d, so f(x) = ⟨θ, x⟩: shape (d,) or (G, d)."""
        wb, single = _batched(w, self.n_params)
        theta = self._backward_rows(self.layers(wb))[1]
        return theta[0] if single else theta

    def _forward(self, wb, X):
        return self._backward_rows(self.layers(wb))[1] @ X.T

    def _loss_grad(self, wb):
        # ∂L/∂W_l = a_lᵀ c_lᵀ with a_l = W_L⋯W_{l+1} and c_l = W_{l−1}⋯W_1 g, g = ∇_θ L = Xᵀr/n: rank one.
        Ws = self.layers(wb)
        rows, theta = self._backward_rows(Ws)
        r = theta @ self.X.T - self.y                     # (G, n)
        loss = 0.5 * np.mean(r * r, axis=-1)
        c = (r @ self.X) / self.X.shape[0]                # (G, d)
        g = np.empty_like(wb)
        for l, gl in enumerate(self.layers(g)):
            np.einsum("gi,gj->gij", rows[l], c, out=gl)
            if l + 1 < len(Ws):
                c = np.matmul(Ws[l], c[:, :, None])[:, :, 0]
        return loss, g


def _check_widths(widths):
    """Layer widths (d, h_1, …, 1): at least two integers >= 1."""
    if isinstance(widths, (str, bytes)) or not np.iterable(widths):
        raise ValueError(f"widths must be at least two integers >= 1, got {widths!r}")
    widths = tuple(widths)
    if len(widths) < 2 or any(isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < 1
                              for k in widths):
        raise ValueError(f"widths must be at least two integers >= 1, got {widths!r}")
    return tuple(int(k) for k in widths)


def deep_linear_init(widths, rng, std=0.1):
    """Flat weights of a deep linear network, i.i.d. N(0, std²) (App. F.1: std = 0.1)."""
    widths = _check_widths(widths)
    rng = check_instance(rng, np.random.Generator, "rng")
    std = check_positive(std, "std")
    n = sum(widths[i] * widths[i + 1] for i in range(len(widths) - 1))
    return std * rng.standard_normal(n)


@dataclass(frozen=True)
class GridRun:
    """MGD(γ, β) over G grid members: final iterates, losses, steps taken, status codes and a ``message``."""

    gammas: np.ndarray
    betas: np.ndarray
    w: np.ndarray            # (G, P) final iterate (the last finite one for diverged members)
    train_loss: np.ndarray   # (G,) training loss at w; +inf for diverged members
    steps: np.ndarray        # (G,) gradient steps taken
    status: np.ndarray       # (G,) int codes of Status: CONVERGED / STEP_CAP / DIVERGED
    tol: float | None
    max_steps: int

    @property
    def lam(self):
        """λ = γ/(1−β)² of every member (Proposition 1)."""
        return self.gammas / (1.0 - self.betas) ** 2

    @property
    def diverged(self):
        """Boolean mask of members whose loss blew up."""
        return self.status == DIVERGED

    def status_counts(self):
        """{status name: count}."""
        return {STATUS_NAMES[k]: int(np.sum(self.status == k)) for k in TRAINER_STATUSES}

    @property
    def message(self):
        """Why the members stopped, as counts: 'MGD on 6 grid members: 4 converged (L ≤ tol), …'."""
        n = {code: int(np.sum(self.status == code)) for code in TRAINER_STATUSES}
        tol = "no tol" if self.tol is None else f"L ≤ {self.tol:.3g}"
        return (f"MGD on {self.status.size} grid members: {n[CONVERGED]} converged ({tol}), "
                f"{n[STEP_CAP]} stopped at the step cap ({self.max_steps} steps), {n[DIVERGED]} diverged "
                f"(L non-finite or above blowup·L(w0))")


def _check_grid(gammas, betas):
    gammas = check_finite_array(np.atleast_1d(gammas), "gammas", ndim=1)
    betas = check_finite_array(np.atleast_1d(betas), "betas", ndim=1)
    if gammas.shape != betas.shape:
        raise ValueError(f"gammas and betas must have the same shape, got {gammas.shape} and {betas.shape}")
    for g in gammas:
        check_gamma(g, "gammas")
    for b in betas:
        check_beta(b, "betas")
    return gammas, betas


def train_grid(net, w0, gammas, betas, max_steps, tol=None, blowup=1e8, chunk=None, progress=False):
    """Run MGD(γ_i, β_i) for every member i from the shared w0 = w1, batched (Section 2, App. F.1).

    Members stop individually: ``converged`` once L(w) ≤ tol, ``diverged`` once L(w) is not finite or
    exceeds ``blowup``·L(w0), else ``step_cap`` after ``max_steps`` gradient steps. ``steps[i] = k`` means
    the final iterate equals ``mdln.mgd(net.grad, w0, γ_i, β_i, k + 1)[-1]``. Members are processed
    in blocks of ``chunk`` (automatic by default); the results do not depend on it.
    """
    if not isinstance(net, _Net):
        raise ValueError(f"net must be a ReluNet or a DeepLinearNet, got {type(net).__name__}")
    w0 = check_finite_array(np.atleast_1d(w0), "w0", ndim=1)
    if w0.shape[0] != net.n_params:
        raise ValueError(f"w0 must have shape ({net.n_params},), got {w0.shape}")
    gammas, betas = _check_grid(gammas, betas)
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    tol = None if tol is None else check_nonneg(tol, "tol")
    blowup = check_positive(blowup, "blowup")
    G, P = gammas.shape[0], w0.shape[0]
    limit = blowup * max(net.loss(w0), np.finfo(float).tiny)
    if chunk is None:   # blocks whose (w, v, g) stay in a ~1 MB cache budget; about 2x faster for big nets
        chunk = max(1, 2 ** 17 // P)
    chunk = check_int(chunk, "chunk", minimum=1)
    W_out = np.tile(w0, (G, 1))
    loss_out = np.full(G, np.inf)
    steps = np.zeros(G, dtype=np.int64)
    status = np.full(G, STEP_CAP, dtype=np.int64)
    bar = None
    starts = range(0, G, chunk)
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(starts) * max_steps, desc=f"MGD on {G} grid members", unit="step", leave=False)
    for start in starts:
        sl = slice(start, min(start + chunk, G))
        done = _train_block(net, w0, gammas[sl], betas[sl], max_steps, tol, limit,
                            W_out[sl], loss_out[sl], steps[sl], status[sl], bar)
        if bar is not None:
            bar.update(max_steps - done)
    if bar is not None:
        bar.close()
    return GridRun(gammas=gammas, betas=betas, w=W_out, train_loss=loss_out, steps=steps, status=status,
                   tol=tol, max_steps=max_steps)


def _train_block(net, w0, gammas, betas, max_steps, tol, limit, W_out, loss_out, steps, status, bar=None):
    """MGD on one block of members, writing results into the given output views; returns the steps run."""
    G, P = gammas.shape[0], w0.shape[0]
    active = np.arange(G)
    w, v = np.tile(w0, (G, 1)), np.zeros((G, P))
    ga, be = gammas[:, None].copy(), betas[:, None].copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(max_steps + 1):
            loss, g = net._loss_grad(w)
            bad = ~np.isfinite(loss) | (loss > limit)     # NaN/inf in w makes the loss non-finite
            conv = (loss <= tol) & ~bad if tol is not None else np.zeros_like(bad)
            stop = bad | conv | (k == max_steps)
            if np.any(stop):
                rows = np.flatnonzero(stop)
                idx = active[rows]
                steps[idx] = k
                status[idx] = np.where(bad[rows], DIVERGED, np.where(conv[rows], CONVERGED, STEP_CAP))
                loss_out[idx] = np.where(bad[rows], np.inf, loss[rows])
                for i, r in zip(idx, rows):
                    W_out[i] = _last_finite(w[r], v[r], w0) if bad[r] else w[r]
                keep = ~stop
                active, w, v, g, ga, be = active[keep], w[keep], v[keep], g[keep], ga[keep], be[keep]
                if active.size == 0:
                    return k
            g *= ga                      # in place: g is a fresh array owned by this loop
            v *= be
            v -= g
            w += v
            if bar is not None:
                bar.update(1)
    return max_steps


def _last_finite(w, v, w0):
    """The current iterate if finite, else the previous one, else w0 (never NaN in results)."""
    if np.all(np.isfinite(w)):
        return w
    prev = w - v
    return prev if np.all(np.isfinite(prev)) else w0
