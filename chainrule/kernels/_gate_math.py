"""Scalar sigmoid and tanh for the numba gate kernels: vectorisable in float32, libm in float64.

float64 uses libm's exp. float32 uses exp written out in arithmetic, so that a loop of sigmoids
vectorises (libm calls do not): y = n ln2 + r with n = round(y / ln2) and |r| <= ln2 / 2 (Cody &
Waite: ln2 in two parts so that n * LN2_HI is exact), exp(r) - 1 from its Taylor series to r^8
(truncation below 6e-9 for |r| <= 0.347), and 2^n built in the exponent bits. Rounding uses the
1.5 * 2^23 trick: adding it leaves round(t) in the low mantissa bits. Errors stay within ~2 ulp.

``sigmoid`` and ``tanh`` are plain Python functions; numba compiles calls to them through the
overloads below, choosing the float32 or float64 version by the argument's type.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["HAVE_NUMBA", "sigmoid", "tanh"]

try:  # numba is optional: without it the NumPy twins run
    import numba as _numba

    HAVE_NUMBA = True
except Exception:  # noqa: BLE001 - any failure to import numba means "no numba"
    _numba = None
    HAVE_NUMBA = False


def sigmoid(x: float) -> float:
    """Logistic function (the numba kernels use the overloads below)."""
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def tanh(x: float) -> float:
    """Hyperbolic tangent (the numba kernels use the overloads below)."""
    return math.tanh(x)


if HAVE_NUMBA:
    from llvmlite import ir as _ir
    from numba import types as _types
    from numba.extending import intrinsic as _intrinsic
    from numba.extending import overload as _overload

    _f32 = np.float32
    _MAGIC = _f32(12582912.0)  # 1.5 * 2**23
    _LOG2E = _f32(1.4426950408889634)
    _LN2_HI = _f32(0.693145751953125)  # 8 significant bits: n * _LN2_HI is exact for |n| < 2^15
    _LN2_LO = _f32(math.log(2.0) - 0.693145751953125)
    _INV_FACT = tuple(_f32(1.0 / math.factorial(k)) for k in range(2, 9))
    _ONE, _TWO = _f32(1.0), _f32(2.0)
    _LOW, _HIGH = _f32(-87.0), _f32(88.0)  # exp stays a normal, finite float32

    @_intrinsic
    def _pow2_of_rounded(typingctx: Any, t: Any) -> Any:
        """``2**n`` (float32) for ``t = 1.5 * 2**23 + n``: move n into the exponent bits."""
        if t != _types.float32:
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            i32 = _ir.IntType(32)
            bits = builder.bitcast(args[0], i32)
            biased = builder.sub(bits, _ir.Constant(i32, 0x4B400000 - 127))
            return builder.bitcast(builder.shl(biased, _ir.Constant(i32, 23)), _ir.FloatType())

        return _types.float32(_types.float32), codegen

    @_numba.njit(inline="always", fastmath={"contract"}, error_model="numpy")
    def _exp_parts32(y: Any) -> Any:
        """``(s, q)`` with ``exp(y) = s * (1 + q)``, ``s = 2**n`` and ``q = exp(r) - 1``."""
        y = min(max(y, _LOW), _HIGH)
        t = y * _LOG2E + _MAGIC
        n = t - _MAGIC
        r = (y - n * _LN2_HI) - n * _LN2_LO
        c2, c3, c4, c5, c6, c7, c8 = _INV_FACT
        q = r * (_ONE + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * (c7 + r * c8)))))))
        return _pow2_of_rounded(t), q

    def _sigmoid32(x: Any) -> Any:
        s, q = _exp_parts32(-x)
        return _ONE / (_ONE + (s + s * q))

    def _tanh32(x: Any) -> Any:
        s, q = _exp_parts32(-_TWO * abs(x))
        em = s * q + (s - _ONE)  # expm1(-2|x|) without cancellation near 0
        return math.copysign(-em / (_TWO + em), x)

    def _sigmoid64(x: Any) -> Any:
        # exp(-|x|) never overflows; for x < 0 the result is e / (1 + e), computed without a branch
        e = math.exp(-abs(x))
        p = 1.0 / (1.0 + e)
        w = (x >= 0.0) * 1.0
        return p * (w + (1.0 - w) * e)

    def _tanh64(x: Any) -> Any:
        e = math.expm1(-2.0 * abs(x))
        return math.copysign(-e / (2.0 + e), x)

    @_overload(sigmoid, inline="always")
    def _sigmoid_overload(x: Any) -> Any:
        return _sigmoid32 if x == _types.float32 else _sigmoid64

    @_overload(tanh, inline="always")
    def _tanh_overload(x: Any) -> Any:
        return _tanh32 if x == _types.float32 else _tanh64
