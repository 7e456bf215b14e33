"""Redraw latency of chapter 3's sliders: the Δ slider and the λ slider.

Interface of NOTES.md: ``cases()`` returns ``(name, target_median_ms, make_redraw, positions)``;
``make_redraw()`` builds the ipywidget once (not timed) and returns ``redraw(position)``, which moves its
slider with the widget's own ``move`` (move the artists, ``fig.canvas.draw()``, encode the PNG, readout).
Run directly: ``python benchmarks/widgets_ch3.py`` prints median and worst per widget.
"""

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from mdln.figures import sec3  # noqa: E402


def _make(builder, name, transform=lambda v: v):
    def make_redraw():
        box = builder()
        return lambda position: box.move(**{name: transform(position)})
    return make_redraw


def cases():
    """The Δ slider (log10 Δ over its 49 positions, scripted sweep of 25) and the λ slider (14 runs, ×2)."""
    deltas = [float(x) for x in np.round(np.arange(-8.0, 4.001, 0.5), 2)]
    lams = list(sec3.SLIDER_LAMS) + list(sec3.SLIDER_LAMS[::-1])
    return [
        ("ch3 Δ slider", 300.0, _make(sec3.delta_widget, "delta", lambda x: 10.0 ** x), deltas),
        ("ch3 λ slider", 300.0, _make(sec3.lambda_widget, "lam"), lams),
    ]


if __name__ == "__main__":   # timing and reporting live once, in bench_widgets.py
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_widgets
    sys.exit(bench_widgets.main(["--only", "ch3"]))
