"""pytest set-up shared by the unit tests and the nbval notebook kernels.

The kernels that nbval starts inherit this process's environment.

* One BLAS thread per process: the implicit ODE solvers factorise many tiny matrices, where a
  multi-threaded BLAS on a busy 2-core machine is about 10x slower, and the numbers printed in the
  notebooks do not depend on it.
* One BLAS kernel family: OpenBLAS picks its kernels by CPU (e.g. "SkylakeX" on an AVX-512 machine,
  "Haswell" on an AVX2 one), and the kernels sum in different orders, so rounding-level numbers that
  the chapters print (a train loss of 1e-31, a distance of 1e-14, a Theorem 1 residual of 1e-9)
  change in their last digit from one machine to the next. The stored outputs were computed with the
  Haswell kernels, which every x86-64 CPU with AVX2 runs; pinning them makes nbval's re-check
  reproducible across such machines. (Left alone on CPUs without AVX2 and FMA, e.g. ARM.)
* A fresh, empty result cache: unless ``MDLN_CACHE_DIR`` is already set, it points at a new temporary
  folder for the session (removed at its end), so the notebooks re-compute what they show instead of
  re-reading a warm ``.mdln_cache`` written by an earlier (maybe older) run. Set ``MDLN_CACHE_DIR``
  yourself to reuse a cache across sessions.
"""
import os
import platform
import shutil
import tempfile

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def _runs_haswell_kernels():
    """True on an x86-64 CPU with AVX2 and FMA (Linux: read from /proc/cpuinfo)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return {"avx2", "fma"} <= set(flags)


if _runs_haswell_kernels():
    os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")


_SESSION_CACHE = None
if not os.environ.get("MDLN_CACHE_DIR"):
    _SESSION_CACHE = tempfile.mkdtemp(prefix="mdln-cache-pytest-")
    os.environ["MDLN_CACHE_DIR"] = _SESSION_CACHE


def pytest_unconfigure(config):
    """Remove the session's own cache folder (never one the user pointed MDLN_CACHE_DIR at)."""
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)
