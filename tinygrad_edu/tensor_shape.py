"""Tensor methods that change a tensor's shape or layout, built from movement bindings.

Functions of a Tensor (bound as methods in tensor.py); tensor.py imports this
file, so it never imports tensor.py back: new tensors come from `x.wrap(array)`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .backend import array_module, like

if TYPE_CHECKING:
    from .tensor import Tensor


def shape_args(shape: tuple, op: str = "size") -> tuple[int, ...]:
    """reshape(2, 3) and reshape((2, 3)) both mean (2, 3). Sizes must be integers (ints,
    NumPy integers, one-element integer tensors), as PyTorch: a float such as 2.5 is
    an error, not cut down to 2."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(map(operator.index, shape))
    except TypeError as error:
        raise TypeError(f"{op}: expected integer sizes, got {tuple(shape)!r} ({error})"
                        ) from None


def check_dim(op: str, dim: Any, shape: tuple[int, ...], rank: int | None = None) -> int:
    """`dim` as a non-negative axis, or an IndexError naming the op, the dim and the rank.

    A 0-d tensor accepts dims -1 and 0, as in PyTorch; `rank` overrides len(shape)
    for ops such as unsqueeze that index the result's dims.
    """
    rank = len(shape) if rank is None else rank
    low, high = -max(rank, 1), max(rank, 1) - 1
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not low <= dim <= high:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor with {rank} dims "
            f"(shape {tuple(shape)}); expected a dim in [{low}, {high}]"
        )
    return int(dim) % max(rank, 1)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the dims start_dim..end_dim (inclusive) into one."""
    shape = x.data.shape
    rank = len(shape)
    if type(start_dim) is int and type(end_dim) is int and \
            -rank <= start_dim < rank and -rank <= end_dim < rank:
        start, end = start_dim % rank, end_dim % rank  # the usual call (every model step)
    else:
        start = check_dim("flatten", start_dim, shape)
        end = check_dim("flatten", end_dim, shape)
    if not shape:
        return x.reshape(1)
    if start > end:
        raise RuntimeError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a tensor "
            f"with {len(shape)} dims (shape {shape}); expected start_dim <= end_dim"
        )
    merged = math.prod(shape[start:end + 1])
    return x.reshape(shape[:start] + (merged,) + shape[end + 1:])


def view_as(x: Tensor, other: Tensor) -> Tensor:
    return x.reshape(other.shape)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return x.expand(other.shape)


def t(x: Tensor) -> Tensor:
    """The matrix transpose; 0-d and 1-d tensors come back as they are (as torch.t)."""
    if x.ndim > 2:
        raise RuntimeError(
            f"t: expects a tensor with <= 2 dims, got {x.ndim} dims (shape "
            f"{tuple(x.shape)}); use transpose(dim0, dim1) or permute"
        )
    return x if x.ndim < 2 else x.T


def _slice_along(x: Tensor, axis: int, start: int, stop: int) -> Tensor:
    return x[(slice(None),) * axis + (slice(start, stop),)]


def split(x: Tensor, split_size: int | Sequence[int], dim: int = 0) -> tuple:
    """Pieces of `split_size` along dim (the last may be smaller), or of the listed sizes
    (Tensor.split's parameter name; torch.split calls it split_size_or_sections)."""
    axis = check_dim("split", dim, x.shape)
    if x.ndim == 0:
        raise RuntimeError("split: cannot split a 0-d tensor")
    size = x.shape[axis]
    if isinstance(split_size, (int, np.integer)):
        step = int(split_size)
        if step <= 0 and size > 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [step] * (size // step) + ([size % step] if size % step else []) if size else [0]
    else:
        sizes = [int(s) for s in split_size]
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split: the sizes {sizes} must be non-negative and add up to {size}, the "
                f"size of dim {dim} of a tensor of shape {tuple(x.shape)}"
            )
    bounds = np.cumsum([0] + sizes).tolist()
    return tuple(_slice_along(x, axis, a, b) for a, b in zip(bounds[:-1], bounds[1:]))


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most `chunks` pieces of equal size along dim (the last may be smaller)."""
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    axis = check_dim("chunk", dim, x.shape)
    if x.ndim == 0:
        raise RuntimeError("chunk: cannot chunk a 0-d tensor")
    return split(x, max(-(-x.shape[axis] // int(chunks)), 1), axis)


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor `sizes[i]` times along dim i (new leading dims when sizes is longer)."""
    reps = shape_args(sizes, "repeat")
    if len(reps) < x.ndim:
        raise RuntimeError(
            f"repeat: got {len(reps)} repeat counts {reps} for a tensor with {x.ndim} dims "
            f"(shape {tuple(x.shape)}); give at least one count per dim"
        )
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeat counts must be non-negative, got {reps}")
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    # a size-1 axis in front of each axis, expanded to the count, then merged into it
    spread = x.reshape(tuple(v for s in shape for v in (1, s)))
    tiled = spread.expand(tuple(v for r, s in zip(reps, shape) for v in (r, s)))
    return tiled.reshape(tuple(r * s for r, s in zip(reps, shape)))


def _triangle(op: str, x: Tensor, diagonal: int, lower: bool) -> Tensor:
    if x.ndim < 2:
        raise RuntimeError(
            f"{op}: expects a tensor with at least 2 dims, got shape {tuple(x.shape)}")
    rows, cols = x.shape[-2:]
    ones = np.ones((rows, cols), dtype=bool)
    keep = np.tril(ones, diagonal) if lower else np.triu(ones, diagonal)
    # where, not a product: inf outside the triangle must become 0, not nan
    zero = array_module(x.data).zeros((), dtype=x.dtype)
    return x.where(x.wrap(like(keep, x.data)), x.wrap(zero))


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (elements on and below the `diagonal`-th diagonal), zeros above."""
    return _triangle("tril", x, diagonal, lower=True)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (elements on and above the `diagonal`-th diagonal), zeros below."""
    return _triangle("triu", x, diagonal, lower=False)


def movedim(x: Tensor, source: Any, destination: Any) -> Tensor:
    """The dims `source` (an int or a sequence) moved to the positions `destination`,
    the other dims keeping their order (torch.movedim; moveaxis is its NumPy name)."""
    sources = tuple(source) if isinstance(source, (tuple, list)) else (source,)
    targets = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
    if len(sources) != len(targets):
        raise RuntimeError(f"movedim: got {len(sources)} source dims {sources} and "
                           f"{len(targets)} destination dims {targets}; expected as many")
    sources = tuple(check_dim("movedim", d, x.shape) for d in sources)
    targets = tuple(check_dim("movedim", d, x.shape) for d in targets)
    if len(set(sources)) != len(sources) or len(set(targets)) != len(targets):
        raise RuntimeError(f"movedim: repeated dim in source {sources} or destination "
                           f"{targets}")
    rest = iter(d for d in range(x.ndim) if d not in sources)
    placed = dict(zip(targets, sources))
    return x.permute(*[placed[i] if i in placed else next(rest) for i in range(x.ndim)])


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    """transpose under NumPy's name (swapdims is PyTorch's other one)."""
    return x.transpose(axis0, axis1)


def matrix_transpose(x: Tensor) -> Tensor:
    """The last two dims swapped (Tensor.mT): a batch of matrices transposed."""
    if x.ndim < 2:
        raise RuntimeError(f"mT: expects a tensor with at least 2 dims, got shape "
                           f"{tuple(x.shape)}")
    return x.transpose(-2, -1)


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Dim `dim` split into `sizes` (one of them may be -1), the inverse of flatten."""
    axis = check_dim("unflatten", dim, x.shape)
    sizes = shape_args((sizes,), "unflatten")
    known = math.prod(s for s in sizes if s != -1)
    if not sizes or sizes.count(-1) > 1 or (
            -1 not in sizes and known != x.shape[axis]) or (
            -1 in sizes and (known == 0 or x.shape[axis] % known)):
        raise RuntimeError(f"unflatten: sizes {sizes} do not split dim {dim} of size "
                           f"{x.shape[axis] if x.ndim else 1} (shape {tuple(x.shape)})")
    return x.reshape(tuple(x.shape[:axis]) + sizes + tuple(x.shape[axis + 1:]))


def ravel(x: Tensor) -> Tensor:
    """The elements as one dim (a view where the memory allows, as reshape(-1))."""
    return x.reshape(-1)


def tile(x: Tensor, dims: Sequence[int]) -> Tensor:
    """repeat, with fewer counts than dims allowed: the missing leading counts are 1."""
    reps = shape_args((dims,), "tile")
    return repeat(x, (1,) * (x.ndim - len(reps)) + reps)


def broadcast_to(x: Tensor, size: Sequence[int]) -> Tensor:
    """expand under NumPy's name: -1 keeps a dim's size."""
    return x.expand(shape_args((size,), "broadcast_to"))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """The slice at `index` along `dim`, that dim removed (x[:, index] for dim 1)."""
    axis = check_dim("select", dim, x.shape)
    if x.ndim == 0:
        raise IndexError("select: cannot select from a 0-d tensor")
    size = x.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select: index {index} is out of range for dim {dim} of size "
                         f"{size} (shape {tuple(x.shape)})")
    return x[(slice(None),) * axis + (index,)]
