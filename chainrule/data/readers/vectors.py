"""Pre-trained word vectors: word2vec (text and binary) and GloVe (text), gzip or not.

- word2vec text: a header line ``count dim``, then ``word v1 ... vdim`` per line.
- word2vec binary: the header line, then per word its UTF-8 bytes, one space, ``dim``
  little-endian float32 values, and usually a newline.
- GloVe text: no header; ``word v1 ... vdim`` per line (the dimension is read from line 1).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from chainrule.backend import get_rng
from chainrule.data.readers._files import FileRef, find_file, read_bytes, resolve_folder

__all__ = [
    "WordVectors",
    "load_word2vec",
    "load_glove",
    "load_glove_6b",
    "load_word_vectors",
    "save_word2vec",
]


class WordVectors:
    """A table of word vectors.

    Args:
        words: the words, in file order (most frequent first for the usual files).
        vectors: float32 array ``(len(words), dim)``.

    Example:
        >>> wv = WordVectors(["a", "b"], np.eye(2, dtype=np.float32))
        >>> wv["b"].tolist(), "c" in wv, wv.dim
        ([0.0, 1.0], False, 2)
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(
                f"WordVectors: expected vectors of shape ({len(words)}, dim), got {vectors.shape}."
            )
        self.words = list(words)
        self.vectors = vectors
        self.index = {w: i for i, w in enumerate(self.words)}

    @property
    def dim(self) -> int:
        """Length of each vector."""
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        if word not in self.index:
            raise KeyError(f"WordVectors: {word!r} is not among the {len(self)} words.")
        return self.vectors[self.index[word]]

    def nearest(
        self, query: str | np.ndarray, k: int = 5, exclude: Iterable[str] = ()
    ) -> list[tuple[str, float]]:
        """The ``k`` words with the highest cosine similarity to a word or a vector."""
        vec = self[query] if isinstance(query, str) else np.asarray(query, dtype=np.float32)
        skip = set(exclude) | ({query} if isinstance(query, str) else set())
        norms = np.linalg.norm(self.vectors, axis=1) * max(float(np.linalg.norm(vec)), 1e-12)
        sims = self.vectors @ vec / np.maximum(norms, 1e-12)
        result = []
        for i in np.argsort(-sims):
            if self.words[i] in skip:
                continue
            result.append((self.words[i], float(sims[i])))
            if len(result) == k:
                break
        return result

    def embedding_matrix(
        self,
        tokens: Sequence[str],
        scale: float = 0.25,
        zero: Iterable[int] = (0,),
        generator: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, int]:
        """Rows for a vocabulary: known words get their vector, others U(-scale, scale) (Kim 2014).

        Args:
            tokens: the vocabulary, index -> token (e.g. ``Vocabulary.itos``).
            scale: half-width of the uniform range for unknown words.
            zero: rows set to zero (default row 0, the padding token).
            generator: random source; default: the package generator.

        Returns:
            ``(matrix float32 (len(tokens), dim), number of tokens found)``.
        """
        rng = generator if generator is not None else get_rng()
        matrix = rng.uniform(-scale, scale, size=(len(tokens), self.dim)).astype(np.float32)
        found = 0
        for row, token in enumerate(tokens):
            i = self.index.get(token)
            if i is not None:
                matrix[row] = self.vectors[i]
                found += 1
        for row in zero:
            if 0 <= row < len(tokens):
                matrix[row] = 0.0
        return matrix, found

    def __repr__(self) -> str:
        return f"WordVectors(words={len(self)}, dim={self.dim})"


def _keep(word: str, vocab: set[str] | None) -> bool:
    return vocab is None or word in vocab


def _parse_text(
    lines: list[str], name: str, dim: int, limit: int | None, vocab: set[str] | None, first: int
) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    values: list[str] = []
    for number, line in enumerate(lines, start=first):
        if limit is not None and len(words) >= limit:
            break
        parts = line.rstrip().split(" ")
        if len(parts) < dim + 1:
            if not line.strip():
                continue
            raise ValueError(
                f"{name}, line {number}: expected a word and {dim} numbers, got {len(parts) - 1}."
            )
        word = " ".join(parts[:-dim])
        if not _keep(word, vocab):
            continue
        words.append(word)
        values.extend(parts[-dim:])
    try:
        array = np.array(values, dtype=np.float32).reshape(len(words), dim)
    except ValueError as err:
        raise ValueError(f"{name}: a vector holds a value that is not a number ({err}).") from err
    return words, array


def _lines(ref: FileRef) -> list[str]:
    return read_bytes(ref).decode("utf-8", errors="replace").split("\n")


def load_glove(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    limit: int | None = None,
    vocab: Iterable[str] | None = None,
) -> WordVectors:
    """Read GloVe text vectors from one file or several files read in order (gzip or not).

    Args:
        paths: a file or a list of files (e.g. the two parts of the shared top-40k subset).
        limit: keep at most this many words.
        vocab: keep only these words.
    """
    files = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    keep = set(vocab) if vocab is not None else None
    words: list[str] = []
    blocks: list[np.ndarray] = []
    dim = None
    for f in files:
        lines = _lines(f if isinstance(f, tuple) else Path(f))
        if dim is None:
            head = lines[0].rstrip().split(" ")
            if len(head) == 2 and all(p.isdigit() for p in head):
                raise ValueError(
                    f"{f}: the first line {lines[0][:40]!r} looks like a word2vec header; "
                    "use load_word2vec for this file."
                )
            dim = len(head) - 1
        remaining = None if limit is None else limit - len(words)
        if remaining is not None and remaining <= 0:
            break
        w, v = _parse_text(lines, str(f), dim, remaining, keep, 1)
        words.extend(w)
        blocks.append(v)
    vectors = np.concatenate(blocks) if blocks else np.zeros((0, dim or 0), np.float32)
    return WordVectors(words, vectors)


def load_word2vec(
    path: str | os.PathLike,
    binary: bool | None = None,
    limit: int | None = None,
    vocab: Iterable[str] | None = None,
) -> WordVectors:
    """Read word2vec vectors in the text or the binary format (gzip or not).

    Args:
        path: the file.
        binary: the format; ``None`` detects it (binary if the data after the header is not
            text).
        limit: keep at most this many words.
        vocab: keep only these words.
    """
    name = str(path)
    data = read_bytes(Path(path))
    newline = data.find(b"\n")
    header = data[: newline if newline >= 0 else 0].split()
    if len(header) != 2 or not all(h.isdigit() for h in header):
        raise ValueError(
            f"{name}: expected a word2vec header 'count dim' on line 1, got {data[:40]!r}."
        )
    count, dim = int(header[0]), int(header[1])
    keep = set(vocab) if vocab is not None else None
    body = data[newline + 1 :]
    if binary is None:
        sample = body[: 4 * 1024]
        binary = b"\x00" in sample or not _is_text(sample)
    if not binary:
        lines = body.decode("utf-8", errors="replace").split("\n")
        words, vectors = _parse_text(lines, name, dim, limit, keep, 2)
        return WordVectors(words, vectors)
    words, rows = [], []
    pos, row_bytes = 0, 4 * dim
    for k in range(count):
        if limit is not None and len(words) >= limit:
            break
        while pos < len(body) and body[pos : pos + 1] in (b"\n", b" "):
            pos += 1
        space = body.find(b" ", pos)
        if space < 0 or space + 1 + row_bytes > len(body):
            raise ValueError(
                f"{name}: binary word2vec data ends at word {k} of {count}; the file is truncated."
            )
        word = body[pos:space].decode("utf-8", errors="replace")
        pos = space + 1
        if _keep(word, keep):
            words.append(word)
            rows.append(np.frombuffer(body, dtype="<f4", count=dim, offset=pos))
        pos += row_bytes
    vectors = np.stack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)
    return WordVectors(words, vectors)


def _is_text(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as err:
        # a multi-byte character cut at the end of the sample is still text
        return err.start >= len(sample) - 3
    return True


def load_word_vectors(
    path: str | os.PathLike, limit: int | None = None, vocab: Iterable[str] | None = None
) -> WordVectors:
    """Read a vector file whose format is detected: word2vec header or not, binary or text."""
    data = read_bytes(Path(path))
    first = data[: data.find(b"\n")].split()
    if len(first) == 2 and all(p.isdigit() for p in first):
        return load_word2vec(path, None, limit, vocab)
    return load_glove(path, limit, vocab)


def load_glove_6b(
    root: str | os.PathLike | None = None,
    dim: int = 50,
    limit: int | None = None,
    vocab: Iterable[str] | None = None,
) -> WordVectors:
    """GloVe 6B vectors: the official ``glove6b/glove.6B.{dim}d.txt``, or for ``dim=50`` the
    top-40k subset ``glove6b50d/glove.6B.50d.top40k.part{1,2}.txt.gz`` of the shared data folder.
    """
    if dim == 50:
        parts = ["glove.6B.50d.top40k.part1.txt", "glove.6B.50d.top40k.part2.txt"]
        try:
            folder = resolve_folder("glove6b50d", root, parts)
        except FileNotFoundError:
            folder = None
        if folder is not None:
            return load_glove([find_file(folder, p) for p in parts], limit, vocab)
    name = f"glove.6B.{dim}d.txt"
    folder = resolve_folder("glove6b", root, [name])
    return load_glove(find_file(folder, name), limit, vocab)


def save_word2vec(path: str | os.PathLike, vectors: WordVectors, binary: bool = False) -> None:
    """Write vectors in the word2vec text or binary format."""
    with open(path, "wb") as fh:
        fh.write(f"{len(vectors)} {vectors.dim}\n".encode())
        for word, vec in zip(vectors.words, vectors.vectors, strict=True):
            if binary:
                fh.write(word.encode("utf-8") + b" " + vec.astype("<f4").tobytes() + b"\n")
            else:
                numbers = " ".join(repr(float(v)) for v in vec)
                fh.write(f"{word} {numbers}\n".encode())
