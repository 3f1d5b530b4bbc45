"""PyTorch's dtype names on NumPy dtypes, and the legacy type strings of Tensor.type()."""

from __future__ import annotations

from typing import Any

import numpy as np

# Tensor.type() without an argument: PyTorch's legacy names, which scripts compare against
TYPE_NAMES: dict[np.dtype, str] = {
    np.dtype(np.float32): "torch.FloatTensor",
    np.dtype(np.float64): "torch.DoubleTensor",
    np.dtype(np.float16): "torch.HalfTensor",
    np.dtype(np.int64): "torch.LongTensor",
    np.dtype(np.int32): "torch.IntTensor",
    np.dtype(np.int16): "torch.ShortTensor",
    np.dtype(np.int8): "torch.CharTensor",
    np.dtype(np.uint8): "torch.ByteTensor",
    np.dtype(np.bool_): "torch.BoolTensor",
}
_BY_NAME: dict[str, np.dtype] = {name: dtype for dtype, name in TYPE_NAMES.items()}


def type_name(dtype: np.dtype) -> str:
    """'torch.FloatTensor' for float32, ...; dtypes PyTorch has no name for raise."""
    try:
        return TYPE_NAMES[np.dtype(dtype)]
    except KeyError:
        raise TypeError(f"type: dtype {dtype} has no PyTorch tensor type name") from None


def to_dtype(spec: Any, op: str) -> np.dtype:
    """A dtype, a NumPy dtype name, or a legacy name such as 'torch.DoubleTensor'."""
    if isinstance(spec, str) and spec in _BY_NAME:
        return _BY_NAME[spec]
    try:
        return np.dtype(spec)
    except TypeError:
        raise TypeError(
            f"{op}: {spec!r} is not a dtype; expected e.g. float32, int64 or "
            "'torch.FloatTensor'") from None
