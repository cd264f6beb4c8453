"""Floor 2: reverse-mode automatic differentiation.

Backpropagation is the chain rule evaluated by dynamic programming over the computation graph.
Every ``Function.apply`` records one node: the function, a context of what its backward needs, and
its inputs. ``backward`` counts, for every node reachable from the output, how many edges lead into
it, then visits the nodes from the output back to the leaves, each only once all its consumers have
delivered their share (Kahn's algorithm with an explicit stack, so graphs of any depth work). A
node's output gradient is therefore complete before the node is visited: each partial derivative is
computed once and reused by every path through it.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _deferred

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "Function",
    "Context",
    "Node",
    "backward",
    "grad",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "unbroadcast",
    "gradcheck",
    "GradcheckError",
]

_ndarray = np.ndarray
_HOST_TYPES = frozenset([np.ndarray, float, int, bool, type(None), np.float32, np.float64])
_Tensor: Any = None  # the Tensor class, registered by tensor.py (which imports this module)


def _register_tensor_type(cls: type) -> None:
    global _Tensor
    _Tensor = cls


class _GradMode(threading.local):
    def __init__(self) -> None:
        self.enabled = True
        self.anomaly = False


_mode = _GradMode()
_tracer: Callable[[type, tuple[Any, ...], dict[str, Any], Any], None] | None = None
# set by chainrule.io.onnx while tracing a model: called as _tracer(cls, inputs, params, result)


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backpropagation."""
    return _mode.enabled


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return _mode.anomaly


class _GradModeContext(contextlib.ContextDecorator):
    """Switches grad mode on entry and restores the previous mode on exit (re-entrant)."""

    mode = True

    def __init__(self) -> None:
        self._prev: list[bool] = []

    def _recreate_cm(self) -> _GradModeContext:
        # a decorator gets a fresh context per call, so recursion and threads never share state
        fresh = copy.copy(self)
        fresh._prev = []
        return fresh

    def __enter__(self) -> None:
        self._prev.append(_mode.enabled)
        _mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._prev.pop()


class no_grad(_GradModeContext):
    """Do not record operations (inference, parameter updates).

    Usable as ``with cr.no_grad():`` or as a decorator ``@cr.no_grad()``; nests, and restores the
    previous mode on exit.
    """

    mode = False


class enable_grad(_GradModeContext):
    """Record operations even inside ``no_grad`` (``with`` or decorator)."""

    mode = True


class set_grad_enabled(_GradModeContext):
    """Turn graph recording on or off.

    As in PyTorch, calling ``cr.set_grad_enabled(False)`` switches the mode at once; used with
    ``with`` it restores the previous mode on exit, and as a decorator it applies only inside the
    function.
    """

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self._outer: bool | None = _mode.enabled  # the mode before this call switched it
        _mode.enabled = self.mode

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if self._outer is not None:
            _mode.enabled = self._outer  # decorating must not change the caller's mode
            self._outer = None
        return super().__call__(func)

    def _recreate_cm(self) -> _GradModeContext:
        fresh = copy.copy(self)
        fresh._prev = []
        fresh._outer = None
        return fresh

    def __enter__(self) -> None:
        if self._outer is not None:
            prev, self._outer = self._outer, None
        else:
            prev = _mode.enabled
        self._prev.append(prev)
        _mode.enabled = self.mode


class detect_anomaly(contextlib.ContextDecorator):
    """Raise at the first op whose forward or backward produces NaN or Inf, naming that op.

    Example:
        >>> with cr.detect_anomaly():
        ...     cr.log(cr.tensor([-1.0]))   # RuntimeError: Log (forward) produced NaN ...
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check = check_nan
        self._prev: list[bool] = []

    def _recreate_cm(self) -> detect_anomaly:
        return detect_anomaly(self.check)

    def __enter__(self) -> None:
        self._prev.append(_mode.anomaly)
        _mode.anomaly = self.check

    def __exit__(self, *exc: object) -> None:
        _mode.anomaly = self._prev.pop()


def _check_finite(name: str, where: str, arrays: Sequence[Any]) -> None:
    for i, a in enumerate(arrays):
        dtype = getattr(a, "dtype", None)
        if dtype is None or dtype.kind not in "fc":
            continue
        xp = np if isinstance(a, (np.ndarray, np.generic)) else _array_module(a)
        finite = xp.isfinite(a)
        if not bool(finite.all()):
            what = "NaN" if bool(xp.isnan(a).any()) else "Inf"
            label = "output" if where == "forward" else f"gradient for input {i}"
            raise RuntimeError(
                f"detect_anomaly: {name} ({where}) produced {what} in its {label} "
                f"(shape {tuple(a.shape)}). The op named here is the first to produce it."
            )


def _array_module(a: Any) -> Any:
    if type(a) is not _ndarray and type(a).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


class Context:
    """What a ``Function``'s forward leaves for its backward.

    Attributes:
        xp: the array module (numpy or cupy) of the inputs.
        needs_input_grad: one bool per positional input.
        saved: the arrays given to ``save_for_backward`` (``None`` once freed).
    Functions may set further attributes (shapes, axes, flags) on the context.
    """

    def __init__(self, xp: Any, needs_input_grad: tuple[bool, ...]) -> None:
        self.xp = xp
        self.needs_input_grad = needs_input_grad
        self.saved: tuple[Any, ...] | None = ()

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; they are released after backward unless retain_graph."""
        self.saved = arrays


class Node:
    """One recorded operation: the function, its context and its input tensors."""

    __slots__ = ("fn", "ctx", "inputs", "retained", "hooks", "freed", "__weakref__")

    def __init__(self, fn: type[Function], ctx: Context, inputs: tuple[Any, ...]) -> None:
        self.fn = fn
        self.ctx = ctx
        self.inputs = inputs  # Tensor or None (a constant, or needing no grad) per position
        self.retained: Any = None  # weakref to the output tensor when it retains its grad
        self.hooks: list[Callable[[Any], Any]] | None = None
        self.freed = False

    @property
    def name(self) -> str:
        return self.fn.__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


class Function:
    """A differentiable operation: ``forward`` and ``backward`` on raw arrays.

    Subclasses implement the two static methods::

        forward(ctx, *arrays, **params) -> array
        backward(ctx, grad_out) -> one gradient (or None) per positional input

    A backward may return a gradient of a broadcast shape; the engine sums it back to the input's
    shape. ``apply(*inputs, **params)`` accepts Tensors and constants (arrays, Python numbers) and
    returns a Tensor.
    """

    differentiable = True

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        tensor_cls = _Tensor
        record = _mode.enabled and cls.differentiable
        arrays = []
        graph_inputs = []
        needs = []
        any_needs = False
        xp = np
        for t in inputs:
            if isinstance(t, tensor_cls):
                a = t.data
                if record and t._requires_grad:
                    any_needs = True
                    graph_inputs.append(t)
                    needs.append(True)
                else:
                    graph_inputs.append(None)
                    needs.append(False)
            else:
                a = t
                graph_inputs.append(None)
                needs.append(False)
            if type(a) not in _HOST_TYPES and type(a).__module__.startswith("cupy"):
                xp = _array_module(a)
            arrays.append(a)
        ctx = Context(xp, tuple(needs))
        try:
            out = cls.forward(ctx, *arrays, **params)
        except (ValueError, TypeError, IndexError) as err:
            raise _op_error(cls.__name__, err, arrays) from err
        if type(out) is not _ndarray and xp is np:
            out = np.asarray(out)  # NumPy turns 0-d results into scalars; keep arrays
        if _mode.anomaly:
            _check_finite(cls.__name__, "forward", [out])
        result = tensor_cls._make(out)
        if any_needs and out.dtype.kind in "fc":
            result._requires_grad = True
            result.grad_fn = Node(cls, ctx, tuple(graph_inputs))
        if _tracer is not None:
            _tracer(cls, inputs, params, result)
        return result


def _op_error(name: str, err: Exception, arrays: Sequence[Any]) -> Exception:
    """A NumPy failure inside a forward, re-worded to name the op and the shapes it received."""
    if isinstance(err, ValueError):
        kind: type[Exception] = ValueError
    elif isinstance(err, IndexError):
        kind = IndexError
    else:
        kind = TypeError
    shapes = ", ".join(str(tuple(a.shape)) if hasattr(a, "shape") else repr(a) for a in arrays)
    return kind(f"{name}: {err} (inputs: {shapes})")


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, so it has ``shape``.

    A gradient that is smaller than ``shape`` but broadcasts to it (a reduction's backward that
    returns a kept-dims array) is broadcast up instead.
    """
    if grad.shape == shape:
        return grad
    ndiff = grad.ndim - len(shape)
    if ndiff > 0:
        grad = grad.sum(axis=tuple(range(ndiff)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i - len(shape)] != 1)
    if axes and grad.ndim == len(shape):
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        xp = np if isinstance(grad, (np.ndarray, np.generic)) else _array_module(grad)
        if grad.size == int(np.prod(shape)):
            grad = grad.reshape(shape)
        else:
            grad = xp.broadcast_to(grad, shape)
    return grad


def _collect(roots: list[Node]) -> dict[Node, int]:
    """For every node reachable from ``roots``: how many edges lead into it (iterative DFS)."""
    deps: dict[Node, int] = {}
    stack: list[Node] = []
    for r in roots:
        if r not in deps:
            deps[r] = 0
            stack.append(r)
    while stack:
        node = stack.pop()
        for t in node.inputs:
            if t is None:
                continue
            fn = t.grad_fn
            if fn is None:
                continue
            if fn in deps:
                deps[fn] += 1
            else:
                deps[fn] = 1
                stack.append(fn)
    return deps


# Sums of at least this many elements try the threaded kernel (``kernels.pointwise``; its own
# threshold is ``SERIAL_BELOW``): smaller ones never import the kernels, which loads numba
_THREADED_ADD_FROM = 1 << 15


def add_arrays(a: Any, b: Any) -> Any:
    """``a + b`` as a new array; large same-shape NumPy arrays add on every kernel thread.

    Used by ``Add`` and by the engine when it sums the gradients that reach one node.
    """
    if type(a) is np.ndarray and type(b) is np.ndarray and a.size >= _THREADED_ADD_FROM:
        from .kernels.pointwise import add_same_shape  # loads numba on first use

        return add_same_shape(a, b)
    return a + b


def _run_backward(
    roots: Sequence[Tensor],
    grads: Sequence[Any],
    retain_graph: bool,
    capture: dict[int, Any] | None = None,
) -> None:
    """The graph walk shared by ``Tensor.backward`` and ``grad``.

    With ``capture`` (id(tensor) -> None), gradients of those tensors are stored there instead of
    in ``.grad``.
    """
    pending: dict[Node, Any] = {}
    delivered: set[int] = set()  # buffers already stored in some .grad during this walk
    root_nodes: list[Node] = []
    for t, g in zip(roots, grads, strict=True):
        fn = t.grad_fn
        if fn is None:
            _accumulate_leaf(t, g, capture, delivered)
            continue
        if fn in pending:
            pending[fn] = pending[fn] + g
        else:
            pending[fn] = g
            root_nodes.append(fn)
    if not root_nodes:
        return
    deps = _collect(root_nodes)
    ready = [n for n in root_nodes if deps[n] == 0]
    anomaly = _mode.anomaly
    prev_mode = _mode.enabled
    _mode.enabled = False
    # kernels may leave weight gradients to finish in the background (chainrule/_deferred.py);
    # a plain leaf's .grad takes such an array unread, every other use flushes first
    background = _deferred.allowed(capture is None and not anomaly)
    background.__enter__()
    try:
        while ready:
            node = ready.pop()
            g = pending.pop(node, None)
            if g is None:
                in_grads: Any = ()  # nothing flows through this node; release its inputs' counts
            else:
                in_grads = _visit(node, g, retain_graph, capture, delivered, anomaly)
            n_grads = len(in_grads)
            for i, t in enumerate(node.inputs):
                if t is None:
                    continue
                ig = in_grads[i] if i < n_grads else None
                fn = t.grad_fn
                if ig is not None:
                    data = t.data
                    if _deferred.pending(ig) and (
                        fn is not None
                        or t.grad is not None
                        or t._hooks
                        or ig.shape != data.shape
                        or ig.dtype != data.dtype
                    ):
                        _deferred.flush()
                    if ig.shape != data.shape:
                        ig = unbroadcast(ig, data.shape)
                    if ig.dtype is not data.dtype and ig.dtype != data.dtype:
                        ig = ig.astype(data.dtype)
                    if fn is None:
                        if capture is None and t.grad is None and t._requires_grad and not t._hooks:
                            t.grad = _Tensor._make(_owned(ig, delivered))  # the common case
                        else:
                            _accumulate_leaf(t, ig, capture, delivered)
                    elif fn in pending:
                        # a sum builds a new array: a buffer shared by several inputs stays intact
                        pending[fn] = add_arrays(pending[fn], ig)
                    else:
                        pending[fn] = ig
                if fn is not None:
                    left = deps[fn] - 1
                    deps[fn] = left
                    if left == 0:
                        ready.append(fn)
            if node.freed:
                # its buffers are gone, so drop the edges too: intermediate results held only by
                # the graph are released even while the caller keeps the loss tensor
                node.inputs = ()
    finally:
        _mode.enabled = prev_mode
        background.__exit__(None, None, None)  # finishes the background work


def _visit(
    node: Node,
    g: Any,
    retain_graph: bool,
    capture: dict[int, Any] | None,
    delivered: set[int],
    anomaly: bool,
) -> tuple[Any, ...]:
    """Run one node's backward on its complete output gradient ``g``."""
    if node.freed:
        raise RuntimeError(
            f"{node.name}: trying to backward through the graph a second time, but its saved "
            "buffers were already freed. Pass retain_graph=True to the first backward() if you "
            "need to backward twice."
        )
    if node.hooks:
        for hook in node.hooks:
            out = hook(_Tensor._make(g))
            if out is not None:
                g = out.data if isinstance(out, _Tensor) else out
    if node.retained is not None:
        owner = node.retained()
        if owner is not None:
            if capture is not None:
                if id(owner) in capture:
                    capture[id(owner)] = g
            else:
                _accumulate_into(owner, g, delivered)
    in_grads = node.fn.backward(node.ctx, g)
    if type(in_grads) is not tuple:
        in_grads = tuple(in_grads) if isinstance(in_grads, list) else (in_grads,)
    if anomaly:
        _check_finite(node.name, "backward", in_grads)
    if not retain_graph:
        node.ctx.saved = None
        node.freed = True
    return in_grads


def _accumulate_leaf(t: Any, g: Any, capture: dict[int, Any] | None, delivered: set[int]) -> None:
    if not t._requires_grad:
        return
    if t._hooks:
        for hook in t._hooks:
            out = hook(_Tensor._make(g))
            if out is not None:
                g = out.data if isinstance(out, _Tensor) else out
    if capture is not None:
        if id(t) in capture:
            prev = capture[id(t)]
            capture[id(t)] = g if prev is None else prev + g
        return
    _accumulate_into(t, g, delivered)


def _owned(g: Any, delivered: set[int]) -> Any:
    """``g`` itself if no other ``.grad`` holds its memory and it is writable, else a copy."""
    if isinstance(g, np.generic):
        return np.array(g)
    base = g if g.base is None else g.base
    # NumPy marks broadcast views read-only; CuPy has no such flag, so look for zero strides
    writable = getattr(g.flags, "writeable", None)
    if writable is None:
        writable = g.size <= 1 or 0 not in g.strides
    if id(base) in delivered or not writable:
        # a backward may hand one buffer to several inputs (x + x, a pass-through) or return a
        # read-only broadcast view; optimizers and clip_grad_norm_ update .grad in place
        return g.copy()
    delivered.add(id(base))
    return g


def _accumulate_into(t: Any, g: Any, delivered: set[int]) -> None:
    if t.grad is None:
        t.grad = _Tensor._make(_owned(g, delivered))
    else:
        t.grad.data = t.grad.data + g


def _seed_gradient(tensor: Tensor, gradient: Any, who: str) -> Any:
    """The gradient that starts a backward walk at ``tensor``, as an array this walk may keep."""
    data = tensor.data
    if gradient is None:
        if data.size != 1:
            raise RuntimeError(
                f"{who}: grad can be implicitly created only for scalar outputs, got shape "
                f"{tuple(data.shape)}. Pass a gradient of that shape, or reduce (e.g. .sum()) "
                "first."
            )
        xp = _array_module(data)
        return xp.ones_like(data)
    g = gradient.data if isinstance(gradient, _Tensor) else gradient
    xp = _array_module(data)
    g = xp.asarray(g)
    if g.shape != data.shape:
        raise RuntimeError(
            f"{who}: gradient has shape {tuple(g.shape)} but the tensor has shape "
            f"{tuple(data.shape)}."
        )
    # copy: the caller keeps its array, and .grad must not alias it
    return g.astype(data.dtype, copy=True)


def backward(tensor: Tensor, gradient: Any = None, retain_graph: bool = False) -> None:
    """Backpropagate from ``tensor`` (see ``Tensor.backward``)."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn. Create the inputs "
            "with requires_grad=True (and do not compute it under no_grad())."
        )
    g = _seed_gradient(tensor, gradient, "backward")
    _run_backward([tensor], [g], retain_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned instead of stored in ``.grad``.

    Args:
        outputs: a tensor or a sequence of tensors to differentiate.
        inputs: leaves or intermediate tensors of the graph.
        grad_outputs: one gradient per output (may be omitted for single-element outputs).
        retain_graph: keep the saved buffers for another backward.
        allow_unused: return None for an input the outputs do not depend on (else raise).

    Returns:
        One tensor (or None) per input.

    Example:
        >>> x = cr.tensor(3.0, requires_grad=True)
        >>> cr.grad(x * x, x)[0].item()
        6.0
    """
    outs = [outputs] if isinstance(outputs, _Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, _Tensor) else list(inputs)
    if grad_outputs is None:
        gos: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, _Tensor):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"grad: got {len(outs)} outputs but {len(gos)} grad_outputs.")
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad.")
    garrs = []
    for i, (o, go) in enumerate(zip(outs, gos, strict=True)):
        if not o.requires_grad:
            raise RuntimeError(
                f"grad: output {i} does not require grad (it was computed without recording)."
            )
        garrs.append(_seed_gradient(o, go, "grad"))
    capture: dict[int, Any] = {id(t): None for t in ins}
    saved_retained = [(t, t.grad_fn.retained) for t in ins if t.grad_fn is not None]
    for t, _ in saved_retained:
        t.grad_fn.retained = weakref.ref(t)  # a non-leaf input: capture its gradient when complete
    try:
        _run_backward(outs, garrs, retain_graph, capture)
    finally:
        for t, r in saved_retained:
            t.grad_fn.retained = r
    result: list[Tensor | None] = []
    owners: set[int] = set()
    for i, t in enumerate(ins):
        g = capture[id(t)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} was not used to compute the outputs; pass allow_unused=True."
                )
            result.append(None)
            continue
        result.append(_Tensor._make(_owned(g, owners)))
    return tuple(result)


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when analytic and numerical gradients disagree."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare the gradients of ``fn`` with float64 central differences.

    Every input that requires grad must be float64. The output is projected on a fixed random
    vector ``v`` so that one backward gives the vector-Jacobian product checked against
    ``(f(x + eps e_i) - f(x - eps e_i)) / 2 eps · v`` for each element ``i``.

    Args:
        fn: function of the input tensors returning a Tensor (or a tuple of Tensors).
        inputs: tensors; those with ``requires_grad`` are checked.
        eps: finite-difference step.
        atol: absolute tolerance of ``|analytic - numeric| <= atol + rtol * |numeric|``.
        rtol: relative tolerance.
        raise_exception: raise ``GradcheckError`` naming the worst element on failure (else return
            False).

    Returns:
        True when every checked gradient agrees.

    Example:
        >>> x = cr.randn(3, dtype="float64", requires_grad=True)
        >>> cr.gradcheck(cr.exp, [x])
        True
    """
    checked = [t for t in inputs if isinstance(t, _Tensor) and t.requires_grad]
    for t in checked:
        if t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: inputs must be float64 for a reliable check, got {t.dtype}."
            )
        if not isinstance(t.data, np.ndarray) or not t.data.flags.writeable:
            t.data = np.array(t.data)  # perturbed in place below
    if not checked:
        raise ValueError("gradcheck: no input requires grad.")

    def outputs() -> list[Tensor]:
        out = fn(*inputs)
        return list(out) if isinstance(out, (tuple, list)) else [out]

    with enable_grad():
        outs = outputs()
    rng = np.random.default_rng(1234)
    vs = [rng.standard_normal(o.shape) for o in outs]
    live = [(o, v) for o, v in zip(outs, vs, strict=True) if o.requires_grad]
    if not live:
        raise ValueError("gradcheck: the output does not depend on any input that requires grad.")
    analytic = grad([o for o, _ in live], checked, [v for _, v in live], allow_unused=True)

    def projected() -> float:
        with no_grad():
            return float(sum(np.sum(o.data * v) for o, v in zip(outputs(), vs, strict=True)))

    for k, t in enumerate(checked):
        a = np.zeros(t.shape) if analytic[k] is None else analytic[k].data
        numeric = np.zeros(t.shape)
        data = t.data
        for idx in np.ndindex(*t.shape):
            orig = data[idx]
            data[idx] = orig + eps
            plus = projected()
            data[idx] = orig - eps
            minus = projected()
            data[idx] = orig
            numeric[idx] = (plus - minus) / (2 * eps)
        err = np.abs(a - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            if not raise_exception:
                return False
            idx = np.unravel_index(int(np.argmax(err - rtol * np.abs(numeric))), t.shape)
            raise GradcheckError(
                f"gradcheck: input {k} (shape {tuple(t.shape)}): analytic {float(a[idx])!r} vs "
                f"numeric {float(numeric[idx])!r} at index {tuple(int(i) for i in idx)}; "
                f"{int(bad.sum())} of {bad.size} elements differ."
            )
    return True
