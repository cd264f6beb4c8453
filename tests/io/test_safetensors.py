"""The safetensors reader/writer: byte layout, dtypes, validation of every rule, interop."""

from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule.io import CheckpointError, safetensors

DTYPES = [
    np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
    np.uint64, np.uint32, np.uint16, np.uint8, np.bool_,
]  # fmt: skip


def _raw(header: dict, data: bytes = b"", pad: bool = True) -> bytes:
    """A file assembled by hand, independently of the writer."""
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 4), (2, 3, 4)])
def test_round_trip_every_dtype_and_shape(dtype, shape):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal(shape) * 50).astype(dtype)
    out = safetensors.load(safetensors.save({"x": arr}))["x"]
    assert out.dtype == np.dtype(dtype) and out.shape == shape
    np.testing.assert_array_equal(out, arr)


def test_reads_a_hand_made_file():
    data = struct.pack("<3f", 1.5, -2.0, 4.0) + struct.pack("<2q", 7, -9)
    header = {
        "__metadata__": {"who": "hand"},
        "b": {"dtype": "I64", "shape": [2], "data_offsets": [12, 28]},
        "a": {"dtype": "F32", "shape": [3, 1], "data_offsets": [0, 12]},
    }
    out = safetensors.load(_raw(header, data, pad=False))
    assert list(out) == ["b", "a"]  # the header's key order
    np.testing.assert_array_equal(out["a"], [[1.5], [-2.0], [4.0]])
    np.testing.assert_array_equal(out["b"], [7, -9])


def test_written_layout_follows_the_format():
    tensors = {"small": np.arange(3, dtype=np.uint8), "big": np.arange(2, dtype=np.float64)}
    blob = safetensors.save(tensors, metadata={"k": "v"})
    n = struct.unpack("<Q", blob[:8])[0]
    assert n % 8 == 0 and blob[8:9] == b"{"
    header = json.loads(blob[8 : 8 + n])
    assert header["__metadata__"] == {"k": "v"}
    assert list(header) == ["__metadata__", "small", "big"]
    assert header["big"] == {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}
    assert header["small"]["data_offsets"] == [16, 19]  # larger items first: aligned offsets
    assert blob[8 + n + 16 :] == bytes([0, 1, 2])
    assert blob[8 + n : 8 + n + 16] == struct.pack("<2d", 0.0, 1.0)


def test_accepts_tensors_views_and_big_endian():
    base = np.arange(12, dtype=">f4").reshape(3, 4)
    tensors = {"t": cr.tensor([1.0, 2.0]), "view": base[:, ::2], "be": base}
    out = safetensors.load(safetensors.save(tensors))
    np.testing.assert_array_equal(out["view"], base[:, ::2])
    np.testing.assert_array_equal(out["be"], base)
    assert out["be"].dtype == np.float32 and out["be"].dtype.isnative
    np.testing.assert_array_equal(out["t"], [1.0, 2.0])


def test_bf16_is_read_as_float32():
    values = np.array([1.0, -2.5, 3.140625], dtype=np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = {"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}
    out = safetensors.load(_raw(header, bf16))["w"]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, values)


def test_file_round_trip_and_metadata(tmp_path):
    path = tmp_path / "w.safetensors"
    safetensors.save_file({"a": np.ones((2, 2), np.float32)}, path, metadata={"epoch": "3"})
    safetensors.save_file({"b": np.zeros(3, np.int32)}, path)  # replaces atomically
    assert list(safetensors.load_file(path)) == ["b"]
    assert safetensors.read_metadata(path) == {}
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temporary left
    loaded = safetensors.load_file(path)["b"]
    loaded[0] = 5  # arrays from a file are writable
    safetensors.save_file({"a": np.ones(1)}, path, metadata={"epoch": "3"})
    assert safetensors.read_metadata(path) == {"epoch": "3"}


@pytest.mark.parametrize(
    "value, error",
    [(np.zeros(2, np.complex64), TypeError), (np.array(["a"]), TypeError)],
)
def test_unwritable_dtypes_are_refused(value, error):
    with pytest.raises(error, match="'x' has dtype"):
        safetensors.save({"x": value})


@pytest.mark.parametrize("name", ["", "__metadata__", 3])
def test_bad_names_are_refused(name):
    with pytest.raises(ValueError, match="names must be non-empty strings"):
        safetensors.save({name: np.zeros(1)})


_ENTRY = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
BAD_FILES = {
    "short": (b"\x01\x02", "shorter than the 8-byte header length"),
    "header past end": (struct.pack("<Q", 1000) + b"{}", "runs past the end"),
    "huge header": (struct.pack("<Q", 2**40) + b"{}", "exceeds the"),
    "no brace": (_raw({"a": _ENTRY})[:8] + b"[" + _raw({"a": _ENTRY})[9:], "does not start"),
    "not json": (struct.pack("<Q", 4) + b"{abc", "not valid UTF-8 JSON"),
    "not utf8": (struct.pack("<Q", 4) + b"{\xff\xfe}", "not valid UTF-8 JSON"),
    "array header": (_raw([1, 2]), "does not start with"),  # type: ignore[arg-type]
    "unknown dtype": (_raw({"a": {**_ENTRY, "dtype": "F33"}}, bytes(8)), "unknown dtype 'F33'"),
    "f8 dtype": (_raw({"a": {**_ENTRY, "dtype": "F8_E4M3"}}, bytes(8)), "cannot read"),
    "negative dim": (_raw({"a": {**_ENTRY, "shape": [-2]}}, bytes(8)), "not a list of integers"),
    "bool dim": (_raw({"a": {**_ENTRY, "shape": [True]}}, bytes(8)), "not a list of integers"),
    "offsets": (_raw({"a": {**_ENTRY, "data_offsets": [0]}}, bytes(8)), "not [begin, end]"),
    "reversed": (_raw({"a": {**_ENTRY, "data_offsets": [8, 0]}}, bytes(8)), "not [begin, end]"),
    "extra key": (_raw({"a": {**_ENTRY, "x": 1}}, bytes(8)), "exactly dtype, shape"),
    "entry not object": (_raw({"a": 5}), "exactly dtype, shape"),
    "truncated": (_raw({"a": _ENTRY}, bytes(5)), "truncated file"),
    "trailing": (_raw({"a": _ENTRY}, bytes(12)), "4 bytes after the last tensor"),
    "gap": (
        _raw({"a": {**_ENTRY, "data_offsets": [4, 12]}}, bytes(12)),
        "leaves a gap",
    ),
    "overlap": (
        _raw({"a": _ENTRY, "b": {**_ENTRY, "data_offsets": [4, 12]}}, bytes(12)),
        "overlaps the previous tensor",
    ),
    "size vs shape": (
        _raw({"a": {**_ENTRY, "shape": [3]}}, bytes(8)),
        "needs 12 bytes, but its offsets span 8",
    ),
    "metadata": (_raw({"__metadata__": {"a": 1}}), "__metadata__ must be"),
    "duplicate": (
        struct.pack("<Q", 14) + b'{"a":1, "a":2}',
        "appears twice",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_every_broken_rule_is_named(tmp_path, case):
    blob, message = BAD_FILES[case]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(blob)
    with pytest.raises(CheckpointError, match=re.escape(message)) as info:
        safetensors.load_file(path)
    assert str(path) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        safetensors.load_file(tmp_path / "nope.safetensors")
    with pytest.raises(CheckpointError, match="is a folder"):
        safetensors.load_file(tmp_path)


def test_random_bytes_are_refused():
    blob = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(CheckpointError, match="<bytes>: not a valid safetensors file"):
        safetensors.load(blob)


def test_interop_with_the_reference_package(tmp_path):
    st_numpy = pytest.importorskip("safetensors.numpy")
    tensors = {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3),
        "i": np.array([1, -2], dtype=np.int64),
        "m": np.array([True, False]),
        "h": np.ones(3, np.float16),
    }
    ours = tmp_path / "ours.safetensors"
    theirs = tmp_path / "theirs.safetensors"
    safetensors.save_file(tensors, ours, metadata={"a": "b"})
    st_numpy.save_file(tensors, str(theirs), metadata={"a": "b"})
    for read in (st_numpy.load_file(str(ours)), safetensors.load_file(theirs)):
        assert set(read) == set(tensors)
        for key, value in tensors.items():
            np.testing.assert_array_equal(read[key], value)
            assert read[key].dtype == value.dtype
    assert safetensors.read_metadata(theirs) == {"a": "b"}


def test_torch_tensors_are_written():
    torch = pytest.importorskip("torch")
    out = safetensors.load(
        safetensors.save({"a": torch.arange(4.0), "b": torch.ones(2, dtype=torch.bfloat16)})
    )
    np.testing.assert_array_equal(out["a"], [0, 1, 2, 3])
    assert out["b"].dtype == np.float32
