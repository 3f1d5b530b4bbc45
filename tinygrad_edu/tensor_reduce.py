"""PyTorch's max/min (one name, three meanings) and norm, as Tensor methods.

max() is the largest value (ties share the gradient, as amax); max(dim) is
(values, indices) with the gradient to the selected element only; max(other)
is the elementwise maximum. norm builds every p from abs, pow, sum and amax.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .backend import array_module, like
from .ops.nn_ops import Norm
from .tensor_shape import check_dim
from .tensor_sort import ValuesIndices, extremum_along

if TYPE_CHECKING:
    from .tensor import Tensor


def _extremum(op: str, x: Tensor, dim: Any, keepdim: bool, axis: Any, keepdims: Any,
              largest: bool) -> Tensor | ValuesIndices:
    if axis is not None:  # NumPy's spellings, accepted as PyTorch does
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if dim is None:
        return x.amax() if largest else x.amin()
    if hasattr(dim, "shape") and hasattr(dim, "grad_fn"):  # another tensor
        return x.maximum(dim) if largest else x.minimum(dim)
    if isinstance(dim, (tuple, list)):
        name = "amax" if largest else "amin"
        raise TypeError(f"{op}: dim must be one int, got {dim!r}; use {name}(dim={dim!r}) to "
                        "reduce several dims")
    return extremum_along(op, x, dim, bool(keepdim), largest)


def max(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: Any = None) -> Any:
    """max(): the largest value; max(dim, keepdim=False): (values, indices);
    max(other): the elementwise maximum (as torch.max)."""
    return _extremum("max", x, dim, keepdim, axis, keepdims, largest=True)


def min(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: Any = None) -> Any:
    """min(): the smallest value; min(dim, keepdim=False): (values, indices);
    min(other): the elementwise minimum (as torch.min)."""
    return _extremum("min", x, dim, keepdim, axis, keepdims, largest=False)


def _dims(x: Tensor, dim: Any) -> Any:
    if dim is None:
        return None
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(check_dim("norm", d, x.shape) for d in dims)


def _positive_root(total: Tensor, root: Any) -> Tensor:
    """root(total) with gradient 0 where total is 0 (a zero vector), as PyTorch, instead
    of the infinite slope of the root there."""
    nonzero = total != 0  # not > 0: a nan total stays nan
    safe = total.where(nonzero, 1.0)
    return root(safe).where(nonzero, 0.0)


def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over `dim` (all elements when None): p = 'fro' or 2, 1, inf,
    -inf, 0 (the count of non-zeros) or any other number."""
    if x.dtype.kind != "f":
        raise TypeError(f"norm: expected a floating point tensor, got dtype {x.dtype}")
    axes = _dims(x, dim)
    keep = bool(keepdim)
    if p == "fro" or p == 2:
        # one op; a 0-d tensor's dim or a repeated dim keeps the error sum gave
        if axes is None or (x.ndim and len(set(axes)) == len(axes)):
            return Norm.apply(x, axis=axes, keepdims=keep)
        return _positive_root((x * x).sum(axes, keep), lambda s: s.sqrt())
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported; expected 'fro' or a number "
                         "(the nuclear norm needs an SVD, which tinygrad_edu does not have)")
    if p == math.inf:
        return x.abs().amax(axes, keep)
    if p == -math.inf:
        return x.abs().amin(axes, keep)
    if p == 1:
        return x.abs().sum(axes, keep)
    if p == 0:  # the count of non-zeros: in the graph, with gradient 0, as PyTorch
        count = x.wrap((x.data != 0).sum(axis=axes, keepdims=keep).astype(x.dtype))
        return count + x.where(np.zeros(x.shape, dtype=bool), 0.0).sum(axes, keep)
    power = x.wrap(like(np.array(p, dtype=x.dtype), x.data))
    size = x.abs()
    # |x|**p has an infinite slope at 0 for p < 1: use 0 there (!= 0, not > 0: nan stays)
    nonzero = size != 0
    total = (size.where(nonzero, 1.0) ** power).where(nonzero, 0.0).sum(axes, keep)
    return _positive_root(total, lambda s: s ** (1 / power))


# -- NaN-aware sums and counting ----------------------------------------------------


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
           dtype: Any = None) -> Tensor:
    """The sum with nan counted as 0; the gradient is 0 at the nans (as PyTorch)."""
    x = input if dtype is None else input.to(dtype)
    if x.dtype.kind != "f":
        return x.sum(dim, keepdim)
    return x.where(x.wrap(~array_module(x.data).isnan(x.data)), 0.0).sum(dim, keepdim)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """The mean of the values that are not nan; nan where a slice has none (its
    gradient is then 0, where PyTorch's is nan)."""
    x = input if dtype is None else input.to(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"nanmean: expected a floating point tensor, got dtype {x.dtype}")
    xp = array_module(x.data)
    kept = ~xp.isnan(x.data)
    axes = None if dim is None else tuple(dim) if isinstance(dim, (tuple, list)) else dim
    count = kept.sum(axis=axes, keepdims=bool(keepdim)).astype(x.dtype)
    total = x.where(x.wrap(kept), 0.0).sum(dim, keepdim)
    empty = count == 0
    if not bool(empty.any()):
        return total / x.wrap(count)
    # no division by 0 (nor its warning, forward or backward): 1 there, then nan
    return (total / x.wrap(xp.where(empty, 1, count))).where(x.wrap(~empty), math.nan)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    """How many elements are not zero, over `dim` (an int or a tuple; all by default),
    as an int64 tensor."""
    axes = None if dim is None else tuple(dim) if isinstance(dim, (tuple, list)) else dim
    if axes is not None:
        for axis in axes if isinstance(axes, tuple) else (axes,):
            check_dim("count_nonzero", axis, input.shape)
    counts = (input.data != 0).sum(axis=axes)
    return input.wrap(array_module(input.data).asarray(counts, dtype=np.int64))
