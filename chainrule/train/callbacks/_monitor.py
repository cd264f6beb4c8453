"""The watched quantity of ``EarlyStopping`` and ``ModelCheckpoint``: its direction and progress."""

from __future__ import annotations

import math
import warnings
from typing import Any

__all__ = ["Monitor"]

# Substrings of metric names that grow as the model improves (mode "auto" maximizes them).
_HIGHER_IS_BETTER = ("acc", "top", "auc", "precision", "recall", "f1")


class Monitor:
    """Reads ``logs[name]`` and tells whether it beats the best value by more than ``min_delta``.

    Args:
        owner: the callback's name, for messages.
        name: the log key (``"val_loss"``, ``"val_accuracy"``, ...).
        mode: ``"min"``, ``"max"``, or ``"auto"``: ``max`` for names holding ``acc``, ``top``,
            ``auc``, ``precision``, ``recall`` or ``f1``, else ``min`` (losses, perplexity).
        min_delta: the smallest change that counts as an improvement (>= 0).
    """

    def __init__(self, owner: str, name: str, mode: str = "auto", min_delta: float = 0.0) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner}: unknown mode {mode!r}; available: auto, min, max.")
        if not isinstance(min_delta, (int, float)) or isinstance(min_delta, bool):
            raise TypeError(f"{owner}: min_delta must be a number, got {min_delta!r}.")
        if mode == "auto":
            lowered = name.lower()
            mode = "max" if any(s in lowered for s in _HIGHER_IS_BETTER) else "min"
        self.owner, self.name, self.mode = owner, name, mode
        self.min_delta = abs(float(min_delta))
        self.worst = math.inf if mode == "min" else -math.inf

    def get(self, logs: dict[str, Any] | None) -> float | None:
        """The monitored value in ``logs``, or None (with a warning naming the keys present)."""
        logs = logs or {}
        if self.name not in logs:
            warnings.warn(
                f"{self.owner}: the monitored metric {self.name!r} is not in the logs; available: "
                f"{', '.join(sorted(logs)) or '(none)'}. Pass validation data to fit() for val_ "
                "metrics, or choose another monitor.",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        return float(logs[self.name])

    def improves(self, current: float, reference: float) -> bool:
        """Whether ``current`` beats ``reference`` by more than ``min_delta`` (NaN never does)."""
        if math.isnan(current):
            return False
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta
