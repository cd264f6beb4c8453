"""The word2vec losses written with chainrule's differentiable ops, for checking the kernel.

The training kernel (`chainrule.kernels.word2vec`) applies hand-derived gradients; these losses
let the autograd engine derive them instead. One ``optim.SGD`` step on `skipgram_loss` moves the
tables exactly as `chainrule.kernels.word2vec.skipgram_step` does. For CBOW the output table
matches too, while the kernel moves each context row by the whole input gradient step, which is
``len(contexts)`` times the autograd step of the mean (Mikolov's rule).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import functional as F
from ...tensor import Tensor

__all__ = ["skipgram_loss", "cbow_loss"]


def _ids(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _negative_sampling(h: Tensor, out_vectors: Tensor, positive: Any, negatives: Any) -> Tensor:
    u_pos = F.embedding(_ids(positive), out_vectors)
    u_neg = F.embedding(_ids(negatives), out_vectors)
    pos = (h * u_pos).sum(axis=-1)
    neg = (u_neg * h.unsqueeze(-2)).sum(axis=-1)
    # -log s(x) = softplus(-x)
    return (F.softplus(-pos) + F.softplus(neg).sum(axis=-1)).sum()


def skipgram_loss(
    in_vectors: Tensor, out_vectors: Tensor, center: Any, context: Any, negatives: Any
) -> Tensor:
    """Skip-gram negative-sampling loss, summed over a batch of triples.

    ``L = sum_b [-log s(v_b . u_{o_b}) - sum_k log s(-v_b . u_{n_bk})]`` with ``v = in_vectors
    [center]`` and ``u = out_vectors[...]``.

    Args:
        in_vectors: the input table ``(V, dim)``.
        out_vectors: the output table ``(V, dim)``.
        center: input word ids, shape ``(B,)`` (or a scalar).
        context: positive output word ids, shape ``(B,)``.
        negatives: noise word ids, shape ``(B, K)``.

    Returns:
        A scalar Tensor.
    """
    h = F.embedding(_ids(center), in_vectors)
    return _negative_sampling(h, out_vectors, context, negatives)


def cbow_loss(
    in_vectors: Tensor, out_vectors: Tensor, contexts: Any, center: Any, negatives: Any
) -> Tensor:
    """CBOW negative-sampling loss: the mean of the context rows predicts the center word.

    Args:
        in_vectors: the input table ``(V, dim)``.
        out_vectors: the output table ``(V, dim)``.
        contexts: context word ids ``(B, C)``.
        center: the positive word ids ``(B,)``.
        negatives: noise word ids ``(B, K)``.
    """
    h = F.embedding(_ids(contexts), in_vectors).mean(axis=-2)
    return _negative_sampling(h, out_vectors, center, negatives)
