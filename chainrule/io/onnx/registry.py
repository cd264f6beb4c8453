"""Which ONNX converter handles which chainrule op (by the ``Function`` subclass's name)."""

from __future__ import annotations

from collections.abc import Callable

from .graph import OpContext

__all__ = ["converter", "get_converter", "handles_batch_params", "supported_ops"]

Converter = Callable[[OpContext], None]

_CONVERTERS: dict[str, Converter] = {}
_BATCH_PARAMS: set[str] = set()


def converter(*names: str, batch_params: bool = False) -> Callable[[Converter], Converter]:
    """Register a converter for the ops called ``names``.

    Args:
        names: ``Function`` subclass names, e.g. ``"ReLU"``.
        batch_params: the converter itself handles parameters that change with the batch size
            (a reshape target that includes it); for other ops such parameters are an error.
    """

    def register(fn: Converter) -> Converter:
        for name in names:
            _CONVERTERS[name] = fn
            if batch_params:
                _BATCH_PARAMS.add(name)
        return fn

    return register


def get_converter(name: str) -> Converter | None:
    """The converter of op ``name``, or None when it is not supported."""
    return _CONVERTERS.get(name)


def handles_batch_params(name: str) -> bool:
    """Whether op ``name``'s converter accepts batch-dependent parameters."""
    return name in _BATCH_PARAMS


def supported_ops() -> list[str]:
    """Names of the chainrule ops that ``export_onnx`` can convert, sorted."""
    return sorted(_CONVERTERS)
