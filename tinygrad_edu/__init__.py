"""tinygrad_edu: a small, readable reverse-mode autodiff framework on NumPy."""

from numpy import bool_ as bool  # noqa: A004 (dtype names as in PyTorch)
from numpy import float32, float64, int32, int64

from . import autograd
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
from .engine import (
    Function,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .rng import Generator, initial_seed, manual_seed
from .serialization import CheckpointError, load, save
from .tensor import Tensor, cat, from_numpy, maximum, minimum, stack, where
from .threads import get_num_threads, set_num_threads
from .version import __version__

_SUBPACKAGES = ("nn", "optim", "data", "utils", "vision", "viz")


def __getattr__(name: str):  # PEP 562: `tinygrad_edu.nn` without importing it up front
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Tensor", "tensor", "from_numpy", "zeros", "ones", "full", "arange", "eye", "rand", "randn",
    "zeros_like", "ones_like", "cat", "stack", "where", "maximum", "minimum",
    "Function", "autograd", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
    "is_grad_enabled", "grad", "gradcheck", "gradgradcheck", "set_num_threads", "get_num_threads",
    "GradcheckError", "Generator", "manual_seed", "initial_seed", "save", "load", "CheckpointError",
    "float32", "float64", "int32", "int64", "bool",
    "nn", "optim", "data", "utils", "vision", "viz", "__version__",
]
