"""`chainrule export`: write a trained (or an untrained zoo) model as an ONNX file."""

from __future__ import annotations

import argparse
from typing import Any

from . import _run_dir

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register the ``export`` sub-command."""
    export = sub.add_parser(
        "export",
        help="export a trained model (or an untrained zoo model) to ONNX",
        description="Export the model of a run folder or checkpoint folder, or with --zoo NAME "
        "an untrained model of the zoo, to an ONNX file with a dynamic batch dimension (needs "
        "the onnx package: pip install 'chainrule[onnx]').",
    )
    export.add_argument(
        "path",
        nargs="?",
        default=None,
        metavar="RUN_DIR|CHECKPOINT",
        help="run folder or checkpoint folder; default none (then give --zoo)",
    )
    export.add_argument(
        "--onnx", required=True, metavar="OUT.onnx", help="the ONNX file to write (required)"
    )
    export.add_argument(
        "--zoo", default=None, metavar="NAME", help="export an untrained zoo model; default none"
    )
    export.add_argument("--opset", type=int, default=17, help="ONNX opset (>= 17); default 17")
    export.add_argument(
        "--static-batch",
        action="store_true",
        help="fix the batch size to 1 instead of a symbolic batch dimension; default off",
    )
    export.set_defaults(run=run)


def _model_and_input(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """The model, an example input (None: let the exporter find one) and its name."""
    import numpy as np

    from .. import io, models
    from ..tensor import Tensor

    if args.zoo is not None:
        if args.path is not None:
            raise SystemExit("chainrule export: give a checkpoint or --zoo NAME, not both.")
        try:
            return models.build(args.zoo), None, args.zoo
        except ValueError as err:
            raise SystemExit(f"chainrule export: {err}") from None
    if args.path is None:
        raise SystemExit("chainrule export: give a run folder or checkpoint, or --zoo NAME.")
    folder = _run_dir.find_checkpoint(args.path, "export")
    try:
        ckpt = io.load(folder, restore_rng=False)
        model = ckpt.build_model()
    except (io.CheckpointError, ValueError, TypeError) as err:
        raise SystemExit(f"chainrule export: {err}") from None
    image = ckpt.extra.get("image")
    example = None
    if isinstance(image, dict):
        shape = (1, int(image["channels"]), int(image["size"]), int(image["size"]))
        data = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        example = Tensor._make(data)
    return model, example, ckpt.model_name or "model"


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule export``; returns the exit status."""
    try:
        from ..io.onnx import export_onnx, export_zoo_model
    except ImportError as err:
        raise SystemExit(f"chainrule export: ONNX export is not available ({err}).") from None
    model, example, name = _model_and_input(args)
    model.eval()
    dynamic = not args.static_batch
    try:
        if example is None:
            export_zoo_model(name, args.onnx, model=model, opset=args.opset, dynamic_batch=dynamic)
        else:
            export_onnx(model, example, args.onnx, opset=args.opset, dynamic_batch=dynamic)
    except (ValueError, RuntimeError, NotImplementedError) as err:
        raise SystemExit(f"chainrule export: {err}") from None
    print(
        f"wrote {args.onnx} ({name}, opset {args.opset}, "
        f"{'batch 1' if args.static_batch else 'dynamic batch'})"
    )
    return 0
