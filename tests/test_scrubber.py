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
