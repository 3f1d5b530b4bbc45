"""tinygrad_edu: a small, readable reverse-mode autodiff framework on NumPy."""

from numpy import bool_ as bool  # noqa: A004 (dtype names as in PyTorch)
from numpy import float32, float64, int32, int64

from .creation import (
    arange,
    eye,
    full,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .engine import enable_grad, grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .rng import initial_seed, manual_seed
from .tensor import Tensor, cat, from_numpy, maximum, minimum, stack, where

__version__ = "0.1.0"

_SUBPACKAGES = ("nn", "optim", "data", "utils", "vision", "viz")


def __getattr__(name: str):  # PEP 562: `tinygrad_edu.nn` without importing it up front
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Tensor", "tensor", "from_numpy", "zeros", "ones", "full", "arange", "eye", "rand", "randn",
    "zeros_like", "ones_like", "cat", "stack", "where", "maximum", "minimum",
    "no_grad", "enable_grad", "is_grad_enabled", "grad", "gradcheck", "gradgradcheck",
    "GradcheckError", "manual_seed", "initial_seed",
    "float32", "float64", "int32", "int64", "bool",
    "nn", "optim", "data", "utils", "vision", "viz", "__version__",
]
