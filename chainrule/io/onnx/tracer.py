"""Record every ``Function.apply`` of one forward pass: the op, its inputs, parameters and output.

Tracing needs no graph: ``chainrule.autograd`` calls a module-level hook at the end of each
``Function.apply`` (also under ``no_grad``), and the recorder appends one ``Call`` per op, tagged
with the dotted path of the module that was running (through forward pre/post hooks).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ... import autograd
from ...autograd import no_grad
from ...nn import Module
from ...tensor import Tensor

__all__ = ["Call", "Trace", "trace"]


@dataclass
class Call:
    """One recorded op.

    Attributes:
        fn: the ``Function`` subclass that ran.
        inputs: the positional inputs as given to ``apply`` (Tensors, arrays, numbers, None).
        params: the keyword parameters given to ``apply``.
        output: the Tensor it returned.
        scope: dotted path of the innermost module running at the time (``""`` for the model).
    """

    fn: type
    inputs: tuple[Any, ...]
    params: dict[str, Any]
    output: Tensor
    scope: str

    @property
    def name(self) -> str:
        """The op's name, e.g. ``Linear``."""
        return self.fn.__name__


@dataclass
class Trace:
    """A recorded forward pass: the inputs it got, the ops in order, and what it returned."""

    inputs: tuple[Tensor, ...]
    calls: list[Call]
    outputs: tuple[Any, ...]


class _Recorder:
    """Installs the autograd hook and module hooks; restores everything on exit."""

    def __init__(self, model: Module) -> None:
        self.model = model
        self.calls: list[Call] = []
        self.scopes: list[str] = [""]
        self.thread = threading.get_ident()
        self.handles: list[Any] = []
        self.previous: Any = None

    def record(self, fn: type, inputs: tuple[Any, ...], params: dict[str, Any], out: Any) -> None:
        if threading.get_ident() != self.thread:
            return  # another thread's ops (a prefetching loader) are not part of this model
        self.calls.append(Call(fn, tuple(inputs), dict(params), out, self.scopes[-1]))

    def __enter__(self) -> _Recorder:
        for name, module in self.model.named_modules():
            self.handles.append(module.register_forward_pre_hook(self._enter_scope(name)))
            self.handles.append(module.register_forward_hook(self._leave_scope))
        self.previous = autograd._tracer
        autograd._tracer = self.record
        return self

    def __exit__(self, *exc: object) -> None:
        autograd._tracer = self.previous
        for handle in self.handles:
            handle.remove()

    def _enter_scope(self, name: str) -> Any:
        def hook(module: Module, args: Any) -> None:
            self.scopes.append(name)

        return hook

    def _leave_scope(self, module: Module, args: Any, output: Any) -> None:
        if len(self.scopes) > 1:
            self.scopes.pop()


def trace(model: Module, inputs: Sequence[Tensor]) -> Trace:
    """Run ``model(*inputs)`` once under ``no_grad`` and record each op it applies.

    The model's mode (train or eval) is left as it is; the caller chooses it.

    Args:
        model: the module to run.
        inputs: its positional inputs.

    Returns:
        The ``Trace`` of that forward pass.

    Example:
        >>> t = trace(cr.nn.Linear(3, 2), [cr.zeros(1, 3)])
        >>> [c.name for c in t.calls]
        ['Linear']
    """
    inputs = tuple(inputs)
    with no_grad(), _Recorder(model) as recorder:
        out = model(*inputs)
    return Trace(inputs, recorder.calls, tuple(_flatten(out)))


def _flatten(out: Any) -> list[Any]:
    """The leaves of a nested tuple/list output (an LSTM's ``(y, (h, c))``), in order."""
    if isinstance(out, (tuple, list)):
        leaves: list[Any] = []
        for item in out:
            leaves.extend(_flatten(item))
        return leaves
    return [out]
