"""ONNX export of embeddings and recurrent layers (RNN, LSTM, GRU) against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def tokens(seq_len: int, vocab: int):
    def make(batch: int) -> np.ndarray:
        rng = np.random.default_rng(batch)
        return rng.integers(0, vocab, size=(batch, seq_len)).astype(np.int64)

    return make


class Tagger(nn.Module):
    """Embedding, a 2-layer bidirectional LSTM, a GRU, a ReLU RNN and a head on every step."""

    def __init__(self, vocab: int = 20) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 6, padding_idx=0)
        self.lstm = nn.LSTM(6, 5, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(10, 5, batch_first=True)
        self.rnn = nn.RNN(5, 3, nonlinearity="relu", bias=False)
        self.head = nn.Linear(3, 2)

    def forward(self, ids: cr.Tensor) -> tuple[cr.Tensor, cr.Tensor, cr.Tensor]:
        e = self.embed(ids)
        y, (h, c) = self.lstm(e)
        y, _ = self.gru(y, h[:1] * 0.5)
        z, h_rnn = self.rnn(F.transpose(y, 0, 1))  # time-major
        return self.head(z), h_rnn, c


def test_embedding_and_recurrent_layers_match_onnxruntime(roundtrip) -> None:
    proto = roundtrip(Tagger(), tokens(7, 20), output_names=("logits", "h", "c"))
    ops = {n.op_type for n in proto.graph.node}
    assert {"Gather", "LSTM", "GRU", "RNN"} <= ops
    names = {i.name for i in proto.graph.initializer}
    assert {"embed.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l1_reverse"} <= names


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(30, 8)
        self.lstm = nn.LSTM(8, 6)
        self.fc = nn.Linear(6, 3)

    def forward(self, ids: cr.Tensor) -> cr.Tensor:
        _, (h, _) = self.lstm(F.transpose(self.embed(ids), 0, 1))
        return self.fc(h[-1])


def test_lstm_classifier_on_last_state(roundtrip) -> None:
    roundtrip(Classifier(), tokens(9, 30), batches=(2, 1, 3))


def test_variable_lengths_are_refused() -> None:
    from chainrule.io.onnx import export_onnx

    class Packed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.GRU(3, 2, batch_first=True)

        def forward(self, x: cr.Tensor) -> cr.Tensor:
            return self.rnn(x, lengths=[2] * x.shape[0])[0]

    with pytest.raises(NotImplementedError, match="variable-length"):
        export_onnx(Packed(), cr.randn(2, 4, 3), None, dynamic_batch=False)
