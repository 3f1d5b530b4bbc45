"""Devices: where a tensor's numbers live. Every device decision is made here.

"cpu" holds NumPy arrays; "cuda" (index 0) holds CuPy arrays when CuPy is installed
and sees a GPU; "standin" holds the stand-in device's arrays (standin.py): NumPy
underneath, but refusing implicit conversion as CuPy does, so tests without a GPU run
the device code paths. Which array module computes on which device is backend.py's
business; this file names devices, checks that they exist, and says which device an
array is on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend
from .dtypes import to_dtype

# Device types PyTorch knows, and the stand-in device of the tests (standin.py).
KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "hip", "meta", "standin")
# Types that exist wherever tinygrad_edu runs; "cuda" exists when CuPy sees a GPU.
AVAILABLE_TYPES = ("cpu", "standin")


class device:  # noqa: N801 (PyTorch's name)
    """A device name: `device("cpu")`, `device("cuda:1")`, `device("cuda", 1)`."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            given: device = type
            type, index = given.type, given.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(
                f"device: expected a device string such as 'cpu' or 'cuda:0', got "
                f"{type!r} ({type.__class__.__name__})")
        name = type.strip()
        if ":" in name:
            if index is not None:
                raise RuntimeError(f"device: {type!r} already holds an index; got index={index}")
            name, _, number = name.partition(":")
            if not number.isdigit():
                raise RuntimeError(
                    f"device: invalid device string {type!r}; expected e.g. 'cuda:0'")
            index = int(number)
        if name not in KNOWN_TYPES:
            raise RuntimeError(
                f"device: unknown device type {name!r} in {type!r}; expected one of "
                f"{', '.join(KNOWN_TYPES)}")
        if index is not None and (not isinstance(index, (int, np.integer)) or index < 0):
            raise RuntimeError(f"device: the index must be a non-negative int, got {index!r}")
        self.type = name
        self.index = None if index is None else int(index)

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"

    def __eq__(self, other: object) -> bool:
        # strings compare too (PyTorch says device('cpu') != 'cpu'; here both spellings
        # of one device are equal, which is what code like `x.device == 'cpu'` means)
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash(str(self))

    def __reduce__(self) -> tuple:
        return (device, (self.type, self.index))


CPU = device("cpu")
STANDIN = device("standin")
CUDA = device("cuda", 0)
_BY_BACKEND = {"cpu": CPU, "standin": STANDIN, "cuda": CUDA}


def is_device_like(value: Any) -> bool:
    """True for what names a device in `Tensor.to(...)`: a device or a string."""
    return isinstance(value, (device, str))


def available(dev: device) -> bool:
    if dev.index not in (None, 0):  # one device of each type (no multi-GPU)
        return False
    if dev.type == "cuda":
        return backend.cuda_backend() is not None
    return dev.type in AVAILABLE_TYPES


def of_array(array: Any) -> device:
    """The device holding `array`."""
    if type(array) is np.ndarray:
        return CPU
    return _BY_BACKEND[backend.backend_of(array).name]


def check_same(op: str, arrays: Any) -> None:
    """Raise a RuntimeError naming `op` and two devices when `arrays` are not all on one
    device (as PyTorch: ops never copy between devices behind the user's back)."""
    found = {of_array(a) for a in arrays}
    if len(found) > 1:
        names = " and ".join(sorted(str(d) for d in found))
        raise RuntimeError(
            f"{op}: expected all tensors on one device, but found tensors on {names}; "
            "move them with .to(device) first")


def resolve(spec: Any, op: str) -> device:
    """The available device that `spec` names (None means the CPU), or a clear
    error naming `op` and the device: unknown names and unavailable devices."""
    if spec is None:
        return CPU
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        spec = device("cuda", int(spec))  # PyTorch reads a bare int as a CUDA index
    try:
        dev = device(spec)
    except (TypeError, RuntimeError) as error:
        raise type(error)(f"{op}: {error}") from None
    if not available(dev):
        raise RuntimeError(unavailable_message(dev, op))
    return _BY_BACKEND[dev.type]


def unavailable_message(dev: device, op: str) -> str:
    if dev.type == "cuda":
        why = backend.cuda_problem() or "only device 'cuda:0' is supported"
        return f"CUDA is not available: {op} asked for device '{dev}' ({why})"
    if dev.type in AVAILABLE_TYPES:
        return (f"{op}: device '{dev}' does not exist; there is one {dev.type} device, "
                f"'{dev.type}' (index 0)")
    return (f"{op}: device '{dev}' is not available (tinygrad_edu runs on the CPU, on CUDA "
            "through CuPy, and on the test device 'standin')")


def parse_to_args(op: str, args: tuple, kwargs: dict[str, Any]) -> tuple[device | None,
                                                                          np.dtype | None, bool]:
    """PyTorch's `.to(...)` argument forms: (device), (dtype), (device, dtype),
    (tensor) and keywords device=, dtype=, non_blocking=, copy=.

    Returns (device or None, dtype or None, copy); an unavailable device raises.
    """
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{op}: unexpected keyword argument(s) {sorted(unknown)}")
    dev, dtype = kwargs.get("device"), kwargs.get("dtype")
    copy = bool(kwargs.get("copy", False))
    rest = list(args)
    if rest and hasattr(rest[0], "grad_fn"):
        other = rest.pop(0)  # .to(other_tensor): its device and dtype
        dev, dtype = other.device, other.dtype
    elif rest and (is_device_like(rest[0]) or isinstance(rest[0], (int, np.integer))):
        dev = rest.pop(0)
    if rest and not isinstance(rest[0], bool):
        dtype = rest.pop(0)
    if rest:  # non_blocking, copy given by position
        rest.pop(0)
    if rest:
        copy = bool(rest.pop(0))
    if rest:
        raise TypeError(f"{op}: too many arguments {args!r}")
    resolved = None if dev is None else resolve(dev, op)
    return resolved, None if dtype is None else to_dtype(dtype, op), copy
