"""Numbers and arrays as short text for labels: 4 significant digits, small tensors
in full, large ones summarized as min / mean / max."""

from __future__ import annotations

from typing import Any

import numpy as np

SMALL = 8  # tensors with at most this many elements are shown in full


def format_number(x: Any) -> str:
    """One number with 4 significant digits (integers and bools as they are)."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.4g}"


def _nested(array: np.ndarray) -> str:
    if array.ndim == 0:
        return format_number(array.item())
    return "[" + ", ".join(_nested(a) for a in array) + "]"


def format_shape(shape: tuple, dtype: Any) -> str:
    """`(128, 784) float32`, or `scalar float32` for a 0-d tensor."""
    dims = "scalar" if len(shape) == 0 else "(" + ", ".join(str(s) for s in shape) + ")"
    if len(shape) == 1:
        dims = f"({shape[0]},)"
    return f"{dims} {np.dtype(dtype).name}"


def value_cells(array: Any, mode: Any = "auto") -> list[str]:
    """A tensor's values as label cells: one cell with every value when the tensor
    is small (or mode='full'), else three: min, mean, max (mode='summary' always)."""
    array = np.asarray(array)
    if array.size == 0:
        return ["empty"]
    if array.size <= (SMALL if mode in ("auto", True) else 64 if mode == "full" else 0):
        return [_nested(array)]
    if mode == "full":  # NumPy elides the middle of big arrays: a label stays a line
        text = np.array2string(array, precision=4, separator=", ", threshold=64, edgeitems=2)
        return [" ".join(text.split())]
    if array.dtype.kind == "b":
        return [f"{int(array.sum())} of {array.size} true"]
    values = array.astype(np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return ["no finite values"]
    cells = [format_number(finite.min()), format_number(finite.mean()), format_number(finite.max())]
    bad = values.size - finite.size
    if bad:
        cells[2] += f" ({bad} nan/inf)"
    return cells


def format_array(array: Any, mode: Any = "auto") -> str:
    """A tensor's values on one line: in full when small (or mode='full'), else
    min / mean / max (mode='summary' always summarizes)."""
    cells = value_cells(array, mode)
    if len(cells) == 1:
        return cells[0]
    return f"min {cells[0]}  mean {cells[1]}  max {cells[2]}"


def _format_param(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{format_shape(value.shape, value.dtype).split(' ')[0]}"
    if isinstance(value, tuple):
        inner = ", ".join(_format_param(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, slice):
        start, stop = ("" if p is None else str(p) for p in (value.start, value.stop))
        return f"{start}:{stop}" + ("" if value.step is None else f":{value.step}")
    if isinstance(value, type(Ellipsis)):
        return "..."
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def op_details(ctx: Any) -> str:
    """The op's non-tensor arguments (axis, shape, ...), skipping unset ones."""
    items = [
        f"{key}={_format_param(value)}"
        for key, value in ctx.params.items()
        if value is not None and value is not False
    ]
    return ", ".join(items)
