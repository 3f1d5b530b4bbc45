"""Functions that make new tensors: constants, ranges, random draws and permutations.

Each takes PyTorch's keywords dtype=, device= and requires_grad=; the device is
checked by devices.py. Values are made on the host and copied to the device once;
random draws on a device come from that device's own seeded stream (rng.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import rng
from .backend import backend_named, cuda_problem, transfer
from .devices import CPU, resolve
from .dtypes import to_dtype
from .rng import Generator
from .tensor import Tensor, from_numpy
from .tensor_shape import shape_args

DEFAULT_DTYPE = np.float32


def _dtype(dtype: Any, op: str = "tensor", default: Any = DEFAULT_DTYPE) -> np.dtype:
    return np.dtype(default) if dtype is None else to_dtype(dtype, op)


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
           ) -> Tensor:
    """A new tensor holding a copy of `data` (as torch.tensor)."""
    if isinstance(dtype, bool):  # the old order tensor(data, requires_grad, dtype)
        dtype, requires_grad = None, dtype
    dev = resolve(device, "tensor")
    out = Tensor(data, dtype=None if dtype is None else to_dtype(dtype, "tensor"))
    if dev != CPU and dev != out.device:
        out = Tensor.wrap(transfer(out.data, dev.type))
    return out.requires_grad_(requires_grad) if requires_grad else out


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor, sharing its memory where it can (as torch.as_tensor): a
    tensor of the asked dtype and device is returned as is, a NumPy array of the
    asked dtype is shared (from_numpy); anything else is copied."""
    dev = None if device is None else resolve(device, "as_tensor")
    want = None if dtype is None else to_dtype(dtype, "as_tensor")
    if isinstance(data, Tensor):
        out = data if want is None else data.cast(want)
        return out if dev is None or dev == out.device else out.to(dev)
    if isinstance(data, np.ndarray) and (want is None or data.dtype == want) and (
            dev is None or dev == CPU) and data.dtype.kind in "fiub":
        return from_numpy(data)
    return tensor(data, dtype=want, device=dev)


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of `size` whose values are not to be read before they are written
    (zeros here: NumPy's uninitialized memory would make runs differ)."""
    shape, dt = shape_args(size, "empty"), _dtype(dtype, "empty")
    return _built("empty", lambda xp: xp.zeros(shape, dtype=dt), device, requires_grad)


def _made(op: str, array: Any, device: Any, requires_grad: bool) -> Tensor:
    dev = resolve(device, op)
    if dev == CPU:
        return from_numpy(array).requires_grad_(requires_grad)
    return Tensor.wrap(transfer(array, dev.type)).requires_grad_(requires_grad)


def _built(op: str, build: Callable[[Any], Any], device: Any, requires_grad: bool) -> Tensor:
    """A tensor whose array `build(xp)` makes with the device's own module: zeros on a
    GPU are made there, not on the host and copied over."""
    dev = resolve(device, op)
    if dev == CPU:
        return from_numpy(build(np)).requires_grad_(requires_grad)
    target = backend_named(dev.type)
    if target is None:
        raise RuntimeError(f"{op}: device type {dev.type!r} is not available: {cuda_problem()}")
    return Tensor.wrap(build(target.xp)).requires_grad_(requires_grad)


def _stream(device: Any, op: str) -> Any:
    """The random stream of the device `device` names."""
    return rng.device_generator(resolve(device, op).type)


def zeros(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    size, dt = shape_args(shape, "zeros"), _dtype(dtype, "zeros")
    return _built("zeros", lambda xp: xp.zeros(size, dtype=dt), device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    size, dt = shape_args(shape, "ones"), _dtype(dtype, "ones")
    return _built("ones", lambda xp: xp.ones(size, dtype=dt), device, requires_grad)


def full(shape: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """`shape` filled with `fill_value`; the dtype follows the value (bool, int64 or
    float32) unless given, as PyTorch."""
    shape = shape_args((shape,) if isinstance(shape, int) else tuple(shape), "full")
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else (
            np.int64 if isinstance(fill_value, int) else DEFAULT_DTYPE)
    dt = _dtype(dtype, "full")
    return _built("full", lambda xp: xp.full(shape, fill_value, dtype=dt), device,
                  requires_grad)


def _like(t: Tensor, dtype: Any, op: str) -> np.dtype:
    return t.dtype if dtype is None else to_dtype(dtype, op)


def _where(t: Tensor, device: Any) -> Any:
    """The device of a *_like result: t's unless given, as PyTorch."""
    return t.device if device is None else device


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    dt = _like(t, dtype, "zeros_like")
    return _built("zeros_like", lambda xp: xp.zeros(t.shape, dtype=dt), _where(t, device),
                  requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    dt = _like(t, dtype, "ones_like")
    return _built("ones_like", lambda xp: xp.ones(t.shape, dtype=dt), _where(t, device),
                  requires_grad)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    dt = _like(t, dtype, "full_like")
    return _built("full_like", lambda xp: xp.full(t.shape, fill_value, dtype=dt),
                  _where(t, device), requires_grad)


def rand_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return rand(t.shape, dtype=_like(t, dtype, "rand_like"), device=_where(t, device),
                requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=_like(t, dtype, "randn_like"), device=_where(t, device),
                 requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Numbers from start (inclusive) to end (exclusive); int64 for int arguments, as PyTorch."""
    if end is None:
        start, end = 0, start
    if dtype is None and all(isinstance(v, int) for v in (start, end, step)):
        dtype = np.int64
    dt, first, last = _dtype(dtype, "arange"), start, end
    return _built("arange", lambda xp: xp.arange(first, last, step, dtype=dt), device,
                  requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced numbers from start to end, both included."""
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    array = np.linspace(start, end, int(steps), dtype=np.float64).astype(_dtype(dtype, "linspace"))
    return _made("linspace", array, device, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    dt = _dtype(dtype, "eye")
    return _built("eye", lambda xp: xp.eye(n, m, dtype=dt), device, requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
         ) -> Tensor:
    """Uniform on [0, 1), from the framework's seeded generator."""
    array = _stream(device, "rand").random(shape_args(shape, "rand"), dtype=np.float64).astype(
        _dtype(dtype, "rand"))
    return _made("rand", array, device, requires_grad)


def randn(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
          ) -> Tensor:
    """Standard normal, from the framework's seeded generator."""
    array = _stream(device, "randn").standard_normal(shape_args(shape, "randn")).astype(
        _dtype(dtype, "randn"))
    return _made("randn", array, device, requires_grad)


def randint(low: int, high: int | None = None, size: Any = None, *, dtype: Any = None,
            device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high) (int64), as torch.randint(low, high, size)
    or randint(high, size)."""
    if size is None:  # randint(high, size)
        size, high = high, None
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    if low >= high:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    shape = shape_args((size,) if isinstance(size, int) else tuple(size), "randint")
    array = _stream(device, "randint").integers(low, high, shape).astype(
        _dtype(dtype, "randint", np.int64))
    return _made("randint", array, device, requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64), from the framework's generator or `generator`."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    source = rng.generator() if generator is None else generator.numpy
    array = source.permutation(int(n)).astype(_dtype(dtype, "randperm", np.int64))
    return _made("randperm", array, device, requires_grad)
