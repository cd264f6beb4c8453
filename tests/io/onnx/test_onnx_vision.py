"""ONNX export of convolution, pooling, batch norm and dropout against onnxruntime."""

from __future__ import annotations

import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
if not hasattr(F, "conv2d") or not hasattr(nn, "BatchNorm2d"):
    pytest.skip("convolution and batch norm are not in this build", allow_module_level=True)


class Lambda(nn.Module):
    """A module around a function of the input, with optional parameters."""

    def __init__(self, fn, **params) -> None:
        super().__init__()
        self.fn = fn
        for name, value in params.items():
            setattr(self, name, nn.Parameter(value))

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return self.fn(self, x)


CONV2D = {
    "plain": dict(),
    "stride": dict(stride=2),
    "stride_pair_padding": dict(stride=(2, 1), padding=(1, 2)),
    "asymmetric_padding": dict(padding=(0, 2, 1, 0)),
    "dilation": dict(dilation=2, padding=2),
    "same": dict(padding="same", dilation=(1, 2)),
    "groups": dict(groups=2, padding=1),
    "depthwise": dict(groups=4, stride=2, padding=1),
}


@pytest.mark.parametrize("name", list(CONV2D))
def test_conv2d(roundtrip, batches, name) -> None:
    kwargs = CONV2D[name]
    groups = kwargs.get("groups", 1)
    model = Lambda(
        lambda m, x: F.conv2d(x, m.w, m.b, **kwargs),
        w=cr.randn(4 if groups < 4 else 8, 4 // groups, 3, 3) * 0.3,
        b=cr.randn(4 if groups < 4 else 8),
    )
    roundtrip(model, batches((4, 9, 8)))


def test_true_convolution_and_no_bias(roundtrip, batches) -> None:
    model = Lambda(lambda m, x: F.convolve2d(x, m.w, stride=2), w=cr.randn(3, 2, 3, 2))
    roundtrip(model, batches((2, 7, 7)))


def test_conv1d(roundtrip, batches) -> None:
    model = Lambda(
        lambda m, x: F.conv1d(F.conv1d(x, m.w, m.b, padding="same"), m.v, stride=2, dilation=2,
                              padding=(1, 0), groups=2),
        w=cr.randn(4, 3, 3), b=cr.randn(4), v=cr.randn(6, 2, 2),
    )  # fmt: skip
    roundtrip(model, batches((3, 11)))


@pytest.mark.parametrize(
    "kwargs",
    [dict(stride=2), dict(stride=2, padding=1, output_padding=1), dict(groups=2, dilation=2),
     dict(stride=(1, 2), padding=(1, 0), output_padding=(0, 1))],
)  # fmt: skip
def test_conv_transpose2d(roundtrip, batches, kwargs) -> None:
    groups = kwargs.get("groups", 1)
    model = Lambda(
        lambda m, x: F.conv_transpose2d(x, m.w, m.b, **kwargs),
        w=cr.randn(4, 6 // groups, 3, 3) * 0.3,
        b=cr.randn(6),
    )
    roundtrip(model, batches((4, 5, 6)))


POOL2D = {
    "max": lambda x: F.max_pool2d(x, 2),
    "max_stride_padding": lambda x: F.max_pool2d(x, 3, stride=2, padding=1),
    "max_dilation": lambda x: F.max_pool2d(x, (2, 3), stride=1, dilation=2),
    "max_ceil": lambda x: F.max_pool2d(x, 3, stride=2, ceil_mode=True),
    "max_ceil_padding": lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
    "avg": lambda x: F.avg_pool2d(x, 2),
    "avg_padding": lambda x: F.avg_pool2d(x, 3, stride=2, padding=1),
    "avg_padding_exclude": lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    "avg_ceil": lambda x: F.avg_pool2d(x, 2, ceil_mode=True),
    "avg_ceil_exclude": lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    "avg_divisor": lambda x: F.avg_pool2d(x, 2, padding=1, divisor_override=3),
    "global": lambda x: F.global_avg_pool2d(x),
    "adaptive_one": lambda x: F.adaptive_avg_pool2d(x, 1),
    "adaptive_even": lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    "adaptive_uneven": lambda x: F.adaptive_avg_pool2d(x, (4, 3)),
    "adaptive_keep": lambda x: F.adaptive_avg_pool2d(x, (None, 3)),
}


@pytest.mark.parametrize("name", list(POOL2D))
def test_pool2d(roundtrip, batches, name) -> None:
    fn = POOL2D[name]
    roundtrip(Lambda(lambda m, x: fn(x)), batches((3, 9, 8)))


@pytest.mark.parametrize(
    "fn",
    [lambda x: F.max_pool1d(x, 3, stride=2, padding=1), lambda x: F.avg_pool1d(x, 2),
     lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     lambda x: F.adaptive_avg_pool1d(x, 4), lambda x: F.adaptive_avg_pool1d(x, 1)],
)  # fmt: skip
def test_pool1d(roundtrip, batches, fn) -> None:
    roundtrip(Lambda(lambda m, x: fn(x)), batches((3, 11)))


class Normed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.drop2d = nn.Dropout2d(0.3)
        self.fc = nn.Linear(4 * 6 * 6, 5)
        self.bn1 = nn.BatchNorm1d(5)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        h = self.drop2d(F.relu(self.bn(self.conv(x))))
        return self.drop(self.bn1(self.fc(F.flatten(h, 1))))


def test_batch_norm_and_dropout_in_eval_mode(roundtrip, batches) -> None:
    model = Normed()
    model.train()
    for _ in range(3):  # move the running statistics away from 0 and 1
        model(cr.randn(8, 3, 6, 6) * 2 + 1)
    proto = roundtrip(model, batches((3, 6, 6)))
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("BatchNormalization") == 2 and "Dropout" not in ops
    names = {i.name for i in proto.graph.initializer}
    assert {"bn.running_mean", "bn.running_var", "bn1.weight", "conv.weight"} <= names


def test_dropout_forced_into_training_is_refused() -> None:
    from chainrule.io.onnx import export_onnx

    model = Lambda(lambda m, x: F.dropout(x, 0.5, training=True))
    with pytest.raises(NotImplementedError, match="training mode"):
        export_onnx(model, cr.randn(2, 3), None)


class ShortcutA(nn.Module):
    """A residual block that halves the map: option A (strided slice, zero channels) or B (1x1)."""

    def __init__(self, option: str) -> None:
        super().__init__()
        self.option = option
        self.conv1 = nn.Conv2d(4, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.proj = nn.Conv2d(4, 8, 1, stride=2, bias=False) if option == "B" else None

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.proj is not None:
            skip = self.proj(x)
        else:
            skip = F.pad(x[:, :, ::2, ::2], ((0, 0), (2, 2), (0, 0), (0, 0)))
        return F.relu(h + skip)


@pytest.mark.parametrize("option", ["A", "B"])
def test_residual_shortcuts(roundtrip, batches, option) -> None:
    proto = roundtrip(ShortcutA(option), batches((4, 8, 8)))
    ops = {n.op_type for n in proto.graph.node}
    assert ({"Slice", "Pad"} <= ops) == (option == "A")


class Inception(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(3, 2, 1)
        self.b3 = nn.Conv2d(3, 4, 3, padding=1)
        self.b5 = nn.Conv2d(3, 2, 5, padding=2)
        self.pool_proj = nn.Conv2d(3, 2, 1)

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        pooled = F.max_pool2d(x, 3, stride=1, padding=1)
        branches = [self.b1(x), self.b3(x), self.b5(x), self.pool_proj(pooled)]
        return F.global_avg_pool2d(F.cat(branches, axis=1))


def test_inception_block(roundtrip, batches) -> None:
    roundtrip(Inception(), batches((3, 7, 7)))


@pytest.mark.parametrize("opset", [18, 20])
def test_reductions_inside_converters_at_newer_opsets(roundtrip, batches, opset) -> None:
    model = Lambda(lambda m, x: F.adaptive_avg_pool2d(x, (4, 3)))
    roundtrip(model, batches((2, 9, 8)), opset=opset)


def test_fused_relu_options_export_a_relu_node(roundtrip, batches) -> None:
    stats = {"running_mean": cr.randn(4) * 0.1, "running_var": cr.rand(4) + 0.5}

    def fn(m, x):
        y = F.conv2d(x, m.w, m.b, padding=1, relu=True)
        z = F.batch_norm(y, stats["running_mean"], stats["running_var"], m.g, m.s, relu=True)
        v = F.batch_norm(z, stats["running_mean"], stats["running_var"], relu=True, residual=y)
        return F.add_relu(v, -y)

    model = Lambda(
        fn, w=cr.randn(4, 4, 3, 3) * 0.3, b=cr.randn(4), g=cr.rand(4) + 0.5, s=cr.randn(4)
    )
    proto = roundtrip(model, batches((4, 6, 6)))
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Relu") == 4 and "Conv" in ops and ops.count("BatchNormalization") == 2
    assert ops.count("Add") == 2
