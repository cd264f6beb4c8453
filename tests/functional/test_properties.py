"""Property-based tests: random shapes, broadcasting and axes for elementwise, reduction, shape ops.

Each property compares the forward pass with NumPy and the backward pass with gradcheck or with the
analytic derivative. Examples are few (25) and derandomized so the suite stays fast and repeatable.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

import chainrule as cr

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)

shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
values = st.floats(-3, 3, allow_nan=False, width=64)


def leaf(array):
    return cr.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def upstream(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def vjp(fn, x, g):
    """Gradient of sum(fn(x) * g) with respect to x, by backward."""
    t = leaf(x)
    out = fn(t)
    out.backward(cr.tensor(g.reshape(out.shape)))
    return t.grad.data


# ----------------------------------------------------------------------------- elementwise
BINARY = {
    "add": (cr.add, np.add),
    "sub": (cr.sub, np.subtract),
    "mul": (cr.mul, np.multiply),
    "div": (cr.div, np.divide),
    "maximum": (cr.maximum, np.maximum),
    "minimum": (cr.minimum, np.minimum),
    "pow": (cr.pow, np.power),
}


@st.composite
def binary_case(draw):
    name = draw(st.sampled_from(sorted(BINARY)))
    (sx, sy), _ = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    x = draw(arrays(np.float64, sx, elements=values))
    y = draw(arrays(np.float64, sy, elements=values))
    if name in ("div", "pow"):
        y = np.where(np.abs(y) < 0.5, 0.5, y)  # away from the pole of 1/y
    if name == "pow":
        x = np.abs(x) + 0.5  # x > 0 so that x**y and log x are defined
    return name, x, y


@SETTINGS
@given(binary_case())
def test_binary_ops_broadcast_like_numpy_and_pass_gradcheck(case):
    name, x, y = case
    fn, ref = BINARY[name]
    a, b = leaf(x), leaf(y)
    out = fn(a, b)
    np.testing.assert_allclose(out.data, ref(x, y), rtol=1e-12)
    tie_free = name not in ("maximum", "minimum") or not np.any(
        np.isclose(np.broadcast_to(x, out.shape), np.broadcast_to(y, out.shape), atol=1e-3)
    )
    if tie_free:
        assert cr.gradcheck(fn, [a, b])
    else:  # at ties the gradient is shared; it still sums to the upstream gradient
        a.grad = b.grad = None
        out.backward(cr.ones_like(out))
        assert np.isclose(a.grad.data.sum() + b.grad.data.sum(), out.data.size)


UNARY = {
    "exp": (cr.exp, np.exp, lambda x: np.exp(x), lambda x: x),
    "log": (cr.log, np.log, lambda x: 1 / x, lambda x: np.abs(x) + 0.2),
    "sqrt": (cr.sqrt, np.sqrt, lambda x: 0.5 / np.sqrt(x), lambda x: np.abs(x) + 0.2),
    "neg": (cr.neg, np.negative, lambda x: -np.ones_like(x), lambda x: x),
    "abs": (cr.abs, np.abs, np.sign, lambda x: np.where(np.abs(x) < 0.1, 0.5, x)),
    "square": (lambda t: t * t, np.square, lambda x: 2 * x, lambda x: x),
}


@SETTINGS
@given(
    st.sampled_from(sorted(UNARY)), shapes.flatmap(lambda s: arrays(np.float64, s, elements=values))
)
def test_unary_ops_match_numpy_and_analytic_derivative(name, x):
    fn, ref, deriv, domain = UNARY[name]
    x = domain(x)
    t = leaf(x)
    out = fn(t)
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-12)
    g = upstream(x.shape)
    np.testing.assert_allclose(vjp(fn, x, g), g * deriv(x), rtol=1e-12)


# ----------------------------------------------------------------------------- reductions
@st.composite
def reduction_case(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    x = draw(arrays(np.float64, shape, elements=values, unique=True))
    ndim = len(shape)
    if draw(st.booleans()):
        axis = None
    else:
        chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
        # mix negative and positive spellings of the same axes
        axis = tuple(a - ndim if draw(st.booleans()) else a for a in chosen)
        if len(axis) == 1 and draw(st.booleans()):
            axis = axis[0]
    return x, axis, draw(st.booleans())


def _count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


@SETTINGS
@given(reduction_case())
def test_sum_mean_match_numpy_with_analytic_gradients(case):
    x, axis, keepdims = case
    for fn, ref, scale in ((cr.sum, np.sum, 1.0), (cr.mean, np.mean, 1.0 / _count(x.shape, axis))):
        out = fn(leaf(x), axis, keepdims)
        np.testing.assert_allclose(out.data, ref(x, axis=axis, keepdims=keepdims), rtol=1e-12)
        g = upstream(out.shape)
        expected = np.broadcast_to(
            np.expand_dims(g, axis) if (axis is not None and not keepdims) else g, x.shape
        )
        got = vjp(lambda t, f=fn: f(t, axis, keepdims), x, g)
        np.testing.assert_allclose(got, expected * scale, rtol=1e-12)


@SETTINGS
@given(reduction_case())
def test_max_min_route_gradient_to_the_extremum(case):
    x, axis, keepdims = case  # unique values: no ties
    for fn, ref in ((cr.max, np.max), (cr.min, np.min)):
        out = fn(leaf(x), axis, keepdims)
        np.testing.assert_array_equal(out.data, ref(x, axis=axis, keepdims=keepdims))
        grad = vjp(lambda t, f=fn: f(t, axis, keepdims), x, np.ones(out.shape))
        # exactly one element per reduced group receives the gradient, and it is the extremum
        assert grad.sum() == out.data.size
        np.testing.assert_array_equal(
            np.sort(x[grad == 1]), np.sort(np.asarray(ref(x, axis=axis)).reshape(-1))
        )


@SETTINGS
@given(reduction_case())
def test_var_std_logsumexp_match_numpy_and_pass_gradcheck(case):
    x, axis, keepdims = case
    n = _count(x.shape, axis)
    t = leaf(x)
    lse = cr.logsumexp(t, axis, keepdims)
    ref = np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(lse.data, ref, rtol=1e-12, atol=1e-12)
    assert cr.gradcheck(lambda a: cr.logsumexp(a, axis, keepdims), [t])
    if n > 1:
        np.testing.assert_allclose(
            cr.var(t, axis, keepdims).data, np.var(x, axis=axis, keepdims=keepdims, ddof=1)
        )
        np.testing.assert_allclose(
            cr.std(t, axis, keepdims, correction=0).data, np.std(x, axis=axis, keepdims=keepdims)
        )
        assert cr.gradcheck(lambda a: cr.var(a, axis, keepdims), [t])


# ----------------------------------------------------------------------------- shape ops
@st.composite
def array_3d(draw, min_dims=1):
    shape = draw(array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=3))
    return draw(arrays(np.float64, shape, elements=values))


def _rearrangement_holds(fn, ref, x):
    """Forward equals NumPy; backward is the same rearrangement applied backwards (a VJP check)."""
    t = leaf(x)
    out = fn(t)
    expected = ref(x)
    np.testing.assert_array_equal(out.data, expected)
    g = upstream(out.shape)
    got = vjp(fn, x, g)
    # for a linear map L, <L x, g> = <x, L^T g>; check with a random probe direction
    probe = upstream(x.shape, seed=1)
    np.testing.assert_allclose(np.sum(ref(probe) * g), np.sum(probe * got), rtol=1e-10)


@SETTINGS
@given(array_3d(), st.data())
def test_permute_transpose_match_numpy(x, data):
    perm = tuple(data.draw(st.permutations(range(x.ndim))))
    _rearrangement_holds(lambda t: cr.permute(t, perm), lambda a: np.transpose(a, perm), x)
    if x.ndim >= 2:
        i, j = data.draw(st.lists(st.integers(0, x.ndim - 1), min_size=2, max_size=2, unique=True))
        _rearrangement_holds(lambda t: cr.transpose(t, i, j), lambda a: np.swapaxes(a, i, j), x)


@SETTINGS
@given(array_3d(min_dims=0), st.data())
def test_reshape_flatten_squeeze_unsqueeze_match_numpy(x, data):
    new_shape = tuple(reversed(x.shape))
    _rearrangement_holds(lambda t: cr.reshape(t, new_shape), lambda a: a.reshape(new_shape), x)
    _rearrangement_holds(lambda t: cr.reshape(t, (-1,)), lambda a: a.reshape(-1), x)
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    _rearrangement_holds(lambda t: cr.unsqueeze(t, axis), lambda a: np.expand_dims(a, axis), x)
    _rearrangement_holds(cr.squeeze, np.squeeze, x)
    if x.ndim:
        start = data.draw(st.integers(0, x.ndim - 1))
        shape = x.shape[:start] + (-1,)
        _rearrangement_holds(lambda t: cr.flatten(t, start), lambda a: a.reshape(shape), x)


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=1, max_dims=3, max_side=3), st.data())
def test_broadcast_to_sums_gradient_back(bshapes, data):
    (shape,), target = bshapes
    x = data.draw(arrays(np.float64, shape, elements=values))
    _rearrangement_holds(
        lambda t: cr.broadcast_to(t, target), lambda a: np.broadcast_to(a, target), x
    )


@SETTINGS
@given(array_3d(), st.data())
def test_concatenate_stack_split_pad_match_numpy(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    extra = list(x.shape)
    extra[axis] = data.draw(st.integers(1, 3))
    y = data.draw(arrays(np.float64, tuple(extra), elements=values))
    a, b = leaf(x), leaf(y)
    np.testing.assert_array_equal(cr.concatenate([a, b], axis).data, np.concatenate([x, y], axis))
    assert cr.gradcheck(lambda p, q: cr.concatenate([p, q, p], axis), [a, b])

    stack_axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    np.testing.assert_array_equal(
        cr.stack([a, a * 2], stack_axis).data, np.stack([x, 2 * x], stack_axis)
    )
    _rearrangement_holds(
        lambda t: cr.stack([t, t], stack_axis), lambda v: np.stack([v, v], stack_axis), x
    )

    n = x.shape[axis]
    cut = data.draw(st.integers(0, n))
    pieces = cr.split(a, [cut, n - cut], axis)
    for got, want in zip(pieces, np.split(x, [cut], axis), strict=True):
        np.testing.assert_array_equal(got.data, want)
    assert cr.gradcheck(lambda p: tuple(cr.split(p, [cut, n - cut], axis)), [a])

    widths = tuple(
        (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in range(x.ndim)
    )
    _rearrangement_holds(lambda t: cr.pad(t, widths), lambda v: np.pad(v, widths), x)


@SETTINGS
@given(array_3d(), st.data())
def test_integer_array_indexing_accumulates(x, data):
    n = x.shape[0]
    idx = np.array(
        data.draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=6)), dtype=np.int64
    )
    _rearrangement_holds(lambda t: t[idx], lambda a: a[idx], x)
    counts = np.bincount(idx % n, minlength=n).astype(float)
    grad = vjp(lambda t: t[idx], x, np.ones((len(idx),) + x.shape[1:]))
    np.testing.assert_array_equal(
        grad, np.broadcast_to(counts.reshape((n,) + (1,) * (x.ndim - 1)), x.shape)
    )
