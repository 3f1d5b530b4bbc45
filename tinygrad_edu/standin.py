"""The stand-in device: NumPy arrays that behave like a GPU's, for tests without a GPU.

A `StandinArray` holds a NumPy array (`raw`) and does arithmetic, indexing and
methods like one, but refuses to meet plain NumPy: `np.asarray(a)`, `np.exp(a)`,
`np.where(a, ...)` and `a + ndarray` raise a TypeError, as CuPy arrays refuse
implicit conversion. Code that computes on `backend.array_module(a)` (this file's
`module`) instead of `np` works on it; a forgotten `np.` call fails in CI instead of
on a GPU. `module` wraps NumPy's functions: stand-in arrays in, stand-in arrays out,
plain NumPy arrays refused except by `array`/`asarray` (the explicit copy onto the
device). Full reductions give 0-d arrays, as CuPy's do, not NumPy scalars.

This checks which module an array goes through, not CuPy's API: a NumPy keyword
CuPy lacks passes here.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

NAME = "standin"


def _refuse(what: str) -> TypeError:
    return TypeError(
        f"{what} on a stand-in device array: implicit conversion to NumPy is not allowed "
        "(as with CuPy arrays). Compute with the array's own module "
        "(tinygrad_edu.backend.array_module(x)), or copy explicitly with Tensor.cpu() / "
        ".numpy()")


def _unwrap(value: Any) -> Any:
    """`value` with stand-in arrays replaced by their NumPy arrays; plain NumPy arrays
    (arrays of the other device) are refused."""
    kind = type(value)
    if kind is StandinArray:
        return value.raw
    if kind is np.ndarray:
        raise TypeError(
            f"cannot mix a stand-in device array with a NumPy (cpu) array of shape "
            f"{value.shape}: move one of them first (Tensor.to)")
    if kind is tuple or kind is list:
        return kind(_unwrap(v) for v in value)
    if kind is dict:
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _root(array: Any) -> Any:
    """The object at the end of `array`'s chain of bases (the memory's owner)."""
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def _wrap(result: Any, sources: tuple = ()) -> Any:
    """NumPy results as stand-in arrays (a scalar becomes a 0-d array, as in CuPy); a
    view of a source's memory records that source's owner as its `base`."""
    kind = type(result)
    if kind is np.ndarray:
        for source in sources:
            if type(source) is StandinArray:
                if result is source.raw:
                    return source
                owner = source if source.base is None else source.base
                if result.base is not None and _root(result) is _root(owner.raw):
                    return StandinArray(result, owner)
        return StandinArray(result)
    if isinstance(result, np.generic):
        return StandinArray(np.asarray(result))
    if kind is tuple or kind is list:
        return kind(_wrap(r, sources) for r in result)
    return result


class StandinArray:
    """An array on the stand-in device (see the module docstring)."""

    __slots__ = ("raw", "_owner")
    __hash__ = None  # type: ignore[assignment]  # as ndarray: == is elementwise

    def __init__(self, raw: np.ndarray, owner: StandinArray | None = None) -> None:
        self.raw = raw
        self._owner = owner

    # -- the doors to NumPy, all shut ---------------------------------------------
    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise _refuse("np.asarray/np.array")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        raise _refuse(f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}"))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise _refuse(f"np.{func.__name__}")

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> StandinArray:
        wanted = np.dtype(dtype)
        if wanted.kind in "fc" and wanted.itemsize > (8 if wanted.kind == "f" else 16):
            # as CuPy: a GPU has no extended precision, so code must not depend on it
            raise TypeError(f"stand-in device arrays have no dtype {wanted} (CuPy has no "
                            "extended precision); use float64 (backend.widest_float)")
        return _wrap(self.raw.astype(wanted, *args, **kwargs), (self,))

    # -- the explicit ways out (as CuPy: .get(), .item(), .tolist(), scalars) -------
    def get(self) -> np.ndarray:
        """A NumPy copy (CuPy's name for the device-to-host copy)."""
        return self.raw.copy()

    def __bool__(self) -> bool:
        return bool(self.raw)

    def __float__(self) -> float:
        return float(self.raw)

    def __int__(self) -> int:
        return int(self.raw)

    def __index__(self) -> int:
        return self.raw.__index__()

    def __len__(self) -> int:
        return len(self.raw)

    def __repr__(self) -> str:
        return f"standin_array({self.raw!r})"

    # -- attributes -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.raw.shape

    @property
    def ndim(self) -> int:
        return self.raw.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.raw.dtype

    @property
    def size(self) -> int:
        return self.raw.size

    @property
    def itemsize(self) -> int:
        return self.raw.itemsize

    @property
    def nbytes(self) -> int:
        return self.raw.nbytes

    @property
    def strides(self) -> tuple[int, ...]:
        return self.raw.strides

    @property
    def flags(self) -> Any:
        return self.raw.flags

    @property
    def base(self) -> StandinArray | None:
        return self._owner

    @property
    def T(self) -> StandinArray:  # noqa: N802 (NumPy's name)
        return _wrap(self.raw.T, (self,))

    def __getattr__(self, name: str) -> Any:
        # every other ndarray method: sum, max, reshape, astype, copy, transpose, ...
        if name.startswith("__"):  # __array_interface__ and friends would hand NumPy the memory
            raise AttributeError(f"stand-in device arrays have no {name}")
        attr = getattr(self.raw, name)
        if not callable(attr):
            return _wrap(attr, (self,))

        def method(*args: Any, **kwargs: Any) -> Any:
            return _wrap(attr(*_unwrap(args), **_unwrap(kwargs)), (self,))

        return method

    # -- indexing ---------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        return _wrap(self.raw[_unwrap(index)], (self,))

    def __setitem__(self, index: Any, value: Any) -> None:
        self.raw[_unwrap(index)] = _unwrap(value)

    def __deepcopy__(self, memo: dict) -> StandinArray:
        return StandinArray(self.raw.copy())


def _operator(name: str) -> Callable:
    def method(self: StandinArray, *others: Any) -> Any:
        for other in others:  # a Tensor on the right answers itself (__radd__, ...)
            if not isinstance(other, (StandinArray, np.ndarray, np.generic, int, float,
                                      bool, complex)):
                return NotImplemented
        result = getattr(self.raw, name)(*_unwrap(others))
        if result is self.raw:  # in-place operators return their left operand
            return self
        return _wrap(result, (self,))

    method.__name__ = name
    return method


_OPERATORS = ("add sub mul truediv floordiv mod pow matmul and or xor lshift rshift").split()
for _name in _OPERATORS:
    for _form in ("__{}__", "__r{}__", "__i{}__"):
        setattr(StandinArray, _form.format(_name), _operator(_form.format(_name)))
for _name in ("lt", "le", "gt", "ge", "eq", "ne", "neg", "pos", "abs", "invert"):
    setattr(StandinArray, f"__{_name}__", _operator(f"__{_name}__"))


# -- the module: NumPy's functions on stand-in arrays --------------------------------


def _function(fn: Callable, name: str) -> Callable:
    def call(*args: Any, **kwargs: Any) -> Any:
        arrays = tuple(a for a in args if type(a) is StandinArray)
        return _wrap(fn(*_unwrap(args), **_unwrap(kwargs)), arrays)

    call.__name__ = name
    return call


def _to_device(value: Any) -> Any:
    """`array`/`asarray` take host data too: the one explicit copy onto the device."""
    if type(value) is np.ndarray:
        return value
    return _unwrap(value)


class _Ufunc:
    """A NumPy ufunc on stand-in arrays, with its methods (at, reduce, ...)."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self.ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _function(self.ufunc, self.__name__)(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.ufunc, name)
        return _function(attr, f"{self.__name__}.{name}") if callable(attr) else attr


class _Module:
    """The stand-in device's array module (what cupy is to a GPU)."""

    __name__ = "tinygrad_edu.standin.module"

    def __init__(self) -> None:
        stride_tricks = types.SimpleNamespace(as_strided=self._as_strided)
        self.lib = types.SimpleNamespace(stride_tricks=stride_tricks)
        self.linalg = types.SimpleNamespace(
            **{n: _function(getattr(np.linalg, n), n) for n in ("norm", "qr", "inv", "det")})

    @staticmethod
    def _as_strided(x: Any, shape: Any = None, strides: Any = None) -> Any:
        # CuPy's signature: no writeable= keyword
        view = np.lib.stride_tricks.as_strided(_unwrap(x), shape, strides, writeable=False)
        return _wrap(view, (x,))

    @staticmethod
    def array(obj: Any, dtype: Any = None, copy: bool = True, **kwargs: Any) -> Any:
        return StandinArray(np.array(_to_device(obj), dtype=dtype, copy=copy, **kwargs))

    @staticmethod
    def asarray(obj: Any, dtype: Any = None, **kwargs: Any) -> Any:
        if type(obj) is StandinArray and (dtype is None or np.dtype(dtype) == obj.dtype):
            return obj
        return StandinArray(np.asarray(_to_device(obj), dtype=dtype, **kwargs))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(np, name)
        if isinstance(attr, np.ufunc):
            return _Ufunc(attr)
        if isinstance(attr, types.ModuleType):
            raise AttributeError(f"the stand-in module has no numpy.{name}")
        if isinstance(attr, type) or not callable(attr):
            return attr  # dtypes (float32, ...), errstate, constants (inf, newaxis)
        return _function(attr, name)


module: Any = _Module()


def to_host(array: StandinArray) -> np.ndarray:
    return array.raw.copy()


def from_host(array: np.ndarray) -> StandinArray:
    return StandinArray(np.array(array, copy=True))


class Generator:
    """A random stream on the stand-in device: NumPy's Generator, drawing stand-in arrays."""

    def __init__(self, seed: int) -> None:
        self.numpy = np.random.default_rng(seed)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.numpy, name)
        return _function(attr, name) if callable(attr) else attr
