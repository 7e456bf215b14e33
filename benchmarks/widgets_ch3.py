"""Redraw latency of chapter 3's sliders (issue 14): the Δ slider and the λ slider.

Interface of NOTES.md: ``cases()`` returns ``(name, target_median_ms, make_redraw, positions)``;
``make_redraw()`` builds the figure once (not timed) and returns ``redraw(position)``, which runs the same
callback as the ipywidget (move the artists, ``fig.canvas.draw()``, encode the PNG the widget shows).
Run directly: ``python benchmarks/widgets_ch3.py`` prints median and worst per widget.
"""
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mdln import fig_sec3  # noqa: E402


def _make(view, figsize, transform=lambda v: v):
    def make_redraw():
        fig = fig_sec3._agg_figure(figsize)
        update = view(fig)

        def redraw(position):
            update(transform(position))
            fig.canvas.draw()
            fig_sec3._png(fig)
        return redraw
    return make_redraw


def cases():
    """The Δ slider (log10 Δ over its 49 positions, scripted sweep of 25) and the λ slider (14 runs, ×2)."""
    deltas = [float(x) for x in np.round(np.arange(-8.0, 4.001, 0.5), 2)]
    lams = list(fig_sec3._SLIDER_LAMS) + list(fig_sec3._SLIDER_LAMS[::-1])
    return [
        ("ch3 Δ slider", 300.0, _make(fig_sec3.delta_view, (8.6, 3.4)), deltas),
        ("ch3 λ slider", 300.0, _make(fig_sec3.lambda_view, (9.0, 5.8)), lams),
    ]


def main():
    for name, target, make, positions in cases():
        redraw = make()
        redraw(positions[0])   # warm-up, not timed
        ts = []
        for p in positions:
            t0 = time.perf_counter()
            redraw(p)
            ts.append(1e3 * (time.perf_counter() - t0))
        print(f"{name:14s} median {np.median(ts):6.0f} ms  worst {max(ts):6.0f} ms  (target median ≤ {target:.0f} ms)")


if __name__ == "__main__":
    main()
