"""Backend tests: BLAS on one thread.

BLAS runs on one thread here: on this 2-core machine, shared with other processes,
OpenBLAS threads made a 156 x 156 complex SVD 12x slower (shared/measured.md).
"""

import ctypes
import glob
import os


def _single_thread_blas():
    libs = []
    for pkg in ("numpy", "scipy"):
        root = os.path.dirname(__import__(pkg).__file__) + ".libs"
        libs += glob.glob(os.path.join(root, "libscipy_openblas*.so"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads"):
            if hasattr(lib, name):
                getattr(lib, name)(1)


_single_thread_blas()
