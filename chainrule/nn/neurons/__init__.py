"""The course's first neurons, each with its historical learning rule, on plain NumPy arrays.

- ``McCullochPitts`` (1943): binary inputs, fixed integer weights, a threshold and absolute
  inhibition. Hand-wired units compute AND, OR and NOT; ``xor_impossible`` tries every unit on a
  weight grid and finds all Boolean functions of two inputs except XOR and XNOR; ``xor_network``
  computes XOR with two layers of such units.
- ``Perceptron`` (Rosenblatt 1958): error correction ``w <- w + lr (t - y) x``. On linearly
  separable data it stops after at most ``(R / gamma)**2`` mistakes (Novikoff 1962, see
  ``novikoff_bound``); on XOR it reports that it did not converge.
- ``Adaline`` (Widrow and Hoff 1960): the LMS (delta) rule on the linear output, which descends the
  mean squared error towards the least-squares weights.
- ``train_xor_mlp``: the multilayer network trained by backpropagation, which solves XOR.

One concept per module: ``mcculloch_pitts``, ``perceptron``, ``adaline``, ``xor_mlp``; the XOR data
and the shared input checks live in ``_common``.
Only ``train_xor_mlp`` records a graph; it imports the autograd layers when called.
See ``docs/neurons.md`` for the update rules and the convergence theorem.
"""

from ._common import XOR_INPUTS, XOR_TARGETS
from .adaline import Adaline, AdalineResult
from .mcculloch_pitts import (
    McCullochPitts,
    McCullochPittsNetwork,
    XorSearchResult,
    xor_impossible,
    xor_network,
)
from .perceptron import NovikoffBound, Perceptron, PerceptronResult, novikoff_bound
from .xor_mlp import XorMLPResult, train_xor_mlp

__all__ = [
    "McCullochPitts",
    "McCullochPittsNetwork",
    "XorSearchResult",
    "xor_impossible",
    "xor_network",
    "Perceptron",
    "PerceptronResult",
    "NovikoffBound",
    "novikoff_bound",
    "Adaline",
    "AdalineResult",
    "XorMLPResult",
    "train_xor_mlp",
    "XOR_INPUTS",
    "XOR_TARGETS",
]
