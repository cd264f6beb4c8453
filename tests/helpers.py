"""Shared test helpers: compare a chainrule function with its PyTorch twin, forward and backward.

Import from any test module as ``from helpers import assert_matches_torch``; ``tests/conftest.py``
puts this folder on ``sys.path``. Tests that use it first call ``pytest.importorskip("torch")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import chainrule as cr

__all__ = ["assert_matches_torch", "random_inputs"]


def random_inputs(
    shapes: Sequence[tuple[int, ...]], dtype: Any = np.float64, seed: int = 0
) -> list[np.ndarray]:
    """Standard-normal arrays of the given shapes (seeded, independent of the package's RNG)."""
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.standard_normal(shape), dtype=dtype) for shape in shapes]


def _is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _to_torch(value: Any, requires_grad: bool = False) -> Any:
    import torch

    if isinstance(value, np.ndarray):
        t = torch.from_numpy(np.array(value, copy=True))
        if value.dtype.kind in "iu":
            t = t.long()
        return t.requires_grad_(requires_grad)
    return value


def _to_cr(value: Any, requires_grad: bool = False) -> Any:
    if isinstance(value, np.ndarray):
        return cr.tensor(np.array(value, copy=True), requires_grad=requires_grad)
    return value


def _as_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().numpy()
    return np.asarray(value.data if isinstance(value, cr.Tensor) else value)


def assert_matches_torch(
    cr_fn: Callable[..., Any],
    torch_fn: Callable[..., Any],
    inputs: Sequence[Any] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    *,
    shapes: Sequence[tuple[int, ...]] | None = None,
    requires_grad: Sequence[bool] | None = None,
    kwargs: dict[str, Any] | None = None,
    cr_kwargs: dict[str, Any] | None = None,
    torch_kwargs: dict[str, Any] | None = None,
    grad_seed: int = 0,
) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Run ``cr_fn`` and ``torch_fn`` on the same inputs; compare outputs and input gradients.

    Each NumPy array in ``inputs`` becomes a ``cr.Tensor`` for ``cr_fn`` and a ``torch.Tensor`` for
    ``torch_fn`` (integer arrays become int64/``long``); anything else (numbers, None, strings) is
    passed to both unchanged. Both functions are called positionally; their outputs (a tensor or a
    tuple of tensors) are compared; then each output is back-propagated with the same random
    upstream gradient (so every element of the Jacobian counts, not just a sum) and the gradients of
    the inputs that require grad are compared. A gradient that is None on one side and zero on the
    other counts as equal.

    Args:
        cr_fn: the chainrule function, e.g. ``cr.functional.cross_entropy``.
        torch_fn: its twin, e.g. ``torch.nn.functional.cross_entropy``.
        inputs: list of NumPy arrays (use float64 for tight tolerances) or other constants.
        rtol, atol: tolerances of ``np.testing.assert_allclose`` for outputs and gradients.
        shapes: instead of ``inputs``, draw standard-normal float64 arrays of these shapes.
        requires_grad: one bool per input; default: every floating-point array requires grad.
        kwargs: keyword arguments for both functions; array values are converted for each side
            (without grad).
        cr_kwargs, torch_kwargs: keyword arguments for one side only, e.g. ``cr_kwargs={"axis": 1}``
            with ``torch_kwargs={"dim": 1}`` where the names differ.
        grad_seed: seed of the random upstream gradient.

    Returns:
        ``(outputs, grads)`` from the chainrule side as NumPy arrays, for further checks.

    Example:
        >>> torch = pytest.importorskip("torch")
        >>> assert_matches_torch(cr.tanh, torch.tanh, shapes=[(5, 7)])
    """
    import torch

    if inputs is None:
        if shapes is None:
            raise ValueError("assert_matches_torch: pass inputs or shapes.")
        inputs = random_inputs(shapes)
    inputs = list(inputs)
    if requires_grad is None:
        requires_grad = [_is_float_array(v) for v in inputs]
    if len(requires_grad) != len(inputs):
        raise ValueError(
            f"assert_matches_torch: {len(requires_grad)} requires_grad flags, {len(inputs)} inputs."
        )
    kwargs = dict(kwargs or {})
    cr_in = [_to_cr(v, bool(g)) for v, g in zip(inputs, requires_grad, strict=True)]
    th_in = [_to_torch(v, bool(g)) for v, g in zip(inputs, requires_grad, strict=True)]
    cr_kw = {k: _to_cr(v) for k, v in {**kwargs, **(cr_kwargs or {})}.items()}
    th_kw = {k: _to_torch(v) for k, v in {**kwargs, **(torch_kwargs or {})}.items()}

    cr_out = _as_list(cr_fn(*cr_in, **cr_kw))
    th_out = _as_list(torch_fn(*th_in, **th_kw))
    if len(cr_out) != len(th_out):
        raise AssertionError(f"chainrule returned {len(cr_out)} outputs, torch {len(th_out)}.")
    outs = []
    for k, (a, b) in enumerate(zip(cr_out, th_out, strict=True)):
        a_np, b_np = _numpy(a), _numpy(b)
        if a_np.shape != b_np.shape:
            raise AssertionError(
                f"output {k}: shape {a_np.shape} (chainrule), {b_np.shape} (torch)"
            )
        np.testing.assert_allclose(a_np, b_np, rtol=rtol, atol=atol, err_msg=f"output {k} differs")
        outs.append(a_np)

    grads: list[np.ndarray | None] = [None] * len(inputs)
    if not any(requires_grad):
        return outs, grads
    rng = np.random.default_rng(grad_seed)
    cr_roots, cr_seeds, th_roots, th_seeds = [], [], [], []
    for a, b in zip(cr_out, th_out, strict=True):
        if not (isinstance(a, cr.Tensor) and a.requires_grad):
            continue
        g = rng.standard_normal(a.shape).astype(a.dtype)
        cr_roots.append(a)
        cr_seeds.append(g)
        th_roots.append(b)
        th_seeds.append(torch.from_numpy(g.copy()))
    if not cr_roots:
        raise AssertionError("no chainrule output requires grad although some inputs do.")
    wanted = [t for t, g in zip(cr_in, requires_grad, strict=True) if g]
    cr_grads = cr.grad(cr_roots, wanted, cr_seeds, allow_unused=True)
    th_wanted = [t for t, g in zip(th_in, requires_grad, strict=True) if g]
    th_grads = torch.autograd.grad(th_roots, th_wanted, th_seeds, allow_unused=True)
    positions = [i for i, g in enumerate(requires_grad) if g]
    for i, a, b in zip(positions, cr_grads, th_grads, strict=True):
        shape = inputs[i].shape
        a_np = np.zeros(shape) if a is None else _numpy(a)
        b_np = np.zeros(shape) if b is None else _numpy(b)
        if a_np.shape != shape:
            raise AssertionError(f"gradient of input {i}: shape {a_np.shape}, input shape {shape}.")
        np.testing.assert_allclose(
            a_np, b_np, rtol=rtol, atol=atol, err_msg=f"gradient of input {i} differs"
        )
        grads[i] = a_np
    return outs, grads
