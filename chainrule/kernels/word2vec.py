"""word2vec training by hand-written SGD: skip-gram and CBOW with negative sampling.

One update trains an input vector ``h`` against a positive output word ``o`` and negatives
``n_1..n_k`` drawn from the noise table. With ``u_j`` the rows of ``syn1neg`` for the targets
``t_0 = o, t_1..t_k = n_1..n_k``, labels ``y_0 = 1, y_j = 0``, the loss is::

    L = -log s(h . u_o) - sum_j log s(-h . u_{n_j})        (s: the logistic sigmoid)

and its gradients are ``dL/du_j = -(y_j - s(h . u_j)) h`` and ``dL/dh = -sum_j (y_j - s(h . u_j))
u_j``. With ``g_j = lr (y_j - s(h . u_j))`` one SGD step is ``u_j += g_j h`` and ``h += sum_j g_j
u_j``; every ``g_j`` and ``sum_j g_j u_j`` is computed from the old rows before any row moves, so a
target drawn twice gets both increments, exactly as one step of the summed loss would give.

- skip-gram: ``h = syn0[center]``, one update per (center, context) pair of the window, the
  context being the positive target; ``syn0[center]`` receives ``sum_j g_j u_j`` after each pair.
- CBOW: ``h`` is the mean of the context rows of ``syn0``, the center is the positive target, and
  every context row receives the whole ``sum_j g_j u_j`` (not divided by the window size, as in
  Mikolov's C code).

The corpus loop follows the C code: a linear congruential generator
``r <- r * 25214903917 + 11 (mod 2**64)`` drives subsampling (keep word ``w`` when
``keep[w] >= (r & 0xFFFF) / 65536``), the reduced window (``b = r % window``, contexts within
``window - b`` positions) and the negatives (``table[(r >> 16) % len(table)]``, a negative equal
to the positive target is skipped). The learning rate falls linearly with the position in the
whole run, ``lr = max(min_lr, lr0 * (1 - position / total))``, set per sentence.

The numba loop and the NumPy twin draw the same random numbers in the same order, so they train on
the same pairs, with the same arithmetic: dot products in float64 (the products of float32 values
are exact), everything else in the tables' dtype, in the same order. They agree to the last bit
unless a float64 dot or ``exp`` rounds differently and flips the rounding of a step.
With one worker the result is a function of the seed. More workers split the sentences and update
the shared tables without locks (Hogwild, as the C code does), which is faster and not
reproducible.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.kernels._dispatch import jit, jit_helper, jit_serial, prange, use_numba

__all__ = [
    "noise_table",
    "keep_probabilities",
    "lcg_seed",
    "skipgram_step",
    "cbow_step",
    "word2vec_train",
]

_MUL = np.uint64(25214903917)
_ADD = np.uint64(11)
_MASK16 = np.uint64(0xFFFF)
_SHIFT16 = np.uint64(16)
_MASK64 = (1 << 64) - 1
# the training loop scores one update in this many for the reported loss (a log per target)
_LOSS_EVERY = 8


def noise_table(counts: Any, power: float = 0.75, size: int = 10_000_000) -> np.ndarray:
    """The negative-sampling table: word ``w`` fills a share ``counts[w]**power / sum`` of slots.

    Slot ``a`` holds the word whose cumulative share first exceeds ``(a + 0.5) / size``, so a
    uniform slot is a draw from the smoothed unigram distribution.

    Args:
        counts: word frequencies, index -> count (every count > 0).
        power: the smoothing exponent (0.75 in Mikolov et al.).
        size: number of slots.

    Returns:
        int32 array of ``size`` word indices.

    Example:
        >>> np.bincount(noise_table([16, 1], size=9)).tolist()
        [8, 1]
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0 or np.any(counts <= 0):
        raise ValueError(
            f"noise_table: expected a non-empty 1-D array of positive counts, got shape "
            f"{counts.shape} with minimum {counts.min() if counts.size else None}."
        )
    if size < 1:
        raise ValueError(f"noise_table: size must be >= 1, got {size}.")
    cumulative = np.cumsum(counts**power)
    cumulative /= cumulative[-1]
    slots = (np.arange(size, dtype=np.float64) + 0.5) / size
    table = np.searchsorted(cumulative, slots, side="right")
    return np.minimum(table, counts.size - 1).astype(np.int32)


def keep_probabilities(counts: Any, sample: float) -> np.ndarray:
    """Probability of keeping each word when frequent words are subsampled (Mikolov's C code).

    With ``f = count / total`` a word is kept with probability ``(sqrt(f / sample) + 1) *
    sample / f``, which is about ``sqrt(sample / f)`` for frequent words and above 1 (always
    kept) for words rarer than about ``2.6 * sample``. ``sample = 0`` keeps every word.

    Example:
        >>> keep_probabilities([1000, 10], 1e-2).round(3).tolist()
        [0.111, 2.015]
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample < 0:
        raise ValueError(f"keep_probabilities: sample must be >= 0, got {sample}.")
    if sample == 0:
        return np.full(counts.shape, 2.0)
    threshold = sample * counts.sum()
    return (np.sqrt(counts / threshold) + 1.0) * threshold / counts


def lcg_seed(seed: int, workers: int = 1) -> np.ndarray:
    """Initial generator states (uint64, one per worker) derived from ``seed``."""
    if workers < 1:
        raise ValueError(f"word2vec: workers must be >= 1, got {workers}.")
    draws = np.random.default_rng(seed).integers(1, 2**63 - 1, size=workers, dtype=np.int64)
    return draws.astype(np.uint64)


# ---------------------------------------------------------------------------------------------
# numba: one update, and the corpus loop


@jit_helper
def _ns_update(h, syn1, targets, n, g, neu1e, lr, want_loss):  # pragma: no cover - numba
    dim = h.shape[0]
    loss = 0.0
    for j in range(n):
        t = targets[j]
        # four running sums break the add-latency chain; float64 products of float32 are exact
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        k = 0
        while k + 4 <= dim:
            s0 += np.float64(h[k]) * np.float64(syn1[t, k])
            s1 += np.float64(h[k + 1]) * np.float64(syn1[t, k + 1])
            s2 += np.float64(h[k + 2]) * np.float64(syn1[t, k + 2])
            s3 += np.float64(h[k + 3]) * np.float64(syn1[t, k + 3])
            k += 4
        while k < dim:
            s0 += np.float64(h[k]) * np.float64(syn1[t, k])
            k += 1
        f = (s0 + s1) + (s2 + s3)
        # s(f) from e = exp(-|f|), which never overflows; -log s(+-f) = log1p(e) + max(-+f, 0)
        e = math.exp(-abs(f))
        sig = 1.0 / (1.0 + e) if f >= 0.0 else e / (1.0 + e)
        label = 1.0 if j == 0 else 0.0
        g[j] = (label - sig) * lr
        if want_loss:
            loss += math.log1p(e) + (max(-f, 0.0) if j == 0 else max(f, 0.0))
    for k in range(dim):
        neu1e[k] = 0.0
    for j in range(n):
        t = targets[j]
        for k in range(dim):
            neu1e[k] += g[j] * syn1[t, k]
    for j in range(n):
        t = targets[j]
        for k in range(dim):
            syn1[t, k] += g[j] * h[k]
    return loss


def _train_loops(
    syn0, syn1, ids, starts, first, last, keep, subsample, table, sg, window, negative,
    lr0, min_lr, offset, total, max_len, states, stats, want_loss,
):  # pragma: no cover - numba  # fmt: skip
    dim = syn0.shape[1]
    workers = states.shape[0]
    tsize = np.uint64(table.shape[0])
    uwindow = np.uint64(window)
    count = last - first
    for w in prange(workers):
        r = states[w]
        sen = np.empty(max_len, np.int64)
        h = np.empty(dim, syn0.dtype)
        neu1e = np.empty(dim, syn0.dtype)
        targets = np.empty(negative + 1, np.int64)
        g = np.empty(negative + 1, syn0.dtype)
        loss = 0.0
        pairs = 0
        kept = 0
        scored = 0
        for s in range(first + count * w // workers, first + count * (w + 1) // workers):
            lr = lr0 * (1.0 - (offset + starts[s]) / total)
            if lr < min_lr:
                lr = min_lr
            n = 0
            for i in range(starts[s], starts[s + 1]):
                word = ids[i]
                if subsample:
                    r = r * _MUL + _ADD
                    if keep[word] < np.float64(r & _MASK16) / 65536.0:
                        continue
                sen[n] = word
                n += 1
            kept += n
            for p in range(n):
                r = r * _MUL + _ADD
                reach = window - np.int64(r % uwindow)
                c0 = max(p - reach, 0)
                c1 = min(p + reach + 1, n)
                center = sen[p]
                if sg:
                    for c in range(c0, c1):
                        if c == p:
                            continue
                        context = sen[c]
                        targets[0] = context
                        nt = 1
                        for _ in range(negative):
                            r = r * _MUL + _ADD
                            t = table[np.int64((r >> _SHIFT16) % tsize)]
                            if t != context:
                                targets[nt] = t
                                nt += 1
                        for k in range(dim):
                            h[k] = syn0[center, k]
                        score = want_loss and pairs % _LOSS_EVERY == 0
                        loss += _ns_update(h, syn1, targets, nt, g, neu1e, lr, score)
                        scored += score
                        for k in range(dim):
                            syn0[center, k] += neu1e[k]
                        pairs += 1
                else:
                    for k in range(dim):
                        h[k] = 0.0
                    cw = 0
                    for c in range(c0, c1):
                        if c != p:
                            for k in range(dim):
                                h[k] += syn0[sen[c], k]
                            cw += 1
                    if cw == 0:
                        continue
                    for k in range(dim):
                        h[k] = h[k] / cw
                    targets[0] = center
                    nt = 1
                    for _ in range(negative):
                        r = r * _MUL + _ADD
                        t = table[np.int64((r >> _SHIFT16) % tsize)]
                        if t != center:
                            targets[nt] = t
                            nt += 1
                    score = want_loss and pairs % _LOSS_EVERY == 0
                    loss += _ns_update(h, syn1, targets, nt, g, neu1e, lr, score)
                    scored += score
                    for c in range(c0, c1):
                        if c != p:
                            for k in range(dim):
                                syn0[sen[c], k] += neu1e[k]
                    pairs += 1
        states[w] = r
        stats[w, 0] += loss
        stats[w, 1] += pairs
        stats[w, 2] += kept
        stats[w, 3] += scored


def _sg_step_loops(syn0, syn1, center, targets, lr):  # pragma: no cover - numba
    dim = syn0.shape[1]
    h = np.empty(dim, syn0.dtype)
    for k in range(dim):
        h[k] = syn0[center, k]
    neu1e = np.empty(dim, syn0.dtype)
    g = np.empty(targets.shape[0], syn0.dtype)
    loss = _ns_update(h, syn1, targets, targets.shape[0], g, neu1e, lr, True)
    for k in range(dim):
        syn0[center, k] += neu1e[k]
    return loss


def _cbow_step_loops(syn0, syn1, contexts, targets, lr):  # pragma: no cover - numba
    dim = syn0.shape[1]
    h = np.zeros(dim, syn0.dtype)
    for c in range(contexts.shape[0]):
        for k in range(dim):
            h[k] += syn0[contexts[c], k]
    for k in range(dim):
        h[k] = h[k] / contexts.shape[0]
    neu1e = np.empty(dim, syn0.dtype)
    g = np.empty(targets.shape[0], syn0.dtype)
    loss = _ns_update(h, syn1, targets, targets.shape[0], g, neu1e, lr, True)
    for c in range(contexts.shape[0]):
        for k in range(dim):
            syn0[contexts[c], k] += neu1e[k]
    return loss


_train_serial = jit_serial(_train_loops)
_train_parallel = jit(_train_loops)
_sg_step_numba = jit_serial(_sg_step_loops)
_cbow_step_numba = jit_serial(_cbow_step_loops)


# ---------------------------------------------------------------------------------------------
# NumPy: the same updates, one (input, targets) group at a time


def _ns_update_numpy(
    h: np.ndarray, syn1: np.ndarray, targets: np.ndarray, lr: float, want_loss: bool
) -> tuple[np.ndarray, float]:
    """The update of `_ns_update` with the same arithmetic: float64 dots, the rest in the tables'
    dtype, row after row in target order."""
    rows = syn1[targets]
    f = rows.astype(np.float64) @ h.astype(np.float64)
    e = np.exp(-np.abs(f))
    sig = np.where(f >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    labels = np.zeros(len(targets))
    labels[0] = 1.0
    g = ((labels - sig) * lr).astype(syn1.dtype)
    loss = 0.0
    if want_loss:
        hinge = np.where(labels > 0, np.maximum(-f, 0.0), np.maximum(f, 0.0))
        loss = float(np.sum(np.log1p(e) + hinge))
    neu1e = np.zeros(h.shape, syn1.dtype)
    for j in range(len(targets)):
        neu1e += g[j] * rows[j]
    for j, t in enumerate(targets.tolist()):
        syn1[t] += g[j] * h
    return neu1e, loss


def _lcg(r: int) -> int:
    return (r * 25214903917 + 11) & _MASK64


def _mean_rows(syn0: np.ndarray, rows: list[int]) -> np.ndarray:
    h = np.zeros(syn0.shape[1], syn0.dtype)
    for row in rows:
        h += syn0[row]
    return (h / len(rows)).astype(syn0.dtype)


def _train_numpy(
    syn0, syn1, ids, starts, first, last, keep, subsample, table, sg, window, negative,
    lr0, min_lr, offset, total, max_len, states, stats, want_loss,
) -> None:  # fmt: skip
    workers = states.shape[0]
    tsize = table.shape[0]
    count = last - first
    for w in range(workers):
        r = int(states[w])
        loss, pairs, kept, scored = 0.0, 0, 0, 0
        for s in range(first + count * w // workers, first + count * (w + 1) // workers):
            lr = max(lr0 * (1.0 - (offset + int(starts[s])) / total), min_lr)
            sen = []
            for word in ids[starts[s] : starts[s + 1]].tolist():
                if subsample:
                    r = _lcg(r)
                    if keep[word] < (r & 0xFFFF) / 65536.0:
                        continue
                sen.append(word)
            n = len(sen)
            kept += n
            for p in range(n):
                r = _lcg(r)
                reach = window - r % window
                around = [sen[c] for c in range(max(p - reach, 0), min(p + reach + 1, n)) if c != p]
                center = sen[p]
                positives = around if sg else ([center] if around else [])
                for positive in positives:
                    targets = [positive]
                    for _ in range(negative):
                        r = _lcg(r)
                        t = int(table[(r >> 16) % tsize])
                        if t != positive:
                            targets.append(t)
                    h = syn0[center].copy() if sg else _mean_rows(syn0, around)
                    score = want_loss and pairs % _LOSS_EVERY == 0
                    neu1e, part = _ns_update_numpy(h, syn1, np.array(targets), lr, score)
                    loss += part
                    scored += score
                    pairs += 1
                    for row in [center] if sg else around:
                        syn0[row] += neu1e
        states[w] = np.uint64(r)
        stats[w] += (loss, pairs, kept, scored)


# ---------------------------------------------------------------------------------------------
# public entry points


def _check_tables(name: str, syn0: Any, syn1: Any) -> None:
    for label, a in (("syn0", syn0), ("syn1neg", syn1)):
        if not isinstance(a, np.ndarray) or a.ndim != 2 or a.dtype.kind != "f":
            raise TypeError(
                f"{name}: {label} must be a 2-D float NumPy array, got "
                f"{type(a).__name__} {getattr(a, 'shape', '')} {getattr(a, 'dtype', '')}."
            )
        if not a.flags.c_contiguous or not a.flags.writeable:
            raise ValueError(f"{name}: {label} must be C-contiguous and writeable.")
    if syn0.shape != syn1.shape or syn0.dtype != syn1.dtype:
        raise ValueError(
            f"{name}: syn0 and syn1neg must have one shape and dtype, got {syn0.shape} "
            f"{syn0.dtype} and {syn1.shape} {syn1.dtype}."
        )


def _check_ids(name: str, label: str, ids: np.ndarray, vocab: int) -> None:
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        bad = int(ids.min()) if ids.min() < 0 else int(ids.max())
        raise ValueError(
            f"{name}: {label} holds word id {bad}, out of range for a vocabulary of {vocab} "
            f"(valid ids: 0..{vocab - 1})."
        )


def skipgram_step(
    syn0: np.ndarray,
    syn1neg: np.ndarray,
    center: int,
    context: int,
    negatives: Any,
    lr: float,
) -> float:
    """One skip-gram SGD step on ``(center, context, negatives)``, in place; returns the loss.

    Args:
        syn0: input vectors ``(vocab, dim)``; row ``center`` moves.
        syn1neg: output vectors ``(vocab, dim)``; rows ``context`` and ``negatives`` move.
        center: the input word.
        context: the positive output word.
        negatives: the noise words (used as given, repeats included).
        lr: the learning rate.

    Returns:
        ``-log s(v . u_context) - sum_n log s(-v . u_n)`` before the step.
    """
    _check_tables("skipgram_step", syn0, syn1neg)
    targets = np.concatenate([[context], np.asarray(negatives).reshape(-1)]).astype(np.int64)
    _check_ids("skipgram_step", "the targets", targets, syn0.shape[0])
    _check_ids("skipgram_step", "center", np.array([center]), syn0.shape[0])
    if use_numba(syn0, syn1neg):
        return float(_sg_step_numba(syn0, syn1neg, int(center), targets, float(lr)))
    neu1e, loss = _ns_update_numpy(syn0[center].copy(), syn1neg, targets, float(lr), True)
    syn0[center] += neu1e
    return loss


def cbow_step(
    syn0: np.ndarray,
    syn1neg: np.ndarray,
    contexts: Any,
    center: int,
    negatives: Any,
    lr: float,
) -> float:
    """One CBOW SGD step: the mean of the ``contexts`` rows predicts ``center``; returns the loss.

    Every context row receives the full input gradient step ``sum_j g_j u_j`` (Mikolov's rule).
    """
    _check_tables("cbow_step", syn0, syn1neg)
    contexts = np.asarray(contexts, dtype=np.int64).reshape(-1)
    if contexts.size == 0:
        raise ValueError("cbow_step: expected at least one context word, got none.")
    targets = np.concatenate([[center], np.asarray(negatives).reshape(-1)]).astype(np.int64)
    _check_ids("cbow_step", "the targets", targets, syn0.shape[0])
    _check_ids("cbow_step", "contexts", contexts, syn0.shape[0])
    if use_numba(syn0, syn1neg):
        return float(_cbow_step_numba(syn0, syn1neg, contexts, targets, float(lr)))
    h = _mean_rows(syn0, contexts.tolist())
    neu1e, loss = _ns_update_numpy(h, syn1neg, targets, float(lr), True)
    for row in contexts.tolist():
        syn0[row] += neu1e
    return loss


def word2vec_train(
    syn0: np.ndarray,
    syn1neg: np.ndarray,
    ids: np.ndarray,
    starts: np.ndarray,
    first: int,
    last: int,
    keep: np.ndarray,
    table: np.ndarray,
    states: np.ndarray,
    *,
    sg: bool,
    window: int,
    negative: int,
    lr: float,
    min_lr: float,
    offset: int,
    total: int,
    sample: bool = True,
    compute_loss: bool = True,
) -> np.ndarray:
    """Train on sentences ``first..last-1`` of an encoded corpus, updating the tables in place.

    Args:
        syn0: input vectors ``(vocab, dim)``, float32 or float64.
        syn1neg: output vectors, same shape and dtype.
        ids: the corpus as word ids (int32/int64), sentences one after another.
        starts: int64 sentence boundaries: sentence ``s`` is ``ids[starts[s]:starts[s + 1]]``.
        first: first sentence to train on.
        last: one past the last sentence.
        keep: float64 keep probability per word (`keep_probabilities`).
        table: the noise table (`noise_table`).
        states: uint64 generator states, one per worker (`lcg_seed`); advanced in place.
        sg: skip-gram (True) or CBOW (False).
        window: the largest window radius.
        negative: noise words per update.
        lr: the starting learning rate ``lr0``.
        min_lr: the floor of the learning rate.
        offset: position of ``ids[0]`` in the run (e.g. ``epoch * len(ids)``).
        total: words in the whole run (e.g. ``epochs * len(ids)``).
        sample: subsample frequent words with ``keep``.
        compute_loss: add up the loss (costs a log per target).

    Returns:
        float64 ``[loss, updates, words kept, scored updates]`` summed over the workers; the
        loss is summed over the scored updates only (one in eight when ``compute_loss``).
    """
    _check_tables("word2vec_train", syn0, syn1neg)
    if window < 1 or negative < 0:
        raise ValueError(
            f"word2vec_train: expected window >= 1 and negative >= 0, got window={window}, "
            f"negative={negative}."
        )
    if not 0 <= first <= last < starts.shape[0]:
        raise ValueError(
            f"word2vec_train: sentence range {first}..{last} is outside the "
            f"{starts.shape[0] - 1} sentences."
        )
    if states.dtype != np.uint64 or states.ndim != 1 or states.size < 1:
        raise TypeError(
            f"word2vec_train: states must be a 1-D uint64 array (lcg_seed), got {states.dtype} "
            f"{states.shape}."
        )
    max_len = int(np.max(np.diff(starts[first : last + 1]), initial=0))
    stats = np.zeros((states.size, 4), np.float64)
    args = (
        syn0, syn1neg, ids, starts, int(first), int(last), keep, bool(sample), table, bool(sg),
        int(window), int(negative), float(lr), float(min_lr), int(offset), float(max(total, 1)),
        max_len, states, stats, bool(compute_loss),
    )  # fmt: skip
    if use_numba(syn0, syn1neg):
        kernel = _train_parallel if states.size > 1 else _train_serial
        kernel(*args)
    else:
        _train_numpy(*args)
    return stats.sum(axis=0)
