"""Tensor methods about dtype and device: to, type, cpu/cuda, new_* and Python numbers.

Device questions are answered by devices.py (the one place that knows which
devices exist); dtype names by dtypes.py.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from . import backend, devices
from .dtypes import to_dtype, type_name
from .ops.movement import ToDevice
from .tensor_shape import shape_args

if TYPE_CHECKING:
    from .tensor import Tensor


def to(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """x on another device and/or in another dtype: to(device), to(dtype),
    to(device, dtype), to(other_tensor), with keywords device=, dtype=, copy=.
    Returns x itself when nothing changes (and copy is False), as PyTorch."""
    dev, dtype, copy = devices.parse_to_args("Tensor.to", args, kwargs)
    out = x
    if dev is not None and dev != x.device:
        out = ToDevice.apply(x, device=dev.type)  # recorded: gradients flow back
    if dtype is not None:
        out = out.cast(dtype)
    return out.clone() if copy and out is x else out


def cpu(x: Tensor) -> Tensor:
    return x if type(x.data) is np.ndarray else to(x, "cpu")


def cuda(x: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    dev = devices.resolve("cuda" if device is None else device, "Tensor.cuda")
    return to(x, dev)


def type_(x: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    """type(): the legacy type name ('torch.FloatTensor'); type(dtype): a cast."""
    if dtype is None:
        return type_name(x.dtype)
    return x.cast(to_dtype(dtype, "Tensor.type"))


def _new(x: Tensor, op: str, array: np.ndarray, device: Any, requires_grad: bool) -> Tensor:
    # as PyTorch: on x's device unless another is given
    dev = x.device if device is None else devices.resolve(device, op)
    out = x.wrap(backend.transfer(array, dev.type))
    return out.requires_grad_(True) if requires_grad else out


def _dtype_or(x: Tensor, dtype: Any, op: str) -> np.dtype:
    return x.dtype if dtype is None else to_dtype(dtype, op)


def new_zeros(x: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """zeros of `size` with x's dtype (and device) unless given."""
    array = np.zeros(shape_args(size, "new_zeros"), _dtype_or(x, dtype, "new_zeros"))
    return _new(x, "new_zeros", array, device, requires_grad)


def new_ones(x: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    array = np.ones(shape_args(size, "new_ones"), _dtype_or(x, dtype, "new_ones"))
    return _new(x, "new_ones", array, device, requires_grad)


def new_full(x: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    array = np.full(shape_args((size,), "new_full"), fill_value, _dtype_or(x, dtype, "new_full"))
    return _new(x, "new_full", array, device, requires_grad)


def new_tensor(x: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """A copy of `data` with x's dtype (and device) unless given, as PyTorch."""
    if isinstance(data, type(x)):
        data = data.numpy()
    array = np.array(np.asarray(data), dtype=_dtype_or(x, dtype, "new_tensor"))
    return _new(x, "new_tensor", array, device, requires_grad)


def index(x: Tensor) -> int:
    """A one-element integer tensor as a Python int, where Python wants an index
    (list[t], range(t)); float tensors refuse, as in PyTorch."""
    if x.dtype.kind not in "iub" or x.data.size != 1:
        raise TypeError(
            f"only integer tensors of a single element can be converted to an index; this "
            f"one has dtype {x.dtype} and shape {tuple(x.shape)}")
    return operator.index(x.data.reshape(()).item())
