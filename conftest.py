"""pytest set-up shared by the unit tests and the nbval notebook kernels.

The kernels that nbval starts inherit this process's environment. One BLAS thread per process:
the implicit ODE solvers factorise many tiny matrices, where a multi-threaded BLAS on a busy
2-core machine is about 10x slower, and the numbers printed in the notebooks do not depend on it.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
