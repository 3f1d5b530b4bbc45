"""The array-namespace layer: which array module computes on an array.

Ops compute with their inputs' module, never with `np` directly:

    xp = array_module(x)      # numpy, cupy, or the stand-in module (standin.py)
    return xp.exp(x)

Array methods and operators (`x.sum()`, `x + y`, `x[i]`) need no module: they stay
on the array's device by themselves. A NumPy array is recognised first, by one
`type(x) is np.ndarray` comparison, so the CPU path costs no more than it did.

Three backends exist, each named by its device type: "cpu" (NumPy), "standin"
(NumPy arrays that refuse implicit conversion, for tests without a GPU) and "cuda"
(CuPy, when it is installed and sees a GPU; loaded on first use). Copies between
devices happen only in `transfer`, which `Tensor.to`, `.cpu()`, `.numpy()` and
printing call: nothing here copies behind the user's back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import standin


@dataclass(frozen=True)
class Backend:
    """One device type's arrays: its module, array type and the two explicit copies."""

    name: str  # the device type: "cpu", "standin", "cuda"
    xp: Any  # the array module
    array_type: type
    to_host: Callable[[Any], np.ndarray]
    from_host: Callable[[np.ndarray], Any]
    make_generator: Callable[[int], Any]  # a seeded stream with numpy.random.Generator's names


NUMPY = Backend("cpu", np, np.ndarray, to_host=lambda a: a, from_host=lambda a: a,
                make_generator=np.random.default_rng)
STANDIN = Backend(standin.NAME, standin.module, standin.StandinArray, standin.to_host,
                  standin.from_host, standin.Generator)

_BY_TYPE: dict[type, Backend] = {np.ndarray: NUMPY, standin.StandinArray: STANDIN}
_BY_NAME: dict[str, Backend] = {"cpu": NUMPY, standin.NAME: STANDIN}
_cuda_problem: str | None = None  # why CuPy cannot be used, once it was tried


def backend_of(array: Any) -> Backend:
    """The backend holding `array` (NumPy scalars count as NumPy)."""
    if type(array) is np.ndarray:
        return NUMPY
    found = _BY_TYPE.get(type(array))
    if found is not None:
        return found
    if "cupy" in sys.modules and cuda_backend() is not None:  # a CuPy array made by hand
        found = _BY_TYPE.get(type(array))
        if found is not None:
            return found
    if isinstance(array, (np.generic, bool, int, float)):
        return NUMPY
    raise TypeError(f"expected an array (numpy, cupy or stand-in), got {type(array).__name__}")


def array_module(array: Any) -> Any:
    """The module whose functions compute on `array`: numpy, cupy or the stand-in's."""
    if type(array) is np.ndarray:
        return np
    return backend_of(array).xp


def is_array(value: Any) -> bool:
    """True for an array of any backend (not for NumPy scalars)."""
    return type(value) is np.ndarray or type(value) in _BY_TYPE


def as_array(value: Any) -> Any:
    """`value` as an array: device arrays as they are, anything else through NumPy
    (ufuncs turn 0-d arrays into NumPy scalars; this turns them back)."""
    if type(value) in _BY_TYPE:
        return value
    return np.asarray(value)


def backend_named(name: str) -> Backend | None:
    """The backend of a device type, or None when it cannot be used here."""
    if name == "cuda":
        return cuda_backend()
    return _BY_NAME.get(name)


def transfer(array: Any, name: str) -> Any:
    """`array` copied onto the device type `name` (itself when it is there already)."""
    source = backend_of(array)
    if source.name == name:
        return array
    target = backend_named(name)
    if target is None:
        raise RuntimeError(f"device type {name!r} is not available: {cuda_problem()}")
    host = source.to_host(array) if source is not NUMPY else np.asarray(array)
    return target.from_host(host)


def to_host(array: Any) -> np.ndarray:
    """A NumPy array with `array`'s values: itself on the CPU, else a copy."""
    if type(array) is np.ndarray:
        return array
    return backend_of(array).to_host(array)


def full_like_scalar(value: Any, dtype: Any, like: Any) -> Any:
    """A 0-d array of `value` on the device of `like` (a number meeting a tensor)."""
    if type(like) is np.ndarray:
        return np.array(value, dtype=dtype)
    return array_module(like).full((), value, dtype=dtype)


def widest_float(array: Any) -> Any:
    """The most precise float dtype on `array`'s device: NumPy's extended precision
    (np.longdouble) on the CPU, float64 on devices that have nothing wider (CuPy)."""
    return np.longdouble if type(array) is np.ndarray else np.dtype(np.float64)


def writeable(array: Any) -> bool:
    """False for NumPy's read-only views (broadcast_to, as_strided); device arrays
    have no such flag and are always writeable."""
    flags = getattr(array, "flags", None)
    return bool(getattr(flags, "writeable", True))


def as_strided(array: Any, shape: tuple, strides: tuple) -> Any:
    """A read-only strided view of `array` (no copy), on its own device."""
    if type(array) is np.ndarray:
        return np.lib.stride_tricks.as_strided(array, shape, strides, writeable=False)
    return array_module(array).lib.stride_tricks.as_strided(array, shape, strides)


def add_at(out: Any, index: Any, values: Any) -> None:
    """out[index] += values, adding repeated indices up (np.add.at)."""
    xp = array_module(out)
    if xp is np or backend_of(out) is STANDIN:
        xp.add.at(out, index, values)
        return
    import cupyx  # CuPy's name for it

    cupyx.scatter_add(out, index, values)


# -- CuPy, loaded on first use ----------------------------------------------------------


class _CupyGenerator:
    """cupy.random.RandomState under numpy.random.Generator's method names."""

    def __init__(self, seed: int) -> None:
        import cupy

        self.state = cupy.random.RandomState(seed)

    def random(self, size: Any = None, dtype: Any = np.float64) -> Any:
        return self.state.random_sample(size, dtype)

    def standard_normal(self, size: Any = None, dtype: Any = np.float64) -> Any:
        return self.state.standard_normal(size, dtype)

    def normal(self, loc: float = 0.0, scale: float = 1.0, size: Any = None) -> Any:
        return self.state.normal(loc, scale, size)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None) -> Any:
        return self.state.uniform(low, high, size)

    def integers(self, low: int, high: int | None = None, size: Any = None) -> Any:
        return self.state.randint(low, high, size, dtype=np.int64)

    def permutation(self, n: int) -> Any:
        return self.state.permutation(n)


def cuda_backend() -> Backend | None:
    """CuPy's backend when CuPy is installed and sees a GPU, else None (the reason is
    kept for `cuda_problem`)."""
    global _cuda_problem
    if "cuda" in _BY_NAME:
        return _BY_NAME["cuda"]
    if _cuda_problem is not None:
        return None
    try:
        import cupy
    except ImportError:
        _cuda_problem = "CuPy is not installed (pip install -e '.[cuda]')"
        return None
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as error:  # CUDA driver missing or broken: CuPy raises its own types
        _cuda_problem = f"CuPy is installed but finds no GPU ({type(error).__name__}: {error})"
        return None
    if count < 1:
        _cuda_problem = "CuPy is installed but sees no GPU"
        return None
    found = Backend("cuda", cupy, cupy.ndarray, to_host=cupy.asnumpy, from_host=cupy.asarray,
                    make_generator=_CupyGenerator)
    _BY_NAME["cuda"] = found
    _BY_TYPE[cupy.ndarray] = found
    return found


def cuda_problem() -> str:
    """Why CUDA cannot be used here ('' when it can)."""
    return "" if cuda_backend() is not None else str(_cuda_problem)


def like(array: Any, other: Any) -> Any:
    """`array` (made on the host by the library, e.g. a mask) on the device of `other`."""
    if type(other) is np.ndarray:
        return array
    return transfer(array, backend_of(other).name)
