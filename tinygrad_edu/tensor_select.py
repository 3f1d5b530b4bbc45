"""Tensor methods (and torch.* functions) that pick or rearrange elements:
index_select, narrow, unbind, diagonal, diag, roll, repeat_interleave, cumprod,
and the non-differentiable nonzero, unique, bincount.

The differentiable ones are indexing, slicing, cat and multiplication, so their
gradients come from those (indexing's backward adds into the picked places).
Functions of a Tensor bound as methods in tensor.py; tensor.py imports this file,
so new tensors come from `x.wrap(array)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .backend import array_module, to_host
from .tensor_shape import check_dim

if TYPE_CHECKING:
    from .tensor import Tensor


def _along(dim: int, index: Any) -> tuple:
    """An index that applies `index` to axis `dim` and keeps the others whole."""
    return (slice(None),) * dim + (index,)


def _indices(name: str, index: Any) -> Any:
    values = index.data if hasattr(index, "data") else np.asarray(index)
    if values.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got dtype {values.dtype}")
    return values


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002
    """The entries at the 1-d integer `index` along `dim` (repeats allowed)."""
    dim = check_dim("index_select", dim, input.shape)
    values = _indices("index_select", index)
    if values.ndim > 1:
        raise ValueError(f"index_select: index must be 0-d or 1-d, got shape {values.shape}")
    size = input.shape[dim]
    if values.size and (values.min() < -size or values.max() >= size):
        raise IndexError(f"index_select: index values from {int(values.min())} to "
                         f"{int(values.max())} are out of range for axis {dim} of size {size} "
                         f"(input shape {tuple(input.shape)})")
    return input[_along(dim, values.reshape(-1))]


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """The `length` entries from `start` along `dim` (a slice, so a view's gradient)."""
    dim = check_dim("narrow", dim, input.shape)
    size = input.shape[dim]
    start = int(start) + (size if int(start) < 0 else 0)
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexError(f"narrow: start={start} and length={length} do not fit in axis "
                         f"{dim} of size {size} (input shape {tuple(input.shape)})")
    return input[_along(dim, slice(start, start + int(length)))]


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """The slices along `dim`, that axis removed, as a tuple."""
    dim = check_dim("unbind", dim, input.shape)
    return tuple(input[_along(dim, i)] for i in range(input.shape[dim]))


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The entries (i, i + offset) of the planes dim1 x dim2, as a new last axis."""
    if input.ndim < 2:
        raise ValueError(f"diagonal: expected at least 2 dims, got shape {tuple(input.shape)}")
    d1, d2 = check_dim("diagonal", dim1, input.shape), check_dim("diagonal", dim2, input.shape)
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, both are {d1}")
    rest = [d for d in range(input.ndim) if d not in (d1, d2)]
    planes = input.permute(*rest, d1, d2)
    rows, cols = input.shape[d1], input.shape[d2]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    i = np.arange(length)
    return planes[(Ellipsis, i - min(offset, 0), i + max(offset, 0))]


take_diagonal = diagonal  # diag's parameter `diagonal` (PyTorch's name) hides the function


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-d input as the `diagonal`-th diagonal of a square matrix (zeros elsewhere);
    a 2-d input's `diagonal`-th diagonal as a 1-d tensor."""
    if input.ndim == 2:
        return take_diagonal(input, diagonal)
    if input.ndim != 1:
        raise ValueError(f"diag: expected a 1-d or 2-d input, got shape {tuple(input.shape)}")
    n, k = input.shape[0], abs(diagonal)
    eye = input.wrap(array_module(input.data).eye(n, dtype=input.dtype))
    square = input.reshape(n, 1) * eye
    if k == 0:
        return square
    # the n x n block moves up-right (k > 0) or down-left (k < 0) in the bigger matrix
    widths = ((0, k), (k, 0)) if diagonal > 0 else ((k, 0), (0, k))
    return square.pad(widths)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    """Elements shifted by `shifts` along `dims`, wrapping around (without dims, over
    the flattened tensor, shape kept)."""
    if dims is None:
        if isinstance(shifts, (tuple, list)) and len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int, got {shifts!r}")
        shift = shifts[0] if isinstance(shifts, (tuple, list)) else shifts
        return roll(input.reshape(-1), shift, 0).reshape(input.shape)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    out = input
    for shift, dim in zip(shifts, dims):
        axis = check_dim("roll", dim, input.shape)
        size = input.shape[axis]
        cut = (-int(shift)) % size if size else 0
        if cut:
            out = out[_along(axis, slice(cut, None))].cat([out[_along(axis, slice(0, cut))]],
                                                          axis=axis)
    return out


def repeat_interleave(input: Tensor, repeats: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    """Each element (or each slice along `dim`) repeated `repeats` times in place:
    [a, b] -> [a, a, b, b]; repeats may be one count per entry."""
    x = input.reshape(-1) if dim is None else input
    axis = 0 if dim is None else check_dim("repeat_interleave", dim, input.shape)
    counts = to_host(repeats.data) if hasattr(repeats, "data") else np.asarray(repeats)
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be a non-negative int or 1-d "
                         f"integer tensor, got {repeats!r}")
    size = x.shape[axis]
    if counts.ndim == 1 and counts.size not in (1, size):
        raise ValueError(f"repeat_interleave: repeats has {counts.size} counts but axis "
                         f"{axis} has {size} entries (input shape {tuple(input.shape)})")
    picks = np.repeat(np.arange(size), counts.reshape(-1) if counts.ndim else int(counts))
    return x[_along(axis, picks)]


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running products along `dim`, one multiplication per step, so the gradient is
    right also where an entry is 0 (exp(cumsum(log)) would not be)."""
    x = input if dtype is None else input.to(dtype)
    axis = check_dim("cumprod", dim, x.shape)
    if x.shape[axis] == 0:
        return x
    running = x[_along(axis, slice(0, 1))]
    parts = [running]
    for i in range(1, x.shape[axis]):
        running = running * x[_along(axis, slice(i, i + 1))]
        parts.append(running)
    return parts[0].cat(parts[1:], axis=axis)


# -- not differentiable: the results are indices and counts ------------------------


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """The indices of the non-zero entries: an int64 (count, ndim) tensor, or with
    as_tuple one 1-d tensor per axis."""
    xp = array_module(input.data)
    found = xp.argwhere(input.data).astype(np.int64)
    if as_tuple:
        if input.ndim == 0:
            return (input.wrap(found.reshape(-1)),)
        return tuple(input.wrap(found[:, i].copy()) for i in range(input.ndim))
    return input.wrap(found)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values, sorted (always, as PyTorch on the CPU), and optionally the
    index of each input element in them and how often each occurs."""
    if dim is not None:
        raise NotImplementedError("unique: dim is not supported; unique of the flattened "
                                  "tensor only")
    values, inverse, counts = np.unique(to_host(input.data), return_inverse=True,
                                        return_counts=True)
    out = [input.wrap(_same_device(input, values))]
    if return_inverse:
        out.append(input.wrap(_same_device(input, inverse.reshape(input.shape)
                                           .astype(np.int64))))
    if return_counts:
        out.append(input.wrap(_same_device(input, counts.astype(np.int64))))
    return out[0] if len(out) == 1 else tuple(out)


def _same_device(input: Tensor, array: np.ndarray) -> Any:
    if type(input.data) is np.ndarray:
        return array
    return input.new_tensor(array).data


def bincount(input: Tensor, weights: Any = None, minlength: int = 0) -> Tensor:  # noqa: A002
    """How often each value 0, 1, ... occurs in a 1-d non-negative integer tensor (or
    the summed weights of its occurrences), at least minlength long."""
    values = to_host(input.data)
    if input.ndim != 1 or values.dtype.kind not in "iu" or (values < 0).any():
        raise ValueError(f"bincount: expected a 1-d tensor of non-negative integers, got "
                         f"shape {tuple(input.shape)} and dtype {input.dtype}")
    if weights is None:
        return input.wrap(_same_device(input, np.bincount(values, minlength=minlength)
                                       .astype(np.int64)))
    w = to_host(weights.data) if hasattr(weights, "data") else np.asarray(weights)
    if w.shape != values.shape:
        raise ValueError(f"bincount: weights of shape {w.shape} must have the input's shape "
                         f"{values.shape}")
    dtype = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    counted = np.bincount(values, weights=w, minlength=minlength).astype(dtype)
    return input.wrap(_same_device(input, counted))
