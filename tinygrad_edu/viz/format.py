"""Numbers and arrays as short text for labels: 4 significant digits, small tensors
in full (a matrix as one line per row), large ones summarized as min / mean / max.
Float noise (|x| below 1e-12 times the array's or the caller's scale) is written 0."""

from __future__ import annotations

from typing import Any

import numpy as np

SMALL = 16  # tensors with at most this many elements are shown in full
ROW = 8  # values a line when a vector is written in full
NOISE = 1e-12  # relative size below which a float is rounding noise, written 0


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


def denoise(array: Any, scale: float | None = None) -> np.ndarray:
    """`array` with float noise set to 0: entries smaller than NOISE times `scale`
    (default: the array's largest magnitude), e.g. 0.5 - 0.5 computed as 5.6e-17."""
    array = np.asarray(array)
    if array.dtype.kind not in "fc" or array.size == 0:
        return array
    finite = np.abs(array[np.isfinite(array)])
    top = max(float(finite.max()) if finite.size else 0.0, scale or 0.0)
    if top == 0:
        return array
    return np.where(np.abs(array) < NOISE * top, 0, array).astype(array.dtype)


def value_lines(array: Any, scale: float | None = None) -> list[str]:
    """A small tensor written in full: one line, or one line per row for a matrix
    (`[[1, 2],` then ` [3, 4]]`)."""
    array = denoise(array, scale)
    if array.ndim == 1 and array.size > ROW:  # a long vector wraps, ROW values a line
        parts = [", ".join(format_number(v) for v in array[k:k + ROW])
                 for k in range(0, array.size, ROW)]
    elif array.ndim == 2 and array.shape[0] >= 2:
        parts = [_nested(row) for row in array]
    else:
        return [_nested(array)]
    return (["[" + parts[0] + ","] + [" " + p + "," for p in parts[1:-1]]
            + [" " + parts[-1] + "]"])


def format_shape(shape: tuple, dtype: Any) -> str:
    """`(128, 784) float32`, or `scalar float32` for a 0-d tensor."""
    dims = "scalar" if len(shape) == 0 else "(" + ", ".join(str(s) for s in shape) + ")"
    if len(shape) == 1:
        dims = f"({shape[0]},)"
    return f"{dims} {np.dtype(dtype).name}"


def in_full(array: Any, mode: Any = "auto") -> bool:
    """Whether `value_cells` writes the values themselves, or one line about them
    (else min / mean / max)."""
    array = np.asarray(array)
    if array.size == 0 or mode == "full" or array.dtype.kind == "b":
        return True
    if not np.isfinite(array.astype(np.float64)).any():
        return True  # "no finite values"
    return mode in ("auto", True) and array.size <= SMALL


def value_cells(array: Any, mode: Any = "auto", scale: float | None = None) -> list[str]:
    """A tensor's values as label cells: every value when the tensor is small (or
    mode='full'; a small matrix one row a cell), else three: min, mean, max
    (mode='summary' always). `in_full` tells which of the two it is."""
    array = np.asarray(array)
    if array.size == 0:
        return ["empty"]
    if array.size <= (SMALL if mode in ("auto", True) else 64 if mode == "full" else 0):
        return value_lines(array, scale)
    if mode == "full":  # NumPy elides the middle of big arrays: a label stays a line
        text = np.array2string(array, precision=4, separator=", ", threshold=64, edgeitems=2)
        return [" ".join(text.split())]
    if array.dtype.kind == "b":
        return [f"{int(array.sum())} of {array.size} true"]
    values = denoise(array.astype(np.float64), scale)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return ["no finite values"]
    cells = [format_number(finite.min()), format_number(finite.mean()), format_number(finite.max())]
    bad = values.size - finite.size
    if bad:
        cells[2] += f" ({bad} nan/inf)"
    return cells


def format_array(array: Any, mode: Any = "auto", scale: float | None = None) -> str:
    """A tensor's values on one line: in full when small (or mode='full'), else
    min / mean / max (mode='summary' always summarizes)."""
    cells = value_cells(array, mode, scale)
    if in_full(array, mode) or len(cells) != 3:
        return "".join(cells)
    return f"min {cells[0]}  mean {cells[1]}  max {cells[2]}"


def format_value(array: Any, scale: float | None = None) -> str:
    """One number (a one-element tensor) or a tensor on one line, noise as 0."""
    array = denoise(array, scale)
    return format_number(array.item()) if array.size == 1 else format_array(array)


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
