"""Floor 4: the ``Optimizer`` base: parameter groups, per-parameter state, checkpoints, hooks.

An optimizer holds references to tensors and rewrites their ``.data`` in place from their ``.grad``.
It knows nothing about modules: anything that yields tensors requiring grad (or dicts of them, the
parameter groups) will do. Updates run on raw arrays with ``out=`` arithmetic into a small reusable
workspace, so a step makes no temporaries and records nothing in the graph; SGD and Adam update
large CPU arrays in one fused numba pass instead (``_numba_updates``: same arithmetic and results).
"""

from __future__ import annotations

import copy
import functools
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import backend
from ..autograd import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "RemovableHandle"]

# Smaller arrays are updated by NumPy: a compiled call's dispatch would cost more than it saves.
_FUSE_MIN_SIZE = 4096
_fused: Any = None  # the numba kernel module once imported (False when numba is unavailable)

# Keys a parameter group may carry besides the optimizer's own options: a label for the user, and
# the starting lr recorded by a scheduler.
_EXTRA_GROUP_KEYS = ("name", "initial_lr")


def _fused_kernels(p: Any, *arrays: Any) -> Any:
    """The fused kernel module when it can update ``p`` from ``arrays``, else None.

    It can when numba is enabled and importable, and all arrays are contiguous NumPy arrays of
    ``p``'s float dtype, with ``p`` large enough to be worth a compiled call.
    """
    global _fused
    if not backend.config.use_numba or type(p) is not np.ndarray or p.size < _FUSE_MIN_SIZE:
        return None
    dtype = p.dtype
    if dtype not in (np.float32, np.float64) or not p.flags.c_contiguous:
        return None
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dtype or not a.flags.c_contiguous:
            return None
    if _fused is None:
        try:
            from . import _numba_updates

            _fused = _numba_updates
        except ImportError:
            _fused = False
    return _fused or None


class RemovableHandle:
    """Returned by the ``register_step_*_hook`` methods; ``remove()`` detaches the hook."""

    def __init__(self, hooks: dict[int, Callable[..., Any]], key: int) -> None:
        self._hooks = hooks
        self._key = key

    def remove(self) -> None:
        """Detach the hook (a second call does nothing)."""
        self._hooks.pop(self._key, None)


def _with_hooks(step: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a subclass's ``step``: pre hooks, then the update under ``no_grad``, then post hooks."""

    @functools.wraps(step)
    def wrapped(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        # a subclass's step calling super().step(): the hooks already run around the outer call
        if getattr(self, "_stepping", False):
            return step(self, *args, **kwargs)
        self._stepping = True
        try:
            with no_grad():
                for hook in list(self._pre_hooks.values()):
                    hook(self, args, kwargs)
                result = step(self, *args, **kwargs)
                for hook in list(self._post_hooks.values()):
                    hook(self, args, kwargs)
        finally:
            self._stepping = False
        return result

    return wrapped


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of tensors that require grad, or of dicts (parameter groups) each
            holding ``"params"`` (an iterable of such tensors) and any option to override for that
            group.
        defaults: the optimizer's options, used by every group that does not set its own.

    Attributes:
        defaults: the options given to the constructor.
        param_groups: list of dicts, each with ``"params"`` (a list of tensors) and every option.
        state: per-parameter state (momentum buffers, moment estimates, step counts), keyed by
            tensor; values are raw arrays of the parameter's shape and dtype, and Python numbers.

    Subclasses implement ``step(closure=None)``; it runs under ``no_grad`` between the registered
    pre and post hooks, and should read every option from the group (so that schedulers and param
    groups work).

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w, b = cr.zeros(3, requires_grad=True), cr.zeros(1, requires_grad=True)
        >>> opt = optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.5]
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _with_hooks(cls.__dict__["step"])  # type: ignore[method-assign]

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        self._pre_hooks: dict[int, Callable[..., Any]] = {}
        self._post_hooks: dict[int, Callable[..., Any]] = {}
        self._next_hook = 0
        self._workspace: dict[tuple[Any, ...], Any] = {}
        self._stepping = False
        name = type(self).__name__
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                f"{name}: params must be an iterable of tensors or of dicts (parameter groups), "
                f"got a single {type(params).__name__}. Wrap it in a list: {name}([param], ...)."
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: params must be an ordered iterable (list, tuple, generator), got a set; "
                "the order fixes the parameter indices of state_dict()."
            )
        if not isinstance(params, Iterable):
            raise TypeError(
                f"{name}: params must be an iterable of tensors or of dicts, got "
                f"{type(params).__name__}."
            )
        groups = list(params)
        if not groups:
            raise ValueError(
                f"{name}: got an empty parameter list. Pass model.parameters() or a list of "
                "tensors (a generator that was already consumed is empty)."
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. a layer unfrozen for fine-tuning).

        Args:
            param_group: dict with ``"params"`` (a tensor or an iterable of tensors) and any
                options; missing options take the optimizer's defaults.

        Raises:
            TypeError: a parameter is not a tensor, or the group is not a dict.
            ValueError: a parameter does not require grad, is not a leaf, appears twice, or an
                option is unknown or out of range.
        """
        name = type(self).__name__
        index = len(self.param_groups)
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: parameter group {index} must be a dict, got {type(param_group).__name__}."
            )
        if "params" not in param_group:
            raise ValueError(f"{name}: parameter group {index} has no 'params' key.")
        unknown = sorted(set(param_group) - set(self.defaults) - {"params", *_EXTRA_GROUP_KEYS})
        if unknown:
            raise ValueError(
                f"{name}: unknown option {unknown[0]!r} in parameter group {index}; available: "
                f"{', '.join(sorted(self.defaults))}."
            )
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: the params of group {index} must be an ordered iterable, got a set."
            )
        params = list(params)
        if not params:
            raise ValueError(f"{name}: parameter group {index} has an empty 'params' list.")
        seen: set[int] = set()
        for i, p in enumerate(params):
            where = f"parameter {i} of group {index}"
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: {where} must be a Tensor, got {type(p).__name__}.")
            if not p.requires_grad:
                raise ValueError(
                    f"{name}: {where} (shape {tuple(p.shape)}) does not require grad, so it would "
                    "never be updated. Set requires_grad=True or leave it out, e.g. "
                    "[p for p in model.parameters() if p.requires_grad]."
                )
            if p.grad_fn is not None:
                raise ValueError(
                    f"{name}: {where} (shape {tuple(p.shape)}) is not a leaf tensor (it was "
                    "computed by an op); optimize the leaf it came from, or use "
                    ".detach().requires_grad_()."
                )
            if id(p) in seen:
                raise ValueError(f"{name}: {where} appears more than once in the group.")
            seen.add(id(p))
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if seen & existing:
            raise ValueError(
                f"{name}: some parameters of group {index} are already in another group."
            )
        group = dict(param_group)
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate a group's options; subclasses raise ``ValueError`` naming the option."""

    def _check_number(
        self,
        group: dict[str, Any],
        key: str,
        low: float = 0.0,
        high: float | None = None,
        high_open: bool = False,
    ) -> None:
        """Require ``low <= group[key]`` (and ``<= high``, or ``< high`` when ``high_open``)."""
        value = group[key]
        name = type(self).__name__
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name}: {key} must be a number, got {value!r}.")
        ok = value >= low
        if high is not None:
            ok = ok and (value < high if high_open else value <= high)
        if not ok:
            if high is None:
                rule = f">= {low}"
            else:
                rule = f"in [{low}, {high}{')' if high_open else ']'}"
            raise ValueError(f"{name}: invalid {key} {value!r}; expected a number {rule}.")

    # ----------------------------------------------------------------- gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter.

        Args:
            set_to_none: drop ``.grad`` (the default; the next backward allocates it afresh). With
                ``False`` each existing gradient buffer is filled with zeros in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` when one is given."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step().")

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        """Run the closure (which recomputes the loss and calls backward) with grad mode on."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _scratch(self, like: Any, slot: int = 0) -> Any:
        """A reusable buffer of ``like``'s shape and dtype; distinct slots never overlap."""
        xp = backend.get_array_module(like)
        key = (slot, like.dtype, xp.__name__)
        buf = self._workspace.get(key)
        if buf is None or buf.size < like.size:
            buf = xp.empty(max(like.size, 1), dtype=like.dtype)
            self._workspace[key] = buf
        return buf[: like.size].reshape(like.shape)

    def _grad_with_decay(self, p: Any, g: Any, weight_decay: float, maximize: bool) -> Any:
        """``(-g if maximize else g) + weight_decay * p`` in workspace slot 0 (or ``g`` itself)."""
        if weight_decay == 0 and not maximize:
            return g
        out = self._scratch(p, 0)
        if weight_decay != 0:
            np.multiply(p, weight_decay, out=out)
            if maximize:
                np.subtract(out, g, out=out)
            else:
                np.add(out, g, out=out)
        else:
            np.negative(g, out=out)
        return out

    def _param_state(self, p: Tensor) -> dict[str, Any]:
        state = self.state.get(p)
        if state is None:
            state = self.state[p] = {}
        return state

    # ----------------------------------------------------------------- hooks
    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before every ``step``; returns a handle."""
        self._next_hook += 1
        self._pre_hooks[self._next_hook] = hook
        return RemovableHandle(self._pre_hooks, self._next_hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after every ``step`` (e.g. a ``MaxNorm``)."""
        self._next_hook += 1
        self._post_hooks[self._next_hook] = hook
        return RemovableHandle(self._post_hooks, self._next_hook)

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, with parameters referred to by index.

        Returns:
            ``{"state": {index: {name: value}}, "param_groups": [{option: value, "params": [i]}]}``.
            Indices count the parameters of all groups in order from 0. Arrays are copies;
            everything else is a Python number, bool, string, tuple or list, so the dict is
            JSON-friendly once its arrays are stored elsewhere (or turned into lists).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p, entries in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: _copy_value(v) for k, v in entries.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict`` (or by the same PyTorch optimizer).

        Group options are taken from the saved groups; state arrays are copied and cast to each
        parameter's dtype. String indices (as JSON writes them) and lists (as JSON reads them) are
        accepted.

        Raises:
            ValueError: the dict lacks ``state``/``param_groups``, the number of groups or of
                parameters in a group differs, an index is out of range, or a state array's shape
                differs from its parameter.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with keys 'state' and 'param_groups', "
                f"got {got}."
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter "
                f"group(s) but this optimizer has {len(self.param_groups)}."
            )
        params: list[Tensor] = []
        new_groups = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: saved parameter group {i} has {len(saved['params'])} "
                    f"parameter(s) but this optimizer's group {i} has {len(group['params'])}."
                )
            fresh = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            for key, default in self.defaults.items():
                if isinstance(default, tuple) and isinstance(fresh.get(key), list):
                    fresh[key] = tuple(fresh[key])
                fresh.setdefault(key, default)  # an option newer than the checkpoint
            fresh["params"] = group["params"]
            new_groups.append(fresh)
            params.extend(group["params"])
        state: dict[Tensor, dict[str, Any]] = {}
        for key, entries in state_dict["state"].items():
            idx = int(key)
            if not 0 <= idx < len(params):
                raise ValueError(
                    f"{name}.load_state_dict: state refers to parameter index {idx}, but the "
                    f"optimizer has {len(params)} parameters."
                )
            p = params[idx]
            state[p] = {k: _cast_value(name, idx, k, v, p) for k, v in entries.items()}
        for group in new_groups:
            self._check_group(group)
        self.param_groups = new_groups
        self.state = state

    # ----------------------------------------------------------------- housekeeping
    def __getstate__(self) -> dict[str, Any]:
        d = self.__dict__.copy()
        d["_workspace"] = {}
        return d

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _copy_value(value: Any) -> Any:
    if hasattr(value, "copy") and hasattr(value, "shape"):
        return value.copy()
    return copy.deepcopy(value)


def _cast_value(name: str, idx: int, key: str, value: Any, p: Tensor) -> Any:
    """A saved state entry as ``step`` expects it: an int step, or an array shaped like ``p``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if key == "step":
        return int(float(value))
    if isinstance(value, numbers.Number):
        return value
    if isinstance(value, Tensor):
        value = value.data
    elif type(value).__module__.startswith("torch"):  # a state dict saved by PyTorch
        value = value.detach().cpu().numpy()
    xp = backend.get_array_module(p.data)
    if xp is np:
        arr = np.array(value, dtype=p.data.dtype, copy=True)
    else:
        on_device = type(value).__module__.startswith("cupy")
        arr = xp.array(value if on_device else np.asarray(value), dtype=p.data.dtype)
    if arr.ndim > 0 and arr.shape != p.data.shape:
        raise ValueError(
            f"{name}.load_state_dict: state {key!r} of parameter {idx} has shape "
            f"{tuple(arr.shape)}, but the parameter has shape {tuple(p.data.shape)}."
        )
    return arr
