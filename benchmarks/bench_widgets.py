"""Redraw latency of every ipywidget of the book, against its target.

Imports every ``benchmarks/widgets_ch*.py`` (written by the chapters; interface in the coordination notes):
``cases()`` returns ``(name, target_median_ms, make_redraw, positions)``; ``make_redraw()`` builds the
widget once (set-up, not timed) and returns ``redraw(position)``, which moves its sliders to that value
with the widget's own ``move`` (``mdln.widgets.slider``: draw the frame on Agg, PNG, λ/ε readout).

For each widget: one warm-up redraw at the first position (not timed), then one timed redraw per position
of the scripted sweep (``time.perf_counter``, callback plus drawing), repeated ``--repeat`` times. Prints
the median and the worst latency in ms against the target median (and against twice the target for the
worst, the rule for chapter 2: median <= 100 ms, worst <= 200 ms), and exits 0 whatever the
latencies; a module that fails to import or a redraw that raises is reported and makes the exit status 1.
Timings are noisy on a shared machine: compare numbers measured in one run.

Run: ``python benchmarks/bench_widgets.py [--only ch2] [--repeat 1] [--dir benchmarks]``.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def widget_modules(directory: Path = HERE, only: str | None = None) -> list[Path]:
    """The ``widgets_ch*.py`` files of ``directory``, sorted by chapter name."""
    files = sorted(Path(directory).glob("widgets_ch*.py"))
    return [f for f in files if only is None or only in f.stem]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"_bench_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def time_case(make_redraw, positions, repeat: int = 1) -> dict:
    """Set up once, warm up once, then time one redraw per position (``repeat`` sweeps); ms."""
    if len(positions) == 0:
        raise ValueError("positions must hold at least one slider position")
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    t0 = time.perf_counter()
    redraw = make_redraw()
    setup_ms = 1e3 * (time.perf_counter() - t0)
    t0 = time.perf_counter()
    redraw(positions[0])  # warm-up: the widget's first display (compilation, caches, first draw)
    warmup_ms = 1e3 * (time.perf_counter() - t0)
    times = []
    for _ in range(repeat):
        for p in positions:
            t0 = time.perf_counter()
            redraw(p)
            times.append(1e3 * (time.perf_counter() - t0))
    return dict(setup_ms=setup_ms, warmup_ms=warmup_ms, times_ms=times,
                median_ms=statistics.median(times), worst_ms=max(times), n=len(times))


def run(directory: Path = HERE, only: str | None = None, repeat: int = 1, out=sys.stdout) -> tuple[list, int]:
    """Time every case of every widget module; print one line per widget. Returns (rows, n_errors)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, errors = [], 0
    files = widget_modules(directory, only)
    if not files:
        print(f"no widgets_ch*.py in {directory}" + (f" matching {only!r}" if only else ""), file=out)
    header = (f"{'widget':<44s} {'median':>8s} {'worst':>8s}  {'target':>7s}  {'median':>6s} {'worst':>6s}"
              f"  {'n':>3s} {'set-up':>8s}")
    print(header + "\n" + f"{'':<44s} {'ms':>8s} {'ms':>8s}  {'ms':>7s}  {'ok?':>6s} {'<=2x?':>6s}", file=out)
    for path in files:
        try:
            cases = _load(path).cases()
        except Exception:
            errors += 1
            print(f"{path.name}: failed to import or list its cases:\n{traceback.format_exc()}", file=out)
            continue
        for name, target, make_redraw, positions in cases:
            try:
                r = time_case(make_redraw, list(positions), repeat)
            except Exception:
                errors += 1
                print(f"{name}: failed:\n{traceback.format_exc()}", file=out)
                continue
            finally:
                plt.close("all")
            r.update(name=name, target_ms=float(target), module=path.name,
                     median_ok=r["median_ms"] <= target, worst_ok=r["worst_ms"] <= 2 * target)
            rows.append(r)
            print(f"{name[:44]:<44s} {r['median_ms']:8.1f} {r['worst_ms']:8.1f}  {target:7.0f}  "
                  f"{'yes' if r['median_ok'] else 'NO':>6s} {'yes' if r['worst_ok'] else 'NO':>6s}  "
                  f"{r['n']:3d} {r['setup_ms']:7.0f}ms", file=out)
    if rows:
        n_ok = sum(r["median_ok"] for r in rows)
        print(f"{n_ok} of {len(rows)} widgets meet their median target "
              f"({sum(r['worst_ok'] for r in rows)} their worst <= 2x target)", file=out)
    return rows, errors


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Redraw latency of the book's widgets against their targets.")
    ap.add_argument("--only", help="only modules whose name contains this, e.g. ch2")
    ap.add_argument("--repeat", type=int, default=1, help="sweeps over the positions (default 1)")
    ap.add_argument("--dir", type=Path, default=HERE, help="folder holding widgets_ch*.py (default: here)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.dir.resolve().parent))  # the repository, so `import mdln` works
    _, errors = run(args.dir, args.only, args.repeat)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
