"""Floor 2: the ``Tensor`` — an array, its gradient, and the node of the graph that produced it.

Operators and methods delegate to ``chainrule.functional``, where each differentiable op lives with
its backward. A tensor made by the user is a leaf; one made by an op that needs gradients carries
``grad_fn``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import autograd, backend

__all__ = ["Tensor", "tensor", "as_array"]


def as_array(value: Any, dtype: Any = None) -> np.ndarray:
    """Raw array of a Tensor, array, number or nested list (Python floats get the default dtype)."""
    if isinstance(value, Tensor):
        return (
            value.data if dtype is None else value.data.astype(backend.to_dtype(dtype), copy=False)
        )
    if dtype is not None:
        return np.asarray(value, dtype=backend.to_dtype(dtype))
    if isinstance(value, np.ndarray) or type(value).__module__.startswith("cupy"):
        return value
    arr = np.asarray(value)
    if arr.dtype == np.float64 and not isinstance(value, np.generic):
        arr = arr.astype(backend.default_dtype())
    elif arr.dtype.kind in "iu" and arr.dtype != np.int64 and not isinstance(value, np.generic):
        arr = arr.astype(np.int64)
    return arr


class Tensor:
    """A multi-dimensional array that records the operations applied to it for backpropagation.

    Args:
        data: array-like (nested lists, NumPy array, number, another Tensor).
        dtype: dtype name or NumPy dtype; Python floats default to float32.
        requires_grad: track operations on this tensor so that ``backward`` fills ``.grad``.

    Example:
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
    """

    __slots__ = ("data", "grad", "_requires_grad", "grad_fn", "_hooks", "__weakref__")
    __array_priority__ = 1000  # NumPy defers to Tensor's reflected operators

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        self.data = as_array(data, dtype)
        self.grad: Tensor | None = None
        self.grad_fn: autograd.Node | None = None
        self._hooks: list[Callable[[Tensor], Any]] | None = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _make(cls, data: Any) -> Tensor:
        """Wrap an array without copying or checking (used by ops)."""
        t = cls.__new__(cls)
        t.data = data
        t.grad = None
        t.grad_fn = None
        t._hooks = None
        t._requires_grad = False
        return t

    # ----------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}. "
                "Convert first, e.g. x.float()."
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be turned off on leaf tensors; use .detach() instead."
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by a recorded op)."""
        return self.grad_fn is None

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._make(self.data)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` of this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad.")
        if self.grad_fn is not None:
            self.grad_fn.retained = weakref.ref(self)
        return self

    @property
    def retains_grad(self) -> bool:
        """True when a non-leaf tensor keeps its gradient."""
        return self.grad_fn is not None and self.grad_fn.retained is not None

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces
        it.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that does not require grad."
            )
        if self.grad_fn is not None:
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = []
            hooks = self.grad_fn.hooks
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate: fill ``.grad`` of every leaf this tensor depends on.

        Args:
            gradient: d(objective)/d(self); required unless this tensor holds a single element.
            retain_graph: keep the saved buffers so that backward can run through the graph again.
        """
        autograd.backward(self, gradient, retain_graph)

    # ----------------------------------------------------------------- array facts
    @property
    def shape(self) -> tuple[int, ...]:
        """The dimensions, as a tuple."""
        return self.data.shape

    def size(self, dim: int | None = None) -> Any:
        """The shape (or the length of dimension ``dim``), as in PyTorch."""
        return self.data.shape if dim is None else self.data.shape[dim]

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    def dim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return int(self.data.size)

    @property
    def dtype(self) -> np.dtype:
        """NumPy dtype of the data."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """``'cpu'`` or ``'cuda:N'``."""
        return backend.device_of(self.data)

    def __iter__(self) -> Any:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self.data.shape[0]):
            yield F.getitem(self, i)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def item(self) -> Any:
        """The single value as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors convert to a number, got shape {self.shape}."
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied, on the CPU)."""
        if self.device != "cpu":
            return self.data.get()
        return self.data

    def tolist(self) -> Any:
        """The data as nested Python lists."""
        return self.numpy().tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; use "
                ".any() or .all()."
            )
        return bool(self.data.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.data.item())

    __hash__ = object.__hash__

    # ----------------------------------------------------------------- copying and pickling
    def __getstate__(self) -> dict[str, Any]:
        # the graph (functions, contexts, array modules) is not data: a pickled tensor is a leaf
        return {
            "data": self.data,
            "grad": self.grad,
            "requires_grad": self._requires_grad and self.grad_fn is None,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.data = state["data"]
        self.grad = state["grad"]
        self.grad_fn = None
        self._hooks = None
        self._requires_grad = state["requires_grad"]

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only leaf tensors (made by the user) can be deep-copied; call "
                ".detach() first to copy the values of a tensor computed by the graph."
            )
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        new.data = self.data.copy()
        new.grad = None if self.grad is None else self.grad.__deepcopy__(memo)
        new.grad_fn = None
        new._hooks = None
        new._requires_grad = self._requires_grad
        return new

    def __repr__(self) -> str:
        body = np.array2string(
            self.numpy(), separator=", ", precision=4, floatmode="maxprec_equal", prefix="tensor("
        )
        extra = []
        if self.data.dtype not in (backend.default_dtype(), np.dtype(np.int64), np.dtype(bool)):
            extra.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn=<{self.grad_fn.name}Backward>")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    # ----------------------------------------------------------------- conversion
    def to(self, target: Any = None, dtype: Any = None) -> Tensor:
        """Convert the dtype (``x.to('float64')``) or the device (``x.to('cuda')``); recorded."""
        if isinstance(target, str) and (target.startswith("cpu") or target.startswith("cuda")):
            out = F.to_device(self, target)
            return out if dtype is None else F.cast(out, dtype)
        if target is not None:
            dtype = target
        if dtype is None:
            return self
        return F.cast(self, dtype)

    def astype(self, dtype: Any) -> Tensor:
        """Convert the dtype (recorded for gradients between floating dtypes)."""
        return F.cast(self, dtype)

    def float(self) -> Tensor:
        """Convert to float32."""
        return F.cast(self, np.float32)

    def double(self) -> Tensor:
        """Convert to float64."""
        return F.cast(self, np.float64)

    def long(self) -> Tensor:
        """Convert to int64."""
        return F.cast(self, np.int64)

    def int(self) -> Tensor:
        """Convert to int32."""
        return F.cast(self, np.int32)

    def bool(self) -> Tensor:
        """Convert to bool."""
        return F.cast(self, np.bool_)

    def cpu(self) -> Tensor:
        """Move to the CPU."""
        return self.to("cpu")

    def cuda(self) -> Tensor:
        """Move to the GPU (needs CuPy)."""
        return self.to("cuda")

    def clone(self) -> Tensor:
        """A copy that is part of the graph (its gradient flows back to this tensor)."""
        return F.clone(self)

    def contiguous(self) -> Tensor:
        """A C-contiguous tensor with the same values."""
        return self if self.data.flags.c_contiguous else F.clone(self)

    # ----------------------------------------------------------------- in-place (not recorded)
    def _check_inplace(self, name: str) -> None:
        if not (self._requires_grad and autograd.is_grad_enabled()):
            return
        if self.grad_fn is None:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad cannot be modified in place while "
                "gradients are recorded; wrap the update in `with cr.no_grad():`."
            )
        raise RuntimeError(
            f"{name}: a tensor that is part of the graph cannot be modified in place (its "
            "values may be needed for backward); use an out-of-place op such as cr.where."
        )

    def fill_(self, value: float) -> Tensor:
        """Fill with ``value`` in place."""
        self._check_inplace("fill_")
        self.data[...] = value
        return self

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return self.fill_(0)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast to this shape) into this tensor in place."""
        self._check_inplace("copy_")
        arr = as_array(src)
        try:
            self.data[...] = arr
        except ValueError as err:
            raise ValueError(
                f"copy_: cannot copy a source of shape {tuple(np.shape(arr))} into shape "
                f"{self.shape}."
            ) from err
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        if self.grad_fn is not None and autograd.is_grad_enabled():
            raise RuntimeError(
                "item assignment into a tensor that is part of the graph is not supported; build "
                "the result with cr.where or cr.concatenate instead."
            )
        self._check_inplace("__setitem__")
        if isinstance(value, Tensor) and value._requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(
                "item assignment is not recorded, so the gradient of the assigned tensor would be "
                "lost; build the result with cr.where or cr.concatenate instead."
            )
        self.data[F._index_arrays(index)] = as_array(value)

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        """``self += alpha * other`` in place."""
        self._check_inplace("add_")
        self.data += alpha * as_array(other) if alpha != 1.0 else as_array(other)
        return self

    def mul_(self, other: Any) -> Tensor:
        """``self *= other`` in place."""
        self._check_inplace("mul_")
        self.data *= as_array(other)
        return self

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Clip in place."""
        self._check_inplace("clamp_")
        np.clip(self.data, min, max, out=self.data)
        return self

    def _inplace(self, other: Any, ufunc: Any, symbol: str, out_of_place: Any) -> Tensor:
        """``self <symbol>= other``: in place on the data, unless the graph has to record it.

        While gradients are recorded, a tensor in the graph (or meeting one) gets an out-of-place
        result instead, so its gradient stays correct; a leaf that requires grad may not be changed.
        """
        recording = autograd.is_grad_enabled()
        other_grad = isinstance(other, Tensor) and other._requires_grad
        if recording and (self._requires_grad or other_grad):
            if self._requires_grad and self.grad_fn is None:
                raise RuntimeError(
                    f"{symbol}=: a leaf tensor that requires grad cannot be modified in place "
                    "while gradients are recorded; wrap the update in `with cr.no_grad():`."
                )
            return out_of_place(self, other)
        arr = as_array(other)
        try:
            ufunc(self.data, arr, out=self.data)
        except (TypeError, ValueError) as err:
            kind = TypeError if isinstance(err, TypeError) else ValueError
            raise kind(
                f"{symbol}=: cannot update a tensor of shape {self.shape} and dtype {self.dtype} "
                f"in place with an operand of shape {tuple(np.shape(arr))} and dtype "
                f"{getattr(arr, 'dtype', type(arr).__name__)}."
            ) from err
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(other, np.add, "+", F.add)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(other, np.subtract, "-", F.sub)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(other, np.multiply, "*", F.mul)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(other, np.true_divide, "/", F.div)

    # ----------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Tensor:
        return F.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return F.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return F.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return F.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return F.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return F.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return F.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return F.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return F.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return F.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return F.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return F.matmul(other, self)

    def __neg__(self) -> Tensor:
        return F.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return F.abs(self)

    def __lt__(self, other: Any) -> Tensor:  # type: ignore[override]
        return F.lt(self, other)

    def __le__(self, other: Any) -> Tensor:  # type: ignore[override]
        return F.le(self, other)

    def __gt__(self, other: Any) -> Tensor:  # type: ignore[override]
        return F.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:  # type: ignore[override]
        return F.ge(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return F.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return F.ne(self, other)

    def __invert__(self) -> Tensor:
        return F.logical_not(self)

    def __and__(self, other: Any) -> Tensor:
        return F.logical_and(self, other)

    def __or__(self, other: Any) -> Tensor:
        return F.logical_or(self, other)

    def __getitem__(self, index: Any) -> Tensor:
        return F.getitem(self, index)

    # ----------------------------------------------------------------- methods (see functional)
    def exp(self) -> Tensor:
        return F.exp(self)

    def log(self) -> Tensor:
        return F.log(self)

    def sqrt(self) -> Tensor:
        return F.sqrt(self)

    def abs(self) -> Tensor:
        return F.abs(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        return F.clip(self, min, max)

    clamp = clip

    def sigmoid(self) -> Tensor:
        return F.sigmoid(self)

    def tanh(self) -> Tensor:
        return F.tanh(self)

    def relu(self) -> Tensor:
        return F.relu(self)

    def softmax(self, axis: int = -1) -> Tensor:
        return F.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return F.log_softmax(self, axis)

    def matmul(self, other: Any) -> Tensor:
        return F.matmul(self, other)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.min(self, axis, keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
        return F.var(self, axis, keepdims, correction)

    def std(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
        return F.std(self, axis, keepdims, correction)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.logsumexp(self, axis, keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return F.argmax(self, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return F.argmin(self, axis, keepdims)

    def any(self, axis: Any = None) -> Tensor:
        return Tensor._make(np.asarray(self.data.any(axis=axis)))

    def all(self, axis: Any = None) -> Tensor:
        return Tensor._make(np.asarray(self.data.all(axis=axis)))

    def reshape(self, *shape: Any) -> Tensor:
        return F.reshape(self, _shape_args(shape))

    def view(self, *shape: Any) -> Tensor:
        return F.reshape(self, _shape_args(shape))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return F.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        return F.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> Tensor:
        return F.permute(self, _shape_args(dims))

    @property
    def T(self) -> Tensor:
        """All dimensions reversed."""
        return F.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    def t(self) -> Tensor:
        """Transpose of a 2-D tensor."""
        if self.ndim > 2:
            raise ValueError(
                f"t: expects a tensor with at most 2 dimensions, got shape {self.shape}."
            )
        return self.T

    def squeeze(self, axis: Any = None) -> Tensor:
        return F.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        return F.unsqueeze(self, axis)

    def expand(self, *shape: Any) -> Tensor:
        return F.expand(self, _shape_args(shape))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return F.broadcast_to(self, tuple(shape))

    def split(self, split_size_or_sections: Any, axis: int = 0) -> list[Tensor]:
        return F.split(self, split_size_or_sections, axis)

    def chunk(self, chunks: int, axis: int = 0) -> list[Tensor]:
        return F.chunk(self, chunks, axis)


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` (or calling it) unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list[Callable[[Tensor], Any]], hook: Callable[[Tensor], Any]) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        for i, h in enumerate(self._hooks):
            if h is self._hook:
                del self._hooks[i]
                return

    __call__ = remove


def _shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Make a leaf tensor from array-like data (always copies). Python floats become float32.

    Example:
        >>> cr.tensor([[1, 2], [3, 4]]).shape
        (2, 2)
    """
    if isinstance(data, Tensor):
        data = data.data
    arr = as_array(data, dtype)
    if arr is data or (isinstance(data, np.ndarray) and np.shares_memory(arr, data)):
        arr = arr.copy()
    return Tensor(arr, requires_grad=requires_grad)


autograd._register_tensor_type(Tensor)

from . import functional as F  # noqa: E402  (functional imports Tensor from this module)
