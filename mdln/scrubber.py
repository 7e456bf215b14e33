"""Kernel-free sliders: frames precomputed over a parameter grid, scrubbed in the browser.

ipywidgets need a live kernel; in the rendered book they show only their first state. A scrubber
renders one matplotlib frame per slider value and embeds them with ``Animation.to_jshtml`` so a reader
of the static HTML can still move the slider. Its HTML carries random element ids and PNG bytes, so
notebook cells that display one start with ``# NBVAL_IGNORE_OUTPUT``; test the frames' data instead.
"""
from __future__ import annotations

import logging
import math
from typing import Callable, Sequence

__all__ = ["scrubber", "MAX_PAGE_MB"]

MAX_PAGE_MB = 5.0  # every page of the book stays under ~5 MB; one scrubber may use at most this


def scrubber(draw_frame: Callable, values: Sequence, *, figsize=(7.0, 3.2), dpi=72, interval=400):
    """Return an ``IPython.display.HTML`` scrubber: ``draw_frame(fig, value)`` draws one frame per value.

    Each frame is drawn on a cleared figure of ``figsize`` inches at ``dpi``; the slider steps through
    ``values`` in order and the play buttons advance one frame every ``interval`` milliseconds.
    Raises ``ValueError`` when the embedded frames would exceed ``MAX_PAGE_MB`` megabytes (rather than
    letting matplotlib silently drop frames).
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib import animation
    from IPython.display import HTML

    if not callable(draw_frame):
        raise ValueError("draw_frame must be a callable draw_frame(fig, value)")
    if isinstance(values, (str, bytes)):
        raise ValueError("values must be a sequence of slider values, not a string")
    values = list(values)
    if not values:
        raise ValueError("values must contain at least one slider value")
    try:
        w, h = (float(x) for x in figsize)
    except (TypeError, ValueError):
        raise ValueError(f"figsize must be a pair (width, height) of inches > 0, got {figsize!r}") from None
    if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
        raise ValueError(f"figsize must be a pair (width, height) of inches > 0, got {figsize!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 10 <= dpi <= 300:
        raise ValueError(f"dpi must be a number in [10, 300] (72 keeps pages small), got {dpi!r}")
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval > 0:
        raise ValueError(f"interval must be a number of milliseconds > 0, got {interval!r}")

    fig = plt.figure(figsize=(w, h), dpi=dpi)
    try:
        def update(i):
            fig.clf()
            draw_frame(fig, values[i])
            return []

        anim = animation.FuncAnimation(fig, update, frames=len(values), interval=interval, blit=False,
                                       repeat=False, cache_frame_data=False)
        with matplotlib.rc_context({"animation.embed_limit": MAX_PAGE_MB}):
            with _FrameLimitGuard() as guard:
                html = anim.to_jshtml(fps=1000.0 / interval, default_mode="once", embed_frames=True)
        if guard.truncated:
            raise ValueError(
                f"the {len(values)} frames exceed {MAX_PAGE_MB} MB: use fewer values, a smaller figsize or dpi")
    finally:
        plt.close(fig)
    return HTML(html)


class _FrameLimitGuard(logging.Handler):
    """Notice matplotlib's 'Animation size has reached ...' warning, which means frames were dropped."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.truncated = False
        self._logger = logging.getLogger("matplotlib.animation")

    def emit(self, record):
        if "Animation size has reached" in record.getMessage():
            self.truncated = True

    def __enter__(self):
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        self._logger.removeHandler(self)
        return False
