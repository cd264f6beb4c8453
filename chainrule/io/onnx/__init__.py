"""ONNX export by tracing: ``export_onnx(model, example_input, path)``.

The model runs once (twice for a dynamic batch) while every op it applies is recorded; each op
becomes ONNX nodes, parameters and buffers become initializers named as in ``state_dict``. Needs
the optional ``onnx`` package (``pip install 'chainrule[onnx]'``); onnxruntime runs the result.
"""

from .exporter import MIN_OPSET, export_onnx
from .registry import supported_ops
from .tracer import Call, Trace, trace
from .zoo import example_input, example_shape, export_zoo_model

__all__ = [
    "MIN_OPSET",
    "Call",
    "Trace",
    "example_input",
    "example_shape",
    "export_onnx",
    "export_zoo_model",
    "supported_ops",
    "trace",
]
