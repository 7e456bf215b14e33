"""pytest set-up shared by the unit tests and the nbval notebook kernels.

The kernels that nbval starts inherit this process's environment.

* One BLAS thread per process: the implicit ODE solvers factorise many tiny matrices, where a
  multi-threaded BLAS on a busy 2-core machine is about 10x slower, and the numbers printed in the
  notebooks do not depend on it.
* No BLAS kernel pin: OpenBLAS picks its kernels by CPU (e.g. "SkylakeX" on an AVX-512 machine), and the
  kernels sum in different orders, so raw rounding-level numbers differ from one machine to the next. The
  chapters therefore print such values as bounds ("< 1e-9") and other quantities with only the digits that
  are stable across kernels; ``tests/test_environment.py`` re-checks one notebook under two kernel
  families. A kernel family the user chose in the environment is passed on to the kernels untouched.
* A fresh, empty result cache: unless ``MDLN_CACHE_DIR`` is already set, it points at a new temporary
  folder for the session (removed at its end), so the notebooks re-compute what they show instead of
  re-reading a warm ``.mdln_cache`` written by an earlier (maybe older) run. Set ``MDLN_CACHE_DIR``
  yourself to reuse a cache across sessions.
"""
import os
import shutil
import tempfile

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


_SESSION_CACHE = None
if not os.environ.get("MDLN_CACHE_DIR"):
    _SESSION_CACHE = tempfile.mkdtemp(prefix="mdln-cache-pytest-")
    os.environ["MDLN_CACHE_DIR"] = _SESSION_CACHE


def pytest_unconfigure(config):
    """Remove the session's own cache folder (never one the user pointed MDLN_CACHE_DIR at)."""
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)
