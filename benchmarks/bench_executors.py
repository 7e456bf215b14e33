"""Benchmark: the open-questions study on one process against two local workers (same run, same process).

Times ``mdln.experiments.open_questions.run`` uncached at a fidelity (default 'test'; ``--fidelity book``
for the chapter's size) serially (the baseline, one process), then through a ``ProcessPoolExecutor`` of
two workers and, when installed, a ``dask.distributed.LocalCluster`` of two single-thread worker
processes; prints each time, its speed-up against the serial run, and whether the results are
bit-identical to it. Worker start-up (and numba's cache load in each worker) is included in the time,
each pool being warmed by one task first only when ``--warm`` is given.
Run: ``python benchmarks/bench_executors.py [--fidelity book] [--warm]``.
"""
import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from mdln.experiments import open_questions as oq


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fidelity", default="test", choices=("test", "book", "paper"))
    ap.add_argument("--warm", action="store_true")
    args = ap.parse_args()
    config = oq.OpenQuestionsConfig.preset(args.fidelity)
    oq.run(oq.OpenQuestionsConfig.preset("test"), use_cache=False)    # compile / load numba once
    t1, base = timed(config)
    print(f"fidelity {args.fidelity}: serial (1 process) {t1:.1f} s")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        t2, res = timed(config, ex, args.warm)
    print(f"ProcessPoolExecutor(2): {t2:.1f} s, speed-up {t1 / t2:.2f}x, bit-identical {identical(base, res)}")
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("dask.distributed not installed: skipped")
        return
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        t3, res = timed(config, client.get_executor(), args.warm)
    print(f"dask LocalCluster(2 workers): {t3:.1f} s, speed-up {t1 / t3:.2f}x, "
          f"bit-identical {identical(base, res)}")


if __name__ == "__main__":
    main()
