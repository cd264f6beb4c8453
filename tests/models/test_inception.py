"""The small GoogLeNet-style net: shape, structure, and what the 1x1 reductions save."""

import numpy as np

import chainrule as cr
from chainrule import models
from chainrule.nn.blocks import InceptionModule
from chainrule.summary import summarize


def test_inception_small_shape_and_structure():
    model = models.build("inception_small")
    blocks = [m for m in model.modules() if isinstance(m, InceptionModule)]
    assert [b.out_channels for b in blocks] == [128, 224, 288, 384, 480]
    out = model(cr.randn(2, 3, 16, 16))  # 32x32 is the intended size; 16x16 keeps the test fast
    assert out.shape == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_inception_small_reductions_save_parameters_and_mult_adds():
    reduced = summarize(models.build("inception_small"), (3, 16, 16))
    naive = summarize(models.build("inception_small", reduce=False), (3, 16, 16))
    assert reduced.total_params == 876_394
    assert naive.total_params == 2_941_386
    assert naive.total_mult_adds > 2.5 * reduced.total_mult_adds
    # outside the branches every layer has the same output shape with and without reductions
    outer = [(r.name, r.output_shape) for r in reduced.rows if ".branch" not in r.name]
    assert outer == [(r.name, r.output_shape) for r in naive.rows if ".branch" not in r.name]
    assert len(outer) == 7  # stem conv and bn, two max-pools, average pool, flatten, fc


def test_inception_small_options():
    model = models.build("inception_small", num_classes=100, dropout=0.4, batch_norm=False)
    assert model.fc.out_features == 100 and model.dropout.p == 0.4
    model.eval()
    x = cr.randn(1, 3, 16, 16)
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
