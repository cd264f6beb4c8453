"""Floor 6: TensorBoard event files, written and read without TensorFlow or protobuf.

An event file is a TFRecord file: a sequence of records, each framed as

    uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)

(little-endian), where ``masked_crc32c(x) = ((c >> 15) | (c << 17)) + 0xA282EAD8 (mod 2^32)``
with ``c`` the CRC-32C (Castagnoli) of ``x``. Each record's data is a serialized ``Event``
protocol buffer. The first event carries ``file_version = "brain.Event:2"``; the others carry a
``Summary`` of scalar values. The few fields used are encoded by hand:

    Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
    Summary { repeated Value value = 1; }
    Value   { string tag = 1; float simple_value = 2; }

TensorBoard lists a folder's files whose names contain ``tfevents``.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with EventFileWriter(folder) as writer:
    ...     writer.add_scalar("loss", 0.5, step=1)
    >>> read_scalars(writer.path)
    {'loss': [(1, 0.5)]}
"""

from __future__ import annotations

import os
import socket
import struct
import time
from typing import Any

__all__ = ["EventFileWriter", "read_events", "read_scalars", "crc32c", "masked_crc32c"]

_FILE_VERSION = "brain.Event:2"
_MASK_DELTA = 0xA282EAD8


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            # reflected Castagnoli polynomial 0x1EDC6F41
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``; ``crc32c(b"123456789") == 0xE3069283``."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The masked CRC that TFRecord stores (a CRC of data holding CRCs stays well mixed)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


# ----------------------------------------------------------------------------- protobuf encoding
def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values take ten bytes, as two's complement
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field_bytes(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _scalar_value(tag: str, value: float) -> bytes:
    return _field_bytes(1, tag.encode()) + _varint(2 << 3 | 5) + struct.pack("<f", value)


def _event(wall_time: float, step: int | None = None, **fields: bytes) -> bytes:
    out = _varint(1 << 3 | 1) + struct.pack("<d", wall_time)
    if step is not None:
        out += _varint(2 << 3 | 0) + _varint(int(step))
    if "file_version" in fields:
        out += _field_bytes(3, fields["file_version"])
    if "summary" in fields:
        out += _field_bytes(5, fields["summary"])
    return out


def _record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


class EventFileWriter:
    """Appends scalar summaries to a new TensorBoard event file in ``log_dir``.

    Args:
        log_dir: the folder (created if needed); TensorBoard shows it as one run.
        filename_suffix: appended to the file name. Default: ``""``.

    Attributes:
        path: the event file's path.
    """

    _counter = 0

    def __init__(self, log_dir: str | os.PathLike[str], filename_suffix: str = "") -> None:
        self.log_dir = os.fspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        EventFileWriter._counter += 1
        name = (
            f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
            f"{os.getpid()}.{EventFileWriter._counter}{filename_suffix}"
        )
        self.path = os.path.join(self.log_dir, name)
        self._file: Any = open(self.path, "wb")  # closed by close()
        self._write(_event(time.time(), 0, file_version=_FILE_VERSION.encode()))
        self.flush()

    def _write(self, event: bytes) -> None:
        if self._file is None:
            raise RuntimeError(f"EventFileWriter: {self.path} is closed.")
        self._file.write(_record(event))

    def add_scalar(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """Record ``value`` under ``tag`` at ``step``."""
        self.add_scalars({tag: value}, step, wall_time)

    def add_scalars(
        self, values: dict[str, float], step: int, wall_time: float | None = None
    ) -> None:
        """Record several tagged values at one ``step``, in a single event."""
        summary = b"".join(
            _field_bytes(1, _scalar_value(tag, float(v))) for tag, v in values.items()
        )
        when = time.time() if wall_time is None else float(wall_time)
        self._write(_event(when, int(step), summary=summary))

    def flush(self) -> None:
        """Push buffered events to the file."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file (a second call does nothing)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> EventFileWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ----------------------------------------------------------------------------- reading back
def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if pos >= len(data):
            raise ValueError("read_events: a varint runs past the end of its message.")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, Any]]:
    """Decode a protobuf message into ``(field number, value)`` pairs (bytes for wire type 2)."""
    out = []
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _read_varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"read_events: unsupported protobuf wire type {wire}.")
        out.append((number, value))
    return out


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Decode an event file: one dict per event (``wall_time``, ``step``, and ``file_version``
    or ``scalars`` {tag: value}), checking every record's CRCs.

    Raises:
        ValueError: a truncated record or a CRC mismatch (the message names the file and offset).
    """
    with open(path, "rb") as f:
        blob = f.read()
    events = []
    pos = 0
    while pos < len(blob):
        header = blob[pos : pos + 12]
        if len(header) < 12:
            raise ValueError(f"read_events: {os.fspath(path)} is truncated at byte {pos}.")
        (length,) = struct.unpack("<Q", header[:8])
        (length_crc,) = struct.unpack("<I", header[8:])
        data = blob[pos + 12 : pos + 12 + length]
        tail = blob[pos + 12 + length : pos + 16 + length]
        if length_crc != masked_crc32c(header[:8]) or len(data) < length or len(tail) < 4:
            raise ValueError(f"read_events: {os.fspath(path)}: bad record header at byte {pos}.")
        if struct.unpack("<I", tail)[0] != masked_crc32c(data):
            raise ValueError(f"read_events: {os.fspath(path)}: CRC mismatch at byte {pos}.")
        events.append(_decode_event(data))
        pos += 16 + length
    return events


def _decode_event(data: bytes) -> dict[str, Any]:
    event: dict[str, Any] = {"step": 0}
    for number, value in _fields(data):
        if number == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif number == 2:
            event["step"] = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 3:
            event["file_version"] = value.decode()
        elif number == 5:
            scalars = {}
            for vnum, vbytes in _fields(value):
                if vnum != 1:
                    continue
                parts = dict(_fields(vbytes))
                if 1 in parts and 2 in parts:
                    scalars[parts[1].decode()] = struct.unpack("<f", parts[2])[0]
            event["scalars"] = scalars
    return event


def read_scalars(path: str | os.PathLike[str]) -> dict[str, list[tuple[int, float]]]:
    """The scalar series of an event file: ``{tag: [(step, value), ...]}`` in file order."""
    series: dict[str, list[tuple[int, float]]] = {}
    for event in read_events(path):
        for tag, value in event.get("scalars", {}).items():
            series.setdefault(tag, []).append((event["step"], value))
    return series
