"""Recurrent language models: a character-level LSTM and the word-level LSTM of BENCHMARKS.md.

A language model reads token ids and predicts, at every position, a distribution over the next
token. Both models here are the same network (embedding, stacked recurrent layers, a linear
decoder to the vocabulary) with different defaults:

- ``CharLSTM`` (zoo name ``char_lstm``): characters of tiny-shakespeare; ``sample(prime, ...)``
  continues a string.
- ``WordLSTM`` (zoo name ``lstm_lm``): embedding 10000x200, 2-layer LSTM with hidden size 200,
  linear 200 -> 10000 (Zaremba et al. 2014, "small"); ``generate(prime, ...)`` continues a
  sentence of words.

Train them with truncated backpropagation through time: feed consecutive windows of a long text
and carry the final state into the next window detached from the graph (``detach_state``). The
``chainrule train --data tinyshakespeare`` and ``--data ptb`` recipes do exactly that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import functional as F
from .. import nn
from ..autograd import no_grad
from ..backend import get_rng
from ..nn import init
from ..tensor import Tensor

__all__ = ["RNNLanguageModel", "CharLSTM", "WordLSTM", "detach_state"]

_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def detach_state(state: Any) -> Any:
    """Cut a recurrent state (a Tensor, an ``(h, c)`` pair, or None) off the graph.

    Truncated BPTT carries the values of the state into the next window but not the history that
    produced them, so the backward pass of each window stops at its first step.
    """
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return tuple(s.detach() for s in state)
    return state.detach()


class RNNLanguageModel(nn.Module):
    """Embedding, stacked recurrent layers, linear decoder: next-token logits at every position.

    Args:
        vocab_size: number of tokens; ids lie in ``[0, vocab_size)``. Taken from ``vocab`` when
            that is given.
        embedding_dim: size of each token vector.
        hidden_size: features of the recurrent state.
        num_layers: stacked recurrent layers.
        dropout: dropout probability on the embeddings, between recurrent layers and on the last
            layer's outputs (Zaremba et al. 2014), training only. Default: 0.
        tie_weights: share one matrix between the embedding and the decoder (Press & Wolf 2017);
            needs ``embedding_dim == hidden_size``.
        cell: ``'lstm'`` (default), ``'gru'`` or ``'rnn'`` (tanh).
        vocab: the tokens in id order (a string of characters, or a list of tokens); lets
            ``encode``/``decode`` and the sampling methods take and return text.

    Shape:
        ids ``(B, T)`` int64 -> logits ``(B, T, vocab_size)``, and the final state (``(h_n, c_n)``
        for an LSTM, ``h_n`` otherwise, each ``(num_layers, B, hidden_size)``).

    Example:
        >>> lm = RNNLanguageModel(50, 16, 32, num_layers=2)
        >>> logits, (h, c) = lm(cr.randint(0, 50, (4, 7)))
        >>> logits.shape, h.shape
        ((4, 7, 50), (2, 4, 32))
    """

    _token_name = "token"

    def __init__(
        self,
        vocab_size: int | None = None,
        embedding_dim: int = 200,
        hidden_size: int = 200,
        num_layers: int = 2,
        dropout: float = 0.0,
        tie_weights: bool = False,
        cell: str = "lstm",
        vocab: str | Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if vocab is not None:
            vocab = list(vocab)
            if len(set(vocab)) != len(vocab):
                raise ValueError(f"{name}: vocab holds duplicate tokens.")
            if vocab_size is not None and vocab_size != len(vocab):
                raise ValueError(
                    f"{name}: vocab_size={vocab_size} differs from the {len(vocab)} tokens of "
                    "vocab."
                )
            vocab_size = len(vocab)
        if vocab_size is None:
            raise ValueError(f"{name}: pass vocab_size or vocab.")
        if cell not in _CELLS:
            raise ValueError(f"{name}: unknown cell {cell!r}; available: {', '.join(_CELLS)}.")
        if tie_weights and embedding_dim != hidden_size:
            raise ValueError(
                f"{name}: tie_weights needs embedding_dim == hidden_size, got {embedding_dim} and "
                f"{hidden_size}. Hint: set embedding_dim={hidden_size}."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must lie in [0, 1), got {dropout}.")
        self.vocab_size, self.embedding_dim = int(vocab_size), int(embedding_dim)
        self.hidden_size, self.num_layers = int(hidden_size), int(num_layers)
        self.dropout, self.tie_weights, self.cell = float(dropout), bool(tie_weights), cell
        self.vocab: list[str] | None = vocab
        self._stoi = None if vocab is None else {t: i for i, t in enumerate(vocab)}
        self.encoder = nn.Embedding(self.vocab_size, self.embedding_dim)
        self.drop = nn.Dropout(self.dropout)
        self.rnn = _CELLS[cell](
            self.embedding_dim, self.hidden_size, self.num_layers, dropout=self.dropout
        )
        self.decoder = nn.Linear(self.hidden_size, self.vocab_size)
        if self.tie_weights:
            self.decoder.weight = self.encoder.weight
        self._init_weights()

    def _init_weights(self) -> None:
        # Zaremba et al. and PyTorch's word-LM example: small uniform tables, zero decoder bias;
        # the recurrent layers keep their U(-1/sqrt(H), 1/sqrt(H)).
        init.uniform_(self.encoder.weight, -0.1, 0.1)
        if not self.tie_weights:
            init.uniform_(self.decoder.weight, -0.1, 0.1)
        init.zeros_(self.decoder.bias)

    def forward(self, ids: Any, state: Any = None) -> tuple[Tensor, Any]:
        """Logits for the next token at every position, and the final recurrent state.

        Args:
            ids: token ids ``(B, T)``.
            state: the state returned by the previous call (truncated BPTT), or None for zeros.
        """
        raw = ids.data if isinstance(ids, Tensor) else ids
        if not hasattr(raw, "T"):
            raw = np.asarray(raw)
        shape = tuple(raw.shape)
        if len(shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expected token ids of shape (B, T), got {shape}. "
                "Hint: a single sequence is ids[None, :]."
            )
        x = self.encoder(raw.T)  # time-major (T, B, E): the recurrent op needs no transpose
        out, state = self.rnn(self.drop(x), state)
        logits = self.decoder(self.drop(out))
        return F.transpose(logits, 0, 1), state

    # ----------------------------------------------------------------------------- text
    def encode(self, tokens: Sequence[str], where: str = "encode") -> np.ndarray:
        """Ids of ``tokens`` (characters of a string, or a list of words).

        Raises:
            ValueError: tokens outside the vocabulary (they are named), when the vocabulary has
                no ``<unk>`` entry; or the model was built without ``vocab``.
        """
        name = f"{type(self).__name__}.{where}"
        if self._stoi is None:
            raise ValueError(f"{name}: the model was built without vocab; pass token ids instead.")
        unk = self._stoi.get("<unk>")
        unknown = sorted({t for t in tokens if t not in self._stoi})
        if unknown and unk is None:
            shown = ", ".join(repr(t) for t in unknown[:20])
            more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
            raise ValueError(
                f"{name}: {len(unknown)} {self._token_name}(s) not in the vocabulary of "
                f"{self.vocab_size}: {shown}{more}. Remove or replace them."
            )
        ids = [self._stoi.get(t, unk) for t in tokens]
        return np.asarray(ids, dtype=np.int64)

    def decode(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        """Tokens of ``ids``."""
        if self.vocab is None:
            raise ValueError(f"{type(self).__name__}.decode: the model was built without vocab.")
        return [self.vocab[int(i)] for i in np.asarray(ids).reshape(-1)]

    def generate_ids(
        self,
        prime: Sequence[int] | np.ndarray,
        length: int,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> np.ndarray:
        """Continue the ids ``prime`` by ``length`` ids drawn one at a time from the model.

        Args:
            prime: at least one id to start from.
            length: how many ids to draw.
            temperature: divides the logits before the softmax; below 1 is more conservative,
                above 1 more varied; 0 takes the most likely id every time (greedy).
            seed: seed of a private generator, so equal seeds give equal text; None draws from
                the package generator (``cr.manual_seed``).

        Returns:
            The ``length`` new ids (int64).
        """
        name = f"{type(self).__name__}.generate"
        prime_ids = np.asarray(prime, dtype=np.int64).reshape(-1)
        if prime_ids.size == 0:
            raise ValueError(f"{name}: prime must hold at least one token.")
        bad = prime_ids[(prime_ids < 0) | (prime_ids >= self.vocab_size)]
        if bad.size:
            raise ValueError(
                f"{name}: prime ids {sorted(set(bad.tolist()))[:10]} lie outside the vocabulary "
                f"[0, {self.vocab_size})."
            )
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
            raise ValueError(f"{name}: length must be an int >= 0, got {length!r}.")
        if not (math.isfinite(temperature) and temperature >= 0):
            raise ValueError(
                f"{name}: temperature must be a finite number >= 0, got {temperature}."
            )
        rng = np.random.default_rng(seed) if seed is not None else get_rng()
        was_training = self.training
        self.eval()
        out = np.empty(int(length), dtype=np.int64)
        try:
            with no_grad():
                logits, state = self(prime_ids[None, :])
                for k in range(int(length)):
                    last = logits.data[0, -1]
                    last = np.asarray(last.get() if hasattr(last, "get") else last, np.float64)
                    out[k] = _pick(last, temperature, rng)
                    if k + 1 < length:
                        logits, state = self(out[None, k : k + 1], state)
        finally:
            self.train(was_training)
        return out

    def extra_repr(self) -> str:
        s = f"vocab_size={self.vocab_size}, cell={self.cell!r}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.tie_weights:
            s += ", tie_weights=True"
        return s


def _pick(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """One id from ``softmax(logits / temperature)``; the arg-max when the temperature is 0."""
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())  # shift by the max: exp never overflows
    cdf = np.cumsum(p)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(p) - 1))


class CharLSTM(RNNLanguageModel):
    """Character-level LSTM language model (Karpathy's char-rnn), zoo name ``char_lstm``.

    Args:
        vocab: the characters in id order (e.g. ``CharVocabulary(text).itos``); sets
            ``vocab_size`` and lets ``sample`` take and return strings.
        vocab_size: number of characters when ``vocab`` is not given. Default: 65
            (tiny-shakespeare).
        embedding_dim, hidden_size, num_layers, dropout, tie_weights, cell: as in
            ``RNNLanguageModel``; defaults 64, 256, 2, 0.0, False, ``'lstm'``.

    Example:
        >>> lm = CharLSTM(vocab="abc ", hidden_size=16)
        >>> text = lm.sample("ab", length=5, seed=0)
        >>> len(text), text[:2]
        (7, 'ab')
    """

    _token_name = "character"

    def __init__(
        self,
        vocab: str | Sequence[str] | None = None,
        vocab_size: int | None = None,
        embedding_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 2,
        dropout: float = 0.0,
        tie_weights: bool = False,
        cell: str = "lstm",
    ) -> None:
        if vocab is None and vocab_size is None:
            vocab_size = 65
        super().__init__(
            vocab_size, embedding_dim, hidden_size, num_layers, dropout, tie_weights, cell, vocab
        )

    def sample(
        self,
        prime: str | Sequence[int],
        length: int = 500,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> str | np.ndarray:
        """Continue ``prime`` by ``length`` characters drawn one at a time.

        Args:
            prime: the text to start from (or its ids); at least one character.
            length: number of characters to add.
            temperature: 0 is greedy (always the most likely character); 1 samples the model's
                distribution; lower is safer, higher is wilder.
            seed: seed for a private generator (equal seeds, equal text); None uses the package
                generator.

        Returns:
            ``prime`` followed by the new characters (a string); ids when ``prime`` is ids.

        Raises:
            ValueError: ``prime`` holds characters outside the vocabulary (named in the message).
        """
        if isinstance(prime, str):
            new = self.generate_ids(self.encode(prime, "sample"), length, temperature, seed)
            return prime + "".join(self.decode(new))
        ids = np.asarray(prime, dtype=np.int64).reshape(-1)
        return np.concatenate([ids, self.generate_ids(ids, length, temperature, seed)])


class WordLSTM(RNNLanguageModel):
    """Word-level LSTM language model of BENCHMARKS.md (``lstm``), zoo name ``lstm_lm``.

    Embedding 10000x200, 2-layer LSTM with hidden size 200, linear 200 -> 10000: the "small"
    model of Zaremba et al. (2014) on the Penn Treebank.

    Args:
        vocab_size: number of words. Default: 10000.
        embedding_dim, hidden_size, num_layers: defaults 200, 200, 2.
        dropout, tie_weights, cell: as in ``RNNLanguageModel``.
        vocab: the words in id order; lets ``generate`` take and return text. Words outside it
            map to ``<unk>`` when the vocabulary has one.

    Example:
        >>> lm = WordLSTM(vocab_size=100, embedding_dim=8, hidden_size=8)
        >>> lm(cr.randint(0, 100, (20, 35)))[0].shape
        (20, 35, 100)
    """

    _token_name = "word"

    def __init__(
        self,
        vocab_size: int | None = None,
        embedding_dim: int = 200,
        hidden_size: int = 200,
        num_layers: int = 2,
        dropout: float = 0.0,
        tie_weights: bool = False,
        cell: str = "lstm",
        vocab: Sequence[str] | None = None,
    ) -> None:
        if vocab is None and vocab_size is None:
            vocab_size = 10000
        super().__init__(
            vocab_size, embedding_dim, hidden_size, num_layers, dropout, tie_weights, cell, vocab
        )

    def generate(
        self,
        prime: str | Sequence[int],
        length: int = 50,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> str | np.ndarray:
        """Continue ``prime`` by ``length`` words drawn one at a time.

        Args:
            prime: words separated by spaces (or their ids); at least one.
            length: number of words to add.
            temperature: as in ``CharLSTM.sample``; 0 is greedy.
            seed: seed for a private generator; None uses the package generator.

        Returns:
            The prime and the new words joined by spaces; ids when ``prime`` is ids.
        """
        if isinstance(prime, str):
            words = prime.split()
            new = self.generate_ids(self.encode(words, "generate"), length, temperature, seed)
            return " ".join([*words, *self.decode(new)])
        ids = np.asarray(prime, dtype=np.int64).reshape(-1)
        return np.concatenate([ids, self.generate_ids(ids, length, temperature, seed)])
