"""Benchmark: seconds per ``mdln.train_mgf`` call on the default data for λ ∈ [1e-4, 1].

For every λ, ``scipy.integrate.odeint`` (LSODA, defaults, no Jacobian, the paper's "vanilla" solver) on
the same right-hand side and to the same final time is timed in the same process (best of 3, interleaved
with train_mgf), and the ratio printed (target: train_mgf no slower than odeint at any λ).

Baselines, measured in the same process at λ = 1e-2 on the same right-hand side (Eq. 12 in w± form):
* scipy's default ``solve_ivp`` method (RK45, no Jacobian) with the same terminal event; it is explicit
  and the system is stiff, so it is stopped after ``RK45_BUDGET`` seconds and its progress in t reported
  (the printed ratio is then a lower bound);
* ``scipy.integrate.odeint`` with its defaults and no Jacobian, the "vanilla" solver of the paper
  (Appendix F), integrated to the same final time as train_mgf (it has no stopping event and no sign
  tracking).

``python benchmarks/bench_train_mgf.py --compile`` instead times the first ``train_mgf`` call of a fresh
process twice, with an empty numba cache (``NUMBA_CACHE_DIR`` a new directory: numba compiles) and then
with the cache it left (numba loads the kernels from disk), plus the same call once the kernels are loaded.

Run: ``python benchmarks/bench_train_mgf.py``.
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.integrate import odeint, solve_ivp

import mdln
from mdln.dln import _system

LAMS = (0.0, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)


def best_time(fn, repeat=3):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


RK45_BUDGET = float(os.environ.get("RK45_BUDGET", 60.0))


class _OutOfTime(Exception):
    pass


def baseline_rk45(X, y, lam, tol=1e-20, rtol=1e-8, atol=1e-12, budget=RK45_BUDGET):
    """RK45 (scipy's default), no Jacobian, same system and stopping rule as train_mgf, time-capped."""
    n, d = X.shape
    fun, _ = _system(X, y, lam)
    s0 = np.concatenate([0.01 * np.ones(2 * d), np.zeros(2 * d)])
    start, last_t = time.perf_counter(), [0.0]

    def capped(t, s):
        last_t[0] = max(last_t[0], t)
        if time.perf_counter() - start > budget:
            raise _OutOfTime
        return fun(t, s)

    def ev(_t, s):
        r = X @ (0.25 * (s[:d] ** 2 - s[d:2 * d] ** 2)) - y
        return np.log(0.5 * float(r @ r) / n) - np.log(0.5 * tol)
    ev.terminal = True
    try:
        sol = solve_ivp(capped, (0.0, 1e7), s0, events=ev, rtol=rtol, atol=atol)
        return True, sol.t[-1], time.perf_counter() - start
    except _OutOfTime:
        return False, last_t[0], time.perf_counter() - start


def baseline_odeint(X, y, lam, t_end):
    """scipy.integrate.odeint with default tolerances, no Jacobian, to the given final time."""
    d = X.shape[1]
    fun, _ = _system(X, y, lam)
    s0 = np.concatenate([0.01 * np.ones(2 * d)] + ([] if lam == 0.0 else [np.zeros(2 * d)]))
    Y = odeint(lambda s, t: fun(t, s), s0, [0.0, t_end], mxstep=10 ** 8)
    return 0.25 * (Y[-1, :d] ** 2 - Y[-1, d:2 * d] ** 2)


def main():
    ds = mdln.sparse_regression()
    mdln.train_mgf(ds.X, ds.y, 0.01)   # compile / load the kernel
    print(f"{'lambda':>8s} {'seconds':>8s} {'odeint':>8s} {'ratio':>6s} {'steps':>6s} {'t_end':>9s} {'vanished':>8s}"
          f" {'rel.diff':>8s}  status")
    worst, worst_ratio = 0.0, 0.0
    for lam in LAMS:
        sec, sec_ode, r, theta_ode = np.inf, np.inf, None, None
        for _ in range(3):                       # interleaved, best of 3
            t = time.perf_counter()
            r = mdln.train_mgf(ds.X, ds.y, lam)
            sec = min(sec, time.perf_counter() - t)
            t = time.perf_counter()
            theta_ode = baseline_odeint(ds.X, ds.y, lam, r.t)
            sec_ode = min(sec_ode, time.perf_counter() - t)
        if lam > 0:
            worst = max(worst, sec)
        worst_ratio = max(worst_ratio, sec / sec_ode)
        rel = np.linalg.norm(r.theta - theta_ode) / np.linalg.norm(theta_ode)
        print(f"{lam:8.0e} {sec:8.3f} {sec_ode:8.3f} {sec / sec_ode:6.2f} {r.n_steps:6d} {r.t:9.3g} "
              f"{str(r.vanished):>8s} {rel:8.1e}  {r.status}")
    print(f"worst train_mgf/odeint time ratio over all λ: {worst_ratio:.2f} (target <= 1): "
          f"{'met' if worst_ratio <= 1 else 'NOT met'}; load average {os.getloadavg()[0]:.2f}")
    lam = 1e-2
    ours, r = best_time(lambda: mdln.train_mgf(ds.X, ds.y, lam))
    sec_ode, theta_ode = best_time(lambda: baseline_odeint(ds.X, ds.y, lam, r.t), repeat=1)
    done, t_reached, sec_rk = baseline_rk45(ds.X, ds.y, lam)
    print(f"\nworst train_mgf call over λ ∈ [1e-4, 1]: {worst:.3f} s")
    print(f"λ = {lam:g}, train_mgf: {ours:.3f} s to train loss < 1e-20 at t = {r.t:.3g}")
    if done:
        print(f"  solve_ivp default (RK45, no Jacobian): {sec_rk:.1f} s | speed-up {sec_rk / ours:.0f}x")
    else:
        print(f"  solve_ivp default (RK45, no Jacobian): stopped after {sec_rk:.0f} s at t = {t_reached:.3g} "
              f"of {r.t:.3g} | speed-up > {sec_rk / ours:.0f}x (projected ~{sec_rk * r.t / max(t_reached, 1e-9) / ours:.0f}x)")
    print(f"  odeint (LSODA, defaults, no Jacobian, fixed end time): {sec_ode:.3f} s | ratio {sec_ode / ours:.2f}x; "
          f"‖θ − θ_odeint‖/‖θ_odeint‖ = {np.linalg.norm(r.theta - theta_ode) / np.linalg.norm(theta_ode):.1e}")


_FIRST_CALL = """
import time
t0 = time.perf_counter()
import mdln
ds = mdln.sparse_regression()
t1 = time.perf_counter()
mdln.train_mgf(ds.X, ds.y, 0.1)
t2 = time.perf_counter()
mdln.train_mgf(ds.X, ds.y, 0.1)
t3 = time.perf_counter()
print(f"{t1 - t0:.2f} {t2 - t1:.2f} {t3 - t2:.3f}")
"""


def compile_times():
    """Seconds of the first train_mgf call in a fresh process, numba cache cold then warm."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        env.pop("MDLN_NO_NUMBA", None)
        for label in ("cold cache (compiles)", "warm cache (loads)"):
            out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True,
                                 check=True)
            imp, first, again = out.stdout.split()
            print(f"{label:>22s}: import {imp} s, first train_mgf call {first} s, next call {again} s"
                  f"{'  [stderr: ' + out.stderr.strip() + ']' if out.stderr.strip() else ''}")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    compile_times() if "--compile" in sys.argv[1:] else main()
