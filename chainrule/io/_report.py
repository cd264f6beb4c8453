"""What a weight import matched, and the last step of every import: check, then copy."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..nn.module import Module
from .errors import WeightImportError

__all__ = ["ImportReport", "finish_import", "natural_key"]

_MAX_LISTED = 20


def natural_key(name: str) -> list[Any]:
    """Sort key that orders ``layers.2`` before ``layers.10`` (numbers compare as numbers)."""
    parts: list[Any] = re.split(r"(\d+)", name)
    parts[1::2] = [int(p) for p in parts[1::2]]
    return parts


def _listing(items: list[str]) -> str:
    text = ", ".join(items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        text += f", ... and {len(items) - _MAX_LISTED} more"
    return text


@dataclass
class ImportReport:
    """The outcome of ``load_torch_state_dict`` or ``load_keras_weights``.

    Attributes:
        source: where the weights came from (a path, or "a dict").
        method: how names were matched: ``exact``, ``mapping``, ``table:<Model>``,
            ``positional (module order)``, ``positional (name order)``, or ``keras (...)``.
        matched: ``(source name, model name)`` for each weight loaded.
        missing: model names that received nothing.
        unexpected: source names that found no place in the model.
        mismatched: ``(source name, model name, source shape, model shape)`` of pairs whose
            shapes differ (not loaded).
        skipped: ``(source name, reason)`` dropped on purpose (e.g. ``num_batches_tracked``).
        notes: anything else worth knowing (prefixes stripped, kernels reordered).
    """

    source: str
    method: str = "exact"
    matched: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, str, tuple[int, ...], tuple[int, ...]]] = field(
        default_factory=list
    )
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every model weight was filled and every source weight used."""
        return not (self.missing or self.unexpected or self.mismatched)

    def __str__(self) -> str:
        lines = [f"import from {self.source} ({self.method}): {len(self.matched)} matched"]
        renamed = [f"{s} -> {t}" for s, t in self.matched if s != t]
        if renamed:
            lines.append(f"  renamed ({len(renamed)}): {_listing(renamed)}")
        if self.missing:
            lines.append(f"  missing in source ({len(self.missing)}): {_listing(self.missing)}")
        if self.unexpected:
            lines.append(
                f"  unused from source ({len(self.unexpected)}): {_listing(self.unexpected)}"
            )
        if self.mismatched:
            shapes = [f"{s} {ss} -> {t} {ts}" for s, t, ss, ts in self.mismatched]
            lines.append(f"  shape mismatches ({len(shapes)}): {_listing(shapes)}")
        if self.skipped:
            dropped = [f"{s} ({why})" for s, why in self.skipped]
            lines.append(f"  skipped ({len(dropped)}): {_listing(dropped)}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def finish_import(
    caller: str,
    model: Module,
    report: ImportReport,
    arrays: dict[str, Any],
    strict: bool,
    hint: str,
) -> ImportReport:
    """Raise when ``strict`` and anything failed to match; else copy ``arrays`` into ``model``.

    Args:
        caller: the public function's name, for the message.
        model: the module to fill.
        report: the matching outcome (``arrays`` holds the matched model names only).
        arrays: model name -> array, all of the model's shapes.
        strict: require a complete, exact match.
        hint: how to fix a failed match, appended to the message.
    """
    if strict and not report.ok:
        raise WeightImportError(
            f"{caller}: the weights of {report.source} do not all match "
            f"{type(model).__name__}; nothing was loaded.\n{report}\n{hint}",
            report,
        )
    model.load_state_dict(arrays, strict=False)
    return report
