"""Shape ops: gradcheck, PyTorch twins and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_matches_torch

import chainrule as cr


def t64(shape, seed=0):
    return cr.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


CASES = [
    ("reshape", lambda x: cr.reshape(x, (4, 6)), lambda t: t.reshape(4, 6), (2, 3, 4)),
    ("reshape -1", lambda x: x.reshape(-1, 2), lambda t: t.reshape(-1, 2), (2, 3, 4)),
    ("reshape 0-d", lambda x: x.reshape(1, 1), lambda t: t.reshape(1, 1), ()),
    ("view", lambda x: cr.view(x, (3, 8)), lambda t: t.view(3, 8), (2, 3, 4)),
    ("flatten", lambda x: cr.flatten(x), lambda t: t.flatten(), (2, 3, 4)),
    ("flatten 1..", lambda x: cr.flatten(x, 1), lambda t: t.flatten(1), (2, 3, 4)),
    ("flatten 0..1", lambda x: x.flatten(0, 1), lambda t: t.flatten(0, 1), (2, 3, 4)),
    ("transpose", lambda x: cr.transpose(x, 0, 2), lambda t: t.transpose(0, 2), (2, 3, 4)),
    ("transpose default", lambda x: cr.transpose(x), lambda t: t.transpose(-2, -1), (2, 3, 4)),
    ("permute", lambda x: cr.permute(x, (2, 0, 1)), lambda t: t.permute(2, 0, 1), (2, 3, 4)),
    ("squeeze", lambda x: cr.squeeze(x), lambda t: t.squeeze(), (2, 1, 3, 1)),
    ("squeeze axis", lambda x: cr.squeeze(x, 1), lambda t: t.squeeze(1), (2, 1, 3, 1)),
    ("squeeze axes", lambda x: x.squeeze((1, 3)), lambda t: t.squeeze((1, 3)), (2, 1, 3, 1)),
    ("unsqueeze", lambda x: cr.unsqueeze(x, 1), lambda t: t.unsqueeze(1), (2, 3)),
    ("unsqueeze -1", lambda x: cr.unsqueeze(x, -1), lambda t: t.unsqueeze(-1), (2, 3)),
    ("expand", lambda x: cr.expand(x, (4, 2, 3)), lambda t: t.expand(4, 2, 3), (2, 1)),
    ("expand -1", lambda x: x.expand(3, -1, 5), lambda t: t.expand(3, -1, 5), (2, 1)),
    (
        "broadcast_to",
        lambda x: cr.broadcast_to(x, (2, 3, 4)),
        lambda t: t.broadcast_to((2, 3, 4)),
        (3, 1),
    ),
    (
        "pad torch-style",
        lambda x: cr.pad(x, (1, 2, 0, 3)),
        lambda t: __import__("torch").nn.functional.pad(t, (1, 2, 0, 3)),
        (2, 3, 4),
    ),
    (
        "pad value",
        lambda x: cr.pad(x, (2, 1), value=-1.5),
        lambda t: __import__("torch").nn.functional.pad(t, (2, 1), value=-1.5),
        (3, 4),
    ),
]


@pytest.mark.parametrize("name, fn, torch_fn, shape", CASES, ids=[c[0] for c in CASES])
def test_shape_op_gradcheck(name, fn, torch_fn, shape):
    assert cr.gradcheck(fn, [t64(shape)])


@pytest.mark.parametrize("name, fn, torch_fn, shape", CASES, ids=[c[0] for c in CASES])
def test_shape_op_matches_torch(name, fn, torch_fn, shape):
    pytest.importorskip("torch")
    assert_matches_torch(fn, torch_fn, shapes=[shape])


def test_pad_numpy_style_and_int():
    x = t64((2, 3))
    y = cr.pad(x, ((1, 0), (2, 2)))
    assert y.shape == (3, 7)
    np.testing.assert_array_equal(y.data, np.pad(x.data, ((1, 0), (2, 2))))
    assert cr.pad(x, 1).shape == (4, 5)
    assert cr.gradcheck(lambda a: cr.pad(a, ((1, 0), (2, 2)), value=3.0), [x])


def test_reused_input_through_shape_ops():
    x = t64((2, 3))
    assert cr.gradcheck(lambda a: a * a.T.T + a.reshape(3, 2).reshape(2, 3), [x])
    assert cr.gradcheck(lambda a: cr.concatenate([a, a, a * 2], axis=1), [x])
    assert cr.gradcheck(lambda a: cr.stack([a, a], axis=0), [x])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(axis):
    shapes = [(2, 3), (2, 3), (2, 3)]
    shapes = [
        tuple(n + i if d == axis % 2 else n for d, n in enumerate(s)) for i, s in enumerate(shapes)
    ]
    xs = [t64(s, i) for i, s in enumerate(shapes)]
    out = cr.concatenate(xs, axis)
    np.testing.assert_array_equal(out.data, np.concatenate([x.data for x in xs], axis))
    assert cr.gradcheck(lambda *a: cr.concatenate(list(a), axis), xs)
    assert cr.cat is cr.concatenate


def test_concatenate_and_stack_match_torch():
    torch = pytest.importorskip("torch")
    assert_matches_torch(
        lambda a, b: cr.concatenate([a, b], 1),
        lambda a, b: torch.cat([a, b], 1),
        shapes=[(2, 3), (2, 5)],
    )
    assert_matches_torch(
        lambda a, b, c: cr.stack([a, b, c], -1),
        lambda a, b, c: torch.stack([a, b, c], -1),
        shapes=[(2, 3)] * 3,
    )


def test_concatenate_with_constants_and_empty_pieces():
    x = t64((2, 3))
    c = np.ones((2, 1))
    y = cr.concatenate([x, c, cr.zeros(2, 0, dtype="float64")], axis=1)
    assert y.shape == (2, 4)
    assert cr.gradcheck(lambda a: cr.concatenate([c, a], axis=1), [x])


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis):
    xs = [t64((2, 3), i) for i in range(3)]
    out = cr.stack(xs, axis)
    np.testing.assert_array_equal(out.data, np.stack([x.data for x in xs], axis))
    assert cr.gradcheck(lambda *a: cr.stack(list(a), axis), xs)


def test_split_and_chunk():
    x = t64((7, 2))
    parts = cr.split(x, 3)
    assert [p.shape for p in parts] == [(3, 2), (3, 2), (1, 2)]
    parts = cr.split(x, [2, 5], axis=0)
    assert [p.shape for p in parts] == [(2, 2), (5, 2)]
    assert [p.shape for p in cr.chunk(x, 3)] == [(3, 2), (3, 2), (1, 2)]
    assert cr.gradcheck(lambda a: cr.split(a, 3), [x])  # several outputs
    assert cr.gradcheck(lambda a: cr.split(a, [1, 1], axis=1)[1] * 2, [x])
    assert cr.gradcheck(lambda a: tuple(cr.chunk(a, 2, axis=1)), [x])


def test_split_matches_torch():
    torch = pytest.importorskip("torch")
    assert_matches_torch(
        lambda a: tuple(cr.split(a, 2, axis=1)), lambda t: torch.split(t, 2, 1), shapes=[(3, 5)]
    )
    assert_matches_torch(
        lambda a: tuple(cr.split(a, [1, 4], axis=1)),
        lambda t: torch.split(t, [1, 4], 1),
        shapes=[(3, 5)],
    )


def test_views_share_gradient_with_their_base():
    x = t64((2, 3))
    y = x.reshape(6)
    z = x.T
    (y * 2).sum().backward(retain_graph=True)
    (z * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full((2, 3), 5.0))


# ----------------------------------------------------------------------------- errors
def test_bad_reshape():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        cr.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match="reshape"):
        cr.ones(2, 3).view(-1, -1)


def test_concatenate_mismatch():
    with pytest.raises(ValueError, match=r"tensor 1 has shape \(3, 3\).*\(2, 3\)"):
        cr.concatenate([cr.ones(2, 3), cr.ones(3, 3)], axis=1)
    with pytest.raises(ValueError, match="tensor 1 has shape"):
        cr.concatenate([cr.ones(2, 3), cr.ones(2, 3, 1)])
    with pytest.raises(ValueError, match="at least one"):
        cr.concatenate([])
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        cr.concatenate([cr.ones(2, 3)], axis=2)


def test_stack_mismatch():
    with pytest.raises(ValueError, match=r"tensor 1 has shape \(3,\), expected \(2,\)"):
        cr.stack([cr.ones(2), cr.ones(3)])
    with pytest.raises(ValueError, match="at least one"):
        cr.stack([])


def test_bad_axes_and_permutations():
    x = cr.ones(2, 3)
    with pytest.raises(ValueError, match="not a permutation"):
        cr.permute(x, (0, 0))
    with pytest.raises(ValueError, match="out of range"):
        cr.permute(x, (0, 2))
    with pytest.raises(ValueError, match="transpose: axis 2 is out of range"):
        cr.transpose(x, 0, 2)
    with pytest.raises(ValueError, match="unsqueeze: axis 3 is out of range"):
        cr.unsqueeze(x, 3)
    with pytest.raises(ValueError, match="squeeze: axis 5"):
        cr.squeeze(x, 5)
    with pytest.raises(ValueError, match="flatten"):
        cr.flatten(x, 3)
    with pytest.raises(TypeError, match="axis must be an int"):
        cr.unsqueeze(x, 1.0)


def test_bad_broadcast_expand_pad_split():
    with pytest.raises(
        ValueError, match=r"broadcast_to: cannot broadcast shape \(2, 3\) to \(3, 3\)"
    ):
        cr.broadcast_to(cr.ones(2, 3), (3, 3))
    with pytest.raises(ValueError, match="broadcast_to"):
        cr.broadcast_to(cr.ones(2, 3), (3,))
    with pytest.raises(ValueError, match="fewer dimensions"):
        cr.expand(cr.ones(2, 3), (3,))
    with pytest.raises(ValueError, match="-1 is not allowed"):
        cr.expand(cr.ones(3), (-1, 3))
    with pytest.raises(ValueError, match="2 entries per padded axis"):
        cr.pad(cr.ones(2, 3), (1, 2, 3))
    with pytest.raises(ValueError, match="negative padding"):
        cr.pad(cr.ones(2, 3), (-1, 0))
    with pytest.raises(ValueError, match="pairs"):
        cr.pad(cr.ones(2, 3), ((1, 1),))
    with pytest.raises(ValueError, match="sum to 4"):
        cr.split(cr.ones(5), [1, 3])
    with pytest.raises(ValueError, match="positive"):
        cr.split(cr.ones(5), 0)
    with pytest.raises(ValueError, match="positive"):
        cr.chunk(cr.ones(5), 0)
