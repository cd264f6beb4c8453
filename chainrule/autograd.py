"""Floor 2: reverse-mode automatic differentiation.

Backpropagation is the chain rule evaluated by dynamic programming over the computation graph. Every
``Function.apply`` records one node: the function, a context of what its backward needs, and its inputs.
``backward`` orders the nodes topologically with an explicit stack (no recursion, so graphs of any depth
work) and visits them from the output back to the leaves. A node's output gradient is complete before the node
is visited, so each partial derivative is computed once and reused by every path through it.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import backend

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


class _GradMode(threading.local):
    def __init__(self) -> None:
        self.enabled = True
        self.anomaly = False


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backpropagation."""
    return _mode.enabled


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return _mode.anomaly


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager / decorator that turns graph recording on or off."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = True

    def __enter__(self) -> None:
        self.prev = _mode.enabled
        _mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self.prev


class no_grad(set_grad_enabled):
    """Do not record operations (inference, parameter updates). Usable as ``with`` or decorator."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record operations even inside ``no_grad``."""

    def __init__(self) -> None:
        super().__init__(True)


class detect_anomaly(contextlib.ContextDecorator):
    """Raise at the first op whose forward or backward produces NaN or Inf, naming that op.

    Example:
        >>> with cr.detect_anomaly():
        ...     cr.log(cr.tensor([-1.0]))   # RuntimeError: Log (forward) produced NaN ...
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check = check_nan
        self.prev = False

    def __enter__(self) -> None:
        self.prev = _mode.anomaly
        _mode.anomaly = self.check

    def __exit__(self, *exc: object) -> None:
        _mode.anomaly = self.prev


def _check_finite(name: str, where: str, arrays: Sequence[Any]) -> None:
    for i, a in enumerate(arrays):
        if a is None or not isinstance(a, np.ndarray) or a.dtype.kind not in "fc":
            continue
        if not np.all(np.isfinite(a)):
            what = "NaN" if np.isnan(a).any() else "Inf"
            label = "output" if where == "forward" else f"gradient for input {i}"
            raise RuntimeError(
                f"detect_anomaly: {name} ({where}) produced {what} in its {label} "
                f"(shape {tuple(a.shape)}). The op named here is the first to produce it."
            )


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
        self.inputs = inputs  # Tensor or None (a constant input) per position
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

    A backward may return a gradient of a broadcast shape; the engine sums it back to the input's shape.
    ``apply(*inputs, **params)`` accepts Tensors and constants (arrays, Python numbers) and returns a Tensor.
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
        from .tensor import Tensor

        arrays = []
        needs = []
        any_needs = False
        record = _mode.enabled and cls.differentiable
        for t in inputs:
            if isinstance(t, Tensor):
                arrays.append(t.data)
                need = record and t.requires_grad
            else:
                arrays.append(t)
                need = False
            needs.append(need)
            any_needs = any_needs or need
        xp = backend.get_array_module(*arrays)
        ctx = Context(xp, tuple(needs))
        out = cls.forward(ctx, *arrays, **params)
        if _mode.anomaly:
            _check_finite(cls.__name__, "forward", [out])
        result = Tensor._make(out)
        if any_needs:
            if out.dtype.kind not in "fc":
                return result
            result.requires_grad = True
            result.grad_fn = Node(
                cls, ctx, tuple(t if isinstance(t, Tensor) and t.requires_grad else None for t in inputs)
            )
        return result


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, so it has ``shape``."""
    if grad.shape == shape:
        return grad
    ndiff = grad.ndim - len(shape)
    if ndiff > 0:
        grad = grad.sum(axis=tuple(range(ndiff)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _topological_order(root: Node) -> list[Node]:
    """Nodes reachable from ``root``, each before every node it depends on (iterative DFS)."""
    order: list[Node] = []
    visited: set[int] = {id(root)}
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, i = stack[-1]
        inputs = node.inputs
        while i < len(inputs):
            t = inputs[i]
            i += 1
            if t is not None and t.grad_fn is not None and id(t.grad_fn) not in visited:
                visited.add(id(t.grad_fn))
                stack[-1] = (node, i)
                stack.append((t.grad_fn, 0))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def _run_backward(
    roots: Sequence[Tensor],
    grads: Sequence[Any],
    retain_graph: bool,
    capture: dict[int, Any] | None = None,
) -> None:
    """The graph walk shared by ``Tensor.backward`` and ``grad``.

    With ``capture`` (id(tensor) -> None), gradients of those tensors are stored there instead of in ``.grad``.
    """
    from .tensor import Tensor

    pending: dict[int, Any] = {}
    delivered: set[int] = set()  # buffers already stored in some .grad during this walk
    nodes: list[Node] = []
    seen: set[int] = set()
    for t, g in zip(roots, grads, strict=True):
        if t.grad_fn is None:
            _accumulate_leaf(t, g, capture, delivered)
            continue
        key = id(t.grad_fn)
        pending[key] = g if key not in pending else pending[key] + g
        if key not in seen:
            for n in _topological_order(t.grad_fn):
                if id(n) not in seen:
                    seen.add(id(n))
                    nodes.append(n)
    if len(roots) > 1:
        nodes = _merge_orders(nodes)
    anomaly = _mode.anomaly
    with no_grad():
        for node in nodes:
            g = pending.pop(id(node), None)
            if g is None:
                continue
            if node.freed:
                raise RuntimeError(
                    f"{node.name}: trying to backward through the graph a second time, but its saved "
                    "buffers were already freed. Pass retain_graph=True to the first backward() if you "
                    "need to backward twice."
                )
            if node.hooks:
                for hook in node.hooks:
                    out = hook(Tensor._make(g))
                    if out is not None:
                        g = out.data if isinstance(out, Tensor) else out
            if node.retained is not None:
                owner = node.retained()
                if owner is not None:
                    if capture is not None:
                        if id(owner) in capture:
                            capture[id(owner)] = g
                    else:
                        _accumulate_into(owner, g, delivered)
            in_grads = node.fn.backward(node.ctx, g)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if anomaly:
                _check_finite(node.name, "backward", in_grads)
            if not retain_graph:
                node.ctx.saved = None
                node.freed = True
            for t, ig in zip(node.inputs, in_grads, strict=False):
                if t is None or ig is None:
                    continue
                if ig.shape != t.data.shape:
                    ig = unbroadcast(ig, t.data.shape)
                if ig.dtype != t.data.dtype:
                    ig = ig.astype(t.data.dtype)
                if t.grad_fn is None:
                    _accumulate_leaf(t, ig, capture, delivered)
                else:
                    key = id(t.grad_fn)
                    # sums build new arrays, so a gradient shared by several inputs is never mutated
                    pending[key] = pending[key] + ig if key in pending else ig


def _merge_orders(nodes: list[Node]) -> list[Node]:
    """A single topological order over the union of several roots' graphs (Kahn's algorithm)."""
    ids = {id(n): n for n in nodes}
    indegree = dict.fromkeys(ids, 0)
    for n in nodes:
        for t in n.inputs:
            if t is not None and t.grad_fn is not None and id(t.grad_fn) in ids:
                indegree[id(t.grad_fn)] += 1
    ready = [n for n in nodes if indegree[id(n)] == 0]
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        for t in n.inputs:
            if t is not None and t.grad_fn is not None and id(t.grad_fn) in ids:
                k = id(t.grad_fn)
                indegree[k] -= 1
                if indegree[k] == 0:
                    ready.append(t.grad_fn)
    return order


def _accumulate_leaf(
    t: Any, g: Any, capture: dict[int, Any] | None, delivered: set[int]
) -> None:
    if not t.requires_grad:
        return
    if capture is not None:
        if id(t) in capture:
            prev = capture[id(t)]
            capture[id(t)] = g if prev is None else prev + g
        return
    if t._hooks:
        from .tensor import Tensor

        for hook in t._hooks:
            out = hook(Tensor._make(g))
            if out is not None:
                g = out.data if isinstance(out, Tensor) else out
    _accumulate_into(t, g, delivered)


def _accumulate_into(t: Any, g: Any, delivered: set[int]) -> None:
    from .tensor import Tensor

    if t.grad is None:
        # A backward may hand one buffer to several inputs (x + x, a pass-through); each .grad must own
        # its memory, since optimizers and clip_grad_norm_ update .grad in place.
        base = g if g.base is None else g.base
        if id(base) in delivered:
            g = g.copy()
        else:
            delivered.add(id(base))
        t.grad = Tensor._make(g)
    else:
        t.grad.data = t.grad.data + g


def backward(
    tensor: Tensor, gradient: Any = None, retain_graph: bool = False
) -> None:
    """Backpropagate from ``tensor`` (see ``Tensor.backward``)."""
    from .tensor import Tensor

    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn. Create the inputs with "
            "requires_grad=True (and do not compute it under no_grad())."
        )
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, got shape "
                f"{tuple(tensor.shape)}. Pass gradient= of that shape, or reduce (e.g. .sum()) first."
            )
        g = np.ones_like(tensor.data)
    else:
        g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if g.shape != tensor.data.shape:
            raise RuntimeError(
                f"backward: gradient has shape {tuple(g.shape)} but the tensor has shape "
                f"{tuple(tensor.data.shape)}."
            )
        g = g.astype(tensor.data.dtype, copy=False)
    _run_backward([tensor], [g], retain_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned instead of stored in ``.grad``."""
    from .tensor import Tensor

    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        gos = [None] * len(outs)
    elif isinstance(grad_outputs, Tensor):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    garrs = []
    for o, go in zip(outs, gos, strict=True):
        if go is None:
            if o.data.size != 1:
                raise RuntimeError("grad: grad_outputs is required for non-scalar outputs.")
            garrs.append(np.ones_like(o.data))
        else:
            garrs.append(go.data if isinstance(go, Tensor) else np.asarray(go))
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
    for t in ins:
        g = capture[id(t)]
        if g is None and not allow_unused:
            raise RuntimeError(
                "grad: one of the inputs was not used to compute the outputs; pass allow_unused=True."
            )
        result.append(None if g is None else Tensor._make(g))
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
        atol, rtol: tolerances of ``|analytic - numeric| <= atol + rtol * |numeric|``.
        raise_exception: raise ``GradcheckError`` with the worst element on failure (else return False).

    Returns:
        True when every checked gradient agrees.
    """
    from .tensor import Tensor

    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for t in checked:
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck: inputs must be float64 for a reliable check, got {t.dtype}.")
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
        flat = t.data.reshape(-1)
        nflat = numeric.reshape(-1)
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = projected()
            flat[i] = orig - eps
            minus = projected()
            flat[i] = orig
            nflat[i] = (plus - minus) / (2 * eps)
        err = np.abs(a - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            if not raise_exception:
                return False
            idx = np.unravel_index(int(np.argmax(err - rtol * np.abs(numeric))), t.shape)
            raise GradcheckError(
                f"gradcheck: input {k} (shape {tuple(t.shape)}): analytic {a[idx]!r} vs numeric "
                f"{numeric[idx]!r} at index {tuple(int(i) for i in idx)}; {int(bad.sum())} of "
                f"{bad.size} elements differ."
            )
    return True

