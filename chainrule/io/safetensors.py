"""Reader and writer of the safetensors format, written from its specification (no dependency).

A safetensors file is::

    8 bytes     N, the header length, an unsigned little-endian 64-bit integer
    N bytes     a UTF-8 JSON object: name -> {"dtype", "shape", "data_offsets": [begin, end]},
                and optionally "__metadata__": {str: str}; padded with spaces
    the rest    the tensors' raw little-endian bytes, C order; offsets count from the end of
                the header, and the tensors cover this region exactly, without gaps or overlaps

The reader checks every one of these rules and raises ``CheckpointError`` naming the file and
the rule broken, so that a truncated or foreign file never surfaces as a NumPy traceback.

Example:
    >>> import numpy as np
    >>> from chainrule.io import safetensors
    >>> blob = safetensors.save({"w": np.arange(3, dtype=np.float32)}, metadata={"k": "v"})
    >>> safetensors.load(blob)["w"]
    array([0., 1., 2.], dtype=float32)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import _atomic
from .errors import CheckpointError

__all__ = ["save", "load", "save_file", "load_file", "read_metadata", "DTYPES"]

# dtype names of the format -> NumPy dtype (little-endian). BF16 is read only (as float32).
DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_BF16 = "BF16"
_KNOWN_UNSUPPORTED = ("F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64")
_NAMES = {dtype.newbyteorder("="): name for name, dtype in DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024  # the reference implementation's limit
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


# ----------------------------------------------------------------------------- writing
def _as_host_array(value: Any, name: str) -> np.ndarray:
    """A NumPy array from a Tensor, NumPy or CuPy array, torch tensor, number or nested list."""
    if hasattr(value, "grad_fn") and hasattr(value, "data") and hasattr(value, "_requires_grad"):
        value = value.data  # a chainrule Tensor
    if type(value).__module__.startswith("cupy"):
        value = value.get()
    elif type(value).__module__.startswith("torch"):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        value = value.numpy()
    try:
        return np.asarray(value)
    except Exception as err:  # noqa: BLE001
        raise TypeError(
            f"safetensors: tensor {name!r} must be an array or a Tensor, "
            f"got {type(value).__name__}."
        ) from err


def _prepare(
    tensors: Mapping[str, Any], metadata: Mapping[str, str] | None
) -> tuple[bytes, list[np.ndarray]]:
    """The 8-byte length and padded header, and each tensor's bytes (as uint8 arrays) in order.

    Tensors are laid out by decreasing item size, so every tensor starts at an offset that is a
    multiple of its item size (the header is padded to 8 bytes); the header keeps the caller's
    key order, which the reader returns.
    """
    if not isinstance(tensors, Mapping):
        raise TypeError(f"safetensors: expected a dict of name -> array, got {type(tensors)}.")
    arrays: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(
                f"safetensors: tensor names must be non-empty strings other than '__metadata__', "
                f"got {name!r}."
            )
        arr = _as_host_array(value, name)
        dtype = arr.dtype.newbyteorder("=") if arr.dtype.byteorder != "|" else arr.dtype
        if dtype not in _NAMES:
            raise TypeError(
                f"safetensors: tensor {name!r} has dtype {arr.dtype}, which the format cannot "
                f"hold; supported: {', '.join(str(d) for d in _NAMES)}. Cast it first."
            )
        little = DTYPES[_NAMES[dtype]]
        arrays[name] = np.asarray(arr, dtype=little, order="C")  # keeps 0-d arrays 0-d
    header: dict[str, Any] = {}
    if metadata:
        if not isinstance(metadata, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise TypeError("safetensors: metadata must be a dict of str -> str.")
        header["__metadata__"] = dict(metadata)
    order = sorted(arrays, key=lambda n: -arrays[n].dtype.itemsize)  # stable: keeps ties in order
    offsets: dict[str, list[int]] = {}
    position = 0
    for name in order:
        offsets[name] = [position, position + arrays[name].nbytes]
        position += arrays[name].nbytes
    for name, arr in arrays.items():
        header[name] = {
            "dtype": _NAMES[arr.dtype.newbyteorder("=")],
            "shape": list(arr.shape),
            "data_offsets": offsets[name],
        }
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    prefix = len(text).to_bytes(8, "little") + text
    return prefix, [arrays[name].reshape(-1).view(np.uint8) for name in order]


def _chunks(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None) -> Iterator[Any]:
    prefix, parts = _prepare(tensors, metadata)
    yield memoryview(prefix)
    for part in parts:
        if part.size:
            yield memoryview(part)


def save(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> bytes:
    """Serialize ``tensors`` (name -> array or Tensor) to safetensors bytes.

    Args:
        tensors: name -> array-like; dtypes float64/32/16, int64/32/16/8, uint64/32/16/8, bool.
        metadata: optional str -> str pairs stored under ``__metadata__``.

    Returns:
        The whole file's bytes.
    """
    return b"".join(bytes(chunk) for chunk in _chunks(tensors, metadata))


def save_file(
    tensors: Mapping[str, Any],
    path: str | os.PathLike[str],
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write ``tensors`` to ``path`` atomically (a temporary sibling, fsynced, then renamed).

    Args:
        tensors: name -> array-like (see ``save``).
        path: the file to write; an existing file is replaced only once the new one is complete.
        metadata: optional str -> str pairs stored under ``__metadata__``.
    """
    _atomic.write_file_atomic(Path(path), _chunks(tensors, metadata))


# ----------------------------------------------------------------------------- reading
def _fail(source: str, problem: str) -> CheckpointError:
    return CheckpointError(f"{source}: not a valid safetensors file: {problem}.")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in the header")
        out[key] = value
    return out


def _parse_header(buffer: memoryview, source: str) -> tuple[dict[str, Any], dict[str, str], int]:
    """Check the length prefix and the JSON header; returns entries, metadata, data start."""
    size = len(buffer)
    if size < 8:
        raise _fail(source, f"the file is {size} bytes, shorter than the 8-byte header length")
    n = int.from_bytes(buffer[:8], "little")
    if n > _MAX_HEADER:
        raise _fail(source, f"header length {n} exceeds the {_MAX_HEADER}-byte limit")
    if 8 + n > size:
        raise _fail(source, f"header length {n} runs past the end of the {size}-byte file")
    raw = bytes(buffer[8 : 8 + n])
    if not raw.startswith(b"{"):
        raise _fail(source, "the header does not start with '{' (is this a safetensors file?)")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as err:
        raise _fail(source, f"the header is not valid UTF-8 JSON ({err})") from None
    if not isinstance(header, dict):
        raise _fail(source, "the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise _fail(source, "__metadata__ must be an object of string -> string")
    return header, metadata, 8 + n


def _check_entry(name: str, entry: Any, source: str) -> tuple[str, tuple[int, ...], int, int]:
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        got = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise _fail(
            source, f"tensor {name!r} must have exactly dtype, shape, data_offsets; got {got}"
        )
    dtype = entry["dtype"]
    if dtype not in DTYPES and dtype != _BF16:
        if dtype in _KNOWN_UNSUPPORTED:
            raise _fail(source, f"tensor {name!r} has dtype {dtype}, which chainrule cannot read")
        known = ", ".join([*DTYPES, _BF16])
        raise _fail(source, f"tensor {name!r} has unknown dtype {dtype!r}; known: {known}")
    shape = entry["shape"]
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise _fail(source, f"tensor {name!r} has shape {shape!r}, not a list of integers >= 0")
    offsets = entry["data_offsets"]
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        raise _fail(source, f"tensor {name!r} has data_offsets {offsets!r}, not [begin, end]")
    return dtype, tuple(shape), offsets[0], offsets[1]


def _parse(data: Any, source: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Check and decode a whole file held in ``data`` (bytes or bytearray)."""
    buffer = memoryview(data)
    header, metadata, start = _parse_header(buffer, source)
    entries = {name: _check_entry(name, entry, source) for name, entry in header.items()}
    length = len(buffer) - start
    position = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda kv: kv[1][2:]):
        if begin != position:
            what = "overlaps the previous tensor" if begin < position else "leaves a gap"
            raise _fail(
                source, f"tensor {name!r} starts at byte {begin} and {what} (expected {position})"
            )
        if end > length:
            raise _fail(
                source,
                f"tensor {name!r} ends at byte {end}, but the data region holds {length} bytes "
                "(truncated file?)",
            )
        position = end
    if position != length:
        raise _fail(source, f"{length - position} bytes after the last tensor are not indexed")
    tensors: dict[str, np.ndarray] = {}
    for name, (dtype_name, shape, begin, end) in entries.items():
        stored = np.dtype("<u2") if dtype_name == _BF16 else DTYPES[dtype_name]
        count = math.prod(shape)
        if count * stored.itemsize != end - begin:
            raise _fail(
                source,
                f"tensor {name!r} of shape {shape} and dtype {dtype_name} needs "
                f"{count * stored.itemsize} bytes, but its offsets span {end - begin}",
            )
        arr = np.frombuffer(buffer, dtype=stored, count=count, offset=start + begin)
        if dtype_name == _BF16:
            arr = (arr.astype(np.uint32) << 16).view(np.float32)  # bfloat16 = float32's top half
        elif not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        tensors[name] = arr.reshape(shape)
    return tensors, metadata


def load(data: bytes | bytearray, source: str = "<bytes>") -> dict[str, np.ndarray]:
    """Decode safetensors bytes into name -> NumPy array (BF16 becomes float32).

    Args:
        data: the whole file's bytes. A ``bytearray`` gives writable arrays that share its memory.
        source: a name for error messages.

    Raises:
        CheckpointError: naming ``source`` and the rule the bytes break.
    """
    return _parse(data, source)[0]


def _read(path: str | os.PathLike[str]) -> bytearray:
    source = os.fspath(path)
    try:
        with open(source, "rb") as f:
            data = _atomic.read_all(f)
    except FileNotFoundError:
        raise CheckpointError(f"{source}: no such file.") from None
    except IsADirectoryError:
        raise CheckpointError(f"{source}: is a folder, not a safetensors file.") from None
    return data


def load_file(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a safetensors file into name -> writable NumPy array, in the header's key order.

    Raises:
        CheckpointError: the file is missing, truncated or breaks the format (the message says
            which rule).
    """
    return _parse(_read(path), os.fspath(path))[0]


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (empty if it has none), checking the file."""
    return _parse(_read(path), os.fspath(path))[1]
