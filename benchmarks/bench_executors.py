"""Benchmark: two local workers against one process, for the open-questions study and for the Figure 4 sweep.

Times, uncached and in the same process, at a fidelity (default 'test'; ``--fidelity book`` for the
chapter's size):

* ``mdln.experiments.open_questions.run`` serially (the baseline, one process), then through a
  ``ProcessPoolExecutor`` of two workers and, when installed, a ``dask.distributed.LocalCluster`` of two
  single-thread worker processes;
* ``mdln.mgd_sweep`` on the Figure 4 grid and data of ``Fig4Config.preset(sweep_fidelity)`` (default
  'book', 14 × 14 × 5 runs) capped at ``--max-epochs`` (default 10⁵, about a minute on one thread): in one
  process on one numba thread (the baseline), then with ``executor=`` the same pool and cluster (one task
  per member group, one thread each).

Prints each time, its speed-up against the baseline, and whether the results are bit-identical to it.
Worker start-up (and numba's cache load in each worker) is included in the time, each pool being warmed
by one task first only when ``--warm`` is given.
Run: ``python benchmarks/bench_executors.py [--fidelity book] [--sweep-fidelity paper] [--max-epochs N]
[--warm]``.
"""
import argparse
import contextlib
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from mdln.experiments import open_questions as oq
from mdln.experiments.sec4 import Fig4Config, grid_axes, stacked_data
from mdln.smgd import mgd_sweep


def fields(result):
    """Every array of the result, in order."""
    out = [np.asarray(getattr(m, k)) for m in result.mgf for k in m.__dataclass_fields__]
    out += [np.asarray(getattr(r, k)) for _, r in result.smgd for k in r.__dataclass_fields__]
    return out + [result.test_losses]


def identical(a, b):
    """True when every array of the two results is equal bit for bit."""
    fa, fb = fields(a), fields(b)
    return len(fa) == len(fb) and all(np.array_equal(x, y, equal_nan=True) for x, y in zip(fa, fb))


def timed(config, executor=None, warm=False):
    if warm and executor is not None:
        list(executor.map(abs, range(4)))
    t = time.perf_counter()
    res = oq.run(config, executor=executor, use_cache=False)
    return time.perf_counter() - t, res


def sweep_timed(fidelity, max_epochs, executor=None, warm=False):
    """The Figure 4 sweep of ``fidelity``, uncached: one numba thread serially, one per task otherwise."""
    cfg = Fig4Config.preset(fidelity)
    _, X, y = stacked_data(cfg.data)
    gammas, betas = grid_axes(cfg)
    if warm and executor is not None:
        list(executor.map(abs, range(4)))
    t = time.perf_counter()
    sw = mgd_sweep(X, y, gammas, betas, alpha=cfg.alpha, max_steps=min(cfg.max_epochs, max_epochs), tol=cfg.tol, cache=False,
                   n_threads=1, executor=executor)
    return time.perf_counter() - t, sw


def sweep_identical(a, b):
    """True when every array of two sweeps is equal bit for bit."""
    return all(np.array_equal(x, b.arrays()[k], equal_nan=x.dtype.kind in "fc") for k, x in a.arrays().items())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fidelity", default="test", choices=("test", "book", "paper"))
    ap.add_argument("--sweep-fidelity", default="book", choices=("test", "book", "paper"))
    ap.add_argument("--max-epochs", type=int, default=10 ** 5)
    ap.add_argument("--warm", action="store_true")
    args = ap.parse_args()
    config = oq.OpenQuestionsConfig.preset(args.fidelity)
    oq.run(oq.OpenQuestionsConfig.preset("test"), use_cache=False)    # compile / load numba once
    sweep_timed("test", 10)
    t1, base = timed(config)
    s1, sbase = sweep_timed(args.sweep_fidelity, args.max_epochs)
    print(f"open questions ({args.fidelity}) serial (1 process) {t1:.1f} s; Figure 4 sweep "
          f"({args.sweep_fidelity}, ≤ {args.max_epochs} epochs) serial (1 process, 1 thread) {s1:.1f} s")
    spawn = multiprocessing.get_context("spawn")
    pools = [("ProcessPoolExecutor(2)", lambda: ProcessPoolExecutor(2, mp_context=spawn))]
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("dask.distributed not installed: skipped")
    else:
        @contextlib.contextmanager
        def dask_executor():
            with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                yield client.get_executor()
        pools.append(("dask LocalCluster(2 workers)", dask_executor))
    for name, make in pools:
        with make() as ex:
            t2, res = timed(config, ex, args.warm)
            s2, sres = sweep_timed(args.sweep_fidelity, args.max_epochs, ex, args.warm)
        print(f"{name}: open questions {t2:.1f} s, speed-up {t1 / t2:.2f}x, "
              f"bit-identical {identical(base, res)}; Figure 4 sweep {s2:.1f} s, "
              f"speed-up {s1 / s2:.2f}x, bit-identical {sweep_identical(sbase, sres)}")

if __name__ == "__main__":
    main()
