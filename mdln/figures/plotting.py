"""Plotting helpers shared by the figures: the (γ, β) heatmap of Figures 2, 4, 6, 7 and the Theorem 2 maps.

One :func:`heatmap` draws a grid result stored as ``values[i_γ, j_β]`` (the one layout of :mod:`mdln.grid`)
with the λ = γ/(1−β)² level lines, hatched diverged cells, greyed (or dotted) cells that stopped at the step
cap, and sign-change dots, in one of two coordinate systems:

* ``coords="beta"`` (Section 4, Figures 4 and 7, the Theorem 2 maps): x = β (linear), y = γ (log); the
  λ lines are curves, labelled ``λ = 10^k`` at every decade (horizontal, outlined, inside the axes);
* ``coords="omb"`` (Section 2 / Appendix F.1, Figures 2 and 6): x = log₁₀γ, y = −log₁₀(1−β), where the λ
  lines are straight; they are drawn at the given ``lam_levels`` and labelled ``λ={λ:g}``.

House style: text ≥ 9 pt (titles 10 pt) for the ~780 px text column; Okabe–Ito accent colours.
"""
from __future__ import annotations

import numpy as np

from ..status import Status

__all__ = ["heatmap", "result_heatmap", "plain_heatmap", "cell_edges", "outlined", "CAPPED_FACE", "DIVERGED_PATCH"]

CAPPED_FACE = (0.88, 0.88, 0.88, 0.8)   # cells stopped at the step/epoch cap: greyed, dotted hatch
DIVERGED_PATCH = dict(facecolor="0.8", edgecolor="0.3", hatch="///")   # legend patch of diverged cells

# per coordinate system: how diverged / capped cells, the colour bar and the axes are drawn
_STYLE = {
    "beta": dict(diverged=dict(DIVERGED_PATCH, lw=0), background=None, cbar=dict(shrink=0.95), cbar_ticks=9),
    "omb": dict(diverged=dict(fill=False, hatch="///", edgecolor="0.45", linewidth=0.0), background="0.82",
                cbar={}, cbar_ticks=None),
}


def cell_edges(centres, log=False):
    """Cell edges around grid centres: midpoints inside, half a cell beyond each end (in log₁₀ if ``log``)."""
    c = np.log10(centres) if log else np.asarray(centres, float)
    mid = 0.5 * (c[1:] + c[:-1])
    e = np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])
    return 10 ** e if log else e


def heatmap(ax, gammas, betas, values, title, *, diverged, capped=None, crossed=None, coords="beta",
            lam_levels=None, valid=None, cmap="viridis", vmin=None, vmax=None, colorbar=True, cbar_label=None,
            capped_style="grey", line_colour="w", marker=None):
    """One (γ, β) heatmap of ``values`` (G, Bt) with λ level lines and the non-converged cells marked.

    ``diverged``/``capped``/``crossed`` are (G, Bt) masks: diverged cells are hatched; capped cells are
    greyed with a dotted hatch (``capped_style="grey"``) or hidden with a dot (``"dot"``); crossed cells
    (w± changed sign) get a white dot. ``valid`` (a mask) sets the colour range from those cells, with
    arrows on the colour bar for values beyond it. ``marker`` = (γ, β) adds a star. Returns the mesh.
    """
    from matplotlib.patches import Rectangle
    if coords not in _STYLE:
        raise ValueError(f"coords must be 'beta' or 'omb', got {coords!r}")
    style = _STYLE[coords]
    values = np.asarray(values, float)
    diverged = np.asarray(diverged, bool)
    hide = diverged | ~np.isfinite(values) if coords == "omb" else ~np.isfinite(values)
    cap = np.zeros_like(diverged) if capped is None else np.asarray(capped, bool) & ~diverged
    if capped_style == "dot":
        hide = hide | cap
    extend = "neither"
    if valid is not None:
        ok = np.asarray(valid, bool) & np.isfinite(values)
        vmin, vmax = (values[ok].min(), values[ok].max()) if ok.any() else (None, None)
        shown = values[~hide]
        if ok.any() and np.any(shown > vmax):
            extend = "max"
        if ok.any() and np.any(shown < vmin):
            extend = "both" if extend == "max" else "min"
    if coords == "beta":
        xe, ye = cell_edges(betas), cell_edges(gammas, log=True)
        X, Y = np.meshgrid(betas, gammas)
        C = np.ma.masked_where(hide, values)
        cell = lambda gi, bj: ((xe[bj], ye[gi]), xe[bj + 1] - xe[bj], ye[gi + 1] - ye[gi])
    else:
        x, y = np.log10(gammas), -np.log10(1 - np.asarray(betas, float))
        xe, ye = cell_edges(x), cell_edges(y)
        X, Y = np.meshgrid(x, y, indexing="ij")
        C = np.ma.masked_where(hide, values).T
        cell = lambda gi, bj: ((xe[gi], ye[bj]), xe[gi + 1] - xe[gi], ye[bj + 1] - ye[bj])
    if style["background"] is not None:
        ax.set_facecolor(style["background"])
    mesh = ax.pcolormesh(xe, ye, C, cmap=cmap, shading="flat", vmin=vmin, vmax=vmax)
    if colorbar:
        kw = dict(style["cbar"], extend=extend) if extend != "neither" or coords == "omb" else dict(style["cbar"])
        if cbar_label is not None:
            kw["label"] = cbar_label
        cb = ax.figure.colorbar(mesh, ax=ax, **kw)
        if style["cbar_ticks"]:
            cb.ax.tick_params(labelsize=style["cbar_ticks"])
    for gi, bj in zip(*np.nonzero(diverged)):
        ax.add_patch(Rectangle(*cell(gi, bj), **style["diverged"]))
    cap_shown = cap & np.isfinite(values)   # NaN cells show the axes colour
    if capped_style == "grey":
        for gi, bj in zip(*np.nonzero(cap_shown)):
            ax.add_patch(Rectangle(*cell(gi, bj), facecolor=CAPPED_FACE, edgecolor="0.35", hatch="..", lw=0))
    elif capped_style == "dot":
        ax.plot(X[cap], Y[cap], ".", color="0.3", ms=3, ls="none")
    if crossed is not None:
        cr = np.asarray(crossed, bool) & ~diverged
        ax.plot(X[cr], Y[cr], "o", color="w", ms=3.5, mec="k", mew=0.5)
    _lambda_lines(ax, xe, ye, coords, lam_levels, line_colour)
    if marker is not None:
        ax.plot([marker[1]], [marker[0]], "*", color="#D55E00", ms=14, mec="k")
    _axes(ax, xe, ye, coords)
    ax.set_title(title, fontsize=10)
    return mesh


def plain_heatmap(ax, gammas, betas, values, title, marker=None, cmap="viridis", colorbar=True, labels=True):
    """A light (γ, β) heatmap (β on x, γ on y): flat cells (NaN left white), λ lines, an optional star."""
    xe, ye = cell_edges(betas), cell_edges(gammas, log=True)
    mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(np.asarray(values, float)), cmap=cmap, shading="flat")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, shrink=0.95).ax.tick_params(labelsize=9)
    _lambda_lines(ax, xe, ye, "beta", None, "w", labels=labels)
    if marker is not None:
        ax.plot([marker[1]], [marker[0]], "*", color="#D55E00", ms=14, mec="k", zorder=7)
    _axes(ax, xe, ye, "beta")
    ax.set_title(title, fontsize=10)
    return mesh


def _lambda_lines(ax, xe, ye, coords, levels, colour, labels=True):
    """λ = γ/(1−β)² level lines: contours at every decade ("beta"), straight lines at ``levels`` ("omb")."""
    if coords == "beta":
        BB, GG = np.meshgrid(np.linspace(xe[0], xe[-1], 200), np.geomspace(ye[0], ye[-1], 200))
        L = np.log10(GG / (1 - BB) ** 2)
        lv = np.arange(np.ceil(L.min()), np.floor(L.max()) + 1)
        ax.contour(BB, GG, L, levels=lv, colors=colour, linewidths=0.9, linestyles="--")
        if labels:
            _label_lambda_lines(ax, xe, ye, lv, colour)
        return
    for lam in levels if levels is not None else ():
        yy = np.linspace(ye[0], ye[-1], 100)
        xx = np.log10(lam) - 2 * yy
        ok = (xx >= xe[0]) & (xx <= xe[-1])
        if ok.sum() < 2:
            continue
        ax.plot(xx[ok], yy[ok], "--", color="white", lw=1.2)
        k = np.flatnonzero(ok)[int(0.65 * ok.sum())]
        ax.text(xx[k], yy[k], f"λ={lam:g}", color="white", fontsize=9, ha="left", va="bottom")


def outlined(colour):
    """Path effects that outline text in the contrasting colour (white on dark, black on light)."""
    from matplotlib import patheffects
    from matplotlib.colors import to_rgb
    light = sum(to_rgb(colour)) / 3 > 0.5
    return [patheffects.withStroke(linewidth=2.6, foreground="k" if light else "w")]


def _label_spots(xe, ye, levels, size):
    """Axes-fraction spots (fx, fy) for the labels of the λ = 10^k lines, inside the axes, not overlapping.

    A label is written to the left of its line; ``size(k)`` gives its (width, height) in axes fractions.
    Among the points of the line where the whole label fits inside the axes, the one farthest from the edges
    whose box overlaps no label already placed wins. Levels whose line barely enters the axes get None.
    """
    b = np.linspace(xe[0], min(xe[-1], 1 - 1e-9), 600)      # λ lines live at β < 1
    fx = (b - xe[0]) / (xe[-1] - xe[0])   # axes fractions
    lo, hi = np.log10(ye[0]), np.log10(ye[-1])
    spots, boxes = [], []
    for k in levels:
        w, h = size(k)
        fy = (k + 2 * np.log10(1 - b) - lo) / (hi - lo)
        inside = (fx - w > 0.01) & (fx < 0.99) & (fy - h / 2 > 0.01) & (fy + h / 2 < 0.99)
        if inside.sum() < 3:
            spots.append(None)
            continue
        px, py = fx[inside], fy[inside]
        score = np.minimum.reduce([px - w, 0.99 - px, py - h / 2, 0.99 - py + 0 * px])
        for (x0, x1, y0, y1) in boxes:
            ox = np.clip(np.minimum(px, x1) - np.maximum(px - w, x0), 0, None)
            oy = np.clip(np.minimum(py + h / 2, y1) - np.maximum(py - h / 2, y0), 0, None)
            score = score - 50 * ox * oy - 10 * ((ox > 0) & (oy > 0))
        i = int(np.argmax(score))
        boxes.append((px[i] - w - 0.02, px[i] + 0.02, py[i] - h / 2 - 0.02, py[i] + h / 2 + 0.02))
        spots.append((px[i], py[i]))
    return spots


def _label_lambda_lines(ax, xe, ye, levels, colour):
    """λ = 10^k labels, horizontal, outlined, just left of their line and inside the axes."""
    lo, hi = np.log10(ye[0]), np.log10(ye[-1])
    pos, fig = ax.get_position(), ax.figure
    width_in, height_in = pos.width * fig.get_figwidth(), pos.height * fig.get_figheight()
    text = lambda k: f"λ = {10.0 ** k:g}"
    size = lambda k: ((len(text(k)) * 0.6 * 9 / 72 + 0.05) / width_in, 1.4 * 9 / 72 / height_in)
    for k, spot in zip(levels, _label_spots(xe, ye, levels, size)):
        if spot is None:
            continue
        beta = xe[0] + spot[0] * (xe[-1] - xe[0])
        gamma = 10 ** (lo + spot[1] * (hi - lo))
        ax.annotate(text(k), (beta, gamma), xytext=(-3, 0), textcoords="offset points", ha="right",
                    va="center", fontsize=9, color=colour, path_effects=outlined(colour), zorder=6)


def _axes(ax, xe, ye, coords):
    """Axis scales, limits, ticks and labels of the two coordinate systems."""
    if coords == "beta":
        ax.set_yscale("log")
        ax.set_xlabel(r"momentum $\beta$")
        ax.set_ylabel(r"step size $\gamma$")
        return
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    xt = np.arange(np.ceil(xe[0]), np.floor(xe[-1]) + 1)
    ax.set_xticks(xt, [f"$10^{{{int(t)}}}$" for t in xt])
    bt = [b for b in (0.0, 0.5, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999) if ye[0] <= -np.log10(1 - b) <= ye[-1]]
    ax.set_yticks([-np.log10(1 - b) for b in bt], [f"{b:g}" for b in bt])
    ax.set_xlabel("step size γ")
    ax.set_ylabel("momentum β")


def result_heatmap(ax, res, values, title, marker=None, cmap="viridis", vmin=None, vmax=None, grey_capped=True,
                   capped=None, colorbar=True, line_colour="w"):
    """:func:`heatmap` (β on x, γ on y) of a grid result: ``gammas``, ``betas``, a (G, Bt, R) ``status`` and the
    :class:`mdln.grid.CellStatus` masks (Figure 4, Figure 7, :class:`mdln.experiments.theorems.Theorem2Check`)."""
    if capped is None:
        capped = np.any(np.asarray(res.status) == Status.STEP_CAP, axis=-1)
    return heatmap(ax, res.gammas, res.betas, values, title, diverged=res.cell_diverged, capped=capped,
                   crossed=res.cell_crossed, cmap=cmap, vmin=vmin, vmax=vmax, colorbar=colorbar,
                   capped_style="grey" if grey_capped else None, line_colour=line_colour, marker=marker)
