"""Floor 5: persistence and interchange. Checkpoints (safetensors + JSON, crash-safe), a
safetensors reader/writer, weight import from PyTorch and Keras, and ONNX export.

Example:
    >>> import chainrule as cr, tempfile, os
    >>> model = cr.models.MLP(4, (8,), 2)
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt")
    >>> _ = cr.io.save(path, model, epoch=1)
    >>> cr.io.load(path, cr.models.MLP(4, (8,), 2)).epoch
    1
"""

from . import onnx, safetensors
from .checkpoint import FORMAT_VERSION, Checkpoint, load, save
from .errors import CheckpointError, CheckpointMismatchError, WeightImportError
from .keras_import import load_keras_weights, read_keras_weights
from .onnx import export_onnx, export_zoo_model
from .torch_import import ImportReport, load_torch_state_dict, register_torch_mapping

__all__ = [
    "safetensors",
    "save",
    "load",
    "Checkpoint",
    "FORMAT_VERSION",
    "CheckpointError",
    "CheckpointMismatchError",
    "WeightImportError",
    "ImportReport",
    "load_torch_state_dict",
    "register_torch_mapping",
    "load_keras_weights",
    "read_keras_weights",
    "onnx",
    "export_onnx",
    "export_zoo_model",
]
