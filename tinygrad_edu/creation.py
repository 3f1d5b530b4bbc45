"""Functions that make new tensors: constants, ranges and random draws."""

from __future__ import annotations

from typing import Any

import numpy as np

from .rng import generator
from .tensor import Tensor, from_numpy, shape_args

DEFAULT_DTYPE = np.float32


def _dtype(dtype: Any) -> np.dtype:
    return np.dtype(DEFAULT_DTYPE if dtype is None else dtype)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new tensor holding a copy of `data` (as torch.tensor)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _made(array: np.ndarray, requires_grad: bool) -> Tensor:
    return from_numpy(array).requires_grad_(requires_grad)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _made(np.zeros(shape_args(shape), dtype=_dtype(dtype)), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _made(np.ones(shape_args(shape), dtype=_dtype(dtype)), requires_grad)


def full(shape: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape = shape_args((shape,) if isinstance(shape, int) else tuple(shape))
    return _made(np.full(shape, fill_value, dtype=_dtype(dtype)), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _made(np.zeros(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _made(np.ones(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Numbers from start (inclusive) to end (exclusive); int64 for int arguments, as PyTorch."""
    if end is None:
        start, end = 0, start
    if dtype is None and all(isinstance(v, int) for v in (start, end, step)):
        dtype = np.int64
    return _made(np.arange(start, end, step, dtype=_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _made(np.eye(n, m, dtype=_dtype(dtype)), requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from the framework's seeded generator."""
    array = generator().random(shape_args(shape), dtype=np.float64).astype(_dtype(dtype))
    return _made(array, requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal, from the framework's seeded generator."""
    array = generator().standard_normal(shape_args(shape)).astype(_dtype(dtype))
    return _made(array, requires_grad)
