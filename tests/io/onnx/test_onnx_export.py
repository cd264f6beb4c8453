"""ONNX export: every supported op, the MLP, dynamic batch, names, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.autograd import Function
from chainrule.io.onnx import export_onnx, supported_ops

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


class EveryOp(nn.Module):
    """A model that applies each op of the core families at least once (input ``(N, 4, 6)``)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.proj = nn.Linear(24, 5)
        self.mix = nn.Parameter(cr.randn(6, 6) * 0.3)
        self.register_buffer("mask", cr.tensor(np.arange(24).reshape(4, 6) % 3 == 0))
        self.register_buffer("lo", cr.full((6,), -0.5))

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        n = x.shape[0]
        h = self.fc(x)  # Linear on 3-D input: MatMul + Add
        h = F.matmul(h, self.mix)
        a = (h + 1) * 0.5 - x / 3
        a = F.neg(a) ** 2 + F.exp(F.clip(x, -2.0, 1.0))
        b = F.log(F.abs(x) + 1) + F.sqrt(F.abs(h) + 0.1)
        c = F.maximum(a, b) - F.minimum(a, b * 0.5)
        c = F.where(self.mask, c, F.clip(c, min=self.lo, max=2.0))
        c = F.cast(F.cast(c, "float64"), "float32") + F.clone(b)
        acts = [F.sigmoid(c), F.tanh(c), F.relu(c), F.leaky_relu(c, 0.1), F.elu(c, 0.7),
                F.softplus(c, 2.0, 3.0), F.gelu(c), F.gelu(c, "tanh"), F.softmax(c, 1),
                F.log_softmax(c)]  # fmt: skip
        s = acts[0]
        for t in acts[1:]:
            s = s + t
        r = F.sum(s, 1, keepdims=True) + F.mean(s, (1, 2), keepdims=True)
        r = r + F.max(s, 2, keepdims=True) - F.min(s, 1, keepdims=True)
        r = r * 0.01 + F.logsumexp(s, 2, keepdims=True) + F.sum(s) * 0.0
        t = F.permute(r, (0, 2, 1))  # (N, 6, 4)
        t = F.transpose(t, 1, 2)  # (N, 4, 6)
        t = F.unsqueeze(t, 1)  # (N, 1, 4, 6)
        t = F.expand(t, (n, 2, 4, 6))  # batch in an Expand
        t = F.pad(t, (1, 1, 0, 2))  # (N, 2, 6, 8)
        u = F.concatenate([t[:, :1], t[:, 1:] * 2], axis=1)
        u = F.stack([u[:, 0], u[:, 1, ::-1]], axis=1)  # reversed slice
        parts = F.chunk(u, 2, axis=3)
        u = parts[0] + parts[1][..., ::2].sum(-1, keepdims=True)
        v = u[:, None, 1, 2:5, -1]  # None, int, slice, negative int
        w = u[:, :, 1:5, [0, 2, 3]]  # one integer array
        w = F.take_along_axis(w, np.array([[[[2, 0, 1], [1, 1, 0], [0, 2, 2], [1, 0, 2]]]]), 3)
        w = F.reshape(w, (n, -1))  # batch at 0 plus -1: (N, 24)
        y = self.proj(w) + F.squeeze(v, 1).sum(axis=1, keepdims=True)
        flat = F.reshape(x, (n * 4, 6))  # folds the batch: -1
        return y + F.reshape(flat, (n, 24))[:, :5]


def test_every_op_matches_onnxruntime(roundtrip, batches) -> None:
    proto = roundtrip(EveryOp(), batches((4, 6)), batches=(2, 1, 3))
    ops = {n.op_type for n in proto.graph.node}
    assert {"Gemm", "MatMul", "Slice", "Gather", "GatherElements", "Expand", "Pad", "Concat"} <= ops


def test_mlp_matches_onnxruntime(roundtrip, batches) -> None:
    proto = roundtrip(cr.models.build("mlp"), batches((1, 28, 28)))
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm"]
    names = {i.name for i in proto.graph.initializer}
    assert names == {f"layers.{k}.{p}" for k in (1, 3, 5) for p in ("weight", "bias")}
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    assert proto.opset_import[0].version == 17


@pytest.mark.parametrize("opset", [18, 20])
def test_newer_opsets(roundtrip, batches, opset) -> None:
    proto = roundtrip(EveryOp(), batches((4, 6)), opset=opset)
    assert proto.opset_import[0].version == opset


def test_static_batch(roundtrip, batches, tmp_path) -> None:
    proto = roundtrip(cr.models.build("mlp", hidden=(16,)), batches((784,)), batches=(2,),
                      dynamic_batch=False)  # fmt: skip
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [2, 784]


class TwoInTwoOut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 2)

    def forward(self, x: cr.Tensor, y: cr.Tensor) -> tuple[cr.Tensor, cr.Tensor]:
        return self.a(x) * y[:, :1], x


def test_several_inputs_and_outputs(roundtrip) -> None:
    def make(b: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(b)
        return rng.random((b, 3), dtype=np.float32), rng.random((b, 4), dtype=np.float32)

    proto = roundtrip(TwoInTwoOut(), make, input_names=("x", "y"), output_names=("z", "same"))
    assert [i.name for i in proto.graph.input] == ["x", "y"]
    assert [o.name for o in proto.graph.output] == ["z", "same"]


class Unknown(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2


class UsesUnknown(nn.Module):
    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return Unknown.apply(x)


def test_unknown_op_names_it_and_lists_supported(tmp_path) -> None:
    with pytest.raises(NotImplementedError, match=r"no ONNX converter for op Unknown.*ReLU"):
        export_onnx(UsesUnknown(), cr.zeros(1, 3), tmp_path / "u.onnx")
    assert not (tmp_path / "u.onnx").exists()
    assert "Linear" in supported_ops() and "Reshape" in supported_ops()


class DividesByBatch(nn.Module):
    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return x / x.shape[0]


class ConstantFromInput(nn.Module):
    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return x + cr.tensor(x.data * 2)  # computed outside autograd


def test_batch_dependent_number_is_refused(tmp_path) -> None:
    with pytest.raises(RuntimeError, match="computed from the batch size"):
        export_onnx(DividesByBatch(), cr.ones(2, 3), tmp_path / "d.onnx")
    export_onnx(DividesByBatch(), cr.ones(2, 3), tmp_path / "d.onnx", dynamic_batch=False)


@pytest.mark.parametrize("dynamic_batch", [True, False])
def test_tensor_made_outside_autograd_is_refused(tmp_path, dynamic_batch) -> None:
    with pytest.raises(RuntimeError, match="outside autograd"):
        export_onnx(ConstantFromInput(), cr.randn(2, 3), None, dynamic_batch=dynamic_batch)


class ZerosOfBatch(nn.Module):
    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return F.concatenate([x, cr.zeros(x.shape[0], 2)], axis=1)  # e.g. an initial state


def test_uniform_constant_follows_the_batch(roundtrip, batches) -> None:
    proto = roundtrip(ZerosOfBatch(), batches((3,)))
    assert "ConstantOfShape" in {n.op_type for n in proto.graph.node}


def test_model_modes_are_restored(tmp_path) -> None:
    model = cr.models.build("mlp", hidden=(8,))
    model.train()
    export_onnx(model, cr.zeros(1, 784), None)
    assert all(m.training for m in model.modules())


@pytest.mark.parametrize(
    "kwargs, error",
    [({"opset": 12}, ValueError), ({"opset": 10**4}, ValueError),
     ({"input_names": ("a", "b")}, ValueError), ({"output_names": ("a", "b")}, ValueError)],
)  # fmt: skip
def test_bad_arguments(tmp_path, kwargs, error) -> None:
    with pytest.raises(error):
        export_onnx(cr.models.build("mlp", hidden=(8,)), cr.zeros(1, 784), None, **kwargs)


def test_bad_example_input() -> None:
    model = cr.models.build("mlp", hidden=(8,))
    with pytest.raises(TypeError, match="example input 0"):
        export_onnx(model, [[0.0] * 784], None)
    with pytest.raises(ValueError, match="first dimension"):
        export_onnx(model, (cr.zeros(2, 784), cr.zeros(3)), None)


class ReturnsUntraced(nn.Module):
    def forward(self, x: cr.Tensor) -> tuple[cr.Tensor, cr.Tensor]:
        return x * 2, cr.tensor(x.data + 1)


def test_output_made_outside_autograd_is_refused() -> None:
    with pytest.raises(RuntimeError, match="outside autograd"):
        export_onnx(ReturnsUntraced(), cr.randn(2, 3), None)


def test_missing_onnx_package_is_a_clear_error(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(RuntimeError, match=r"pip install 'chainrule\[onnx\]'"):
        export_onnx(cr.models.build("mlp", hidden=(8,)), cr.zeros(1, 784), None)
