"""Which ONNX converter handles which chainrule op (by the ``Function`` subclass's name)."""

from __future__ import annotations

from collections.abc import Callable

from .graph import OpContext

__all__ = [
    "converter",
    "get_converter",
    "handles_batch_params",
    "supported_ops",
    "value_params",
]

Converter = Callable[[OpContext], None]

_CONVERTERS: dict[str, Converter] = {}
_BATCH_PARAMS: set[str] = set()
_VALUE_PARAMS: dict[str, tuple[str, ...]] = {}


def converter(
    *names: str, batch_params: bool = False, value_params: tuple[str, ...] = ()
) -> Callable[[Converter], Converter]:
    """Register a converter for the ops called ``names``.

    Args:
        names: ``Function`` subclass names, e.g. ``"ReLU"``.
        batch_params: the converter itself handles parameters that change with the batch size
            (a reshape target that includes it); for other ops such parameters are an error.
        value_params: keyword parameters that carry a tensor's array (an embedding's ids): they
            are graph values, read with ``OpContext.param_value``, not constants to compare.
    """

    def register(fn: Converter) -> Converter:
        for name in names:
            _CONVERTERS[name] = fn
            if batch_params:
                _BATCH_PARAMS.add(name)
            if value_params:
                _VALUE_PARAMS[name] = tuple(value_params)
        return fn

    return register


def get_converter(name: str) -> Converter | None:
    """The converter of op ``name``, or None when it is not supported."""
    return _CONVERTERS.get(name)


def handles_batch_params(name: str) -> bool:
    """Whether op ``name``'s converter accepts batch-dependent parameters."""
    return name in _BATCH_PARAMS


def value_params(name: str) -> tuple[str, ...]:
    """The keyword parameters of op ``name`` that are graph values (see ``converter``)."""
    return _VALUE_PARAMS.get(name, ())


def supported_ops() -> list[str]:
    """Names of the chainrule ops that ``export_onnx`` can convert, sorted."""
    return sorted(_CONVERTERS)
