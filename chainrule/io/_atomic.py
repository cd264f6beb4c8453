"""Crash-safe writing: files and whole folders appear complete or not at all.

A file is written to a temporary sibling, flushed to disk (``fsync``) and renamed over its target;
the rename is atomic, so a reader sees the old file or the new one. A folder (a checkpoint) is
replaced in two renames, since POSIX cannot rename a folder over a non-empty one::

    1. write every file into  .NAME.tmp-PID-RANDOM/   and fsync the files and the folder
    2. rename  NAME  ->  .NAME.old                    (skipped when NAME does not exist yet)
    3. rename  .NAME.tmp-PID-RANDOM  ->  NAME         and fsync the parent folder
    4. delete  .NAME.old

Whatever moment a process is killed at, ``NAME`` or, between steps 2 and 3, ``.NAME.old`` holds a
complete checkpoint: ``resolve`` returns the first of them that exists, and the next ``prepare``
puts ``.NAME.old`` back (or deletes it once ``NAME`` exists) and removes stale temporary folders.
One process writes a given checkpoint at a time.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import CheckpointError

__all__ = [
    "fsync_dir",
    "read_all",
    "write_file",
    "write_file_atomic",
    "prepare",
    "commit",
    "resolve",
]


def _rename(src: Path, dst: Path) -> None:
    """``os.rename``; a separate function so that tests can simulate a crash at each rename."""
    os.rename(src, dst)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk; a no-op where folders cannot be
    opened (Windows)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_all(f: Any) -> bytearray:
    """The rest of the binary file ``f`` in one ``bytearray`` (sized once, no extra copy)."""
    data = bytearray(max(os.fstat(f.fileno()).st_size - f.tell(), 0))
    view = memoryview(data)
    filled = 0
    while filled < len(data):
        n = f.readinto(view[filled:])
        if not n:
            break
        filled += n
    view.release()
    del data[filled:]  # the file shrank while being read
    tail = f.read()  # or grew
    if tail:
        data += tail
    return data


def write_file(path: Path, chunks: Iterable[Any]) -> tuple[int, str]:
    """Create ``path`` (it must not exist), write the byte chunks, fsync.

    Returns:
        ``(number of bytes, sha256 hex digest)`` of what was written.
    """
    digest = hashlib.sha256()
    size = 0
    with open(path, "xb") as f:
        for chunk in chunks:
            f.write(chunk)
            digest.update(chunk)
            size += memoryview(chunk).nbytes
        f.flush()
        os.fsync(f.fileno())
    return size, digest.hexdigest()


def _temp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def write_file_atomic(path: Path, chunks: Iterable[Any]) -> tuple[int, str]:
    """Write a file so that ``path`` holds either its old content or the complete new one."""
    path = Path(path)
    tmp = _temp_sibling(path)
    try:
        result = write_file(tmp, chunks)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent if str(path.parent) else Path("."))
    return result


def backup_of(final: Path) -> Path:
    """The sibling that holds the previous folder during a replacement."""
    return final.with_name(f".{final.name}.old")


def _stale_temporaries(final: Path) -> list[Path]:
    return sorted(final.parent.glob(f".{final.name}.tmp-*"))


def prepare(final: Path, replaceable: Callable[[Path], bool]) -> Path:
    """Repair what an interrupted replacement left, and make an empty temporary sibling folder.

    Args:
        final: the folder to (re)place.
        replaceable: tells whether an existing ``final`` may be replaced (it is ours).

    Returns:
        The temporary folder to fill and then ``commit``.

    Raises:
        CheckpointError: ``final`` exists but is a file or a folder that ``replaceable`` refuses.
    """
    final = Path(final)
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    backup = backup_of(final)
    if final.exists() and not final.is_dir():
        raise CheckpointError(
            f"{final}: is a file; a checkpoint is a folder. Choose another path or remove it."
        )
    if final.is_dir() and not replaceable(final):
        raise CheckpointError(
            f"{final}: the folder exists and holds files that are not part of a chainrule "
            "checkpoint; refusing to replace it. Choose another path (e.g. "
            f"{final / 'checkpoint'})."
        )
    if backup.is_dir():
        if final.is_dir():
            _remove_tree(backup)  # step 4 of an earlier save was interrupted
        else:
            _rename(backup, final)  # killed between steps 2 and 3: the old checkpoint returns
        fsync_dir(parent)
    for stale in _stale_temporaries(final):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = _temp_sibling(final)
    tmp.mkdir()
    return tmp


def commit(tmp: Path, final: Path) -> None:
    """Swap the complete folder ``tmp`` into place as ``final`` (steps 1 to 4 above)."""
    fsync_dir(tmp)
    parent = final.parent
    backup = backup_of(final)
    if final.exists():
        _rename(final, backup)
    _rename(tmp, final)
    fsync_dir(parent)
    if backup.exists():
        _remove_tree(backup)
        fsync_dir(parent)


def resolve(final: Path) -> tuple[Path, bool]:
    """The complete folder or file to read for ``final``, and whether it is the backup.

    Raises:
        CheckpointError: neither ``final`` nor its backup exists.
    """
    final = Path(final)
    backup = backup_of(final)
    for _ in range(2):  # a save may finish (and remove the backup) between the two checks
        if final.exists():
            return final, False
        if backup.is_dir():
            return backup, True
    raise CheckpointError(f"{final}: no checkpoint here (no such file or folder).")
