"""Checkpoints: round trip, layout, clear errors for bad files, recovery from interrupted saves."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.io import (
    CheckpointError,
    CheckpointMismatchError,
    _atomic,
    checkpoint,
    load,
    safetensors,
    save,
)
from chainrule.models import MLP


def _trained(hidden=(8,)):
    model = MLP(4, hidden, 3)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(2):
        loss = cr.cross_entropy(model(cr.randn(5, 4)), cr.tensor([0, 1, 2, 0, 1]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model, opt, sched


def _params(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_round_trip_restores_everything(tmp_path):
    model, opt, sched = _trained()
    path = tmp_path / "ckpt"
    save(
        path, model, opt, sched, epoch=2, step=2, loader_state={"batch": 7},
        model_name="mlp", model_kwargs={"in_features": 4, "hidden": (8,), "num_classes": 3},
        note="hi", nested={"a": [1, 2.5, None], "arr": np.arange(3)}, weights=cr.ones(2),
    )  # fmt: skip
    after_save = (cr.get_rng().random(), np.random.random(), random.random())

    cr.manual_seed(123)
    fresh = MLP(4, (8,), 3)
    fresh_opt = optim.SGD(fresh.parameters(), lr=0.5, momentum=0.9)
    fresh_sched = optim.StepLR(fresh_opt, step_size=1, gamma=0.5)
    ckpt = load(path, fresh, fresh_opt, fresh_sched)

    assert (cr.get_rng().random(), np.random.random(), random.random()) == after_save
    for key, value in _params(model).items():
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), value)
    assert fresh_opt.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.025
    for p, q in zip(model.parameters(), fresh.parameters(), strict=True):
        np.testing.assert_array_equal(
            opt.state[p]["momentum_buffer"], fresh_opt.state[q]["momentum_buffer"]
        )
    assert fresh_sched.state_dict() == sched.state_dict()
    assert (ckpt.epoch, ckpt.step, ckpt.loader_state) == (2, 2, {"batch": 7})
    assert ckpt.extra["note"] == "hi" and ckpt.extra["nested"]["a"] == [1, 2.5, None]
    np.testing.assert_array_equal(ckpt.extra["nested"]["arr"], [0, 1, 2])
    np.testing.assert_array_equal(ckpt.extra["weights"], [1.0, 1.0])
    assert (ckpt.model_class, ckpt.optimizer_class, ckpt.scheduler_class) == (
        "MLP",
        "SGD",
        "StepLR",
    )
    assert ckpt.chainrule_version == cr.__version__ and ckpt.format_version == 1
    assert not ckpt.recovered and "epoch=2" in repr(ckpt)
    rebuilt = ckpt.build_model()
    x = cr.randn(2, 4)
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())


def test_layout_is_three_plain_files(tmp_path):
    model, opt, _ = _trained()
    path = save(tmp_path / "ckpt", model, opt)
    assert sorted(p.name for p in path.iterdir()) == [
        "model.safetensors", "state.json", "state.safetensors",
    ]  # fmt: skip
    weights = safetensors.load_file(path / "model.safetensors")
    assert list(weights) == list(model.state_dict())
    doc = json.loads((path / "state.json").read_text())
    assert doc["format"] == "chainrule.checkpoint" and doc["optimizer"]["class"] == "SGD"
    assert doc["files"]["model.safetensors"]["bytes"] == (path / "model.safetensors").stat().st_size
    state = safetensors.load_file(path / "state.safetensors")
    assert "optimizer.state.0.momentum_buffer" in state


def test_replacing_leaves_no_debris(tmp_path):
    model, opt, _ = _trained()
    for epoch in range(3):
        save(tmp_path / "ckpt", model, opt, epoch=epoch)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]
    assert load(tmp_path / "ckpt").epoch == 2


def test_weights_only_safetensors_file(tmp_path):
    model, _, _ = _trained()
    safetensors.save_file(model.state_dict(), tmp_path / "w.safetensors")
    fresh = MLP(4, (8,), 3)
    ckpt = load(tmp_path / "w.safetensors", fresh)
    assert ckpt.epoch is None
    np.testing.assert_array_equal(fresh.layers[1].weight.numpy(), model.layers[1].weight.numpy())
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        load(tmp_path / "w.safetensors", fresh, optim.SGD(fresh.parameters(), lr=0.1))


def test_save_refuses_what_it_cannot_store_and_foreign_folders(tmp_path):
    model = MLP(4, (8,), 3)
    with pytest.raises(TypeError, match="cannot store extra.bad"):
        save(tmp_path / "ckpt", model, bad=object())
    assert not list(tmp_path.iterdir())
    with pytest.raises(TypeError, match="epoch must be an integer"):
        save(tmp_path / "ckpt", model, epoch=1.5)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="refusing to replace"):
        save(tmp_path / "run", model)
    assert (tmp_path / "run" / "notes.txt").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="is a file"):
        save(tmp_path / "file", model)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint here"):
        load(tmp_path / "nothing")


# ----------------------------------------------------------------------------- damaged files
def _saved(tmp_path):
    model, opt, sched = _trained()
    return save(tmp_path / "ckpt", model, opt, sched, epoch=1)


def _flip_byte(path, offset_from_end=3):
    data = bytearray(path.read_bytes())
    data[-offset_from_end] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "truncated weights": (
        lambda p: (p / "model.safetensors").write_bytes(
            (p / "model.safetensors").read_bytes()[:-7]
        ),
        "model.safetensors: holds .* bytes, but state.json records",
    ),
    "random weights": (
        lambda p: (p / "model.safetensors").write_bytes(
            np.random.default_rng(0)
            .integers(0, 256, (p / "model.safetensors").stat().st_size, dtype=np.uint8)
            .tobytes()
        ),
        "model.safetensors: not a valid safetensors file",
    ),
    "flipped bit": (
        lambda p: _flip_byte(p / "model.safetensors"),
        "model.safetensors: content does not match the SHA-256",
    ),
    "bad state header": (
        lambda p: (p / "state.safetensors").write_bytes(
            b"\xff" * 8 + (p / "state.safetensors").read_bytes()[8:]
        ),
        "state.safetensors: not a valid safetensors file: header length",
    ),
    "json truncated": (
        lambda p: (p / "state.json").write_bytes((p / "state.json").read_bytes()[:100]),
        "state.json: not valid UTF-8 JSON",
    ),
    "json missing keys": (
        lambda p: (p / "state.json").write_text(
            json.dumps({"format": "chainrule.checkpoint", "format_version": 1, "epoch": 1})
        ),
        "state.json: missing keys chainrule_version, files, step",
    ),
    "foreign json": (
        lambda p: (p / "state.json").write_text('{"hello": "world"}'),
        "state.json: not a chainrule checkpoint",
    ),
    "json list": (
        lambda p: (p / "state.json").write_text("[1, 2]"),
        "state.json: expected a JSON object",
    ),
    "newer format": (
        lambda p: (p / "state.json").write_text(
            (p / "state.json").read_text().replace('"format_version": 1', '"format_version": 9')
        ),
        "format version 9 is not one this chainrule reads",
    ),
    "malformed entry": (
        lambda p: (p / "state.json").write_text(
            (p / "state.json").read_text().replace('"epoch": 1', '"epoch": "one"')
        ),
        "state.json: malformed entries epoch",
    ),
    "missing file": (
        lambda p: (p / "state.safetensors").unlink(),
        "state.safetensors: missing",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_checkpoints_name_the_file_and_problem(tmp_path, case):
    path = _saved(tmp_path)
    damage, message = DAMAGE[case]
    damage(path)
    with pytest.raises(CheckpointError, match=message):
        load(path, MLP(4, (8,), 3))


def test_foreign_files_given_as_the_path(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8).tobytes())
    with pytest.raises(CheckpointError, match="junk.bin: not a valid safetensors file"):
        load(junk, MLP(4, (8,), 3))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="state.json: missing"):
        load(tmp_path / "empty")


def test_wrong_architecture_lists_keys_and_shapes(tmp_path):
    path = _saved(tmp_path)
    with pytest.raises(CheckpointMismatchError) as info:
        load(path, MLP(4, (16,), 3))
    message = str(info.value)
    assert "model.safetensors" in message and "(of a MLP) do not fit this MLP" in message
    assert "layers.1.weight: expected (16, 4), got (8, 4)" in message
    assert isinstance(info.value, nn.StateDictError)
    assert ("layers.1.bias", (16,), (8,)) in info.value.mismatched
    with pytest.raises(CheckpointMismatchError, match="missing keys .*: layers.5.weight"):
        load(path, MLP(4, (8, 8), 3))


def test_non_strict_load_reports_incompatible_keys(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    path = save(tmp_path / "ckpt", model)
    bigger = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2), nn.Linear(2, 2))
    ckpt = load(path, bigger, strict=False)
    assert ckpt.incompatible.missing_keys == ["2.weight", "2.bias"]


def test_component_class_mismatch(tmp_path):
    path = _saved(tmp_path)
    model = MLP(4, (8,), 3)
    with pytest.raises(CheckpointError, match="state of a SGD optimizer, which cannot be restored"):
        load(path, model, optim.Adam(model.parameters()))
    other = MLP(4, (8,), 3)
    before = _params(other)
    with pytest.raises(CheckpointError, match="no scheduler state"):
        load(
            save(tmp_path / "plain", model),
            other,
            scheduler=optim.StepLR(optim.SGD(other.parameters(), lr=0.1), step_size=1),
        )
    for key, value in before.items():  # checks run before anything is loaded
        np.testing.assert_array_equal(other.state_dict()[key].numpy(), value)


def test_optimizer_over_other_parameters(tmp_path):
    path = _saved(tmp_path)
    model = MLP(4, (8,), 3)
    opt = optim.SGD(list(model.parameters())[:2], lr=0.1, momentum=0.9)
    with pytest.raises(CheckpointError, match="optimizer state does not fit"):
        load(path, model, opt)


# ----------------------------------------------------------------------------- interrupted saves
class _Killed(BaseException):
    """Stands for a SIGKILL at a chosen point of the save protocol."""


def _fill(model, value):
    for p in model.parameters():
        p.data[...] = value


def _crash_at(monkeypatch, target, n):
    """Make the n-th call (0-based) of ``_atomic.<target>`` die."""
    original = getattr(_atomic, target)
    calls = {"n": 0}

    def dying(*args):
        if calls["n"] == n:
            raise _Killed
        calls["n"] += 1
        return original(*args)

    monkeypatch.setattr(_atomic, target, dying)


@pytest.mark.parametrize(
    "target, n",
    [("write_file", 0), ("write_file", 2), ("_rename", 0), ("_rename", 1), ("_remove_tree", 0),
     ("fsync_dir", 0), ("fsync_dir", 1), ("fsync_dir", 2)],
)  # fmt: skip
def test_an_interrupted_replacement_leaves_old_or_new(tmp_path, monkeypatch, target, n):
    model = MLP(4, (8,), 3)
    path = tmp_path / "ckpt"
    _fill(model, 1.0)
    save(path, model, step=1)
    _fill(model, 2.0)
    with monkeypatch.context() as patch:
        _crash_at(patch, target, n)
        with pytest.raises(_Killed):
            save(path, model, step=2)
    ckpt = load(path, MLP(4, (8,), 3))
    assert ckpt.step in (1, 2)
    assert all(np.all(v == ckpt.step) for v in ckpt.model_state.values())
    if target == "_rename" and n == 1:
        assert ckpt.recovered and ckpt.step == 1  # read from the backup between the renames
    _fill(model, 3.0)
    save(path, model, step=3)  # the next save repairs and cleans up
    assert load(path).step == 3
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_leftover_backup_after_commit_is_removed(tmp_path):
    model = MLP(4, (8,), 3)
    path = save(tmp_path / "ckpt", model, step=1)
    stale = _atomic.backup_of(path)
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half deleted")
    assert load(path).step == 1
    save(path, model, step=2)
    assert not stale.exists()


def test_json_values_keep_floats_exact(tmp_path):
    model = MLP(4, (8,), 3)
    values = [0.1, 1e-300, float("inf"), -0.0, 2**62 + 1]
    ckpt = load(save(tmp_path / "c", model, values=values))
    assert ckpt.extra["values"][:2] == values[:2] and ckpt.extra["values"][4] == 2**62 + 1
    assert ckpt.extra["values"][2] == float("inf")


def test_format_constants():
    assert checkpoint.FORMAT_VERSION == 1
    assert checkpoint.MODEL_FILE == "model.safetensors"
