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


def padded_tokens(seq_len: int, vocab: int):
    """Ids with right padding (id 0) of random lengths, and one row made only of padding."""

    def make(batch: int) -> np.ndarray:
        rng = np.random.default_rng(batch)
        ids = rng.integers(1, vocab, size=(batch, seq_len)).astype(np.int64)
        for row, length in enumerate(rng.integers(1, seq_len, size=batch)):
            ids[row, length:] = 0
        ids[-1] = 0
        return ids

    return make


def test_text_cnn_masks_padding_in_the_graph(roundtrip) -> None:
    model = cr.models.build("textcnn", vocab_size=50, embed_dim=8, num_filters=4)
    proto = roundtrip(model, padded_tokens(12, 50), batches=(2, 1, 3))
    ops = {n.op_type for n in proto.graph.node}
    assert {"Equal", "Not", "Conv", "ReduceMax"} <= ops  # the mask follows the input's padding


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_language_model_transposes_ids_in_the_graph(roundtrip, cell) -> None:
    model = cr.models.build(
        "lstm_lm", vocab_size=40, embedding_dim=8, hidden_size=8, cell=cell, tie_weights=True
    )
    proto = roundtrip(model, tokens(6, 40))
    assert "Transpose" in {n.op_type for n in proto.graph.node}
    assert len(proto.graph.output) == (3 if cell == "lstm" else 2)  # logits and the state


def test_unfused_text_cnn_mask_made_in_numpy_is_refused() -> None:
    from chainrule.io.onnx import export_onnx

    model = cr.models.build("textcnn", vocab_size=50, embed_dim=8, num_filters=4, fused=False)
    with pytest.raises(RuntimeError, match="made outside autograd"):
        export_onnx(model, padded_tokens(12, 50)(2), None)


def test_text_cnn_at_opset_18(roundtrip) -> None:
    model = cr.models.build("textcnn", vocab_size=30, embed_dim=4, num_filters=3)
    roundtrip(model, padded_tokens(8, 30), opset=18)
