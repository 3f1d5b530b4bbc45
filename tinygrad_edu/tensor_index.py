"""Tensor methods that pick or place elements by an index tensor: gather,
scatter_add, masked_fill. Built on the indexing primitives (GetItem scatters its
gradient back, ScatterAdd gathers it), so they need no backward of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .backend import array_module, is_array, like
from .ops.movement import GetItem, ScatterAdd
from .tensor_shape import check_dim

if TYPE_CHECKING:
    from .tensor import Tensor


def _array(value: Any, x: Tensor) -> Any:
    """An index or mask (a Tensor, an array, a list) as an array of its own on x's
    device: ops keep it for backward, and a tensor or array changed in place afterwards
    must not send the gradient elsewhere."""
    if hasattr(value, "grad_fn"):  # a Tensor
        value = value.data
    array = like(value if is_array(value) else np.asarray(value), x.data)
    return array.copy() if array is value else array


def _index_array(op: str, index: Any, x: Tensor) -> np.ndarray:
    array = _array(index, x)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: the index must hold integers (int32/int64), got dtype "
                        f"{array.dtype}")
    return array


def along(index: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """An index that takes index[i, j, ...] along `axis` and i, j, ... elsewhere (the
    position-wise selection of torch.gather), on the index's device: one broadcastable
    arange per axis (np.indices(sparse=True), which CuPy lacks)."""
    xp = array_module(index)
    ndim = index.ndim
    grids = [xp.arange(side).reshape((1,) * d + (side,) + (1,) * (ndim - d - 1))
             for d, side in enumerate(index.shape)]
    grids[axis] = index
    return tuple(grids)


def _check_index(op: str, index: np.ndarray, axis: int, dim: int, target: tuple[int, ...],
                 other: tuple[int, ...] | None = None) -> None:
    """The index must have the target's rank, fit inside it off `axis` (and inside
    `other` everywhere), and hold positions that exist along `axis`."""
    if index.ndim != len(target):
        raise RuntimeError(
            f"{op}: the index (shape {tuple(index.shape)}) must have as many dims as the "
            f"tensor (shape {tuple(target)})")
    for d, side in enumerate(index.shape):
        if (d != axis and side > target[d]) or (other is not None and side > other[d]):
            limit = f"self {tuple(target)} apart from dim {dim}"
            if other is not None:
                limit += f" and src {tuple(other)}"
            raise RuntimeError(
                f"{op}: the index of shape {tuple(index.shape)} must be no larger than "
                f"{limit}; dim {d} differs")
    if index.size and (index.min() < 0 or index.max() >= target[axis]):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(
            f"{op}: index {bad} is out of bounds for dim {dim} with size {target[axis]}")


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j] = x[index[i][j]][j] for dim 0 (and likewise for other dims)."""
    if x.ndim == 0:
        return gather(x.reshape(1), dim, x.wrap(_index_array("gather", index, x).reshape(1))
                      ).reshape(())
    axis = check_dim("gather", dim, x.shape)
    array = _index_array("gather", index, x)
    _check_index("gather", array, axis, dim, x.shape)
    return GetItem.apply(x, index=along(array, axis))


def scatter_add(x: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """x with src[i][j] added at row index[i][j] for dim 0 (and likewise for other dims);
    repeated positions add up. Only the first index.shape elements of src are used."""
    axis = check_dim("scatter_add", dim, x.shape)
    array = _index_array("scatter_add", index, x)
    if src.dtype != x.dtype:
        raise RuntimeError(f"scatter_add: src has dtype {src.dtype} but self has dtype "
                           f"{x.dtype}; they must match")
    if src.ndim != x.ndim:
        raise RuntimeError(f"scatter_add: src (shape {tuple(src.shape)}) must have as many "
                           f"dims as self (shape {tuple(x.shape)})")
    _check_index("scatter_add", array, axis, dim, x.shape, src.shape)
    if src.shape != array.shape:
        src = src[tuple(slice(0, side) for side in array.shape)]
    return x + ScatterAdd.apply(src, shape=tuple(x.shape), index=along(array, axis))


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """`value` where the bool `mask` is True, x elsewhere; mask and x broadcast."""
    mask_array = _array(mask, x)
    if mask_array.dtype != np.bool_:
        raise TypeError(f"masked_fill: the mask must be a bool tensor, got dtype "
                        f"{mask_array.dtype}")
    if hasattr(value, "ndim") and value.ndim != 0:
        raise RuntimeError(f"masked_fill: the value must be a number or a 0-d tensor, got "
                           f"shape {tuple(value.shape)}")
    try:
        np.broadcast_shapes(mask_array.shape, x.shape)
    except ValueError:
        raise RuntimeError(f"masked_fill: the mask of shape {tuple(mask_array.shape)} does "
                           f"not broadcast with the tensor's shape {tuple(x.shape)}") from None
    out = x.where(x.wrap(~mask_array), value)
    if out.dtype != x.dtype and x.dtype.kind != "f":
        out = out.cast(x.dtype)  # an int tensor stays int, as PyTorch
    return out
