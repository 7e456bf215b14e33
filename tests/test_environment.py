"""The environment nbval's kernels run in (conftest.py), and stored outputs that re-check on any BLAS kernel.

conftest.py gives every kernel one BLAS thread and a fresh result cache, and pins no OpenBLAS kernel family:
the chapters print only what does not depend on it. This is checked here by running one notebook through
nbval under an OpenBLAS kernel family this CPU supports other than the one OpenBLAS picks by default
(the oldest one, Sandybridge on x86-64 with AVX), from a cold cache. The suite's own nbval run of the same
notebook is under the default family, so every test run checks the outputs under two families.
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


def families_to_check(flags, preset=None, default=None):
    """The kernel family to run: the user's own choice if set, else the oldest supported one that is not
    ``default`` (the family OpenBLAS picks here, which the suite's own nbval run already uses)."""
    if preset:
        return [preset]
    found = [f for f in supported_families(flags) if f.lower() != (default or "").lower()]
    return found[-1:]


def test_families_follow_the_cpu_flags():
    assert supported_families({"avx", "avx2", "fma", "avx512f"}) == ["SkylakeX", "Haswell", "Sandybridge"]
    assert supported_families({"avx", "avx2"}) == ["Sandybridge"]          # no FMA: no Haswell kernels
    assert supported_families({"sse2"}) == []
    assert families_to_check({"avx", "avx2", "fma", "avx512f"}, default="SkylakeX") == ["Sandybridge"]
    assert families_to_check({"avx", "avx2", "fma"}, default="Haswell") == ["Sandybridge"]
    assert families_to_check({"avx"}, default="Sandybridge") == []            # nothing else to compare
    assert families_to_check({"avx", "avx2", "fma"}, default="Sandybridge") == ["Haswell"]
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
    default = next((arch for _, arch, _ in kernel_blas if arch), None)
    families = families_to_check(cpu_flags(), os.environ.get("OPENBLAS_CORETYPE"), default)
    if not families:
        pytest.skip(f"no OpenBLAS kernel family other than the default ({default}) runs on this CPU")
    return families


def test_one_notebook_rechecks_under_another_openblas_kernel_family(kernel_blas, tmp_path):
    """Appendix A's stored outputs pass nbval under a second family, from a cold result cache (the suite's
    own run of the notebook is the default family's)."""
    for family in _families_here(kernel_blas):
        env = dict(os.environ, OPENBLAS_CORETYPE=family, MDLN_CACHE_DIR=str(tmp_path / f"cache-{family}"))
        loaded = _probe(env)
        assert all((arch or "").lower() == family.lower() for _, arch, _ in loaded), (family, loaded)
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", str(NOTEBOOK)],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, f"nbval under OPENBLAS_CORETYPE={family}:\n{run.stdout[-4000:]}"
