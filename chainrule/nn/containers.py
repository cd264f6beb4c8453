"""Containers: ``Sequential`` (a chain), ``ModuleList`` and ``ModuleDict`` (registered groups)."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .conv_bn import run_fused
from .module import Module

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


def _norm_index(owner: Module, idx: Any, length: int) -> int:
    try:
        i = operator.index(idx)
    except TypeError as err:
        raise TypeError(
            f"{type(owner).__name__} indices must be integers or slices, got {type(idx).__name__}."
        ) from err
    if not -length <= i < length:
        raise IndexError(f"{type(owner).__name__}: index {i} is out of range for {length} modules.")
    return i % length


class _Indexed(Module):
    """Shared machinery of the integer-indexed containers (children named "0", "1", ...)."""

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def _is_numbered(self) -> bool:
        return list(self._modules) == [str(i) for i in range(len(self._modules))]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _key(self, idx: Any) -> str:
        return list(self._modules)[_norm_index(self, idx, len(self))]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(self._key(idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        doomed = keys[idx] if isinstance(idx, slice) else [self._key(idx)]
        numbered = self._is_numbered()
        for key in doomed:
            del self._modules[key]
        if numbered:
            self._renumber(list(self._modules.values()))

    def append(self, module: Module) -> _Indexed:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> _Indexed:
        """Append each of ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (the children are renumbered)."""
        if not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}.insert: expected a Module, got {type(module).__name__}."
            )
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index``."""
        module = self[index]
        del self[index]
        return module

    def _child_lines(self) -> list[str]:
        # identical neighbours collapse to one line, "(0-5): 6 x Block(...)", as PyTorch prints them
        items = [(name, repr(child)) for name, child in self._modules.items()]
        lines = []
        i = 0
        while i < len(items):
            j = i
            while j + 1 < len(items) and items[j + 1][1] == items[i][1]:
                j += 1
            text = items[i][1].replace("\n", "\n  ")
            if j > i:
                lines.append(f"({items[i][0]}-{items[j][0]}): {j - i + 1} x {text}")
            else:
                lines.append(f"({items[i][0]}): {text}")
            i = j + 1
        return lines


class Sequential(_Indexed):
    """Runs its modules one after another, each on the previous one's output.

    Args:
        *modules: the layers in order, or a single ``dict``/``OrderedDict`` of name -> module.

    Example:
        >>> model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
        >>> model(cr.randn(3, 4)).shape
        (3, 2)
        >>> len(model), type(model[1]).__name__, len(model[:2])
        (3, 'ReLU', 2)
    """

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return Sequential(dict(list(self._modules.items())[idx]))
        return self._modules[self._key(idx)]

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            return NotImplemented
        return Sequential(*self, *other)

    def forward(self, x: Any) -> Any:
        # Conv2d [+ BatchNorm] [+ ReLU] runs fused (nn/conv_bn.py): the ReLU inside the kernels,
        # the batch norm folded into the convolution in inference
        modules = list(self._modules.values())
        i = 0
        while i < len(modules):
            fused = run_fused(modules, i, x)
            if fused is None:
                x = modules[i](x)
                i += 1
            else:
                x, used = fused
                i += used
        return x


class ModuleList(_Indexed):
    """A list of modules whose parameters the owner registers; ``forward`` loops over it by hand.

    Args:
        modules: initial modules.

    Example:
        >>> layers = cr.nn.ModuleList([cr.nn.Linear(4, 4) for _ in range(3)])
        >>> len(list(layers.parameters()))
        6
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        self.extend(modules)
        return self

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList has no forward(); iterate over it in the owning module's forward, or use "
            "nn.Sequential for a plain chain."
        )


class ModuleDict(Module):
    """A dict of modules (insertion-ordered) whose parameters the owner registers.

    Args:
        modules: initial name -> module mapping (or iterable of pairs).

    Example:
        >>> heads = cr.nn.ModuleDict({"cls": cr.nn.Linear(8, 10), "box": cr.nn.Linear(8, 4)})
        >>> heads["box"].out_features
        4
    """

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            names = ", ".join(self._modules) or "(none)"
            raise KeyError(f"ModuleDict has no key {key!r}; available: {names}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018  (raises the KeyError that lists the keys)
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        """``(name, module)`` pairs, in insertion order."""
        return self._modules.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace entries from a mapping or an iterable of ``(name, module)`` pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update: expected (name, module) pairs, got {pair!r}.")
            self[pair[0]] = pair[1]

    def pop(self, key: str) -> Module:
        """Remove and return the module under ``key``."""
        module = self[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        """Remove every entry."""
        self._modules.clear()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleDict has no forward(); look modules up by name in the owning module's forward."
        )
