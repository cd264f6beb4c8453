"""``a @ b.T`` through the loaded OpenBLAS with the GIL released, for the slab workers.

NumPy's ``matmul`` keeps the GIL through some products: a ``(16, 34816) @ (34816, 27)`` weight
gradient (the ResNet stem's, per slab) called from two threads ran one call after the other, CPU
time equal to wall time, while the same ``cblas_sgemm`` through ctypes (which releases the GIL)
ran both at once. Those are the small-output, long-reduction products of a convolution's weight
gradient, so the slab workers call them here. Without a usable OpenBLAS (another BLAS, an
unknown symbol, other dtypes or layouts) this falls back to ``np.matmul``.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from chainrule.kernels._parallel import _loaded_openblas

__all__ = ["matmul_nt"]

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
        for path in _loaded_openblas():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
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
