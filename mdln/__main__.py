"""Command line: ``python -m mdln list``, ``reproduce FIGURE|all`` and ``claims``.

Regenerates any figure of the paper from the terminal, writing for each figure
``<out>/<name>.png`` (the figure), ``<out>/<name>.npz`` (raw numbers, with the config embedded as
JSON) and ``<out>/<name>.json`` (the measured quantities, the config and the wall time), and
``<out>/claims.json``: the paper's claims that figure measures (``reproduce all``: every claim), each
with its computed verdict (:mod:`mdln.claims`), the code key of every experiment module they read and
the date. ``python -m mdln claims --fidelity F --out PATH`` evaluates the claims only.
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
  python -m mdln claims --fidelity test --out claims.json

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
    sub = p.add_subparsers(dest="command", metavar="{list,reproduce,claims}", parser_class=_Parser)
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
    c = sub.add_parser("claims", help="evaluate the paper's claims (computed verdicts), write them as JSON",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--fidelity", default="book", help="test, book (default) or paper")
    c.add_argument("--out", default="claims.json", help="JSON file to write (default: claims.json)")
    c.add_argument("--names", nargs="*", default=None, metavar="NAME",
                   help="only these claims (default: all)")
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


def _atomic_write(path: Path, write) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    An interrupted run never leaves a truncated result: either the old file or the complete new one.
    The temporary name carries the process group id so the parent can remove leftovers of a killed worker.
    """
    tmp = path.with_name(f".{path.name}.{os.getpgrp()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


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
    result = spec.run(config, progress=progress)
    seconds = time.perf_counter() - t0
    outdir = Path(out)
    config_json = json.dumps(_jsonable(asdict(config)), sort_keys=True)
    arrays = {k: np.asarray(v) for k, v in result.arrays().items()}

    def write_npz(tmp):
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, config_json=np.array(config_json), fidelity=np.array(fidelity), **arrays)

    _atomic_write(outdir / f"{name}.npz", write_npz)
    fig = spec.draw(result)
    try:
        _atomic_write(outdir / f"{name}.png", lambda tmp: fig.savefig(tmp, format="png", dpi=120,
                                                                      bbox_inches="tight"))
    finally:
        plt.close(fig)
    summary = {"figure": name, "title": spec.title, "fidelity": fidelity, "wall_seconds": round(seconds, 3),
               "config": json.loads(config_json), "claims": _jsonable(result.summary())}
    text = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    _atomic_write(outdir / f"{name}.json", lambda tmp: tmp.write_text(text))
    return summary


def _worker(name, fidelity, out, progress, conn, cwd=None, env=None):
    """Child process: one figure, in its own process group; sends back ('ok', summary) or an error.

    Started by a fork server (a clean process: forking a parent whose OpenMP threads already ran is
    unsafe), so it takes the parent's working folder and MDLN_* settings explicitly.
    """
    import signal
    import traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        os.setpgrp()
    except OSError:
        pass
    if cwd is not None:
        os.chdir(cwd)
    if env is not None:
        for key in [k for k in os.environ if k.startswith("MDLN_")]:
            del os.environ[key]
        os.environ.update(env)
    try:
        try:
            msg = ("ok", reproduce_one(name, fidelity, out, progress))
        except BaseException as exc:   # noqa: BLE001 - reported to the parent, which prints it
            msg = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
        conn.send(msg)
    except OSError:   # the parent is gone (it stopped the run): nothing to report to
        pass
    finally:
        conn.close()


class _Interrupted(Exception):
    """SIGINT or SIGTERM reached the parent process."""


def _stop(children) -> None:
    """Kill every running child's process group (the figure and any pool it started) and reap it."""
    import signal
    for proc, _conn, _name in children:
        for kill, target in ((os.killpg, proc.pid), (os.kill, proc.pid)):
            try:
                kill(target, signal.SIGKILL)
                break
            except (ProcessLookupError, PermissionError):
                continue
    for proc, conn, _name in children:
        proc.join(timeout=5)
        conn.close()


def _remove_leftovers(out: Path, pgids) -> None:
    """Temporary files of killed workers (output folder and cache): tagged with the worker's group id."""
    from .cache import remove_stale_temporaries
    for pgid in pgids:
        for tmp in out.glob(f".*.{pgid}.tmp"):
            tmp.unlink(missing_ok=True)
    remove_stale_temporaries(pgids)


def _stamp(path: Path):
    """(inode, mtime) of ``path`` or None: tells whether a worker replaced it."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def _run(names, fidelity, out: Path, jobs: int, show: bool, stop: list):
    """Reproduce ``names`` in up to ``jobs`` child processes; returns (summaries, error or None).

    SIGINT/SIGTERM only append to ``stop`` (see ``cmd_reproduce``); the loop polls it at least every 0.1 s,
    so no exception can strike between starting a worker and recording it.
    """
    import multiprocessing as mp
    from multiprocessing import forkserver
    from multiprocessing.connection import wait
    from tqdm import tqdm

    from mdln.__main__ import _worker as target   # importable by name, also under ``python -m mdln``
    ctx = mp.get_context("forkserver")
    # the server (hence every worker) leaves our process group first: a Ctrl-C to the group reaches only us
    ctx.set_forkserver_preload(["mdln._fork_group", "mdln.__main__", "mdln.figures", "numpy", "matplotlib"])
    forkserver.ensure_running()
    env = {k: v for k, v in os.environ.items() if k.startswith("MDLN_")}
    pending, running, summaries, started = list(names), {}, [], []
    stamps = {name: _stamp(out / f"{name}.json") for name in names}
    bar = tqdm(total=len(names), desc="figures", disable=not show or len(names) == 1)
    try:
        while pending or running:
            while pending and len(running) < jobs and not stop:
                name = pending.pop(0)
                reader, writer = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=target, args=(name, fidelity, str(out), show and jobs == 1, writer,
                                                        os.getcwd(), env))
                proc.start()
                running[reader] = (proc, reader, name)
                started.append(proc.pid)
                writer.close()
            if stop:
                raise _Interrupted()
            for reader in wait(list(running), timeout=0.1):
                proc, _, name = running.pop(reader)
                try:
                    msg = reader.recv()
                except EOFError:
                    msg = ("error", f"worker for {name} died (exit code {proc.exitcode})", "")
                proc.join()
                reader.close()
                if msg[0] != "ok":
                    _stop(list(running.values()))
                    _remove_leftovers(out, started)
                    return summaries, (name, msg[1], msg[2])
                summaries.append(msg[1])
                bar.update()
    except (KeyboardInterrupt, _Interrupted):
        killed = list(running.values())
        _stop(killed)
        _remove_leftovers(out, started)
        # figures whose JSON (written last) this run replaced, reported or not when the signal came
        written = sum(_stamp(out / f"{name}.json") != stamps[name] for name in names)
        raise _Interrupted(written) from None
    finally:
        bar.close()
    return summaries, None


def cmd_reproduce(args) -> int:
    """Validate the arguments, then reproduce the requested figures."""
    from ._checks import check_fidelity
    from .figures import FIDELITIES, registry
    reg = registry()
    if args.figure != "all" and args.figure not in reg:
        return _fail(f"unknown figure {args.figure!r}; choose one of: {', '.join(reg)}, all")
    try:
        check_fidelity(args.fidelity)
    except ValueError:
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
    import signal

    stop = []

    def on_signal(signum, frame):   # only a note: the loop in _run acts on it at a safe point
        stop.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        summaries, error = _run(names, args.fidelity, out, args.jobs, not args.quiet, stop)
    except _Interrupted as exc:
        done = exc.args[0] if exc.args else 0
        terminated = signal.SIGTERM in stop
        word = "terminated" if terminated else "interrupted"
        print(f"mdln: {word}; {done} of {len(names)} figures written", file=sys.stderr)
        return 143 if terminated else 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for s in sorted(summaries, key=lambda s: s["figure"]):
        print(f"{s['figure']}: {s['wall_seconds']:.1f} s -> {out / s['figure']}.{{png,npz,json}}")
    if error is not None:
        name, message, tb = error
        if tb:
            print(tb, file=sys.stderr, end="")
        return _fail(f"{name} failed: {message}", code=1)
    return _reproduce_claims(names, args.fidelity, out, args.figure == "all")


def write_claims(path, fidelity: str, names=None, date=None) -> dict:
    """Evaluate the claims ``names`` (default: all) at ``fidelity`` and write their JSON to ``path``."""
    from .claims import claims_json, evaluate
    doc = claims_json(evaluate(fidelity, names), date=date)
    text = json.dumps(_jsonable(doc), indent=1, sort_keys=False, ensure_ascii=False) + "\n"
    path = Path(path)
    _atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return doc


def _print_claims(doc, path) -> None:
    counts = {}
    for c in doc["claims"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    tally = ", ".join(f"{n} {v}" for v, n in counts.items())
    print(f"claims: {len(doc['claims'])} ({tally}) -> {path}")


def cmd_claims(args) -> int:
    """Evaluate the claims at ``--fidelity`` and write them to ``--out``."""
    from ._checks import FIDELITIES, check_fidelity
    from .claims import claim_names
    try:
        check_fidelity(args.fidelity)
    except ValueError:
        return _fail(f"unknown fidelity {args.fidelity!r}; choose one of: {', '.join(FIDELITIES)}")
    unknown = [n for n in (args.names or []) if n not in claim_names()]
    if unknown:
        return _fail(f"unknown claim {unknown[0]!r}; see mdln.claims.claim_names()")
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"cannot write to --out {str(out)!r}: {exc.strerror or exc}")
    doc = write_claims(out, args.fidelity, args.names or None)
    _print_claims(doc, out)
    return 0


def _reproduce_claims(names, fidelity, out: Path, all_figures: bool) -> int:
    """After the figures: ``<out>/claims.json`` with the claims they measure (every claim for 'all')."""
    from .claims import claims_for_figure
    sel = None if all_figures else sorted({c for n in names for c in claims_for_figure(n)},
                                          key=_claim_order)
    try:
        doc = write_claims(out / "claims.json", fidelity, sel)
    except KeyboardInterrupt:
        print(f"mdln: interrupted while evaluating the claims; {len(names)} figures written", file=sys.stderr)
        return 130
    _print_claims(doc, out / "claims.json")
    return 0


def _claim_order(name):
    from .claims import claim_names
    return claim_names().index(name)


def _fail(message, code=2) -> int:
    print(f"mdln: error: {message}", file=sys.stderr)
    return code


def main(argv=None) -> int:
    """Entry point of ``python -m mdln``."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            cmd_list()
            return 0
        if args.command == "claims":
            return cmd_claims(args)
        return cmd_reproduce(args)
    except KeyboardInterrupt:   # Ctrl-C before any figure started (e.g. while importing numpy)
        print("mdln: interrupted; 0 figures written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
