"""mdln.widgets.slider, the book's one live-slider builder, driven without a browser (set ``.value``)."""
import io
import re

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

ipywidgets = pytest.importorskip("ipywidgets")
from PIL import Image  # noqa: E402

from mdln import widgets as W  # noqa: E402


def _pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def _figure_frame(calls):
    """A draw_frame that draws a bar of height gamma·10 on its own Agg figure and returns the figure."""
    fig = W.agg_figure((3.0, 2.0), dpi=50)
    ax = fig.add_subplot()
    (bar,) = ax.plot([0, 1], [0, 0], lw=6)
    ax.set_ylim(0, 10)

    def draw(**values):
        calls.append(values)
        bar.set_ydata([0, 10 * values["gamma"]])
        return fig
    return draw


def test_controls_become_sliders_with_their_ranges():
    box = W.slider(lambda **v: b"\x89PNG", gamma=W.log(1e-3, 1.0, 0.05, 0.01),
                   beta=W.linear(0.0, 0.98, 0.01, 0.9), lam=W.choice((0.01, 0.1, 1.0), 0.1, readout=False),
                   rho=(1.0, 8.0, 0.5, 2.0))
    g, b, la, r = (box.controls[k] for k in ("gamma", "beta", "lam", "rho"))
    assert isinstance(g, ipywidgets.FloatLogSlider) and (g.min, g.max, g.step, g.base) == (-3.0, 0.0, 0.05, 10)
    assert g.value == pytest.approx(0.01) and g.description == "γ"
    assert isinstance(b, ipywidgets.FloatSlider) and (b.min, b.max, b.step, b.value) == (0.0, 0.98, 0.01, 0.9)
    assert b.description == "β" and b.continuous_update is False
    assert isinstance(la, ipywidgets.SelectionSlider) and la.options == (0.01, 0.1, 1.0) and la.value == 0.1
    assert la.readout is False and la.description == "λ"
    assert isinstance(r, ipywidgets.FloatSlider) and (r.min, r.max, r.value) == (1.0, 8.0, 2.0)
    # sliders on top, then the readout, then the picture
    assert list(box.children[0].children) == [g, b, la, r]
    assert box.children[1] is box.readout_html and box.children[2] is box.image


def test_moving_a_control_redraws_and_updates_the_lambda_eps_readout():
    calls = []
    box = W.slider(_figure_frame(calls), gamma=W.log(1e-3, 1.0, 0.05, 0.01), beta=W.linear(0.0, 0.98, 0.01, 0.9))
    assert calls == [dict(gamma=pytest.approx(0.01), beta=0.9)]        # the first frame, drawn at build time
    png0 = box.image.value
    box.controls["gamma"].value = 0.04
    assert calls[-1] == dict(gamma=0.04, beta=0.9) and len(calls) == 2
    box.controls["beta"].value = 0.5
    assert calls[-1] == dict(gamma=0.04, beta=0.5) and len(calls) == 3
    # λ = γ/(1−β)² and ε = γ/(1−β), recomputed here for (0.04, 0.5): 0.16 and 0.08
    text = box.readout_html.value
    lam_txt = re.search(r"λ = γ/\(1−β\)² = ([0-9.e+-]+)", text).group(1)
    eps_txt = re.search(r"ε = γ/\(1−β\) = ([0-9.e+-]+)", text).group(1)
    assert float(lam_txt) == pytest.approx(0.04 / 0.5 ** 2, rel=1e-3)
    assert float(eps_txt) == pytest.approx(0.04 / 0.5, rel=1e-3)
    # the picture is the figure as drawn for the new γ: a PNG whose pixels differ from the first frame
    assert box.image.value[:8] == b"\x89PNG\r\n\x1a\n" and box.image.value != png0
    # move() sets several controls and draws once
    box.move(gamma=0.1, beta=0.0)
    assert calls[-1] == dict(gamma=0.1, beta=0.0) and len(calls) == 4
    assert "= 0.1</b>" in box.readout_html.value
    with pytest.raises(ValueError, match="rho"):
        box.move(rho=2.0)


def test_custom_readout_and_no_readout():
    box = W.slider(lambda delta: b"png:%g" % delta, readout=lambda delta: f"Δ = {delta:.3g}",
                   delta=W.log(1e-8, 1e4, 0.25, 1e-4, readout=False))
    assert box.readout_html.value == "Δ = 0.0001" and box.image.value == b"png:0.0001"
    box.controls["delta"].value = 10.0
    assert box.readout_html.value == "Δ = 10" and box.image.value == b"png:10"
    box = W.slider(lambda rho: b"x", rho=(1.0, 8.0, 0.5, 2.0))     # no γ, β and no readout: empty text
    assert box.readout_html.value == ""


@pytest.mark.parametrize("controls,name", [
    (dict(gamma=W.log(0.0, 1.0, 0.05, 0.01)), "gamma"),             # log range must be > 0
    (dict(beta=W.linear(0.0, 0.98, 0.01, 1.5)), "beta"),            # value outside [min, max]
    (dict(beta=W.linear(1.0, 0.0, 0.01, 0.5)), "beta"),             # min >= max
    (dict(rho=W.linear(1.0, 8.0, 0.0, 2.0)), "rho"),                # step must be > 0
    (dict(rho=W.linear(1.0, 8.0, 9.0, 2.0)), "rho"),                # step larger than the range
    (dict(rho=W.linear(1.0, float("nan"), 0.5, 2.0)), "rho"),       # not finite
    (dict(lam=W.choice((), 0.1)), "lam"),                           # no options
    (dict(lam=W.choice((0.01, 1.0), 0.1)), "lam"),                  # value not an option
    (dict(gamma=(1e-3, 1.0)), "gamma"),                             # a tuple needs (min, max, step, value)
    (dict(gamma="0.01"), "gamma"),
])
def test_bad_controls_raise_naming_the_parameter(controls, name):
    with pytest.raises(ValueError, match=f"'{name}'"):
        W.slider(lambda **v: b"", **controls)


def test_bad_builder_arguments():
    with pytest.raises(ValueError, match="draw_frame"):
        W.slider(None, gamma=W.log(1e-3, 1.0, 0.05, 0.01))
    with pytest.raises(ValueError, match="controls"):
        W.slider(lambda: b"")
    with pytest.raises(ValueError, match="readout"):
        W.slider(lambda rho: b"", readout="λ", rho=(1.0, 8.0, 0.5, 2.0))
    with pytest.raises(TypeError, match="PNG bytes or a matplotlib Figure"):
        W.slider(lambda rho: 42, rho=(1.0, 8.0, 0.5, 2.0))


def test_blitted_png_equals_a_full_draw():
    """BlitPNG redraws only the moving artists over a cached background: same pixels as a full draw."""
    fig = W.agg_figure((3.0, 2.0), dpi=60)
    ax = fig.add_subplot()
    ax.contour(*np.meshgrid(np.linspace(-1, 1, 20), np.linspace(-1, 1, 20)),
               np.add.outer(np.linspace(-1, 1, 20) ** 2, np.linspace(-1, 1, 20) ** 2), levels=5)
    (dots,) = ax.plot([], [], "o")
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    png = W.BlitPNG(fig, [dots])
    frames = []
    for x in (-0.5, 0.5):
        dots.set_data([x, x / 2], [0.2, -0.3])
        frames.append(png())
        fig.canvas.draw()
        np.testing.assert_array_equal(_pixels(frames[-1]), _pixels(W.png_bytes(fig)))
    assert frames[0] != frames[1]
