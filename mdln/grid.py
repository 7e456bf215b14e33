"""The (γ, β) grid of Figures 2, 4, 6 and 7 (Sections 2 and 4, Appendix F): axes, λ, level lines, η².

**One array layout.** Every grid result in mdln stores its cells as ``[i_γ, j_β]`` (rows γ, columns β),
with a trailing replication axis where there is one: shape (G, Bt) or (G, Bt, R), ``gammas`` of length G
and ``betas`` of length Bt (`mdln.figures.sec4.Fig4Result`, `mdln.SweepResult`, `mdln.theorems.Theorem2Check`,
`mdln.figures.nets.Fig2Result`/`Fig6Result`). :func:`lam_grid` gives λ = γ/(1−β)² in that layout.

* axes: :func:`linear_beta_axes` (Figure 4: log-spaced γ, evenly spaced β) and :func:`omb_axes`
  (Figures 2, 6: log-spaced γ and 1−β, so that λ level lines are straight in (log γ, −log(1−β)));
* :func:`lam_levels`: the decades of λ whose level line crosses the grid;
* :func:`eta_squared`: the correlation ratio η² of binned means (how much of a quantity one coordinate
  explains), and :func:`lambda_quantification`, η² on log λ / log γ / log(1−β) / log ε plus the spread of
  a quantity along versus across the λ level lines (the claim "λ alone governs the loss");
* :class:`CellStatus`: per-cell masks of a (G, Bt, R) run array with a trainer status per run
  (`mdln.status.Status`: converged, step cap, diverged) and a sign-change flag.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_beta, check_finite_array, check_int, check_positive, check_real_array
from .momentum import lam as _lam
from .status import Status

__all__ = ["CellStatus", "lam_grid", "linear_beta_axes", "omb_axes", "lam_levels", "eta_squared",
           "lambda_quantification"]


def _check_axes(gammas, betas):
    """The γ axis (values > 0) and the β axis (values in [0, 1)) of a grid, as 1-D float arrays."""
    gammas = check_finite_array(np.atleast_1d(gammas), "gammas", ndim=1)
    betas = check_finite_array(np.atleast_1d(betas), "betas", ndim=1)
    if np.any(gammas <= 0):
        raise ValueError(f"gammas must all be > 0, got {gammas.min()!r}")
    if np.any((betas < 0) | (betas >= 1)):
        raise ValueError(f"betas must all lie in [0, 1), got values from {betas.min()!r} to {betas.max()!r}")
    return gammas, betas


def lam_grid(gammas, betas):
    """λ = γ/(1−β)² on the (G, Bt) grid, rows γ and columns β (Proposition 1)."""
    gammas, betas = _check_axes(gammas, betas)
    return _lam(gammas[:, None], betas[None, :])


def linear_beta_axes(gamma_min, gamma_max, n_gamma, beta_max, n_beta):
    """(γ log-spaced on [gamma_min, gamma_max], β evenly spaced on [0, beta_max]): the Figure 4 grid."""
    gamma_min = check_positive(gamma_min, "gamma_min")
    gamma_max = check_positive(gamma_max, "gamma_max")
    if not gamma_max >= gamma_min:
        raise ValueError(f"gamma_max must be >= gamma_min={gamma_min!r}, got {gamma_max!r}")
    n_gamma = check_int(n_gamma, "n_gamma", minimum=1)
    beta_max = check_beta(beta_max, "beta_max")
    n_beta = check_int(n_beta, "n_beta", minimum=1)
    gammas = np.logspace(np.log10(gamma_min), np.log10(gamma_max), n_gamma)
    betas = np.linspace(0.0, beta_max, n_beta)
    return gammas, betas


def omb_axes(n_gamma, n_beta, gamma_min, gamma_max, one_minus_beta_min):
    """(γ values log-spaced, β values with 1−β log-spaced from 1 down to one_minus_beta_min) (Figs 2, 6)."""
    n_gamma = check_int(n_gamma, "n_gamma", minimum=2)
    n_beta = check_int(n_beta, "n_beta", minimum=2)
    gamma_min = check_positive(gamma_min, "gamma_min")
    gamma_max = check_positive(gamma_max, "gamma_max")
    if not gamma_max > gamma_min:
        raise ValueError(f"gamma_max must be > gamma_min={gamma_min!r}, got {gamma_max!r}")
    omb = check_positive(one_minus_beta_min, "one_minus_beta_min")
    if not omb < 1.0:
        raise ValueError(f"one_minus_beta_min must lie in (0, 1), got {omb!r}")
    gammas = np.logspace(np.log10(gamma_min), np.log10(gamma_max), n_gamma)
    betas = 1.0 - np.logspace(0.0, np.log10(omb), n_beta)
    betas[0] = 0.0
    return gammas, betas


def lam_levels(gammas, betas, levels=()):
    """λ levels to draw: the given ones, or the decades whose line crosses the grid interior."""
    gammas, betas = _check_axes(gammas, betas)
    levels = _check_levels(levels)
    if levels.size:
        return levels
    lo = np.log10(gammas[0]) - 2 * np.log10(1 - betas[0])
    hi = np.log10(gammas[-1]) - 2 * np.log10(1 - betas[-1])
    ks = np.arange(np.ceil(lo + 0.25), np.floor(hi - 0.25) + 1)
    return 10.0 ** ks


def _check_levels(levels):
    """λ levels: a (possibly empty) sequence of finite values > 0."""
    if isinstance(levels, (str, bytes)) or not np.iterable(levels):
        raise ValueError(f"levels must be a sequence of λ values > 0, got {levels!r}")
    return np.array([check_positive(x, "levels") for x in levels], dtype=float)


def eta_squared(x, values, n_bins=10):
    """Correlation ratio η²: share of the variance of ``values`` explained by equal-width bins of x.

    1 − (within-bin sum of squares)/(total sum of squares) over the finite pairs; NaN when fewer than
    3 pairs remain or ``values`` is constant, 0 when x is constant (one bin explains nothing).
    """
    x, values = check_real_array(x, "x").ravel(), check_real_array(values, "values").ravel()
    if x.size != values.size:
        raise ValueError(f"x and values must have the same number of entries, got {x.size} and {values.size}")
    n_bins = check_int(n_bins, "n_bins", minimum=1)
    ok = np.isfinite(x) & np.isfinite(values)
    x, values = x[ok], values[ok]
    if values.size < 3 or np.ptp(values) == 0:
        return float("nan")
    if np.ptp(x) == 0:
        return 0.0
    edges = np.linspace(x.min(), x.max(), n_bins + 1)
    idx = np.clip(np.digitize(x, edges[1:-1]), 0, n_bins - 1)
    tot = np.sum((values - values.mean()) ** 2)
    within = sum(np.sum((values[idx == b] - values[idx == b].mean()) ** 2) for b in np.unique(idx))
    return float(1.0 - within / tot)


def _line_points(gammas, betas, lam, n=60):
    """Points (x = log₁₀γ, y = −log₁₀(1−β)) of the λ level line inside the grid's cell-centre box."""
    x0, x1 = np.log10(gammas[0]), np.log10(gammas[-1])
    y_all = -np.log10(1 - betas)
    y = np.linspace(y_all[0], y_all[-1], n)
    x = np.log10(lam) - 2 * y
    inside = (x >= x0) & (x <= x1)
    return x[inside], y[inside]


def lambda_quantification(log_loss, gammas, betas, valid, levels, n_bins=8):
    """η² of log loss on log λ, log γ, log(1−β), log ε alone, and its spread along vs across λ lines.

    ``log_loss`` and ``valid`` are (G, Bt) arrays (rows γ). ``r2_*`` is :func:`eta_squared` with
    ``n_bins`` equal-width bins (0 where undefined); ``spread_along`` is the pooled standard deviation
    along each λ level line of ``levels`` (bilinear interpolation through valid cells, lines with ≥ 3
    points), ``spread_across`` the standard deviation of the per-line means (Section 2, Appendix F.1).
    """
    from scipy.interpolate import RegularGridInterpolator

    gammas, betas = _check_axes(gammas, betas)
    shape = (gammas.size, betas.size)
    log_loss = check_real_array(log_loss, "log_loss")
    if log_loss.shape != shape:
        raise ValueError(f"log_loss must have shape {shape} (rows γ, columns β), got {log_loss.shape}")
    valid_arr = np.asarray(valid)
    if valid_arr.dtype != bool or valid_arr.shape != shape:
        raise ValueError(f"valid must be a boolean array of shape {shape}, got {type(valid).__name__} of "
                         f"dtype {valid_arr.dtype} and shape {valid_arr.shape}")
    valid = valid_arr & np.isfinite(log_loss)
    levels = _check_levels(levels)
    n_bins = check_int(n_bins, "n_bins", minimum=2)
    G, B = np.meshgrid(gammas, betas, indexing="ij")
    coords = {"log_lam": np.log10(G / (1 - B) ** 2), "log_gamma": np.log10(G), "log_one_minus_beta":
              np.log10(1 - B), "log_eps": np.log10(G / (1 - B))}
    y = log_loss[valid]
    out = {"n_valid_cells": int(valid.sum()), "n_bins": n_bins}
    for name, z in coords.items():
        r2 = eta_squared(z[valid], y, n_bins) if y.size >= 2 else float("nan")
        out[f"r2_{name}"] = 0.0 if np.isnan(r2) else r2
    grid = np.where(valid, log_loss, np.nan)
    interp = RegularGridInterpolator((np.log10(gammas), -np.log10(1 - betas)), grid, bounds_error=False,
                                     fill_value=np.nan)
    means, variances, counts, used = [], [], [], []
    for lam in levels:
        x, yy = _line_points(gammas, betas, lam)
        vals = interp(np.column_stack([x, yy])) if x.size else np.array([])
        vals = vals[np.isfinite(vals)]
        if vals.size >= 3:
            means.append(vals.mean())
            variances.append(vals.var())
            counts.append(vals.size)
            used.append(float(lam))
    out["line_lams"] = used
    out["line_means"] = [float(m) for m in means]
    out["line_stds"] = [float(np.sqrt(v)) for v in variances]
    if len(means) >= 2:
        out["spread_along"] = float(np.sqrt(np.average(variances, weights=counts)))
        out["spread_across"] = float(np.std(means))
        out["spread_ratio"] = out["spread_along"] / out["spread_across"] if out["spread_across"] > 0 else \
            float("inf")
    else:
        out["spread_along"] = out["spread_across"] = out["spread_ratio"] = float("nan")
    out["n_lines_used"] = len(means)
    return out


class CellStatus:
    """Per-(γ, β)-cell masks of a result with ``status`` and ``crossed`` arrays of shape (G, Bt, R)."""

    @property
    def cell_diverged(self):
        """(G, Bt): some replication diverged."""
        return np.any(self.status == Status.DIVERGED, axis=-1)

    @property
    def cell_crossed(self):
        """(G, Bt): some non-diverged replication had w± change sign."""
        return np.any(self.crossed & (self.status != Status.DIVERGED), axis=-1)

    @property
    def cell_converged(self):
        """(G, Bt): every replication reached train loss < tol."""
        return np.all(self.status == Status.CONVERGED, axis=-1)
