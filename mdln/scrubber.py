"""Kernel-free sliders: frames precomputed over a parameter grid, scrubbed in the browser.

ipywidgets need a live kernel; in the rendered book they show only their first state. A scrubber
renders one matplotlib frame per slider value and embeds them with ``Animation.to_jshtml`` so a reader
of the static HTML can still move the slider.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

__all__ = ["scrubber"]


def scrubber(draw_frame: Callable, values: Sequence, *, figsize=(7.0, 3.2), dpi=72, interval=400):
    """Return an ``IPython.display.HTML`` scrubber: ``draw_frame(fig, value)`` draws one frame per value."""
    import matplotlib.pyplot as plt
    from matplotlib import animation
    from IPython.display import HTML

    values = list(values)
    if not values:
        raise ValueError("values must contain at least one slider value")
    if not callable(draw_frame):
        raise ValueError("draw_frame must be a callable draw_frame(fig, value)")
    fig = plt.figure(figsize=figsize, dpi=dpi)

    def update(i):
        fig.clf()
        draw_frame(fig, values[i])
        return []

    anim = animation.FuncAnimation(fig, update, frames=len(values), interval=interval, blit=False)
    html = anim.to_jshtml(default_mode="once", embed_frames=True)
    plt.close(fig)
    return HTML(html)
