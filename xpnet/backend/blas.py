"""NumPy's own BLAS, called for the one product NumPy cannot ask it for: ``C += alpha * A.T @ B``.

``numpy.matmul`` always overwrites its output (BLAS ``beta = 0``). Plain SGD on
a weight matrix, ``W -= lr * (A.T @ dZ)``, is a single BLAS call with
``alpha = -lr`` and ``beta = 1``: no gradient array is written and read back,
and the update costs no extra pass over ``W``. The product is computed once,
as the generic path computes it, but its rounding differs: the update is
accumulated into ``W`` inside the kernel instead of rounding ``A.T @ dZ`` and
``lr * dZ`` first (agreement to about 1e-15 relative per step in float64).

The call goes to the CBLAS that NumPy itself loaded (the OpenBLAS shipped in
NumPy's wheels: 64-bit integers, symbols ending in ``64_``), through ctypes,
so it runs in NumPy's BLAS thread pool. SciPy's ``scipy.linalg.blas.sgemm``
would do the same arithmetic, but in a second OpenBLAS with a second pool of
threads; taking turns with NumPy's pool made a training step about 7 times
slower on two cores. Where NumPy's BLAS is not found (a NumPy built against
Accelerate or MKL, say), :func:`numpy_gemm` returns None and training updates
the weights as the generic path does.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
from typing import Any, Callable

import numpy as np

__all__ = ["Gemm", "numpy_gemm"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
#: Where NumPy's wheels keep the libraries they ship: Linux and Windows, macOS.
_LIBRARY_DIRS = ("../numpy.libs", ".dylibs")
#: CBLAS names with 64-bit integers (``int64`` sizes and strides): NumPy 2's and NumPy 1's wheels.
_SYMBOLS = ("scipy_cblas_{}gemm64_", "cblas_{}gemm64_")


class Gemm:
    """``C += alpha * A.T @ B`` for C-ordered float32 and float64 arrays, in place."""

    def __init__(self, sgemm: Callable, dgemm: Callable) -> None:
        self._routines = {np.dtype(np.float32): sgemm, np.dtype(np.float64): dgemm}

    def supports(self, *arrays: np.ndarray) -> bool:
        """True when every array is C-ordered (``C`` may be any row-contiguous view) and of one float dtype."""
        dtype = arrays[0].dtype
        return dtype in self._routines and all(a.dtype == dtype and a.flags.c_contiguous for a in arrays)

    def at_b(self, alpha: float, A: np.ndarray, B: np.ndarray, C: np.ndarray) -> None:
        """``C = alpha * A.T @ B + C`` with ``A`` of shape ``(k, m)``, ``B`` ``(k, n)``, ``C`` ``(m, n)``."""
        k, m = A.shape
        n = B.shape[1]
        self._routines[C.dtype](_ROW_MAJOR, _TRANS, _NO_TRANS, m, n, k, alpha, A.ctypes.data, m,
                                B.ctypes.data, n, 1.0, C.ctypes.data, n)


@functools.lru_cache(maxsize=1)
def numpy_gemm() -> Gemm | None:
    """The :class:`Gemm` of NumPy's own BLAS, or None where it cannot be found or fails its check."""
    for library in _numpy_blas_libraries():
        for pattern in _SYMBOLS:
            routines = [_routine(library, pattern.format(kind), ctype)
                        for kind, ctype in (("s", ctypes.c_float), ("d", ctypes.c_double))]
            if None not in routines:
                gemm = Gemm(*routines)
                if _works(gemm):
                    return gemm
    return None


def _numpy_blas_libraries() -> list[Any]:
    """The OpenBLAS libraries NumPy's wheel ships (already loaded by NumPy: loading them again is free)."""
    root = os.path.dirname(np.__file__)
    found = []
    for folder in _LIBRARY_DIRS:
        for path in sorted(glob.glob(os.path.join(root, folder, "*openblas*"))):
            try:
                found.append(ctypes.CDLL(path))
            except OSError:
                continue
    return found


def _routine(library: Any, name: str, ctype: Any) -> Callable | None:
    fn = getattr(library, name, None)
    if fn is None:
        return None
    i64, ptr = ctypes.c_int64, ctypes.c_void_p
    fn.restype = None
    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, i64, i64, i64, ctype, ptr, i64, ptr, i64,
                   ctype, ptr, i64]
    return fn


def _works(gemm: Gemm) -> bool:
    """Check the routines on a small product (a wrong calling convention shows here, not in training)."""
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        A, B = rng.standard_normal((7, 5)).astype(dtype), rng.standard_normal((7, 3)).astype(dtype)
        C = rng.standard_normal((5, 3)).astype(dtype)
        want = C - 0.5 * (A.T.astype(np.float64) @ B)
        gemm.at_b(-0.5, A, B, C)
        if not np.allclose(C, want, rtol=1e-5, atol=1e-5):
            return False
    return True
