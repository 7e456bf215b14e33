"""Kernel-free sliders: frames precomputed over a parameter grid, scrubbed in the browser.

ipywidgets need a live kernel; in the rendered book they show only their first state. A scrubber
renders one matplotlib frame per slider value and embeds them with ``Animation.to_jshtml`` so a reader
of the static HTML can still move the slider. Its HTML carries random element ids and PNG bytes, so
notebook cells that display one carry the cell tag ``nbval-ignore-output``; test the frames' data instead.

Legibility: the frames are shown at their natural width (``figsize[0] * dpi`` pixels) or shrunk to the
book's text column (``COLUMN_PX``). The default (7 in at dpi 100, matplotlib's 10 pt text) shows text at
about 14 px; a scrubber whose smallest text would show below ``MIN_TEXT_PX`` warns (the warning is stored
with the cell's output, where the browser test reports it), so a wide figure at a low dpi cannot slip in.
"""
from __future__ import annotations

import logging
import math
import warnings
from typing import Callable, Sequence

__all__ = ["scrubber", "MAX_PAGE_MB", "COLUMN_PX", "MIN_TEXT_PX", "displayed_text_px"]

MAX_PAGE_MB = 5.0  # every page of the book stays under ~5 MB; one scrubber may use at most this
COLUMN_PX = 780    # width of the book's text column at a 1400 px window (sphinx-book-theme)
MIN_TEXT_PX = 9.0  # the smallest text of a frame, as displayed, must be at least this tall


def displayed_text_px(fontsize_pt: float, width_in: float, dpi: float, column_px: float = COLUMN_PX) -> float:
    """Height in screen pixels of ``fontsize_pt`` text on a ``width_in``-inch frame at ``dpi``, as shown.

    A frame wider than the column is shrunk to it, so its text shrinks in proportion.
    """
    natural = width_in * dpi
    return fontsize_pt * dpi / 72.0 * min(1.0, column_px / natural)


def _smallest_fontsize(fig) -> float:
    """The smallest font size (pt) of the visible, non-empty text of a drawn ``fig``."""
    from matplotlib.text import Text

    def shown(t):
        return t.get_visible() and t.get_text().strip() and (t.axes is None or t.axes.get_visible())
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if shown(t)]
    return min(sizes) if sizes else math.inf


def scrubber(draw_frame: Callable, values: Sequence, *, figsize=(7.0, 3.2), dpi=100, interval=400):
    """Return an ``IPython.display.HTML`` scrubber: ``draw_frame(fig, value)`` draws one frame per value.

    Each frame is drawn on a cleared figure of ``figsize`` inches at ``dpi``; the slider steps through
    ``values`` in order and the play buttons advance one frame every ``interval`` milliseconds.
    Raises ``ValueError`` when the embedded frames would exceed ``MAX_PAGE_MB`` megabytes (rather than
    letting matplotlib silently drop frames). Warns when the smallest text of a frame would be shown
    below ``MIN_TEXT_PX`` pixels (see ``displayed_text_px``); the result's ``smallest_text_px`` says
    how large it is shown.
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
        raise ValueError(f"dpi must be a number in [10, 300] (100 with a figure <= 7.8 in wide reads well), "
                         f"got {dpi!r}")
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval > 0:
        raise ValueError(f"interval must be a number of milliseconds > 0, got {interval!r}")

    fig = plt.figure(figsize=(w, h), dpi=dpi)
    smallest_pt = [math.inf]
    try:
        def update(i):
            if i > 0:  # frame i - 1 has been drawn and saved: its tick labels hold their text now
                smallest_pt[0] = min(smallest_pt[0], _smallest_fontsize(fig))
            fig.clf()
            draw_frame(fig, values[i])
            return []

        anim = animation.FuncAnimation(fig, update, frames=len(values), interval=interval, blit=False,
                                       repeat=False, cache_frame_data=False)
        with matplotlib.rc_context({"animation.embed_limit": MAX_PAGE_MB}):
            with _FrameLimitGuard() as guard:
                html = anim.to_jshtml(fps=1000.0 / interval, default_mode="once", embed_frames=True)
        smallest_pt[0] = min(smallest_pt[0], _smallest_fontsize(fig))  # the last frame, drawn
        if guard.truncated:
            raise ValueError(
                f"the {len(values)} frames exceed {MAX_PAGE_MB} MB: use fewer values, a smaller figsize or dpi")
    finally:
        plt.close(fig)
    out = HTML(html)
    out.smallest_text_px = displayed_text_px(smallest_pt[0], w, dpi)
    if out.smallest_text_px < MIN_TEXT_PX:
        warnings.warn(
            f"scrubber: its smallest text ({smallest_pt[0]:g} pt on a {w:g} in wide frame at dpi {dpi:g}) is "
            f"shown {out.smallest_text_px:.1f} px tall in the {COLUMN_PX} px column, below {MIN_TEXT_PX:g} px: "
            f"use a figure at most {COLUMN_PX / 100:.1f} in wide at dpi 100, or larger fonts", stacklevel=2)
    return out


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
