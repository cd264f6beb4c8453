"""ONNX converters for shape ops: reshape, permute, broadcast, pad, concatenate and indexing.

With a dynamic batch, a target shape recorded at one batch size must not freeze it: a reshape that
keeps the batch becomes ``Flatten`` or copies the dimension (``0``), one that folds it takes ``-1``,
and anything else computes its shape from the input's at run time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .graph import OpContext
from .registry import converter

__all__: list[str] = []

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


def _flatten_axis(c: OpContext) -> int | None:
    """``k`` when the reshape is ``(prod(shape[:k]), prod(shape[k:]))`` in both traces."""
    if len(c.out_shape) != 2:
        return None
    for k in range(1, len(c.in_shapes[0]) + 1):
        ok = all(
            s_out == (math.prod(s_in[:k]), math.prod(s_in[k:]))
            for s_in, s_out in ((c.in_shapes[0], c.out_shape), (c.in_shapes2[0], c.out_shape2))
        )
        if ok:
            return k
    return None


@converter("Reshape", batch_params=True)
def _reshape(c: OpContext) -> None:
    x = c.x(0)
    k = _flatten_axis(c)
    if k is not None:
        c.result("Flatten", [x], axis=k)
        return
    target: list[Any] = list(c.out_shape)
    varying = sorted(c.varying())
    rest = []
    in1, in2 = c.in_shapes[0], c.in_shapes2[0]
    for a in varying:
        # the same dimension at the same place in the input: copy it (Reshape's 0)
        if a < len(in1) and in1[a] == c.out_shape[a] and in2[a] == c.out_shape2[a]:
            target[a] = 0
        else:
            rest.append(a)
    if len(rest) == 1:
        target[rest[0]] = -1  # the only unknown: inferred from the element count
    elif rest:
        c.result("Reshape", [x, c.shape_tensor(c.out_shape, c.out_shape2)])
        return
    if 0 in c.out_shape:
        raise c.fail(f"reshape to a shape with a zero dimension {c.out_shape} is not supported.")
    c.result("Reshape", [x, c.ints(target)])


@converter("Permute")
def _permute(c: OpContext) -> None:
    c.result("Transpose", [c.x(0)], perm=[int(a) for a in c.params["axes"]])


@converter("BroadcastTo", batch_params=True)
def _broadcast_to(c: OpContext) -> None:
    target = list(c.out_shape)
    lead = len(c.out_shape) - len(c.in_shapes[0])
    dynamic = False
    for a in sorted(c.varying()):
        i = a - lead
        if i >= 0 and c.in_shapes[0][i] == c.out_shape[a] and c.in_shapes2[0][i] == c.out_shape2[a]:
            target[a] = 1  # Expand broadcasts both ways: 1 keeps the input's own dimension
        else:
            dynamic = True
    shape = c.shape_tensor(c.out_shape, c.out_shape2) if dynamic else c.ints(target)
    c.result("Expand", [c.x(0), shape])


@converter("Pad")
def _pad(c: OpContext) -> None:
    widths = c.params["widths"]
    pads = [int(lo) for lo, _ in widths] + [int(hi) for _, hi in widths]
    value = c.const(c.params.get("value", 0.0))
    c.result("Pad", [c.x(0), c.ints(pads), value], mode="constant")


@converter("Concatenate")
def _concatenate(c: OpContext) -> None:
    c.result("Concat", list(c.inputs), axis=int(c.params.get("axis", 0)))


@converter("TakeAlongAxis")
def _take_along_axis(c: OpContext) -> None:
    idx = np.asarray(c.params["idx"]).astype(np.int64)
    axis = int(c.params["axis"])
    x_shapes = (c.in_shapes[0], c.in_shapes2[0])
    out_shapes = (c.out_shape, c.out_shape2)
    if any(a != b for s_x, s_out in zip(x_shapes, out_shapes, strict=True)
           for k, (a, b) in enumerate(zip(s_x, s_out, strict=True)) if k != axis):  # fmt: skip
        raise c.fail("the tensor must not be broadcast against the indices (GatherElements).")
    index = c.const(idx, np.int64)
    if idx.shape != c.out_shape or c.varying():
        index = c.node("Expand", [index, c.shape_tensor(c.out_shape, c.out_shape2)])
    c.result("GatherElements", [c.x(0), index], axis=axis)


@converter("GetItem", batch_params=True)
def _getitem(c: OpContext) -> None:
    index = c.params.get("index")
    if not _same_index(index, c.params2.get("index")):
        raise c.fail("the index depends on the batch size; export with dynamic_batch=False.")
    raw = index if isinstance(index, tuple) else (index,)
    parts = tuple(np.asarray(p) if isinstance(p, list) else p for p in raw)
    arrays = [i for i, p in enumerate(parts) if _is_array(p)]
    if not arrays:
        _basic_index(c, parts, c.out)
        return
    ints = [p for p in parts if isinstance(p, (int, np.integer))]
    if len(arrays) > 1 or ints or parts[arrays[0]].dtype.kind not in "iu":
        raise c.fail(
            "boolean masks, several integer-array indices, and integer arrays mixed with integers "
            "are not supported; index with integers, slices, None, ... or one integer array among "
            "slices."
        )
    at = arrays[0]
    basic = parts[:at] + (slice(None),) + parts[at + 1 :]
    sliced = _basic_index(c, basic, None)
    idx = parts[at].astype(np.int64)
    c.result("Gather", [sliced, c.const(idx, np.int64)], axis=_output_axis(c, basic, at))


def _is_array(part: Any) -> bool:
    return hasattr(part, "dtype") and hasattr(part, "shape") and not isinstance(part, np.generic)


def _same_index(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_index(p, q) for p, q in zip(a, b, strict=True))
    if _is_array(a) or _is_array(b) or isinstance(a, list):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if isinstance(a, slice) and isinstance(b, slice):
        return (a.start, a.stop, a.step) == (b.start, b.stop, b.step)
    return type(a) is type(b) and a == b


def _expand_ellipsis(parts: tuple[Any, ...], ndim: int) -> list[Any]:
    consumed = sum(1 for p in parts if p is not None and p is not Ellipsis)
    out: list[Any] = []
    for p in parts:
        if p is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(p)
    if not any(p is Ellipsis for p in parts):
        out.extend([slice(None)] * (ndim - consumed))
    return out


def _output_axis(c: OpContext, parts: tuple[Any, ...], at: int) -> int:
    """Where part ``at`` (a slice) lands in the result of basic indexing with ``parts``."""
    before = parts[:at]
    if any(p is Ellipsis for p in before):
        consumed = sum(1 for p in parts if p is not None and p is not Ellipsis)
        expanded = len(c.in_shapes[0]) - consumed
        return at - 1 + expanded  # (parts before, minus the Ellipsis, plus what it stands for)
    return at


def _basic_index(c: OpContext, parts: tuple[Any, ...], out: str | None) -> str:
    """Integers, slices, None and ``...``: one Slice, then Squeeze and Unsqueeze."""
    starts: list[int] = []
    ends: list[int] = []
    axes: list[int] = []
    strides: list[int] = []
    squeeze: list[int] = []
    unsqueeze: list[int] = []
    axis = 0
    out_pos = 0
    for p in _expand_ellipsis(parts, len(c.in_shapes[0])):
        if p is None:
            unsqueeze.append(out_pos)
            out_pos += 1
            continue
        if isinstance(p, (int, np.integer)):
            i = int(p)
            starts.append(i)
            ends.append(i + 1 if i != -1 else _INT64_MAX)
            axes.append(axis)
            strides.append(1)
            squeeze.append(axis)
        else:
            step = 1 if p.step is None else int(p.step)
            if (p.start, p.stop, step) != (None, None, 1):
                lo_default, hi_default = (0, _INT64_MAX) if step > 0 else (_INT64_MAX, _INT64_MIN)
                starts.append(lo_default if p.start is None else int(p.start))
                ends.append(hi_default if p.stop is None else int(p.stop))
                axes.append(axis)
                strides.append(step)
            out_pos += 1
        axis += 1
    chain: list[tuple[str, list[str]]] = []
    if axes:
        bounds = [c.ints(starts), c.ints(ends), c.ints(axes), c.ints(strides)]
        chain.append(("Slice", bounds))
    if squeeze:
        chain.append(("Squeeze", [c.ints(squeeze)]))
    if unsqueeze:
        chain.append(("Unsqueeze", [c.ints(unsqueeze)]))
    if not chain:
        return c.node("Identity", [c.x(0)], out=out) if out is not None else c.x(0)
    y = c.x(0)
    for k, (op_type, extra) in enumerate(chain):
        y = c.node(op_type, [y, *extra], out=out if k == len(chain) - 1 else None)
    return y
