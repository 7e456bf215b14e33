"""The environment nbval's kernels run in (conftest.py): one BLAS thread and, on AVX2 machines, one
OpenBLAS kernel family, so the rounding-level numbers stored in the chapters re-check on any such machine."""
import json
import os
import subprocess
import sys

import pytest

_PROBE = """
import json, numpy, scipy.linalg
from threadpoolctl import threadpool_info
print(json.dumps([(i.get("internal_api"), i.get("architecture"), i.get("num_threads"))
                  for i in threadpool_info() if i.get("user_api") == "blas"]))
"""


@pytest.fixture(scope="module")
def kernel_blas():
    """BLAS libraries as a fresh interpreter with this process's environment (a notebook kernel's) loads them."""
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=dict(os.environ),
                         check=True, timeout=120)
    return json.loads(out.stdout)


def test_kernels_use_one_blas_thread(kernel_blas):
    libs = kernel_blas
    assert libs, "numpy/scipy loaded no BLAS that threadpoolctl can see"
    assert all(n == 1 for _, _, n in libs), libs


def test_kernels_use_the_pinned_openblas_kernels(kernel_blas):
    if os.environ.get("OPENBLAS_CORETYPE") is None:
        pytest.skip("no AVX2/FMA on this CPU: OpenBLAS keeps its own choice (conftest.py)")
    libs = [lib for lib in kernel_blas if lib[0] == "openblas"]
    assert libs, "numpy/scipy are not linked to OpenBLAS here"
    want = os.environ["OPENBLAS_CORETYPE"].lower()
    assert all((arch or "").lower() == want for _, arch, _ in libs), libs


def test_kernels_use_the_sessions_own_empty_cache():
    """Unless MDLN_CACHE_DIR was set by the user, the notebooks compute into a fresh folder, not .mdln_cache."""
    import conftest
    if conftest._SESSION_CACHE is None:
        pytest.skip("MDLN_CACHE_DIR was set before the session: the user's cache is used as asked")
    probe = "import mdln.cache; print(mdln.cache.cache_dir())"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=dict(os.environ),
                         check=True, timeout=120)
    folder = out.stdout.strip()
    assert folder == conftest._SESSION_CACHE
    assert os.path.realpath(folder) != os.path.realpath(os.path.join(os.path.dirname(conftest.__file__),
                                                                      ".mdln_cache"))
