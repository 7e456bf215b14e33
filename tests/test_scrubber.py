"""The kernel-free scrubber: one embedded PNG frame per slider value, drawn in order, figure closed."""
import base64
import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest

from mdln.widgets import COLUMN_PX, MAX_PAGE_MB, MIN_TEXT_PX, displayed_text_px, scrubber

_FRAME = re.compile(r'frames\[(\d+)\] = "data:image/png;base64,([^"]*)"')


def _frames(html):
    """Decoded RGBA arrays of the embedded frames, in slider order."""
    found = sorted((int(i), data) for i, data in _FRAME.findall(html))
    assert [i for i, _ in found] == list(range(len(found)))
    return [mpimg.imread(io.BytesIO(base64.b64decode(d.replace("\\\n", ""))), format="png") for _, d in found]


def _draw_level(fig, value):
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axhline(value, color="k", lw=4)
    ax.set_ylim(0, 1)
    ax.set_axis_off()


def test_one_frame_per_value_drawn_in_order():
    calls = []

    def draw(fig, value):
        calls.append(value)
        assert fig.axes == []  # every frame starts on a cleared figure
        _draw_level(fig, value)

    values = [0.1, 0.5, 0.9]
    html = scrubber(draw, values, figsize=(3.0, 2.0), dpi=40).data
    frames = _frames(html)
    assert len(frames) == len(values)
    assert [v for v in calls if v in values][-len(values):] == values
    h, w = frames[0].shape[:2]
    assert (w, h) == (120, 80)  # figsize × dpi
    # the drawn line sits at the height given by each value: frame content follows the slider value
    rows = [np.argmin(f[:, w // 2, :3].sum(axis=1)) for f in frames]
    assert rows[0] > rows[1] > rows[2]
    for row, v in zip(rows, values):
        assert abs((1 - row / h) - v) < 0.05
    # the slider spans exactly the frames and the page embeds no other image
    assert re.search(r'type="range"', html)
    assert html.count("data:image/png;base64") == len(values)


def test_figure_is_closed_and_not_leaked():
    before = set(plt.get_fignums())
    scrubber(_draw_level, [0.2, 0.4], figsize=(2.0, 2.0), dpi=30)
    assert set(plt.get_fignums()) == before


def test_frames_are_small_at_default_dpi():
    html = scrubber(_draw_level, np.linspace(0.1, 0.9, 12)).data
    assert len(html) < 1.0e6  # 12 simple frames at the default dpi 100: well under a megabyte


def test_too_many_bytes_is_an_error_not_silently_dropped_frames():
    rng = np.random.default_rng(0)

    def noisy(fig, value):  # incompressible frames
        fig.figimage(rng.random((400, 400, 3)))

    with pytest.raises(ValueError, match="MB"):
        scrubber(noisy, range(int(MAX_PAGE_MB * 12)), figsize=(400 / 72, 400 / 72), dpi=72)


def test_draw_frame_errors_propagate():
    def broken(fig, value):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        scrubber(broken, [1, 2])


@pytest.mark.parametrize("kwargs,name", [
    (dict(draw_frame=None), "draw_frame"),
    (dict(values=[]), "values"),
    (dict(values="abc"), "values"),
    (dict(figsize=(0, 2)), "figsize"),
    (dict(figsize=3), "figsize"),
    (dict(dpi=0), "dpi"),
    (dict(dpi=True), "dpi"),
    (dict(interval=-5), "interval"),
])
def test_bad_arguments(kwargs, name):
    args = dict(draw_frame=_draw_level, values=[0.5])
    args.update(kwargs)
    draw_frame, values = args.pop("draw_frame"), args.pop("values")
    with pytest.raises(ValueError, match=name):
        scrubber(draw_frame, values, **args)


def _draw_labelled(fig, value):
    ax = fig.add_subplot(111)
    ax.plot([0, 1], [0, value])
    ax.set_title(f"value {value}", fontsize=12)
    ax.tick_params(labelsize=10)


def test_default_frames_are_legible_in_the_column():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no legibility warning at the defaults
        out = scrubber(_draw_labelled, [0.2, 0.8])
    h, w = _frames(out.data)[0].shape[:2]
    assert w == 700 and w <= COLUMN_PX  # 7 in at dpi 100: shown at its natural width
    # 10 pt tick labels at dpi 100, not shrunk: 10 * 100 / 72 px
    assert out.smallest_text_px == pytest.approx(10 * 100 / 72)
    assert out.smallest_text_px >= MIN_TEXT_PX


def test_a_wide_low_dpi_frame_warns_with_its_displayed_size():
    # the old chapter 4 scrubber: 14 in at dpi 60 = 840 px natural, shrunk to the column
    with pytest.warns(UserWarning, match=r"7\.7 px"):
        out = scrubber(_draw_labelled, [0.5], figsize=(14, 3.4), dpi=60)
    assert out.smallest_text_px == pytest.approx(10 * 60 / 72 * COLUMN_PX / 840)
    assert displayed_text_px(10, 14, 60) == pytest.approx(out.smallest_text_px)
    # shrinking only applies to frames wider than the column; bigger fonts fix a small dpi
    assert displayed_text_px(10, 7, 60) == pytest.approx(10 * 60 / 72)
    assert displayed_text_px(7, 9, 100) == pytest.approx(7 * 100 / 72 * COLUMN_PX / 900)


# ------------------------------------------------------------------------ scrubber2d: the (γ, β) grid
_URIS = re.compile(r"var F = (\[.*?\]), K = (\[.*?\]\]), G = (\[.*?\]), B = (\[.*?\]);", re.S)


def _grid(html):
    """(frames as RGBA arrays, index grid K, gammas, betas) of a scrubber2d's HTML."""
    import json
    m = _URIS.search(html)
    uris, index, gammas, betas = (json.loads(x) for x in m.groups())
    frames = []
    for uri in uris:
        head, data = uri.split(",", 1)
        assert head in ("data:image/png;base64", "data:image/jpeg;base64")
        frames.append(np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"), float))
    return frames, index, gammas, betas


from PIL import Image  # noqa: E402

from mdln.momentum import lam  # noqa: E402
from mdln.widgets import _number_text, scrubber2d  # noqa: E402


def _lam_bar(gamma, beta):
    """A frame whose only content is a bar at height log10 λ: equal λ, identical frames."""
    fig = plt.figure(figsize=(2.0, 1.5))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axhline(np.log10(lam(gamma, beta)), color="k", lw=3)
    ax.set_ylim(-3, 3)
    ax.set_axis_off()
    return fig


def test_scrubber2d_one_frame_per_grid_pair_following_lambda():
    gammas, betas = [0.01, 0.04, 0.25], [0.0, 0.5, 0.8]
    out = scrubber2d(_lam_bar, gammas, betas, dpi=40)
    frames, index, g, b = _grid(out.data)
    assert (g, b) == (gammas, betas) and len(index) == 3 and all(len(r) == 3 for r in index)
    # the bar's row in each frame is at log10 λ(γ, β): the frame shown for (i, j) is that pair's
    h = frames[0].shape[0]
    for i, gam in enumerate(gammas):
        for j, bet in enumerate(betas):
            f = frames[index[i][j]]
            row = np.argmin(f[:, f.shape[1] // 2].sum(axis=1))
            assert abs((3 - np.log10(lam(gam, bet))) / 6 * h - row) <= 2
    # pairs with the same λ draw the same picture and share one embedded frame
    n_lams = len({round(float(lam(gam, bet)), 12) for gam in gammas for bet in betas})
    assert len(frames) == n_lams == 6
    # λ = 0.04, 0.25 and 1 each come from two pairs
    assert index[1][0] == index[0][1] and index[2][0] == index[0][2] and index[1][2] == index[2][1]
    assert index[1][1] != index[0][0]


def test_scrubber2d_readout_starts_at_the_first_pair_and_the_page_is_self_contained():
    out = scrubber2d(_lam_bar, [0.01, 0.1], [0.5, 0.9], dpi=30)
    html = out.data
    # first pair (0.01, 0.5): λ = 0.04, ε = 0.02
    assert '<span class="mdln-s2d-lam">0.04</span>' in html
    assert '<span class="mdln-s2d-eps">0.02</span>' in html
    assert html.count('type="range"') == 2 and html.count("<script>") == 1
    assert "http" not in html and "src=\"//" not in html  # no CDN, no request leaves the page
    assert out.n_bytes == sum(len(u) for u in re.findall(r'"(data:image/[^"]*)"', html.split("var F = ")[1]
                                                         .split("], K =")[0]))
    # every element id of the widget carries the instance's id; two calls never share one
    other = scrubber2d(_lam_bar, [0.01, 0.1], [0.5, 0.9], dpi=30)
    assert out.element_id != other.element_id
    assert f'id="{out.element_id}"' in html and f'getElementById("{out.element_id}")' in html
    assert re.findall(r'\bid="([^"]+)"', html) == [out.element_id]


def test_scrubber2d_number_text_matches_its_javascript_format():
    # JavaScript: a >= 1e4 or a < 1e-3 -> x.toExponential(2) without '+'; else Number(x.toPrecision(4))
    cases = {0.0: "0", 0.5: "0.5", 0.97: "0.97", 1.0: "1", 1111.11: "1111", 0.001: "0.001",
             0.0123456: "0.01235", 2.5e-5: "2.50e-5", 12345.0: "1.23e4", 400.0: "400"}
    for x, text in cases.items():
        assert _number_text(x) == text


def test_scrubber2d_closes_every_figure():
    before = set(plt.get_fignums())
    scrubber2d(_lam_bar, [0.01, 0.02], [0.0, 0.5], dpi=30)
    assert set(plt.get_fignums()) == before


def test_scrubber2d_jpeg_only_when_smaller():
    rng = np.random.default_rng(1)

    def photo(gamma, beta):  # a noisy photograph-like image: JPEG is smaller than PNG
        fig = plt.figure(figsize=(2, 2))
        y, x = np.mgrid[0:100, 0:100] / 100
        fig.figimage(np.dstack([x, y, x * y]) + 0.1 * rng.random((100, 100, 3)), norm=None, resize=True)
        return fig

    assert "data:image/jpeg" in scrubber2d(photo, [0.1], [0.5], dpi=50).data
    assert "data:image/jpeg" not in scrubber2d(_lam_bar, [0.1], [0.5], dpi=50).data


def test_scrubber2d_size_limit_is_an_error():
    rng = np.random.default_rng(2)

    def noisy(gamma, beta):
        fig = plt.figure(figsize=(3, 3))
        fig.figimage(rng.random((300, 300, 3)))
        return fig

    with pytest.raises(ValueError, match="max_mb"):
        scrubber2d(noisy, [0.1, 0.2, 0.3], [0.0, 0.5], dpi=100, max_mb=0.3)


@pytest.mark.parametrize("kwargs,exc,name", [
    (dict(draw_frame=None), ValueError, "draw_frame"),
    (dict(gammas=[]), ValueError, "gammas"),
    (dict(gammas=[0.0, 0.1]), ValueError, "gammas"),
    (dict(gammas=[0.1, float("nan")]), ValueError, "gammas"),
    (dict(gammas=[0.2, 0.1]), ValueError, "increasing"),
    (dict(gammas="ab"), ValueError, "gammas"),
    (dict(betas=[0.5, 1.0]), ValueError, "betas"),
    (dict(betas=[-0.1]), ValueError, "betas"),
    (dict(dpi=5), ValueError, "dpi"),
    (dict(max_mb=0), ValueError, "max_mb"),
    (dict(draw_frame=lambda g, b: b"png"), TypeError, "Figure"),
])
def test_scrubber2d_bad_arguments(kwargs, exc, name):
    args = dict(draw_frame=_lam_bar, gammas=[0.1], betas=[0.5])
    args.update(kwargs)
    with pytest.raises(exc, match=name):
        scrubber2d(args.pop("draw_frame"), args.pop("gammas"), args.pop("betas"), **args)


def test_scrubber2d_is_a_lazy_name():
    import mdln
    assert mdln.scrubber2d is scrubber2d
