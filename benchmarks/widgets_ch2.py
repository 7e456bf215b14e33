"""Chapter 2 widget redraw latency: the γ/β slider and the ρ slider.

``cases()`` follows the interface of ``benchmarks/bench_widgets.py``: each case builds the ipywidget once
(not timed) and returns ``redraw(position)``, which moves its sliders with the widget's own ``move`` —
the frame (artists updated, blitted on Agg, PNG encoded), the λ/ε readout and the Image update.
Run alone: ``python benchmarks/widgets_ch2.py`` (the same as ``bench_widgets.py --only ch2``).
"""

import numpy as np


def _gamma_beta_positions():
    gammas = [10 ** x for x in np.linspace(-3, 0, 8)]
    return [(g, 0.9) for g in gammas] + [(0.01, b) for b in np.linspace(0.0, 0.98, 10)]


def _make_mgd_mgf():
    from mdln.figures.sec2 import mgd_mgf_widget
    box = mgd_mgf_widget()
    return lambda p: box.move(gamma=p[0], beta=p[1])


def _make_acceleration():
    from mdln.figures.sec2 import acceleration_widget
    box = acceleration_widget()
    return lambda rho: box.move(rho=rho)


def cases():
    """(name, target median ms, make_redraw, positions) per chapter 2 widget."""
    return [
        ("ch2 gamma/beta slider (MGD over MGF)", 100.0, _make_mgd_mgf, _gamma_beta_positions()),
        ("ch2 rho slider (acceleration rule)", 100.0, _make_acceleration, list(np.arange(1.0, 8.01, 0.5))),
    ]


if __name__ == "__main__":   # timing and reporting live once, in bench_widgets.py
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_widgets
    sys.exit(bench_widgets.main(["--only", "ch2"]))
