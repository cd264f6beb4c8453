"""TensorBoard event files: CRC-32C, record framing, protobuf fields, and the callback."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import TensorBoard, Trainer
from chainrule.train.event_file import (
    EventFileWriter,
    crc32c,
    masked_crc32c,
    read_events,
    read_scalars,
)


def test_crc32c_known_answers():
    # RFC 3720, appendix B.4, and the common check value
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(bytes([0xFF] * 32)) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert masked_crc32c(b"") == (0xA282EAD8 + 0) & 0xFFFFFFFF


def test_event_bytes_follow_the_protobuf_layout(tmp_path):
    with EventFileWriter(tmp_path) as writer:
        writer.add_scalar("loss", 0.25, step=300, wall_time=1.5)
    with open(writer.path, "rb") as f:
        blob = f.read()
    first_len = struct.unpack("<Q", blob[:8])[0]
    record = blob[16 + first_len :]
    data = record[12 : 12 + struct.unpack("<Q", record[:8])[0]]
    value = b"\x0a\x04loss" + b"\x15" + struct.pack("<f", 0.25)
    summary = b"\x0a" + bytes([len(value)]) + value
    expected = (
        b"\x09"
        + struct.pack("<d", 1.5)
        + b"\x10\xac\x02"
        + b"\x2a"
        + bytes([len(summary)])
        + summary
    )
    assert data == expected
    assert os.path.basename(writer.path).startswith("events.out.tfevents.")


def test_round_trip_and_file_version(tmp_path):
    with EventFileWriter(tmp_path) as writer:
        writer.add_scalars({"a": 1.0, "b": -2.5}, step=0)
        writer.add_scalar("a", 3.0, step=7)
    events = read_events(writer.path)
    assert events[0]["file_version"] == "brain.Event:2"
    assert read_scalars(writer.path) == {"a": [(0, 1.0), (7, 3.0)], "b": [(0, -2.5)]}
    with pytest.raises(RuntimeError, match="is closed"):
        writer.add_scalar("a", 1.0, 1)


def test_damaged_files_are_reported(tmp_path):
    with EventFileWriter(tmp_path) as writer:
        writer.add_scalar("loss", 1.0, 1)
    blob = bytearray(open(writer.path, "rb").read())
    with open(writer.path, "wb") as f:
        f.write(blob[:-3])
    with pytest.raises(ValueError, match="bad record header at byte"):
        read_events(writer.path)
    blob[-6] ^= 0xFF
    with open(writer.path, "wb") as f:
        f.write(blob)
    with pytest.raises(ValueError, match="CRC mismatch"):
        read_events(writer.path)


def test_callback_writes_train_and_validation_runs(tmp_path, blobs, make_model):
    model = make_model()
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.5), "cross_entropy")
    cb = TensorBoard(tmp_path / "run", update_freq=2)
    history = trainer.fit(blobs, validation=blobs, epochs=3, callbacks=[cb], verbose=0)
    (train_file,) = (tmp_path / "run" / "train").iterdir()
    (val_file,) = (tmp_path / "run" / "validation").iterdir()
    train, val = read_scalars(train_file), read_scalars(val_file)
    assert [s for s, _ in train["epoch_loss"]] == [0, 1, 2]
    np.testing.assert_allclose(
        [v for _, v in train["epoch_loss"]], history.history["loss"], rtol=1e-6
    )
    np.testing.assert_allclose(
        [v for _, v in val["epoch_accuracy"]], history.history["val_accuracy"], rtol=1e-6
    )
    assert [s for s, _ in train["batch_loss"]] == [2, 4, 6, 8, 10, 12]
    with pytest.raises(ValueError, match="update_freq must be 'epoch' or an integer"):
        TensorBoard(tmp_path, update_freq="sometimes")


def _event_class():
    """The TensorFlow ``Event`` message (the fields used here), built with protobuf itself."""
    descriptor_pb2 = pytest.importorskip("google.protobuf.descriptor_pb2")
    from google.protobuf import descriptor_pool, message_factory

    f = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="chainrule_test_event.proto", package="tftest", syntax="proto3"
    )
    value = proto.message_type.add(name="Value")
    value.field.add(name="tag", number=1, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    value.field.add(name="simple_value", number=2, type=f.TYPE_FLOAT, label=f.LABEL_OPTIONAL)
    summary = proto.message_type.add(name="Summary")
    summary.field.add(
        name="value", number=1, type=f.TYPE_MESSAGE, type_name=".tftest.Value",
        label=f.LABEL_REPEATED,
    )  # fmt: skip
    event = proto.message_type.add(name="Event")
    event.field.add(name="wall_time", number=1, type=f.TYPE_DOUBLE, label=f.LABEL_OPTIONAL)
    event.field.add(name="step", number=2, type=f.TYPE_INT64, label=f.LABEL_OPTIONAL)
    event.field.add(name="file_version", number=3, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    event.field.add(
        name="summary", number=5, type=f.TYPE_MESSAGE, type_name=".tftest.Summary",
        label=f.LABEL_OPTIONAL,
    )  # fmt: skip
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tftest.Event"))


def test_protobuf_parses_the_events(tmp_path):
    event_cls = _event_class()  # skipped without the protobuf package
    with EventFileWriter(tmp_path) as writer:
        writer.add_scalars({"epoch_loss": 0.75, "epoch_accuracy": 0.5}, step=12, wall_time=3.0)
    blob = open(writer.path, "rb").read()
    parsed = []
    pos = 0
    while pos < len(blob):
        (length,) = struct.unpack("<Q", blob[pos : pos + 8])
        message = event_cls()
        message.ParseFromString(blob[pos + 12 : pos + 12 + length])
        parsed.append(message)
        pos += 16 + length
    assert parsed[0].file_version == "brain.Event:2"
    assert parsed[1].step == 12 and parsed[1].wall_time == 3.0
    assert [(v.tag, v.simple_value) for v in parsed[1].summary.value] == [
        ("epoch_loss", 0.75),
        ("epoch_accuracy", 0.5),
    ]
