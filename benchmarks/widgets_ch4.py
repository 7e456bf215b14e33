"""Chapter 4 widget latency cases for ``benchmarks/bench_widgets.py``.

``cases()`` returns ``(name, target_median_ms, make_redraw, positions)``. ``make_redraw()`` builds the
(γ, β) explorer once (Figure 4 at book fidelity from the disk cache, the 2×2 figure; not timed) and
returns ``redraw(position)``, which moves the widget's sliders with its own ``move``: ``SMGDFrame.update``
(one budgeted ``train_mgd`` and ``set_data``), ``fig.canvas.draw()`` on Agg, the PNG and the readout.
The scripted sweep visits 16 distinct (γ, β) positions, so the run cache never answers.
Run alone: ``python benchmarks/widgets_ch4.py`` prints median and worst latency.
"""
from __future__ import annotations


import numpy as np

TARGET_MS = 300.0


def _positions():
    gs = np.geomspace(1e-3, 10 ** -0.5, 16)
    bs = np.linspace(0.0, 0.95, 16)[::-1]
    return [(float(g), float(b)) for g, b in zip(gs, bs)]


def make_redraw():
    """Build the explorer once; return redraw((γ, β)) = the widget's own move (frame, PNG, readout)."""
    import matplotlib
    matplotlib.use("Agg")
    from mdln.figures import sec4 as sec4
    res4 = sec4.fig4()
    sec4._widget_run.cache_clear()
    box = sec4.smgd_widget(res4, show=False)   # builds the frame and draws it at (0.01, 0.5): warm-up
    return lambda p: box.move(gamma=p[0], beta=p[1])


def cases():
    """The chapter 4 (γ, β) explorer: target median 300 ms."""
    return [("ch4 (γ, β) explorer", TARGET_MS, make_redraw, _positions())]


if __name__ == "__main__":   # timing and reporting live once, in bench_widgets.py
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_widgets
    sys.exit(bench_widgets.main(["--only", "ch4"]))
