"""Benchmark: member-steps per second of ``mdln.nets.train_grid`` against a per-member ``mdln.mgd`` loop.

Both are measured in the same process on the same members (no early stopping: tol=None), so the
printed ratio is robust to the machine's speed. Run: ``python benchmarks/bench_nets.py``.
"""
import time

import numpy as np

import mdln
from mdln import nets


def rate(fn, member_steps, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return member_steps / best


def bench(name, net, w0, n_grid, n_loop, steps):
    gammas = np.logspace(-3, -2, n_grid) if isinstance(net, nets.DeepLinearNet) else np.logspace(-2, -1, n_grid)
    betas = np.linspace(0.0, 0.9, n_grid)
    grid = rate(lambda: nets.train_grid(net, w0, gammas, betas, steps), n_grid * steps)

    def loop():
        for g, b in zip(gammas[:n_loop], betas[:n_loop]):
            mdln.mgd(net.grad, w0, g, b, steps + 1)
    per_member = rate(loop, n_loop * steps)
    print(f"{name:<32s} grid {grid:10.0f} member-steps/s | per-member mgd loop {per_member:9.0f} "
          f"member-steps/s | ratio {grid / per_member:5.1f}x")
    return grid / per_member


def main():
    ts = nets.teacher_student()
    r1 = bench("teacher-student ReLU (G=225)", ts.student, ts.w0, 225, 15, 1000)
    ds = mdln.sparse_regression()
    dl = nets.DeepLinearNet(ds.X, ds.y)
    w0 = nets.deep_linear_init(dl.widths, np.random.default_rng(0))
    r2 = bench("deep linear 30-60-120-60-1 (G=64)", dl, w0, 64, 4, 200)
    print(f"ratios: teacher-student {r1:.1f}x, deep linear {r2:.1f}x")


if __name__ == "__main__":
    main()
