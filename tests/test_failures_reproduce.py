"""Writing a figure's files (npz, png, json) that fails half-way keeps the previous complete file and leaves
no temporary file behind."""
import os
from pathlib import Path

import numpy as np
import pytest

from mdln.figures.sec2 import Fig1Config


@pytest.mark.parametrize("which", ["npz", "png", "json"])
def test_interrupted_writes_leave_no_truncated_file(tmp_path, monkeypatch, which):
    import matplotlib.figure
    import matplotlib.pyplot as plt
    from mdln import figures
    from mdln.__main__ import reproduce_one

    class Tiny:   # a figure that computes in no time: what matters here is how its files are written
        def __init__(self, config, progress=False):
            self.config = config

        def arrays(self):
            return {"x": np.arange(1000.0)}

        def summary(self):
            return {"sum": 499500.0}

        def plot(self):
            fig, ax = plt.subplots(figsize=(2, 2))
            ax.plot(np.arange(10.0))
            return fig

    tiny = figures.FigureSpec(name="fig1", fn=Tiny, config=Fig1Config, title="tiny", seconds={}, module="test")
    monkeypatch.setattr(figures, "get_figure", lambda name: tiny)
    out = tmp_path / "out"
    out.mkdir()
    reproduce_one("fig1", "test", str(out))
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def partial(target):
        fh = open(target, "wb") if isinstance(target, (str, os.PathLike)) else target
        fh.write(b"partial")
        fh.flush()
        raise OSError(28, "No space left on device")

    if which == "npz":
        monkeypatch.setattr(np, "savez_compressed", lambda file, *a, **k: partial(file))
    elif which == "png":
        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda self, fname, *a, **k: partial(fname))
    else:
        monkeypatch.setattr(Path, "write_text", lambda self, data, *a, **k: partial(self))
    with pytest.raises(OSError, match="No space"):
        reproduce_one("fig1", "test", str(out))
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after[f"fig1.{which}"] == before[f"fig1.{which}"]    # the old complete file, not a truncated one
    assert set(after) == set(before)                            # no temporary file left behind
