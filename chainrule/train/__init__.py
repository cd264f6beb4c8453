"""Floor 6: the training loop. ``Trainer`` (``fit``/``evaluate``/``predict``), callbacks,
streaming metrics, ``History``, progress output.

Users who prefer a hand-written loop need nothing from here.

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule.train import Trainer, callbacks
    >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    >>> y = (x[:, 0] > 0).astype(np.int64)
    >>> model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
    >>> trainer = Trainer(model, cr.optim.Adam(model.parameters(), lr=0.01), "cross_entropy")
    >>> stop = callbacks.EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    >>> history = trainer.fit((x, y), validation=(x, y), epochs=5, callbacks=[stop], verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss', 'val_accuracy', 'val_loss']
"""

from . import callbacks, event_file, losses, metrics
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    TensorBoard,
    TerminateOnNaN,
)
from .history import History
from .npz_checkpoint import load_npz, save_npz
from .trainer import Trainer

__all__ = [
    "Trainer",
    "History",
    "callbacks",
    "metrics",
    "losses",
    "event_file",
    "Callback",
    "LambdaCallback",
    "ProgressBar",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "CSVLogger",
    "TerminateOnNaN",
    "TensorBoard",
    "save_npz",
    "load_npz",
]
