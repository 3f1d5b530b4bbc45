"""The functions PyTorch users call on the torch module (torch.max(x, 1), torch.exp(x),
torch.einsum(...)), each a thin call of the Tensor method with PyTorch's argument order.

Exported from the package; several names (max, min, sum, abs) shadow builtins here,
so this file never uses those builtins itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .einsum import einsum
from .tensor import Tensor


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:  # noqa: A002 (PyTorch's argument names, throughout)
    return input.numel()


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """torch.max: the largest value, (values, indices) along dim, or an elementwise max."""
    return input.max(dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return input.min(dim, keepdim)


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return input.amax(None if dim == () else dim, keepdim)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return input.amin(None if dim == () else dim, keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return input.argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return input.argmin(dim, keepdim)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return input.sum(dim, keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return input.mean(dim, keepdim)


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: int | None = None) -> Tensor:
    return input.var(dim, unbiased, keepdim, correction=correction)


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: int | None = None) -> Tensor:
    return input.std(dim, unbiased, keepdim, correction=correction)


def exp(input: Tensor) -> Tensor:
    return input.exp()


def log(input: Tensor) -> Tensor:
    return input.log()


def sqrt(input: Tensor) -> Tensor:
    return input.sqrt()


def abs(input: Tensor) -> Tensor:  # noqa: A001
    return input.abs()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def relu(input: Tensor) -> Tensor:
    return input.relu()


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return input.clamp(min, max)


clip = clamp


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return input @ other


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The matrix product of two 2-d tensors (no broadcasting, as torch.mm)."""
    return input.mm(mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix products of two 3-d tensors with the same batch size."""
    return input.bmm(mat2)


def sign(input: Tensor) -> Tensor:
    return input.sign()


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    return input.prod(dim, keepdim, dtype=dtype)


def remainder(input: Any, other: Any) -> Tensor:
    return input % other


def floor_divide(input: Any, other: Any) -> Tensor:
    return input // other


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return (input if dtype is None else input.cast(dtype)).softmax(dim)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return (input if dtype is None else input.cast(dtype)).log_softmax(dim)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


def reshape(input: Tensor, shape: Any) -> Tensor:
    return input.reshape(shape)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return input.transpose(dim0, dim1)


def permute(input: Tensor, dims: Any) -> Tensor:
    return input.permute(dims)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    return input.squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return input.unsqueeze(dim)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> Any:  # noqa: A002
    return input.topk(k, dim, largest, sorted)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    return input.sort(dim, descending, stable)


def argsort(input: Tensor, dim: int = -1, descending: bool = False,
            stable: bool = False) -> Tensor:
    return input.argsort(dim, descending, stable)


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    return input.gather(dim, index)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return input.scatter_add(dim, index, src)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    return input.cumsum(dim, dtype=dtype)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    return input.norm(p, dim, keepdim)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return input.tril(diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return input.triu(diagonal)


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    return input.masked_fill(mask, value)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    return input.chunk(chunks, dim)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    return tensor.split(split_size_or_sections, dim)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when |input - other| <= atol + rtol * |other| everywhere (as torch.allclose)."""
    return bool(np.allclose(np.asarray(input), np.asarray(other), rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and the same elements."""
    return input.shape == other.shape and bool(np.array_equal(input.data, other.data))


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return input.logsumexp(dim, keepdim)


def flip(input: Tensor, dims: Any) -> Tensor:
    return input.flip(dims)


def hstack(tensors: Any) -> Tensor:
    """Join along axis 1 (axis 0 for 1-d tensors), as torch.hstack."""
    if not tensors:
        raise ValueError("hstack: expected a non-empty sequence of tensors")
    axis = 0 if tensors[0].ndim == 1 else 1
    return tensors[0].cat(list(tensors[1:]), axis=axis)


def vstack(tensors: Any) -> Tensor:
    """Join along axis 0, 0-d and 1-d tensors first made rows (1, n), as torch.vstack."""
    if not tensors:
        raise ValueError("vstack: expected a non-empty sequence of tensors")
    rows = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    return rows[0].cat(rows[1:], axis=0)


def t(input: Tensor) -> Tensor:
    return input.t()


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    return input.movedim(source, destination)


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    return input.transpose(axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return input.transpose(dim0, dim1)


def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:
    return input.unflatten(dim, sizes)


def ravel(input: Tensor) -> Tensor:
    return input.reshape(-1)


def tile(input: Tensor, dims: Any) -> Tensor:
    return input.tile(dims)


def broadcast_to(input: Tensor, size: Any) -> Tensor:
    return input.broadcast_to(size)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    return input.select(dim, index)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """The tensors expanded to their common broadcast shape (views, as torch's)."""
    try:
        shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    except ValueError:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise RuntimeError(f"broadcast_tensors: shapes {shapes} cannot be broadcast "
                           "together") from None
    return tuple(t.expand(shape) for t in tensors)


def _at_least(rank: int, tensors: tuple) -> Any:
    """Each tensor with at least `rank` dims (new size-1 dims as NumPy adds them); one
    tensor back for one argument, a tuple for several or for a sequence."""
    many = len(tensors) != 1 or isinstance(tensors[0], (tuple, list))
    items = tensors[0] if len(tensors) == 1 and many else tensors
    shaped = []
    for x in items:
        if x.ndim >= rank:
            shaped.append(x)
        elif rank == 1 or x.ndim == 0:
            shaped.append(x.reshape((1,) * rank))
        elif rank == 2:  # 1-d: one row
            shaped.append(x.reshape(1, -1))
        else:  # rank 3 from 1-d (1, n, 1) or 2-d (m, n, 1), as NumPy
            shaped.append(x.reshape(1, -1, 1) if x.ndim == 1 else x.unsqueeze(-1))
    return tuple(shaped) if many else shaped[0]


def atleast_1d(*tensors: Any) -> Any:
    return _at_least(1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    return _at_least(2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    return _at_least(3, tensors)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-d tensors: with indexing 'ij' (the default, as PyTorch)
    grid k varies along dim k; with 'xy' the first two dims are swapped (NumPy's)."""
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)) \
        else tensors
    mode = "ij" if indexing is None else indexing
    if mode not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for x in items:
        if x.ndim > 1:
            raise RuntimeError(f"meshgrid: expects 0-d or 1-d tensors, got shape "
                               f"{tuple(x.shape)}")
    vectors = [x.reshape(-1) for x in items]
    if mode == "xy" and len(vectors) >= 2:
        vectors[0], vectors[1] = vectors[1], vectors[0]
    shape = tuple(v.shape[0] for v in vectors)
    grids = []
    for k, v in enumerate(vectors):
        along = [1] * len(vectors)
        along[k] = shape[k]
        grids.append(v.reshape(tuple(along)).expand(shape))
    if mode == "xy" and len(grids) >= 2:  # the grids of the swapped pair, swapped back
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


__all__ = [
    "is_tensor", "numel", "max", "min", "amax", "amin", "argmax", "argmin", "sum", "mean",
    "var", "std", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clamp", "clip",
    "matmul", "mm", "bmm", "softmax", "log_softmax", "flatten", "reshape", "transpose",
    "permute", "squeeze", "unsqueeze", "topk", "sort", "argsort", "gather", "scatter_add",
    "cumsum", "norm", "tril", "triu", "masked_fill", "chunk", "split", "allclose", "equal",
    "einsum", "logsumexp", "flip", "hstack", "vstack", "t", "movedim", "moveaxis",
    "swapaxes", "swapdims", "unflatten", "ravel", "tile", "broadcast_to", "select",
    "broadcast_tensors", "atleast_1d", "atleast_2d", "atleast_3d", "meshgrid",
]
