"""The environment nbval's kernels run in (conftest.py), and stored outputs that re-check on any BLAS kernel.

conftest.py gives every kernel one BLAS thread and a fresh result cache, and pins no OpenBLAS kernel family:
the chapters print only what does not depend on it. This is checked here by running one notebook through
nbval under two OpenBLAS kernel families this CPU supports, each from a cold cache.
"""
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The cheapest chapter whose printed numbers come through BLAS (the diagonal network's X θ and Xᵀr):
# Appendix A, about half a minute per run from a cold cache.
NOTEBOOK = ROOT / "book" / "A_discretisations.ipynb"
# OpenBLAS kernel families by the CPU flag each needs, newest first (a family the CPU lacks crashes).
FAMILIES = (("SkylakeX", {"avx512f"}), ("Haswell", {"avx2", "fma"}), ("Sandybridge", {"avx"}))

_PROBE = """
import json, numpy, scipy.linalg
from threadpoolctl import threadpool_info
print(json.dumps([(i.get("internal_api"), i.get("architecture"), i.get("num_threads"))
                  for i in threadpool_info() if i.get("user_api") == "blas"]))
"""


def _probe(env):
    """BLAS libraries (api, kernel family, threads) as a fresh interpreter with ``env`` loads them."""
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env,
                         check=True, timeout=120)
    return json.loads(out.stdout)


def cpu_flags():
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    try:
        with open("/proc/cpuinfo") as f:
            return set(next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []))
    except OSError:
        return set()


def supported_families(flags):
    """OpenBLAS kernel families whose instructions are all among ``flags``, newest first."""
    return [name for name, need in FAMILIES if need <= set(flags)]


def families_to_check(flags, preset=None):
    """The kernel families to run: the user's own choice alone if set, else the newest and oldest supported."""
    if preset:
        return [preset]
    found = supported_families(flags)
    return found[:1] + found[1:][-1:]


def test_families_follow_the_cpu_flags():
    assert supported_families({"avx", "avx2", "fma", "avx512f"}) == ["SkylakeX", "Haswell", "Sandybridge"]
    assert supported_families({"avx", "avx2"}) == ["Sandybridge"]          # no FMA: no Haswell kernels
    assert supported_families({"sse2"}) == []
    assert families_to_check({"avx", "avx2", "fma", "avx512f"}) == ["SkylakeX", "Sandybridge"]
    assert families_to_check({"avx", "avx2", "fma"}) == ["Haswell", "Sandybridge"]
    assert families_to_check({"avx"}) == ["Sandybridge"]
    assert families_to_check({"avx", "avx2", "fma", "avx512f"}, preset="Haswell") == ["Haswell"]


@pytest.fixture(scope="module")
def kernel_blas():
    """BLAS libraries as a notebook kernel (a fresh interpreter with this process's environment) loads them."""
    return _probe(dict(os.environ))


def test_kernels_use_one_blas_thread(kernel_blas):
    assert kernel_blas, "numpy/scipy loaded no BLAS that threadpoolctl can see"
    assert all(n == 1 for _, _, n in kernel_blas), kernel_blas


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
    assert os.path.realpath(folder) != os.path.realpath(ROOT / ".mdln_cache")


def _families_here(kernel_blas):
    """The families to check on this machine, or a skip saying why there are none."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip(f"OpenBLAS kernel families are x86-64 ones; this CPU is {platform.machine()}")
    if not kernel_blas or any(api != "openblas" for api, _, _ in kernel_blas):
        pytest.skip(f"numpy/scipy are not (all) linked to OpenBLAS here: {kernel_blas}")
    families = families_to_check(cpu_flags(), os.environ.get("OPENBLAS_CORETYPE"))
    if not families:
        pytest.skip("this CPU has no AVX: no OpenBLAS kernel family to choose")
    return families


def test_one_notebook_rechecks_under_two_openblas_kernel_families(kernel_blas, tmp_path):
    """Appendix A's stored outputs pass nbval under each family, each run from a cold result cache."""
    for family in _families_here(kernel_blas):
        env = dict(os.environ, OPENBLAS_CORETYPE=family, MDLN_CACHE_DIR=str(tmp_path / f"cache-{family}"))
        loaded = _probe(env)
        assert all((arch or "").lower() == family.lower() for _, arch, _ in loaded), (family, loaded)
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", str(NOTEBOOK)],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, f"nbval under OPENBLAS_CORETYPE={family}:\n{run.stdout[-4000:]}"
