"""``Parameter``: a tensor that a ``Module`` learns."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that requires grad, registered by a ``Module`` when assigned as an attribute.

    Args:
        data: initial values (a Tensor's array is shared, not copied; anything else goes through
            ``cr.tensor`` rules). Default: an empty float tensor.
        requires_grad: learn this tensor. Default: True. Pass False (or call
            ``requires_grad_(False)``) to freeze it; it is still saved in ``state_dict``.

    Example:
        >>> w = cr.nn.Parameter(cr.zeros(2))
        >>> w.requires_grad
        True
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        if isinstance(data, Tensor):
            data = data.data  # share the array, as torch.nn.Parameter shares storage
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self.data.copy(), requires_grad=self.requires_grad)
        if self.grad is not None:
            result.grad = Tensor(self.grad.data.copy())
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild_parameter, (self.data, self.requires_grad))

    def __copy__(self) -> Parameter:
        return Parameter(self.data, requires_grad=self.requires_grad)


def _rebuild_parameter(data: Any, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad=requires_grad)
