"""File helpers shared by the readers: finding a dataset folder, gzip or not, split files.

A file named ``name`` is found as ``name``, ``name.gz``, or as consecutive slices
``name.gz.part0``, ``name.gz.part1``, ... of one gzip stream (the layout of the shared MNIST
training images). Missing folders and files raise `DatasetNotFoundError` naming what was looked
for, where, and how to obtain it.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

from chainrule.data.download import (
    REGISTRY,
    DatasetNotFoundError,
    data_root,
    download,
    manual_instructions,
)

__all__ = ["FileRef", "describe", "find_file", "read_bytes", "read_text", "resolve_folder"]

FileRef = Path | tuple[Path, ...]


def find_file(folder: Path, name: str) -> FileRef | None:
    """The file ``name`` in ``folder`` as a path (plain or .gz) or a tuple of .gz parts, or None."""
    plain = folder / name
    if plain.is_file():
        return plain
    if not name.endswith(".gz"):
        zipped = folder / (name + ".gz")
        if zipped.is_file():
            return zipped
    base = name if name.endswith(".gz") else name + ".gz"
    parts = []
    while (folder / f"{base}.part{len(parts)}").is_file():
        parts.append(folder / f"{base}.part{len(parts)}")
    return tuple(parts) if parts else None


def describe(ref: FileRef) -> str:
    """A file reference as text for error messages."""
    if isinstance(ref, tuple):
        return f"{ref[0].parent / ref[0].name[: -len('.part0')]}.part0..{len(ref) - 1}"
    return str(ref)


def read_bytes(ref: FileRef | str | os.PathLike) -> bytes:
    """All bytes of a file, gunzipped when it is gzip (by magic number), parts joined in order."""
    if isinstance(ref, tuple):
        raw = b"".join(Path(p).read_bytes() for p in ref)
    else:
        path = Path(ref)
        if not path.is_file():
            raise DatasetNotFoundError(f"file not found: {path}")
        raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(
            f"{describe(ref) if isinstance(ref, tuple) else ref}: broken gzip data ({err}); "
            "the file is probably truncated or corrupt. Download it again."
        ) from err


def read_text(ref: FileRef | str | os.PathLike, encoding: str = "utf-8") -> str:
    """Decoded text of a file (gzip or not); ``encoding`` e.g. 'utf-8' or 'cp1252'."""
    data = read_bytes(ref)
    try:
        return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline=None).read()
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{ref}: cannot decode as {encoding} ({err}). Is this the right file or encoding?"
        ) from err


def resolve_folder(
    dataset: str,
    root: str | os.PathLike | None,
    needed: Sequence[str],
    download_missing: bool = False,
    folder: str | None = None,
) -> Path:
    """The folder that holds all files ``needed`` for ``dataset``.

    ``root`` may be the dataset folder itself or the data root that contains it (default
    ``$CHAINRULE_DATA``). With ``download_missing`` a registered dataset is fetched first.

    Raises:
        DatasetNotFoundError: naming the missing files, the folders searched and the fix.
    """
    spec = REGISTRY.get(dataset)
    sub = folder if folder is not None else (spec.folder if spec else dataset)
    base = data_root(root)
    candidates = [base / sub, base] if base.name != sub else [base, base / sub]
    for cand in candidates:
        if all(find_file(cand, n) is not None for n in needed):
            return cand
    if download_missing:
        if spec is None:
            raise DatasetNotFoundError(
                f"{dataset}: no download is registered for this dataset; place "
                f"{', '.join(needed)} into {base / sub} by hand."
            )
        download(dataset, root=base if base.name != sub else base.parent)
        return resolve_folder(dataset, root, needed, False, folder)
    searched = " and ".join(str(c) for c in candidates)
    best = max(candidates, key=lambda c: sum(find_file(c, n) is not None for n in needed))
    missing = [n for n in needed if find_file(best, n) is None]
    if not base.exists():
        where = f"the data folder {base} does not exist"
    else:
        where = f"looked in {searched}"
    message = f"{dataset}: missing {', '.join(missing)} ({where}). "
    if spec is not None:
        message += "Pass download=True to fetch it, or install it by hand.\n"
        message += manual_instructions(spec, base if base.name != sub else base.parent)
    else:
        message += f"Place the files into {base / sub}."
    message += "\nSet CHAINRULE_DATA or pass root= to read from another folder."
    raise DatasetNotFoundError(message)
