"""The book's sliders (presentation layer): live ipywidgets and kernel-free scrubbers.

``slider(draw_frame, **controls)`` is the one live-slider builder of the book: each keyword becomes an
ipywidgets slider (``linear``, ``log`` or ``choice``), moving one calls ``draw_frame(**values)`` and shows
the PNG it returns (or the matplotlib figure it returns, drawn on Agg) in an ``Image`` widget, beside a
readout that shows λ = γ/(1−β)² and ε = γ/(1−β) (Proposition 1) live whenever the controls are γ and β.
Figures stay fast by moving their artists in place (``set_data``) and, when most of the picture is fixed,
redrawing only those artists over a cached background (``BlitPNG``).

Kernel-free sliders: ipywidgets need a live kernel; in the rendered book they show only their first state.
A scrubber renders one matplotlib frame per slider value and embeds them with ``Animation.to_jshtml`` so a
reader of the static HTML can still move the slider. Its HTML carries random element ids and PNG bytes, so
notebook cells that display one carry the cell tag ``nbval-ignore-output``; test the frames' data instead.
``scrubber2d(draw_frame, gammas, betas)`` is the two-slider case: one frame per (γ, β) of a grid, two range
inputs and a readout of λ = γ/(1−β)² and ε = γ/(1−β) in a few lines of plain JavaScript.

Legibility: the frames are shown at their natural width (``figsize[0] * dpi`` pixels) or shrunk to the
book's text column (``COLUMN_PX``). The default (7 in at dpi 100, matplotlib's 10 pt text) shows text at
about 14 px; a scrubber whose smallest text would show below ``MIN_TEXT_PX`` warns (the warning is stored
with the cell's output, where the browser test reports it), so a wide figure at a low dpi cannot slip in.

matplotlib, PIL and ipywidgets are imported inside the functions that use them; this module never imports
``mdln.figures`` (figure modules import it).
"""
from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .momentum import lam, step

__all__ = ["slider", "Control", "linear", "log", "choice", "lam_eps_text", "agg_figure", "png_bytes", "BlitPNG",
           "scrubber", "MAX_PAGE_MB", "COLUMN_PX", "MIN_TEXT_PX", "displayed_text_px", "scrubber2d",
           "MAX_SCRUBBER2D_MB"]

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



# ------------------------------------------------------------------------ the two-slider (γ, β) scrubber
MAX_SCRUBBER2D_MB = 3.0  # one (γ, β) scrubber's embedded frames stay under this (a page under ~3 MB)


def _number_text(x: float) -> str:
    """``x`` to 4 significant digits, as the scrubber's JavaScript ``num`` writes it (1e-5 form outside
    [1e-3, 1e4))."""
    a = abs(x)
    if a != 0 and (a >= 1e4 or a < 1e-3):
        mant, exp = f"{x:.2e}".split("e")
        return f"{mant}e{int(exp)}"
    return repr(float(f"{x:.4g}")).removesuffix(".0")


def _check_axis(name: str, values, inside: Callable, allowed: str) -> list:
    """``values`` as a list of strictly increasing floats in the allowed range; ValueError naming it."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise ValueError(f"{name} must be a sequence of numbers {allowed}, got {values!r}")
    out = list(values)
    if not out:
        raise ValueError(f"{name} must contain at least one value {allowed}")
    if not all(_real(v) and inside(v) for v in out):
        raise ValueError(f"{name} must be finite numbers {allowed}, got {out!r}")
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"{name} must be strictly increasing (the slider's order), got {out!r}")
    return [float(v) for v in out]


def _frame_uri(fig, dpi: float) -> str:
    """The figure as a data URI: a PNG, or a JPEG (quality 90) when that is smaller."""
    import base64
    import io
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    png = buf.getvalue()
    jbuf = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(jbuf, format="jpeg", quality=90, optimize=True)
    kind, data = ("jpeg", jbuf.getvalue()) if jbuf.tell() < len(png) else ("png", png)
    return f"data:image/{kind};base64," + base64.b64encode(data).decode("ascii")


_SCRUBBER2D_JS = """(function () {
  var root = document.getElementById("%(id)s");
  var F = %(frames)s, K = %(index)s, G = %(gammas)s, B = %(betas)s;
  var img = root.querySelector("img");
  var g = root.querySelector(".mdln-s2d-g"), b = root.querySelector(".mdln-s2d-b");
  function num(x) {
    var a = Math.abs(x);
    if (a !== 0 && (a >= 1e4 || a < 1e-3)) return x.toExponential(2).replace("e+", "e");
    return String(Number(x.toPrecision(4)));
  }
  function put(cls, x) { root.querySelector(".mdln-s2d-" + cls).textContent = num(x); }
  function show() {
    var i = +g.value, j = +b.value, gam = G[i], bet = B[j];
    img.src = F[K[i][j]];
    img.setAttribute("data-frame", i + "," + j);
    put("gamma", gam); put("beta", bet);
    put("lam", gam / ((1 - bet) * (1 - bet))); put("eps", gam / (1 - bet));
  }
  g.addEventListener("input", show); b.addEventListener("input", show);
  show();
})();"""


def _scrubber2d_html(uid, uris, index, gammas, betas, alt) -> str:
    """The scrubber's HTML: the first frame, two range inputs, the readout and its plain-JS script."""
    import html
    import json

    g0, b0 = gammas[0], betas[0]
    row = "display:flex;align-items:center;gap:0.5em;flex-wrap:wrap;margin:0.2em 0"

    def control(cls, letter, n):
        return (f'<label style="{row}"><span style="min-width:1.5em">{letter}</span>'
                f'<input type="range" class="mdln-s2d-{cls}" min="0" max="{n - 1}" step="1" value="0" '
                f'aria-label="{letter}" style="flex:1 1 10em;min-width:8em;max-width:24em"></label>')
    readout = (f'<div class="mdln-s2d-readout" style="font-family:inherit;margin:0.2em 0">'
               f'γ = <span class="mdln-s2d-gamma">{_number_text(g0)}</span>, '
               f'β = <span class="mdln-s2d-beta">{_number_text(b0)}</span> → '
               f'<b>λ = γ/(1−β)² = <span class="mdln-s2d-lam">{_number_text(lam(g0, b0))}</span></b>, '
               f'ε = γ/(1−β) = <span class="mdln-s2d-eps">{_number_text(step(g0, b0))}</span></div>')
    script = _SCRUBBER2D_JS % dict(id=uid, frames=json.dumps(uris), index=json.dumps(index),
                                   gammas=json.dumps(gammas), betas=json.dumps(betas))
    return (f'<div id="{uid}" class="mdln-scrubber2d" data-gammas="{html.escape(json.dumps(gammas))}" '
            f'data-betas="{html.escape(json.dumps(betas))}" style="max-width:100%">'
            f'{control("g", "γ", len(gammas))}{control("b", "β", len(betas))}{readout}'
            f'<img src="{uris[index[0][0]]}" alt="{html.escape(alt)}" data-frame="0,0" '
            f'style="max-width:100%;height:auto;display:block">'
            f'<script>{script}</script></div>')


def scrubber2d(draw_frame: Callable, gammas: Sequence[float], betas: Sequence[float], *, dpi=100,
               max_mb: float = MAX_SCRUBBER2D_MB, alt: str = "MGD(γ, β) frame"):
    """A kernel-free two-slider (γ, β) scrubber: ``draw_frame(gamma, beta)`` → Figure, one per grid pair.

    Every frame of the ``len(gammas) × len(betas)`` grid is drawn once, saved at ``dpi`` (PNG, or JPEG
    when smaller; identical frames stored once) and closed; the HTML shows two range inputs and a live
    readout of γ, β, λ = γ/(1−β)² and ε = γ/(1−β) = √(λγ) (Proposition 1) in plain JavaScript (no CDN,
    no kernel). Element ids are unique per call. Raises ``ValueError`` naming the argument for bad
    grids (γ > 0, β ∈ [0, 1), strictly increasing) or when the frames exceed ``max_mb`` megabytes, and
    ``TypeError`` when ``draw_frame`` does not return a matplotlib Figure.
    The result (an ``IPython.display.HTML``) also carries ``element_id``, ``n_bytes``,
    ``smallest_text_px`` and the grids.
    """
    import uuid

    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from IPython.display import HTML

    if not callable(draw_frame):
        raise ValueError("draw_frame must be a callable draw_frame(gamma, beta) -> matplotlib Figure")
    gammas = _check_axis("gammas", gammas, lambda v: v > 0, "> 0 (step sizes γ)")
    betas = _check_axis("betas", betas, lambda v: 0 <= v < 1, "in [0, 1) (momentum β)")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 10 <= dpi <= 300:
        raise ValueError(f"dpi must be a number in [10, 300], got {dpi!r}")
    if not (_real(max_mb) and max_mb > 0):
        raise ValueError(f"max_mb must be a number of megabytes > 0, got {max_mb!r}")

    uris, seen, index, smallest = [], {}, [], math.inf
    n_bytes = 0
    for g in gammas:
        row = []
        for b in betas:
            fig = draw_frame(g, b)
            if not isinstance(fig, Figure):
                raise TypeError(f"draw_frame({g:g}, {b:g}) must return a matplotlib Figure, "
                                f"got {type(fig).__name__}")
            try:
                uri = _frame_uri(fig, dpi)
                px = displayed_text_px(_smallest_fontsize(fig), fig.get_figwidth(), dpi)
            finally:
                plt.close(fig)
            smallest = min(smallest, px)
            if uri not in seen:
                seen[uri] = len(uris)
                uris.append(uri)
                n_bytes += len(uri)
                if n_bytes > max_mb * 1e6:
                    raise ValueError(f"the {len(gammas)} × {len(betas)} frames exceed max_mb = {max_mb:g} "
                                     f"MB: use a coarser grid, a smaller figure or a lower dpi")
            row.append(seen[uri])
        index.append(row)
    uid = f"mdln-s2d-{uuid.uuid4().hex[:12]}"
    out = HTML(_scrubber2d_html(uid, uris, index, gammas, betas, alt))
    out.element_id, out.n_bytes, out.smallest_text_px = uid, n_bytes, smallest
    out.gammas, out.betas = tuple(gammas), tuple(betas)
    if smallest < MIN_TEXT_PX:
        warnings.warn(f"scrubber2d: its smallest text is shown {smallest:.1f} px tall in the {COLUMN_PX} "
                      f"px column, below {MIN_TEXT_PX:g} px: use a narrower figure or larger fonts",
                      stacklevel=2)
    return out


# ------------------------------------------------------------------------------------ live sliders
def agg_figure(figsize, dpi=100):
    """A matplotlib Figure on its own Agg canvas, outside pyplot (never auto-displayed inline)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig):
    """PNG bytes of an Agg figure as last drawn (no second draw; fast zlib level)."""
    import io
    import numpy as np
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).save(buf, format="png", compress_level=1)
    return buf.getvalue()


class BlitPNG:
    """PNG of a figure whose static part (contours, axes, ticks, legends) is drawn once and cached:
    each call restores that background and draws only the ``dynamic`` artists (Agg blitting)."""

    def __init__(self, fig, dynamic):
        self.fig, self.dynamic, self.background = fig, list(dynamic), None

    def __call__(self):
        canvas = self.fig.canvas
        if self.background is None:
            for a in self.dynamic:
                a.set_visible(False)
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
            for a in self.dynamic:
                a.set_visible(True)
        canvas.restore_region(self.background)
        for a in self.dynamic:
            self.fig.draw_artist(a)
        return png_bytes(self.fig)


_LABELS = dict(gamma="γ", beta="β", rho="ρ", delta="Δ", lam="λ", alpha="α", eps="ε")


@dataclass(frozen=True)
class Control:
    """One slider: a linear or log range with a ``step`` (log: in decades) or a list of ``options``."""
    kind: str                       # "linear", "log" or "choice"
    value: Any
    min: float = math.nan
    max: float = math.nan
    step: float = math.nan
    options: tuple = ()
    label: str | None = None        # shown left of the slider; default: the keyword's Greek letter
    readout: bool = True            # show the slider's own value (off when the readout text says it)


def linear(min, max, step, value, label=None, readout=True) -> Control:
    """A slider over [min, max] in steps of ``step``, starting at ``value``."""
    return Control("linear", value, min, max, step, label=label, readout=readout)


def log(min, max, step, value, label=None, readout=True) -> Control:
    """A log slider over [min, max] (both > 0) in steps of ``step`` decades, starting at ``value``."""
    return Control("log", value, min, max, step, label=label, readout=readout)


def choice(options, value, label=None, readout=True) -> Control:
    """A slider over the listed ``options`` (e.g. precomputed runs), starting at ``value``."""
    return Control("choice", value, options=tuple(options), label=label, readout=readout)


def _real(x):
    return not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x)


def _check_control(name: str, spec) -> Control:
    """``spec`` as a valid Control; ValueError naming the control otherwise."""
    if isinstance(spec, tuple) and len(spec) == 4:
        spec = linear(*spec)
    if not isinstance(spec, Control):
        raise ValueError(f"control {name!r} must be linear(min, max, step, value), log(...), choice(options, "
                         f"value) or a tuple (min, max, step, value), got {spec!r}")
    if spec.kind == "choice":
        if not spec.options:
            raise ValueError(f"control {name!r}: options must list at least one value")
        if spec.value not in spec.options:
            raise ValueError(f"control {name!r}: value {spec.value!r} is not one of its options")
        return spec
    if spec.kind not in ("linear", "log"):
        raise ValueError(f"control {name!r}: kind must be 'linear', 'log' or 'choice', got {spec.kind!r}")
    lo, hi, st, v = spec.min, spec.max, spec.step, spec.value
    if not (_real(lo) and _real(hi) and lo < hi):
        raise ValueError(f"control {name!r}: min < max must be finite numbers, got min={lo!r}, max={hi!r}")
    if spec.kind == "log" and not lo > 0:
        raise ValueError(f"control {name!r}: a log slider needs min > 0, got min={lo!r}")
    span = math.log10(hi / lo) if spec.kind == "log" else hi - lo
    if not (_real(st) and 0 < st <= span):
        raise ValueError(f"control {name!r}: step must be in (0, {span:g}]"
                         f"{' decades' if spec.kind == 'log' else ''}, got {st!r}")
    if not (_real(v) and lo <= v <= hi):
        raise ValueError(f"control {name!r}: value must be in [{lo:g}, {hi:g}], got {v!r}")
    return spec


def _widget(name: str, c: Control, continuous_update: bool):
    """The ipywidgets slider of one control."""
    import ipywidgets as w
    label = c.label or _LABELS.get(name, name)
    common = dict(description=label, readout=c.readout, continuous_update=continuous_update)
    if c.kind == "choice":
        return w.SelectionSlider(options=list(c.options), value=c.value, **common)
    if c.kind == "log":
        return w.FloatLogSlider(value=c.value, base=10, min=math.log10(c.min), max=math.log10(c.max),
                                step=c.step, readout_format=".3g", **common)
    return w.FloatSlider(value=c.value, min=c.min, max=c.max, step=c.step, **common)


def lam_eps_text(gamma, beta) -> str:
    """The live readout of an MGD(γ, β) slider: λ = γ/(1−β)² and ε = γ/(1−β) (Proposition 1)."""
    return f"<b>λ = γ/(1−β)² = {lam(gamma, beta):.4g}</b>, ε = γ/(1−β) = {step(gamma, beta):.4g}"


def _as_png(out):
    """What ``draw_frame`` returned, as PNG bytes: the bytes themselves, or a figure drawn on Agg."""
    if isinstance(out, (bytes, bytearray)):
        return bytes(out)
    if hasattr(out, "canvas") and hasattr(out.canvas, "buffer_rgba"):
        out.canvas.draw()
        return png_bytes(out)
    raise TypeError(f"draw_frame must return PNG bytes or a matplotlib Figure on Agg, got {type(out).__name__}")


def slider(draw_frame: Callable, *, readout: Callable | None = None, continuous_update: bool = False,
           **controls):
    """An ipywidgets box: one slider per keyword of ``controls``, a readout and the frame as an Image.

    ``controls`` are ``linear(...)``, ``log(...)``, ``choice(...)`` or tuples ``(min, max, step, value)``;
    each move calls ``draw_frame(**values)``, which returns PNG bytes or a matplotlib Figure (drawn here).
    The readout shows ``readout(**values)`` (HTML), by default λ = γ/(1−β)² and ε = γ/(1−β) when the
    controls include ``gamma`` and ``beta``. The box has ``controls`` (name → slider), ``readout_html``,
    ``image`` and ``move(**values)`` (set several sliders, redraw once).
    Raises ``ValueError`` naming the control when a range, step, value or option is invalid.
    """
    import ipywidgets as w

    if not callable(draw_frame):
        raise ValueError("draw_frame must be a callable draw_frame(**values)")
    if not controls:
        raise ValueError("controls: give at least one slider, e.g. gamma=log(1e-3, 1, 0.05, 0.01)")
    specs = {name: _check_control(name, spec) for name, spec in controls.items()}
    if readout is None and {"gamma", "beta"} <= specs.keys():
        def readout(**v):
            return lam_eps_text(v["gamma"], v["beta"])
    if readout is not None and not callable(readout):
        raise ValueError(f"readout must be None or a callable readout(**values) -> str, got {readout!r}")
    sliders = {name: _widget(name, c, continuous_update) for name, c in specs.items()}
    info = w.HTML()
    image = w.Image(format="png", layout=w.Layout(max_width="100%", height="auto"))
    holding = [False]

    def redraw(change=None):
        if holding[0]:
            return
        values = {name: s.value for name, s in sliders.items()}
        if readout is not None:
            info.value = readout(**values)
        image.value = _as_png(draw_frame(**values))

    def move(**values):
        unknown = set(values) - set(sliders)
        if unknown:
            raise ValueError(f"move: no control named {sorted(unknown)}; controls are {sorted(sliders)}")
        holding[0] = True
        try:
            for name, v in values.items():
                sliders[name].value = v
        finally:
            holding[0] = False
        redraw()

    for s in sliders.values():
        s.observe(redraw, names="value")
    redraw()
    box = w.VBox([w.HBox(list(sliders.values())), info, image])
    box.controls, box.readout_html, box.image, box.move = sliders, info, image, move
    return box
