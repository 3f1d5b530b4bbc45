"""More activation modules: ELU, SELU, CELU, Softplus, ReLU6, Hardtanh, PReLU, Mish,
Softsign, Hardsigmoid, Hardswish, LogSigmoid, Softmin, GLU, Hardshrink, Softshrink,
Tanhshrink, Threshold, and the two distances PairwiseDistance and CosineSimilarity; thin
Modules around nn.functional with PyTorch's arguments and reprs (ReLU, LeakyReLU, GELU,
SiLU, ... are in layers.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import functional as F  # noqa: N812 (the name every PyTorch user knows)
from .layers import InplaceOption
from .module import Module, Parameter


class ELU(InplaceOption):
    """x for x > 0, alpha (exp(x) - 1) otherwise (F.elu)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return self.with_inplace(f"alpha={self.alpha}")


class CELU(ELU):
    """x for x > 0, alpha (exp(x / alpha) - 1) otherwise (F.celu)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.celu(x, self.alpha, self.inplace)


class SELU(InplaceOption):
    """scale * elu(x, alpha) with the self-normalizing constants (F.selu)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.selu(x, self.inplace)


class ReLU6(InplaceOption):
    """min(max(x, 0), 6) (F.relu6)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu6(x, self.inplace)


class Mish(InplaceOption):
    """x * tanh(softplus(x)) (F.mish)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.mish(x, self.inplace)


class Hardsigmoid(Module):
    """relu6(x + 3) / 6 (F.hardsigmoid); PyTorch's repr does not show inplace."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.hardsigmoid(x, self.inplace)


class Hardswish(Hardsigmoid):
    """x * relu6(x + 3) / 6 (F.hardswish)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.hardswish(x, self.inplace)


class Softsign(Module):
    """x / (1 + |x|) (F.softsign)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return F.softsign(x)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear above threshold (F.softplus)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(InplaceOption):
    """x clamped to [min_val, max_val] (F.hardtanh); min_value and max_value are
    PyTorch's deprecated spellings and are refused with a message."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        if min_value is not None or max_value is not None:
            raise TypeError("Hardtanh: min_value and max_value are PyTorch's deprecated "
                            "spellings; use min_val and max_val")
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val={min_val} must not exceed max_val={max_val}")
        super().__init__(inplace)
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x: Tensor) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return self.with_inplace(f"min_val={self.min_val}, max_val={self.max_val}")


class PReLU(Module):
    """x for x > 0, a * x otherwise, with a learned slope a: one for all channels, or
    num_parameters of them (one per channel, axis 1), each starting at `init`."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters, self.init = int(num_parameters), init
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.weight = Parameter(np.full(self.num_parameters, init, dtype=dtype))
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        self.weight.data[...] = self.init

    def forward(self, x: Tensor) -> Tensor:
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class LogSigmoid(Module):
    """log(sigmoid(x)) (F.logsigmoid)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.logsigmoid(x)


class Softmin(Module):
    """softmax(-x) along `dim` (F.softmin)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmin(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GLU(Module):
    """a * sigmoid(b) for the two halves a, b of `dim` (F.glu)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Hardshrink(Module):
    """x where |x| > lambd, else 0 (F.hardshrink)."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, x: Tensor) -> Tensor:
        return F.hardshrink(x, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x moved lambd toward 0, and 0 within lambd of it (F.softshrink)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softshrink(x, self.lambd)


class Tanhshrink(Module):
    """x - tanh(x) (F.tanhshrink)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanhshrink(x)


class Threshold(InplaceOption):
    """x where x > threshold, else value (F.threshold)."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.threshold, self.value = threshold, value

    def forward(self, x: Tensor) -> Tensor:
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return self.with_inplace(f"threshold={self.threshold}, value={self.value}")


class PairwiseDistance(Module):
    """The p-norm of x1 - x2 + eps along the last dim (F.pairwise_distance)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """x1 . x2 / (|x1| |x2|) along `dim` (F.cosine_similarity)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
