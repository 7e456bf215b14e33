"""Command line: ``python -m mdln list`` and ``python -m mdln reproduce FIGURE|all``.

Regenerates any figure of the paper from the terminal, writing for each figure
``<out>/<name>.png`` (the figure), ``<out>/<name>.npz`` (raw numbers, with the config embedded as
JSON) and ``<out>/<name>.json`` (the measured claims, the config and the wall time).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

EPILOG = """examples:
  python -m mdln list
  python -m mdln reproduce fig1 --out results/
  python -m mdln reproduce fig4 --fidelity paper --out results/
  python -m mdln reproduce all --fidelity book --jobs 2 --out results/

fidelity: 'test' runs in seconds (smoke test), 'book' uses the sizes shown in the book,
'paper' the paper's (5 replications, paper grids, up to 10^6 epochs).
Results are cached on disk (keyed by every parameter); --no-cache recomputes."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit code 2."""

    def error(self, message):
        self.exit(2, f"mdln: error: {message} (see 'python -m mdln --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m mdln`` argument parser."""
    p = _Parser(prog="python -m mdln", description="Reproduce the figures of 'Leveraging Continuous Time to "
                "Understand Momentum When Training Diagonal Linear Networks' (AISTATS 2024).",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="{list,reproduce}", parser_class=_Parser)
    sub.required = True
    sub.add_parser("list", help="list the figures, what each shows and its expected running time")
    r = sub.add_parser("reproduce", help="compute and save one figure (or all)", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("figure", help="figure name as listed by 'python -m mdln list' (e.g. fig4), or 'all'")
    r.add_argument("--fidelity", default="book", help="test, book (default) or paper")
    r.add_argument("--out", default="results", help="output folder (created if missing; default: results/)")
    r.add_argument("--no-cache", action="store_true", help="ignore and do not write the on-disk cache")
    r.add_argument("--jobs", type=int, default=1, help="processes to use when reproducing several figures")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _fmt_seconds(s):
    if s is None:
        return "?"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min"


def cmd_list(out=None):
    """Print the registry: name, what it shows, expected running time per fidelity."""
    from .figures import FIDELITIES, registry
    out = sys.stdout if out is None else out
    reg = registry()
    print(f"{'figure':<8} {'test':>7} {'book':>7} {'paper':>7}  what it shows", file=out)
    for name, spec in reg.items():
        times = " ".join(f"{_fmt_seconds(spec.seconds.get(f)):>7}" for f in FIDELITIES)
        print(f"{name:<8} {times}  {spec.title}", file=out)
    print("(expected wall times on a 2-core machine with an empty cache)", file=out)


def _jsonable(obj):
    import numpy as np
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return repr(obj)
    return obj


def reproduce_one(name: str, fidelity: str, out: str, progress: bool = False) -> dict:
    """Compute figure ``name`` at ``fidelity`` and write its PNG, NPZ and JSON into ``out``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from .figures import get_figure

    spec = get_figure(name)
    config = spec.make_config(fidelity)
    t0 = time.perf_counter()
    result = spec.fn(config, progress=progress)
    seconds = time.perf_counter() - t0
    outdir = Path(out)
    config_json = json.dumps(_jsonable(asdict(config)), sort_keys=True)
    arrays = {k: np.asarray(v) for k, v in result.arrays().items()}
    np.savez_compressed(outdir / f"{name}.npz", config_json=np.array(config_json), fidelity=np.array(fidelity),
                        **arrays)
    fig = result.plot()
    fig.savefig(outdir / f"{name}.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    summary = {"figure": name, "title": spec.title, "fidelity": fidelity, "wall_seconds": round(seconds, 3),
               "config": json.loads(config_json), "claims": _jsonable(result.summary())}
    (outdir / f"{name}.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def cmd_reproduce(args) -> int:
    """Validate the arguments, then reproduce the requested figures."""
    from .figures import FIDELITIES, registry
    reg = registry()
    if args.figure != "all" and args.figure not in reg:
        return _fail(f"unknown figure {args.figure!r}; choose one of: {', '.join(reg)}, all")
    if args.fidelity not in FIDELITIES:
        return _fail(f"unknown fidelity {args.fidelity!r}; choose one of: {', '.join(FIDELITIES)}")
    if args.jobs < 1:
        return _fail(f"--jobs must be an integer >= 1, got {args.jobs}")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".mdln-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return _fail(f"cannot write to --out {str(out)!r}: {exc.strerror or exc}")
    if args.no_cache:
        os.environ["MDLN_NO_CACHE"] = "1"
    names = list(reg) if args.figure == "all" else [args.figure]
    show = not args.quiet
    from tqdm import tqdm
    summaries = []
    if args.jobs > 1 and len(names) > 1:
        from concurrent.futures import ProcessPoolExecutor, as_completed
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futs = {pool.submit(reproduce_one, n, args.fidelity, str(out), False): n for n in names}
            for fut in tqdm(as_completed(futs), total=len(futs), desc="figures", disable=not show):
                summaries.append(fut.result())
    else:
        for n in tqdm(names, desc="figures", disable=not show or len(names) == 1):
            summaries.append(reproduce_one(n, args.fidelity, str(out), progress=show))
    for s in sorted(summaries, key=lambda s: s["figure"]):
        print(f"{s['figure']}: {s['wall_seconds']:.1f} s -> {out / s['figure']}.{{png,npz,json}}")
    return 0


def _fail(message) -> int:
    print(f"mdln: error: {message}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    """Entry point of ``python -m mdln``."""
    args = build_parser().parse_args(argv)
    if args.command == "list":
        cmd_list()
        return 0
    return cmd_reproduce(args)


if __name__ == "__main__":
    sys.exit(main())
