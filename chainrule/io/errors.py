"""Errors of ``chainrule.io``: a file that cannot be read, or weights that do not fit a model."""

from __future__ import annotations

from ..nn.state_dict import StateDictError

__all__ = ["CheckpointError", "CheckpointMismatchError", "WeightImportError"]


class CheckpointError(RuntimeError):
    """A checkpoint or tensor file that is missing, truncated, corrupted or not what it claims.

    The message names the file and what is wrong with it, e.g.
    ``ckpt/model.safetensors: header says the data is 4096 bytes, but the file holds 1000``.
    """


class CheckpointMismatchError(CheckpointError, StateDictError):
    """Weights in a checkpoint that do not fit the model they are loaded into.

    Both a ``CheckpointError`` and an ``nn.StateDictError``: ``missing_keys``, ``unexpected_keys``
    and ``mismatched`` (``(key, expected_shape, received_shape)``) list what does not fit.
    """


class WeightImportError(StateDictError):
    """Foreign weights (PyTorch, Keras) that could not all be matched to the model.

    Attributes:
        report: the ``ImportReport`` with every matched, missing, unexpected and mis-shaped name.
    """

    def __init__(self, message: str, report: object) -> None:
        missing = list(getattr(report, "missing", []))
        unexpected = list(getattr(report, "unexpected", []))
        mismatched = [(t, want, got) for _, t, got, want in getattr(report, "mismatched", [])]
        super().__init__(message, missing, unexpected, mismatched)
        self.report = report
