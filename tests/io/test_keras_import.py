"""Keras weight import: both HDF5 layouts, kernel transposes, flatten order, errors.

The fixtures are written here in the layouts Keras uses (no TensorFlow needed):
Keras 3 ``.weights.h5``: ``layers/<name>/vars/0`` (kernel), ``layers/<name>/vars/1`` (bias);
legacy ``.h5``: ``model_weights/<layer>/<layer>/kernel:0`` with the attributes ``layer_names``
and ``weight_names``.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.io import (
    CheckpointError,
    WeightImportError,
    load_keras_weights,
    read_keras_weights,
)
from chainrule.models import MLP


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"chainrule\[keras\]"):
        load_keras_weights(MLP(4, (3,), 2), tmp_path / "m.weights.h5")


h5py = pytest.importorskip("h5py")


def _write_keras3(path, layers):
    """layers: name -> list of arrays (kernel, bias, ...); Keras 3 layout."""
    with h5py.File(path, "w") as f:
        group = f.create_group("layers")
        f.create_group("vars")
        for name, arrays in layers.items():
            variables = group.create_group(name).create_group("vars")
            for i, arr in enumerate(arrays):
                variables.create_dataset(str(i), data=arr)


def _write_legacy(path, layers, wrap=True):
    """Legacy layout: ``model_weights/<layer>/<layer>/kernel:0`` with name attributes."""
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights") if wrap else f
        root.attrs["layer_names"] = [name.encode() for name in layers]
        for name, arrays in layers.items():
            group = root.create_group(name)
            names = [f"{name}/{w}:0" for w in ("kernel", "bias", "extra")[: len(arrays)]]
            group.attrs["weight_names"] = [n.encode() for n in names]
            for weight_name, arr in zip(names, arrays, strict=True):
                group.create_dataset(weight_name, data=arr)


def _dense_stack(sizes):
    rng = np.random.default_rng(0)
    return [
        (rng.standard_normal((a, b)).astype(np.float32), rng.standard_normal(b).astype(np.float32))
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def _keras_mlp(x, stack):
    """Keras's Dense: y = x @ kernel + bias, relu between layers."""
    for i, (kernel, bias) in enumerate(stack):
        x = x @ kernel + bias
        if i < len(stack) - 1:
            x = np.maximum(x, 0)
    return x


@pytest.mark.parametrize("layout", ["keras3", "legacy", "legacy-weights-only"])
def test_dense_stack_gives_keras_outputs(tmp_path, layout):
    stack = _dense_stack((6, 5, 4, 3))
    layers = {"dense": list(stack[0]), "dropout": [], "dense_1": list(stack[1])}
    layers["dense_2"] = list(stack[2])
    path = tmp_path / ("m.weights.h5" if layout == "keras3" else "m.h5")
    if layout == "keras3":
        _write_keras3(path, layers)
    else:
        _write_legacy(path, layers, wrap=layout == "legacy")
    model = MLP(6, (5, 4), 3)
    report = load_keras_weights(model, path)
    assert report.ok and len(report.matched) == 6
    assert ("dense/kernel", "layers.1.weight") in report.matched
    x = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_allclose(model(cr.tensor(x)).numpy(), _keras_mlp(x, stack), rtol=1e-5)
    assert list(read_keras_weights(path)) == ["dense", "dense_1", "dense_2"]


def test_keras3_layers_are_taken_in_natural_name_order(tmp_path):
    stack = _dense_stack((3,) * 12 + (2,))  # dense, dense_1, ..., dense_11: "dense_10" < "dense_2"
    layers = {("dense" if i == 0 else f"dense_{i}"): list(w) for i, w in enumerate(stack)}
    _write_keras3(tmp_path / "m.weights.h5", layers)
    model = MLP(3, (3,) * 11, 2)
    load_keras_weights(model, tmp_path / "m.weights.h5")
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(model(cr.tensor(x)).numpy(), _keras_mlp(x, stack), rtol=1e-5)


def test_legacy_order_follows_layer_names(tmp_path):
    stack = _dense_stack((4, 3, 2))
    _write_legacy(tmp_path / "m.h5", {"z_first": list(stack[0]), "a_second": list(stack[1])})
    model = MLP(4, (3,), 2)
    report = load_keras_weights(model, tmp_path / "m.h5")
    assert report.matched[0] == ("z_first/kernel", "layers.1.weight")


class _Conv(nn.Module):
    """Stands in for nn.Conv2d / nn.Conv1d: the importer only reads the weight layout."""

    def __init__(self, c_in, c_out, kernel):
        super().__init__()
        self.in_channels, self.out_channels = c_in, c_out
        self.weight = nn.Parameter(cr.zeros(c_out, c_in, *kernel))
        self.bias = nn.Parameter(cr.zeros(c_out))


class _ConvNet(nn.Module):
    def __init__(self, conv, n_in, n_out):
        super().__init__()
        self.conv = conv
        self.fc = nn.Linear(n_in, n_out)


def _conv_nhwc(x, kernel, bias):
    """Keras Conv2D, 'valid' padding, stride 1: x (H, W, C), kernel (kh, kw, C, O)."""
    kh, kw = kernel.shape[:2]
    h, w = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.zeros((h, w, kernel.shape[3]))
    for i in range(h):
        for j in range(w):
            out[i, j] = np.einsum("abc,abco->o", x[i : i + kh, j : j + kw], kernel)
    return out + bias


def _conv_nchw(x, weight, bias):
    """The same convolution in chainrule's layout: x (C, H, W), weight (O, C, kh, kw)."""
    kh, kw = weight.shape[2:]
    h, w = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = np.zeros((weight.shape[0], h, w))
    for i in range(h):
        for j in range(w):
            out[:, i, j] = np.einsum("cab,ocab->o", x[:, i : i + kh, j : j + kw], weight)
    return out + bias[:, None, None]


def test_conv2d_then_dense_matches_keras_including_flatten_order(tmp_path):
    rng = np.random.default_rng(3)
    kernel = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)  # (kh, kw, in, out)
    conv_bias = rng.standard_normal(4).astype(np.float32)
    dense = rng.standard_normal((4 * 5 * 5, 3)).astype(np.float32)  # a 5x5x4 map, flattened
    dense_bias = rng.standard_normal(3).astype(np.float32)
    _write_keras3(
        tmp_path / "cnn.weights.h5",
        {"conv2d": [kernel, conv_bias], "flatten": [], "dense": [dense, dense_bias]},
    )
    model = _ConvNet(_Conv(2, 4, (3, 3)), 100, 3)
    report = load_keras_weights(model, tmp_path / "cnn.weights.h5")
    assert report.ok and any("reordered" in note for note in report.notes)
    np.testing.assert_array_equal(model.conv.weight.numpy(), kernel.transpose(3, 2, 0, 1))

    image = rng.standard_normal((7, 7, 2))
    feature = _conv_nhwc(image, kernel, conv_bias)  # Keras: (5, 5, 4), flattened as H, W, C
    want = feature.reshape(-1) @ dense + dense_bias
    ours = _conv_nchw(image.transpose(2, 0, 1), model.conv.weight.numpy(), model.conv.bias.numpy())
    np.testing.assert_allclose(ours, feature.transpose(2, 0, 1), rtol=1e-5, atol=1e-6)
    got = model.fc.weight.numpy() @ ours.reshape(-1) + model.fc.bias.numpy()  # flattened C, H, W
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_conv1d_and_explicit_flatten_shape(tmp_path):
    rng = np.random.default_rng(4)
    kernel = rng.standard_normal((3, 2, 4)).astype(np.float32)  # (k, in, out)
    dense = rng.standard_normal((4 * 6, 2)).astype(np.float32)  # (L=6, C=4) flattened
    _write_keras3(tmp_path / "m.weights.h5", {"conv1d": [kernel], "dense": [dense]})
    model = _ConvNet(_Conv(2, 4, (3,)), 24, 2)
    model.conv.bias = None
    model.fc.bias = None
    load_keras_weights(model, tmp_path / "m.weights.h5", flatten_shapes={"fc": (4, 6)})
    np.testing.assert_array_equal(model.conv.weight.numpy(), kernel.transpose(2, 1, 0))
    feature = rng.standard_normal((6, 4))  # Keras (L, C)
    want = feature.reshape(-1) @ dense
    got = model.fc.weight.numpy() @ feature.T.reshape(-1)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    load_keras_weights(model, tmp_path / "m.weights.h5", flatten_shapes={"fc": None})
    np.testing.assert_array_equal(model.fc.weight.numpy(), dense.T)
    with pytest.raises(ValueError, match=r"flatten_shapes\['fc'\] = \(4, 5\) holds 20"):
        load_keras_weights(model, tmp_path / "m.weights.h5", flatten_shapes={"fc": (4, 5)})


def test_non_square_map_asks_for_flatten_shapes(tmp_path):
    _write_keras3(
        tmp_path / "m.weights.h5",
        {"conv2d": [np.zeros((1, 1, 2, 4))], "dense": [np.zeros((4 * 6, 2))]},
    )
    model = _ConvNet(_Conv(2, 4, (1, 1)), 24, 2)
    model.conv.bias = None
    model.fc.bias = None
    with pytest.raises(ValueError, match="not square; pass flatten_shapes"):
        load_keras_weights(model, tmp_path / "m.weights.h5")


def test_unsupported_layers_and_mismatches(tmp_path):
    stack = _dense_stack((4, 3, 2))
    bn = [np.ones(3), np.zeros(3), np.zeros(3), np.ones(3)]
    _write_keras3(
        tmp_path / "m.weights.h5",
        {"batch_normalization": bn, "dense": list(stack[0]), "dense_1": list(stack[1])},
    )
    model = MLP(4, (3,), 2)
    with pytest.raises(WeightImportError, match="batch_normalization/0") as info:
        load_keras_weights(model, tmp_path / "m.weights.h5")
    assert "not a Dense/Conv layer" in str(info.value)
    report = load_keras_weights(model, tmp_path / "m.weights.h5", strict=False)
    assert len(report.matched) == 4 and len(report.unexpected) == 4

    wrong = MLP(4, (5,), 2)
    with pytest.raises(WeightImportError, match=r"dense/kernel \(3, 4\) -> layers.1.weight"):
        load_keras_weights(wrong, tmp_path / "m.weights.h5")


def test_layers_pair_kind_by_kind(tmp_path):
    """Keras 3 groups sort as conv2d, dense; the model holds its Linear first: kinds decide."""

    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.conv = _Conv(2, 4, (1, 1))

    rng = np.random.default_rng(5)
    kernel = rng.standard_normal((1, 1, 2, 4)).astype(np.float32)
    dense = rng.standard_normal((3, 2)).astype(np.float32)
    _write_keras3(
        tmp_path / "m.weights.h5",
        {"conv2d": [kernel, np.zeros(4)], "dense": [dense, np.ones(2)], "embedding": [dense]},
    )
    model = Mixed()
    report = load_keras_weights(model, tmp_path / "m.weights.h5", strict=False)
    assert report.unexpected == ["embedding/0"]  # a 2-D weight, but not a Dense layer's
    np.testing.assert_array_equal(model.fc.weight.numpy(), dense.T)
    np.testing.assert_array_equal(model.conv.weight.numpy(), kernel.transpose(3, 2, 0, 1))


def test_tf_keras_213_group_name(tmp_path):
    stack = _dense_stack((4, 3, 2))
    with h5py.File(tmp_path / "m.weights.h5", "w") as f:
        top = f.create_group("_layer_checkpoint_dependencies")
        for name, arrays in (("dense", stack[0]), ("dense_1", stack[1])):
            variables = top.create_group(name).create_group("vars")
            for i, arr in enumerate(arrays):
                variables.create_dataset(str(i), data=arr)
    assert load_keras_weights(MLP(4, (3,), 2), tmp_path / "m.weights.h5").ok


def test_explicit_mapping(tmp_path):
    stack = _dense_stack((4, 3, 2))
    _write_legacy(tmp_path / "m.h5", {"a": list(stack[1]), "b": list(stack[0])})
    model = MLP(4, (3,), 2)
    report = load_keras_weights(
        model, tmp_path / "m.h5", mapping={"b": "layers.1", "a": "layers.3"}
    )
    assert report.ok
    np.testing.assert_array_equal(model.layers[3].weight.numpy(), stack[1][0].T)
    with pytest.raises(ValueError, match="not Linear/Conv layers"):
        load_keras_weights(model, tmp_path / "m.h5", mapping={"a": "layers.2"})


def test_missing_bias_is_reported(tmp_path):
    stack = _dense_stack((4, 3, 2))
    _write_keras3(tmp_path / "m.weights.h5", {"dense": [stack[0][0]], "dense_1": list(stack[1])})
    with pytest.raises(WeightImportError, match="missing in source .*layers.1.bias"):
        load_keras_weights(MLP(4, (3,), 2), tmp_path / "m.weights.h5")


def test_files_that_are_not_keras(tmp_path):
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("x", data=np.ones(3))
    with pytest.raises(CheckpointError, match="other.h5: not a Keras weights file"):
        load_keras_weights(MLP(4, (3,), 2), tmp_path / "other.h5")
    (tmp_path / "junk.h5").write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="junk.h5: not an HDF5 file"):
        load_keras_weights(MLP(4, (3,), 2), tmp_path / "junk.h5")
    with pytest.raises(CheckpointError, match="no such file"):
        read_keras_weights(tmp_path / "none.h5")
