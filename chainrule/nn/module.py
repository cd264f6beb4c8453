"""``Module``: the base class of every layer and model.

A module owns parameters (learned tensors), buffers (saved but not learned state, such as running
statistics) and submodules; assigning one of them as an attribute registers it. Registration is
what lets ``parameters()`` find every weight of a model, ``state_dict()`` save them under dotted
names, and ``train()``/``eval()`` reach every layer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .. import backend
from .. import functional as F
from ..autograd import no_grad
from ..tensor import Tensor
from . import _call_errors
from .hooks import RemovableHandle
from .parameter import Parameter
from .state_dict import IncompatibleKeys, load_arrays

__all__ = ["Module"]

ForwardPreHook = Callable[["Module", tuple[Any, ...]], Any]
ForwardHook = Callable[["Module", tuple[Any, ...], Any], Any]


class Module:
    """Base class of layers and models: subclass it, assign layers in ``__init__``, define forward.

    Attributes:
        training: True in training mode (dropout active, batch norm uses batch statistics).

    Example:
        >>> class MLP(cr.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc1 = cr.nn.Linear(4, 8)
        ...         self.fc2 = cr.nn.Linear(8, 2)
        ...     def forward(self, x):
        ...         return self.fc2(cr.relu(self.fc1(x)))
        >>> [name for name, _ in MLP().named_parameters()]
        ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}
        d["_forward_pre_hooks"] = {}
        d["_forward_hooks"] = {}

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of this module; every subclass defines it."""
        raise NotImplementedError(
            f"{type(self).__name__}: forward() is not implemented; define forward(self, ...) in "
            "the subclass."
        )

    # ----------------------------------------------------------------- calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        stack = _call_errors.call_stack()
        stack.append(self)
        try:
            if self._forward_pre_hooks:
                for hook in list(self._forward_pre_hooks.values()):
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
            out = self.forward(*args, **kwargs)
            if self._forward_hooks:
                for hook in list(self._forward_hooks.values()):
                    result = hook(self, args, out)
                    if result is not None:
                        out = result
            return out
        except Exception as err:
            if _call_errors.is_annotated(err):
                raise
            new = _call_errors.annotate(err, stack, args, kwargs)
            if new is err:
                raise
            raise new from err
        finally:
            stack.pop()

    def register_forward_pre_hook(self, hook: ForwardPreHook) -> RemovableHandle:
        """Call ``hook(module, args)`` before ``forward``; a non-None result replaces ``args``.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: ForwardHook) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after ``forward``; a non-None result replaces output.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        modules = d.get("_modules")
        buffers = d.get("_buffers")
        if isinstance(value, (Parameter, Module)):
            if params is None:
                raise RuntimeError(
                    f"{type(self).__name__}: cannot assign '{name}' before Module.__init__() ran; "
                    "call super().__init__() first in __init__."
                )
            target = params if isinstance(value, Parameter) else modules
            d.pop(name, None)
            for store in (params, modules, buffers):
                if store is not target:
                    store.pop(name, None)  # the target keeps its order when a name is reassigned
            self._non_persistent.discard(name)
            target[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to parameter "
                    f"'{name}'; expected a Parameter or None. Wrap it (nn.Parameter(x)) or copy "
                    "into .data."
                )
            params[name] = None
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to submodule "
                    f"'{name}'; expected a Module or None."
                )
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to buffer "
                    f"'{name}'; expected a Tensor or None."
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            store = self.__dict__.get(key)
            if store is not None and name in store:
                del store[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        own = [*self._parameters, *self._buffers, *self._modules]
        return sorted(set(super().__dir__()) | set(own))

    def _check_new_name(self, name: Any, kind: str, store: dict[str, Any]) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: cannot register {kind} '{name}' before Module.__init__() "
                "ran; call super().__init__() first in __init__."
            )
        if not isinstance(name, str):
            raise TypeError(
                f"{type(self).__name__}: {kind} name must be a str, got {type(name).__name__}."
            )
        if name == "" or "." in name:
            raise ValueError(
                f"{type(self).__name__}: {kind} name must be non-empty and contain no '.', "
                f"got '{name}'."
            )
        if name not in store and (name in self.__dict__ or hasattr(type(self), name)):
            raise ValueError(
                f"{type(self).__name__}: attribute '{name}' already exists; pick another name."
            )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or a None placeholder) under ``name``."""
        self._check_new_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"{type(self).__name__}: parameter '{name}' must be a Parameter or None, got "
                f"{type(param).__name__}. Wrap it: nn.Parameter(x)."
            )
        for store in (self._buffers, self._modules):
            store.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is not learned (e.g. running statistics).

        Args:
            name: attribute name.
            tensor: the buffer, or None for a placeholder.
            persistent: include it in ``state_dict``. Default: True.
        """
        self._check_new_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"{type(self).__name__}: buffer '{name}' must be a Tensor or None, "
                f"got {type(tensor).__name__}."
            )
        if isinstance(tensor, Parameter):
            raise TypeError(
                f"{type(self).__name__}: buffer '{name}' is a Parameter; use register_parameter "
                "for learned tensors."
            )
        for store in (self._parameters, self._modules):
            store.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` (or a None placeholder) as a child under ``name``."""
        self._check_new_name(name, "submodule", self._modules)
        if module is not None and not isinstance(module, Module):
            hint = ""
            if isinstance(module, type) and issubclass(module, Module):
                cls = module.__name__
                hint = f" Did you forget the parentheses: {cls}() instead of {cls}?"
            raise TypeError(
                f"{type(self).__name__}: submodule '{name}' must be a Module, got "
                f"{getattr(module, '__name__', type(module).__name__)}.{hint}"
            )
        for store in (self._parameters, self._buffers):
            store.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    # ----------------------------------------------------------------- traversal
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module (named ``prefix``) and each descendant.

        A module reachable by several paths is yielded once unless ``remove_duplicate=False``.
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            child_prefix = f"{prefix}.{name}" if prefix else name
            yield from child.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for each direct child, each once."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """Each direct child module once."""
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        if recurse:
            owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            owners = iter([(prefix, self)])
        for owner_name, owner in owners:
            for name, value in getattr(owner, store).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{owner_name}.{name}" if owner_name else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a parameter shared by layers is yielded once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (of descendants too, unless ``recurse=False``), each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs, persistent or not."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer, each once."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target: str) -> Module:
        """The descendant at dotted path ``target`` (``""`` is this module)."""
        module: Module = self
        if target == "":
            return module
        walked = []
        for part in target.split("."):
            children = module._modules
            if part not in children or children[part] is None:
                where = ".".join(walked) or type(self).__name__
                names = ", ".join(k for k, v in children.items() if v is not None) or "(none)"
                raise AttributeError(
                    f"get_submodule: {where} has no submodule '{part}'; available: {names}"
                )
            module = children[part]
            walked.append(part)
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target``, e.g. ``"encoder.fc1.weight"``."""
        owner_path, _, name = target.rpartition(".")
        owner = self.get_submodule(owner_path)
        param = owner._parameters.get(name)
        if param is None:
            names = ", ".join(k for k, v in owner._parameters.items() if v is not None) or "(none)"
            raise AttributeError(
                f"get_parameter: no parameter '{target}'; {owner_path or 'the module'} has: {names}"
            )
        return param

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of scalar parameters (shared ones counted once).

        Args:
            trainable_only: count only parameters with ``requires_grad``.
        """
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ----------------------------------------------------------------- state
    def state_dict(
        self, destination: dict[str, Any] | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, as Tensors (as PyTorch's are).

        The values are detached Tensors sharing memory with the module's arrays, so later in-place
        updates show in them; for a frozen snapshot copy them (``{k: v.clone() ...}``,
        ``copy.deepcopy``) or save them to disk. Shared parameters appear under every name that
        reaches them, as in PyTorch.

        Args:
            destination: a dict to fill (a new ``OrderedDict`` by default).
            prefix: prepended to every key.
            keep_vars: give the Parameter and buffer objects themselves instead of detached tensors.
        """
        out: dict[str, Any] = OrderedDict() if destination is None else destination
        for name, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            head = f"{name}." if name else ""
            for key, param in module._parameters.items():
                if param is not None:
                    out[head + key] = param if keep_vars else Tensor._make(param.data)
            for key, buf in module._buffers.items():
                if buf is not None and key not in module._non_persistent:
                    out[head + key] = buf if keep_vars else Tensor._make(buf.data)
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy parameters and persistent buffers from ``state_dict`` into this module, in place.

        Values may be Tensors, NumPy arrays, nested lists or torch tensors. Every key and shape is
        checked before anything is copied, so a failed load changes nothing.

        Args:
            state_dict: dotted name -> array, as made by ``state_dict()``.
            strict: require exactly the module's keys. Default: True.

        Returns:
            ``IncompatibleKeys(missing_keys, unexpected_keys)`` (both empty when strict).

        Raises:
            StateDictError: (a RuntimeError) listing missing, unexpected (when strict) and
                mis-shaped keys.
        """
        targets = self.state_dict(keep_vars=True)
        with no_grad():
            return load_arrays(type(self).__name__, targets, state_dict, strict)

    # ----------------------------------------------------------------- modes and bulk changes
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}.")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter; returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters: set ``.grad`` to None (or to zeros in place)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every descendant (children first) and then on this module; returns self.

        Example:
            >>> def zero_bias(m):
            ...     if isinstance(m, cr.nn.Linear):
            ...         cr.nn.init.zeros_(m.bias)
            >>> model = cr.nn.Sequential(cr.nn.Linear(2, 2)).apply(zero_bias)
            >>> model[0].bias.tolist()
            [0.0, 0.0]
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, target: Any = None, dtype: Any = None, device: str | None = None) -> Module:
        """Convert parameters, their gradients and buffers in place; returns self.

        ``to("float64")`` or ``to(np.float64)`` casts the floating ones; ``to("cuda")`` or
        ``to("cpu")`` moves all of them. The Parameter objects stay the same, so an optimizer built
        earlier still holds them.
        """
        if isinstance(target, str) and target.split(":")[0] in ("cpu", "cuda"):
            device = target
        elif isinstance(target, Tensor):
            dtype, device = target.dtype, target.device
        elif target is not None:
            dtype = target
        dt = None
        if dtype is not None:
            dt = backend.to_dtype(dtype)
            if dt.kind != "f":
                raise TypeError(f"{type(self).__name__}.to: expected a floating dtype, got {dt}.")

        def convert(arr: Any) -> Any:
            if device is not None:
                arr = F.to_device(Tensor._make(arr), device).data
            if dt is not None and arr.dtype.kind == "f" and arr.dtype != dt:
                arr = arr.astype(dt)
            return arr

        with no_grad():
            for tensor in [*self.parameters(), *self.buffers()]:
                tensor.data = convert(tensor.data)
                if tensor.grad is not None:
                    tensor.grad.data = convert(tensor.grad.data)
        return self

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64."""
        return self.to(np.float64)

    def cpu(self) -> Module:
        """Move parameters and buffers to the CPU."""
        return self.to("cpu")

    def cuda(self) -> Module:
        """Move parameters and buffers to the GPU (needs CuPy)."""
        return self.to("cuda")

    # ----------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr``; layers override it."""
        return ""

    def _child_lines(self) -> list[str]:
        return [f"({name}): {_indent(repr(child))}" for name, child in self._modules.items()]

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = (extra.split("\n") if extra else []) + self._child_lines()
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(lines)
        return f"{type(self).__name__}(\n  {body}\n)"


def _indent(text: str, spaces: int = 2) -> str:
    """Indent every line but the first (the first follows ``(name): ``)."""
    return text.replace("\n", "\n" + " " * spaces)
