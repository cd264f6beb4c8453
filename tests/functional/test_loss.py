"""Losses: float64 gradchecks, PyTorch agreement, stability at magnitude 1e4, bad-input errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import assert_matches_torch

import chainrule as cr
import chainrule.functional as F
from chainrule.autograd import gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _leaf(a: np.ndarray, grad: bool = True) -> cr.Tensor:
    return cr.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with |v| in [0.2, 1.2]: differences of this size keep |x - t| off the kink of l1."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 1.2, size=shape)


def _targets(
    rng: np.random.Generator, shape: tuple[int, ...], c: int, ignore: int | None
) -> np.ndarray:
    y = rng.integers(0, c, size=shape)
    if ignore is not None and y.size > 1:
        y.reshape(-1)[::3] = ignore  # every third target ignored
    return y


# --------------------------------------------------------------------------- regression losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((), ()), ((2, 3), (3,))])
@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss])
def test_regression_gradcheck(loss, shapes, reduction):
    rng = _rng()
    x = rng.standard_normal(shapes[0])
    if shapes[0] == shapes[1]:
        t = x - _away_from_zero(rng, shapes[0])
    else:
        t = rng.standard_normal(shapes[1]) * 0.1 + 5.0  # far from x: no kink
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert gradcheck(lambda a, b: loss(a, b, reduction=reduction), [_leaf(x), _leaf(t)])


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss])
def test_regression_input_used_twice(loss):
    x = _leaf(_rng().uniform(0.5, 1.5, size=(4, 3)))
    assert gradcheck(lambda a: loss(a * a, a), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_matches_torch(name, reduction):
    torch = pytest.importorskip("torch")
    rng = _rng()
    x = rng.standard_normal((5, 4))
    t = x - _away_from_zero(rng, (5, 4))
    assert_matches_torch(
        getattr(F, name),
        getattr(torch.nn.functional, name),
        [x, t],
        kwargs={"reduction": reduction},
    )


def test_regression_broadcast_warns_like_torch():
    x = cr.randn(4, 1, dtype="float64")
    with pytest.warns(UserWarning, match=r"\(4,\).*\(4, 1\)"):
        out = F.mse_loss(x, cr.zeros(4, dtype="float64"), reduction="none")
    assert out.shape == (4, 4)


def test_regression_float32_stays_float32():
    x = cr.randn(3, 2, requires_grad=True)
    loss = F.mse_loss(x, np.zeros((3, 2)))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


# --------------------------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_gradcheck(reduction, weighted):
    rng = _rng()
    p = rng.uniform(0.05, 0.95, size=(3, 4))
    t = rng.uniform(0, 1, size=(3, 4))
    w = rng.uniform(0.5, 2, size=(4,)) if weighted else None
    assert gradcheck(
        lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction),
        [_leaf(p), _leaf(t)],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits_gradcheck(reduction, weighted, pos_weighted):
    rng = _rng()
    z = rng.standard_normal((3, 4)) * 3
    t = rng.uniform(0, 1, size=(3, 4))
    w = rng.uniform(0.5, 2, size=(3, 1)) if weighted else None
    pw = rng.uniform(0.5, 3, size=(4,)) if pos_weighted else None
    assert gradcheck(
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, weight=w, reduction=reduction, pos_weight=pw
        ),
        [_leaf(z), _leaf(t)],
    )


def test_bce_scalar_and_reused_input():
    p = _leaf(np.array(0.3))
    assert gradcheck(lambda a: F.binary_cross_entropy(a, a * a), [p])
    z = _leaf(np.array(-0.7))
    assert gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, F.sigmoid(a)), [z])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(reduction, weighted):
    torch = pytest.importorskip("torch")
    rng = _rng()
    p = rng.uniform(0.01, 0.99, size=(6, 3))
    t = rng.uniform(0, 1, size=(6, 3))
    kwargs = {"reduction": reduction}
    if weighted:
        kwargs["weight"] = rng.uniform(0.5, 2, size=(3,))
    assert_matches_torch(
        F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, [p, t], kwargs=kwargs
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits_matches_torch(reduction, weighted, pos_weighted):
    torch = pytest.importorskip("torch")
    rng = _rng()
    z = rng.standard_normal((6, 3)) * 4
    t = rng.uniform(0, 1, size=(6, 3))
    kwargs = {"reduction": reduction}
    if weighted:
        kwargs["weight"] = rng.uniform(0.5, 2, size=(6, 1))
    if pos_weighted:
        kwargs["pos_weight"] = rng.uniform(0.5, 3, size=(3,))
    assert_matches_torch(
        F.binary_cross_entropy_with_logits,
        torch.nn.functional.binary_cross_entropy_with_logits,
        [z, t],
        kwargs=kwargs,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits_stable_at_1e4(dtype, pos_weighted):
    torch = pytest.importorskip("torch")
    z = np.array([[-1e4, 1e4, -1e4, 1e4, 0.0, 30.0, -30.0]], dtype=dtype)
    t = np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0]], dtype=dtype)
    kwargs = {"reduction": "none"}
    if pos_weighted:
        kwargs["pos_weight"] = np.full(7, 2.5, dtype=dtype)
    outs, grads = assert_matches_torch(
        F.binary_cross_entropy_with_logits,
        torch.nn.functional.binary_cross_entropy_with_logits,
        [z, t],
        rtol=1e-6,
        atol=1e-6,
        kwargs=kwargs,
    )
    assert np.all(np.isfinite(outs[0])) and all(np.all(np.isfinite(g)) for g in grads)
    assert outs[0][0, 0] == pytest.approx(1e4 * (2.5 if pos_weighted else 1.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_at_exact_zero_and_one_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype=dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    outs, grads = assert_matches_torch(
        F.binary_cross_entropy,
        torch.nn.functional.binary_cross_entropy,
        [p, t],
        rtol=1e-6,
        requires_grad=[True, False],
        kwargs={"reduction": "none"},
    )
    assert outs[0][0] == pytest.approx(100.0)  # log clamped at -100, as PyTorch
    assert np.all(np.isfinite(grads[0]))
    # PyTorch's target gradient is +-inf here (it differentiates the unclamped logs); ours is the
    # derivative of the clamped loss that forward computes, and stays finite
    tt = cr.tensor(t, requires_grad=True)
    F.binary_cross_entropy(cr.tensor(p), tt, reduction="sum").backward()
    np.testing.assert_allclose(tt.grad.numpy(), [100.0, -100.0, 100.0, -100.0, 0.0])


# --------------------------------------------------------------------------- cross-entropy / NLL
CLASS_SHAPES = [(6, 4), (3, 4, 2, 3), (4,)]


def _class_case(shape: tuple[int, ...], ignore: int | None, seed: int = 0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape) * 2
    c = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    y = _targets(rng, target_shape, c, ignore)
    w = rng.uniform(0.5, 2.0, size=(c,))
    return z, y, w


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, -100, 1])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_gradcheck(reduction, shape, weighted, ignore, smoothing):
    z, y, w = _class_case(shape, ignore)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if weighted:
        kw["weight"] = w
    if ignore is not None:
        kw["ignore_index"] = ignore
    assert gradcheck(lambda a: F.cross_entropy(a, y, **kw), [_leaf(z)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, 1])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_torch(reduction, shape, weighted, ignore, smoothing):
    torch = pytest.importorskip("torch")
    z, y, w = _class_case(shape, ignore, seed=1)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if weighted:
        kw["weight"] = w
    if ignore is not None:
        kw["ignore_index"] = ignore
    assert_matches_torch(F.cross_entropy, torch.nn.functional.cross_entropy, [z, y], kwargs=kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets(reduction, shape, weighted, smoothing):
    rng = _rng()
    z = rng.standard_normal(shape)
    axis = 0 if len(shape) == 1 else 1
    t = rng.uniform(0.1, 1, size=shape)
    t = t / t.sum(axis=axis, keepdims=True)
    c = shape[axis]
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if weighted:
        kw["weight"] = rng.uniform(0.5, 2.0, size=(c,))
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, **kw), [_leaf(z), _leaf(t)])
    torch = pytest.importorskip("torch")
    assert_matches_torch(F.cross_entropy, torch.nn.functional.cross_entropy, [z, t], kwargs=kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, 0])
def test_nll_loss_gradcheck_and_torch(reduction, shape, weighted, ignore):
    z, y, w = _class_case(shape, ignore, seed=2)
    kw = {"reduction": reduction}
    if weighted:
        kw["weight"] = w
    if ignore is not None:
        kw["ignore_index"] = ignore
    axis = 0 if len(shape) == 1 else 1
    assert gradcheck(lambda a: F.nll_loss(F.log_softmax(a, axis=axis), y, **kw), [_leaf(z)])
    torch = pytest.importorskip("torch")
    assert_matches_torch(F.nll_loss, torch.nn.functional.nll_loss, [z, y], kwargs=kw)


def test_cross_entropy_equals_log_softmax_then_nll():
    z, y, w = _class_case((5, 3, 4), ignore=2, seed=3)
    fused = F.cross_entropy(_leaf(z), y, weight=w, ignore_index=2)
    composed = F.nll_loss(F.log_softmax(_leaf(z), axis=1), y, weight=w, ignore_index=2)
    assert fused.item() == pytest.approx(composed.item(), rel=1e-12)


def test_cross_entropy_input_used_twice():
    z, y, _ = _class_case((4, 3), ignore=None, seed=4)
    assert gradcheck(lambda a: F.cross_entropy(a * a + a, y, label_smoothing=0.1), [_leaf(z)])


def test_cross_entropy_is_one_fused_node():
    x = cr.randn(8, 5, requires_grad=True)
    loss = F.cross_entropy(x, np.arange(8) % 5)
    assert loss.grad_fn.name == "CrossEntropy"
    assert loss.grad_fn.inputs[0] is x  # the logits feed the loss node directly


def test_cross_entropy_backward_twice_with_retain_graph():
    x = cr.randn(6, 4, dtype="float64", requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1, 2, 3, 0, 1]), label_smoothing=0.1)
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_cross_entropy_float32_in_float32_out():
    x = cr.randn(16, 10, requires_grad=True)
    loss = F.cross_entropy(x, np.arange(16) % 10, weight=np.ones(10), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_all_ignored_and_empty_like_torch(reduction):
    torch = pytest.importorskip("torch")
    z = _rng().standard_normal((3, 4))
    y = np.full(3, -100)
    assert_matches_torch(
        F.cross_entropy, torch.nn.functional.cross_entropy, [z, y], kwargs={"reduction": reduction}
    )
    empty = np.zeros((0, 4))
    out = F.cross_entropy(_leaf(empty), np.zeros(0, dtype=np.int64), reduction=reduction)
    ref = torch.nn.functional.cross_entropy(
        torch.zeros(0, 4, dtype=torch.float64),
        torch.zeros(0, dtype=torch.long),
        reduction=reduction,
    )
    np.testing.assert_allclose(out.numpy(), ref.numpy())
    assert out.shape == tuple(ref.shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_stable_at_1e4(dtype, smoothing):
    torch = pytest.importorskip("torch")
    z = np.array(
        [
            [1e4, -1e4, 0.0, 5.0],
            [-1e4, -1e4, -1e4, -1e4 + 1],  # a row far below the global maximum
            [1e4, 1e4, 1e4, 1e4],
            [0.1, -0.2, 0.3, 0.0],
        ],
        dtype=dtype,
    )
    y = np.array([1, 0, 2, 3])
    w = np.array([1.0, 2.0, 0.5, 1.5], dtype=dtype)
    for kwargs in ({"label_smoothing": smoothing}, {"weight": w, "reduction": "none"}):
        outs, grads = assert_matches_torch(
            F.cross_entropy,
            torch.nn.functional.cross_entropy,
            [z, y],
            rtol=1e-6,
            atol=1e-5,
            kwargs=kwargs,
        )
        assert np.all(np.isfinite(outs[0])) and np.all(np.isfinite(grads[0]))


def test_cross_entropy_rows_far_apart_use_their_own_shift():
    z = np.array([[0.0, 1.0], [-2000.0, -2001.0]])
    out = F.cross_entropy(_leaf(z), np.array([1, 1]), reduction="none").numpy()
    expected = np.log1p(np.exp(-1.0))
    np.testing.assert_allclose(out, [expected, 1 + expected], rtol=1e-12)


# --------------------------------------------------------------------------- bad input
def test_cross_entropy_target_out_of_range_names_value_and_classes():
    x = cr.randn(4, 10)
    with pytest.raises(ValueError, match=r"target value 10 .*10 classes"):
        F.cross_entropy(x, np.array([1, 2, 10, 3]))
    with pytest.raises(ValueError, match=r"target value -1 .*10 classes"):
        F.cross_entropy(x, np.array([1, -1, 2, 3]))
    with pytest.raises(ValueError, match=r"target value 12 .*10 classes"):
        F.cross_entropy(x, np.array([0, -100, 12, 3]))  # ignore_index passes, 12 does not
    with pytest.raises(ValueError, match=r"target value 7 .*5 classes"):
        F.nll_loss(cr.randn(2, 5, 3), np.array([[0, 1, 7], [2, 3, 4]]), ignore_index=1)


def test_class_target_shape_mismatch_names_both_shapes():
    x = cr.randn(8, 10)
    with pytest.raises(ValueError, match=r"\(8, 10\).*\(8,\).*\(8, 1\)"):
        F.cross_entropy(x, np.zeros((8, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="one-hot"):
        F.cross_entropy(x, np.zeros((8, 10), dtype=np.int64))
    with pytest.raises(ValueError, match=r"\(8, 10\).*\(8, 3\)"):
        F.cross_entropy(x, np.zeros((8, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(2, 4, 5\).*\(2, 5\).*\(2, 4\)"):
        F.nll_loss(cr.randn(2, 4, 5), np.zeros((2, 4), dtype=np.int64))


def test_class_loss_other_bad_arguments():
    x = cr.randn(3, 4)
    y = np.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"weight .*\(4,\).*\(3,\)"):
        F.cross_entropy(x, y, weight=np.ones(3))
    with pytest.raises(ValueError, match="available: mean, sum, none"):
        F.cross_entropy(x, y, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, y, label_smoothing=1.5)
    with pytest.raises(TypeError, match="integer class indices"):
        F.nll_loss(x, np.zeros(3))
    with pytest.raises(TypeError, match="floating-point"):
        F.cross_entropy(cr.tensor([[1, 2]]), np.array([0]))
    with pytest.raises(ValueError, match="0-d"):
        F.cross_entropy(cr.tensor(1.0), np.array(0))
    with pytest.raises(ValueError, match=r"\(2, 0\) has no classes"):
        F.cross_entropy(cr.zeros(2, 0), np.zeros(2, dtype=np.int64))


def test_bce_bad_inputs():
    with pytest.raises(ValueError, match=r"\[0, 1\].*with_logits"):
        F.binary_cross_entropy(cr.tensor([0.5, 1.5]), cr.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(cr.tensor([-0.1, 0.5]), cr.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        F.binary_cross_entropy(cr.rand(3, 1), cr.rand(3))
    with pytest.raises(ValueError, match=r"\(2,\).*\(2, 2\)"):
        F.binary_cross_entropy_with_logits(cr.randn(2, 2), cr.rand(2))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\).*\(2, 2\)"):
        F.binary_cross_entropy_with_logits(cr.randn(2, 2), cr.rand(2, 2), pos_weight=np.ones(3))


def test_regression_bad_shapes_name_both():
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(4,\)"):
        F.mse_loss(cr.randn(3, 2), cr.randn(4))
    with pytest.raises(ValueError, match="available"):
        F.l1_loss(cr.randn(3), cr.randn(3), reduction="max")
