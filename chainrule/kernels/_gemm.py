"""Two GEMM helpers: ``a @ b.T`` with the GIL released, and ``a @ b`` kept off BLAS's threads.

NumPy's ``matmul`` keeps the GIL through some products: a ``(16, 34816) @ (34816, 27)`` weight
gradient (the ResNet stem's, per slab) called from two threads ran one call after the other, CPU
time equal to wall time, while the same ``cblas_sgemm`` through ctypes (which releases the GIL)
ran both at once. Those are the small-output, long-reduction products of a convolution's weight
gradient, so the slab workers call them here. Without a usable OpenBLAS (another BLAS, an
unknown symbol, other dtypes or layouts) this falls back to ``np.matmul``.

``serial_matmul`` is the opposite case: a product small enough that OpenBLAS's own threads cost
more than they save (the Winograd kernel transforms), run in chunks below its threading threshold.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from chainrule.kernels._parallel import openblas_libraries

__all__ = ["matmul_nt", "serial_matmul"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
# (symbol prefix, suffix, integer type) in the order tried
_SYMBOLS = (
    ("scipy_cblas_", "64_", ctypes.c_int64),
    ("cblas_", "64_", ctypes.c_int64),
    ("scipy_cblas_", "", ctypes.c_int),
    ("cblas_", "", ctypes.c_int),
)
_found: dict[str, Any] = {}


def _routine(dtype: np.dtype) -> Any:
    """``cblas_sgemm``/``cblas_dgemm`` of the loaded OpenBLAS for ``dtype``, or None."""
    name = {np.dtype(np.float32): "sgemm", np.dtype(np.float64): "dgemm"}.get(np.dtype(dtype))
    if name is None:
        return None
    if name not in _found:
        _found[name] = None
        scalar = ctypes.c_float if name == "sgemm" else ctypes.c_double
        for lib in openblas_libraries():
            for prefix, suffix, integer in _SYMBOLS:
                fn = getattr(lib, f"{prefix}{name}{suffix}", None)
                if fn is None:
                    continue
                enum, ptr = ctypes.c_int, ctypes.c_void_p
                fn.argtypes = [enum, enum, enum, integer, integer, integer, scalar, ptr,
                               integer, ptr, integer, scalar, ptr, integer]  # fmt: skip
                fn.restype = None
                _found[name] = fn
                break
            if _found[name] is not None:
                break
    return _found[name]


def matmul_nt(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` for 2-D ``a`` (M, K) and ``b`` (N, K), as a new (M, N) array.

    Runs ``cblas_?gemm`` with the GIL released when both are C-contiguous float32 or float64 of
    one dtype; ``np.matmul`` otherwise.
    """
    fn = _routine(a.dtype)
    usable = (
        fn is not None
        and a.ndim == b.ndim == 2
        and a.dtype == b.dtype
        and a.flags.c_contiguous
        and b.flags.c_contiguous
        and a.shape[1] == b.shape[1]
        and min(a.shape[0], b.shape[0], a.shape[1]) > 0
    )
    if not usable:
        return np.matmul(a, b.T)
    M, K = a.shape
    N = b.shape[0]
    out = np.empty((M, N), dtype=a.dtype)
    fn(_ROW_MAJOR, _NO_TRANS, _TRANS, M, N, K, 1.0, a.ctypes.data, K, b.ctypes.data, K, 0.0,
       out.ctypes.data, N)  # fmt: skip
    return out


# OpenBLAS spreads a GEMM over its threads above roughly this many multiply-adds; the Winograd
# kernel transforms stay below it, chunk by chunk (measured on 2 loaded cores: (36, 9) @ (9, 2048)
# took 16 ms threaded, waiting for a woken thread, and 0.12 ms in chunks on the calling thread)
_SERIAL_GEMM_WORK = 1 << 18


def serial_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for a small ``a`` and a wide ``b``, in column chunks that BLAS runs unthreaded."""
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    step = max(1, _SERIAL_GEMM_WORK // max(1, a.shape[0] * a.shape[1]))
    for j in range(0, b.shape[1], step):
        np.matmul(a, b[:, j : j + step], out=out[:, j : j + step])
    return out
