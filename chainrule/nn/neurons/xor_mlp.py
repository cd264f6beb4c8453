"""XOR solved by a two-layer network trained with backpropagation (chainrule's autograd)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ... import backend
from ._common import XOR_INPUTS, XOR_TARGETS

__all__ = ["XorMLPResult", "train_xor_mlp"]


@dataclass
class XorMLPResult:
    """The outcome of ``train_xor_mlp``.

    Attributes:
        model: the trained ``nn.Sequential``.
        losses: training loss after each epoch's forward pass.
        outputs: the network's output on ``XOR_INPUTS`` after training, shape ``(4,)``.
        predictions: ``outputs`` thresholded at 0.5, as 0/1.
        solved: all four XOR cases right.
        message: a one-line, human-readable summary.
    """

    model: Any = field(repr=False)
    losses: list[float]
    outputs: np.ndarray
    predictions: np.ndarray
    solved: bool
    message: str


def train_xor_mlp(
    hidden: int = 4,
    epochs: int = 2000,
    lr: float = 0.5,
    seed: int | None = 0,
    activation: str = "tanh",
    loss: str = "bce",
) -> XorMLPResult:
    """Train ``Linear(2, hidden) -> activation -> Linear(hidden, 1) -> Sigmoid`` on XOR by backprop.

    Full-batch gradient descent (``optim.SGD``) on the four points of ``XOR_INPUTS``; the gradients
    come from chainrule's autograd, i.e. the chain rule evaluated backwards over the graph.

    Args:
        hidden: width of the hidden layer (2 is the minimum; 4 trains reliably).
        epochs: full-batch steps.
        lr: SGD learning rate.
        seed: seeds the weight initialization without disturbing the package generator; None
            draws from the package generator (``manual_seed``).
        activation: hidden nonlinearity, ``"tanh"`` or ``"sigmoid"``.
        loss: ``"bce"`` (binary cross-entropy) or ``"mse"`` (mean squared error).

    Returns:
        An ``XorMLPResult``; ``result.solved`` is True when all four cases are right.

    Example:
        >>> train_xor_mlp(epochs=1500).predictions.tolist()
        [0, 1, 1, 0]
    """
    # imported here: nn, optim and functional sit on this floor or below it, and this module must
    # import before (and without) them
    from ... import functional as F
    from ... import nn, optim
    from ...tensor import Tensor

    activations = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    losses_fn = {"bce": F.binary_cross_entropy, "mse": F.mse_loss}
    if activation not in activations:
        raise ValueError(
            f"train_xor_mlp: unknown activation {activation!r}; available: tanh, sigmoid."
        )
    if loss not in losses_fn:
        raise ValueError(f"train_xor_mlp: unknown loss {loss!r}; available: bce, mse.")
    if hidden < 1 or epochs < 1 or lr <= 0:
        raise ValueError(
            f"train_xor_mlp: need hidden >= 1, epochs >= 1 and lr > 0, got hidden={hidden}, "
            f"epochs={epochs}, lr={lr}."
        )

    saved_state = backend.get_rng_state()
    if seed is not None:
        backend.set_rng_state(np.random.default_rng(seed).bit_generator.state)
    try:
        model = nn.Sequential(
            nn.Linear(2, hidden), activations[activation](), nn.Linear(hidden, 1), nn.Sigmoid()
        )
    finally:
        if seed is not None:
            backend.set_rng_state(saved_state)

    x = Tensor(XOR_INPUTS, dtype=backend.default_dtype())
    target = Tensor(XOR_TARGETS.reshape(4, 1), dtype=backend.default_dtype())
    optimizer = optim.SGD(model.parameters(), lr=lr)
    criterion = losses_fn[loss]
    history: list[float] = []
    model.train()
    for _ in range(epochs):
        optimizer.zero_grad()
        objective = criterion(model(x), target)
        objective.backward()
        optimizer.step()
        history.append(float(objective.item()))

    model.eval()
    outputs = np.asarray(model(x).detach().numpy(), dtype=np.float64).reshape(-1)
    predictions = (outputs > 0.5).astype(np.int64)
    solved = bool(np.array_equal(predictions, XOR_TARGETS))
    verdict = "solves XOR" if solved else "does not solve XOR yet (try more epochs or another seed)"
    message = (
        f"MLP 2-{hidden}-1 ({activation}, {loss}) after {epochs} epochs: loss {history[-1]:.4g}, "
        f"outputs {np.round(outputs, 3).tolist()} -> {verdict}."
    )
    return XorMLPResult(
        model=model,
        losses=history,
        outputs=outputs,
        predictions=predictions,
        solved=solved,
        message=message,
    )
