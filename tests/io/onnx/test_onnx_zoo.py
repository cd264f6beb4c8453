"""Every model of the zoo exports to ONNX and runs in onnxruntime at batch sizes 1 and 3."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.io.onnx import example_input, example_shape, export_zoo_model

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _deeper_sibling(name: str) -> bool:
    """``resnet56`` when ``resnet20`` is in the zoo: the same blocks, only more of them."""
    match = re.fullmatch(r"([a-z_]+?)(\d+)", name)
    if match is None:
        return False
    family, depth = match.group(1), int(match.group(2))
    for other in cr.models.available():
        m = re.fullmatch(rf"{family}(\d+)", other)
        if m is not None and int(m.group(1)) < depth:
            return True
    return False


@pytest.mark.parametrize("name", cr.models.available())
def test_zoo_model_matches_onnxruntime(roundtrip, name) -> None:
    if _deeper_sibling(name) and not os.environ.get("CHAINRULE_ONNX_FULL_ZOO"):
        pytest.skip(f"{name}: a deeper copy of a shallower zoo model (CHAINRULE_ONNX_FULL_ZOO=1)")
    model = cr.models.build(name)
    spec = example_shape(model, name)
    if spec is None:
        pytest.skip(f"no example input shape known for zoo model {name!r}")
    shape, dtype = spec

    def make(batch: int) -> np.ndarray:
        rng = np.random.default_rng(batch)
        if dtype == "int64":
            return rng.integers(0, 2, size=(batch, *shape[1:])).astype(np.int64)
        return rng.standard_normal((batch, *shape[1:])).astype(dtype)

    roundtrip(model, make)


def test_export_zoo_model_writes_a_checked_file(tmp_path) -> None:
    path = tmp_path / "mlp.onnx"
    proto = export_zoo_model("mlp", path, hidden=(16,))
    onnx.checker.check_model(str(path), full_check=True)
    dims = [d.dim_value or d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 1, 28, 28]


def test_export_zoo_model_takes_a_trained_model(tmp_path) -> None:
    model = cr.models.build("mlp", hidden=(8,))
    proto = export_zoo_model("mlp", None, model=model)
    weights = {i.name: i for i in proto.graph.initializer}
    assert list(weights["layers.1.weight"].dims) == [8, 784]


def test_unknown_zoo_name_lists_the_zoo() -> None:
    with pytest.raises(ValueError, match="available: .*mlp"):
        export_zoo_model("no_such_net", None)


class Odd(cr.nn.Module):
    def forward(self, x: cr.Tensor) -> cr.Tensor:
        if x.shape[1:] != (5, 7):
            raise ValueError("Odd wants (N, 5, 7)")
        return x * 2


def test_no_known_example_shape_is_a_clear_error() -> None:
    assert example_input(Odd()) is None
    with pytest.raises(ValueError, match="no example input is known"):
        export_zoo_model("odd", None, model=Odd())
    model = Odd()
    model.example_input_shape = (1, 5, 7)
    assert example_input(model, batch_size=3).shape == (3, 5, 7)


@pytest.mark.parametrize(
    "kwargs",
    [dict(shortcut="B"), dict(depth=29, block="bottleneck", shortcut="B"), dict(in_channels=1)],
)
def test_resnet_variants(roundtrip, kwargs) -> None:
    from chainrule.models.resnet import ResNet

    model = ResNet(**{"depth": 8, "widths": (4, 8, 8), **kwargs})
    channels = kwargs.get("in_channels", 3)

    def make(batch: int) -> np.ndarray:
        rng = np.random.default_rng(batch)
        return rng.standard_normal((batch, channels, 16, 16)).astype(np.float32)

    roundtrip(model, make)
