"""Reductions: sum, max, min over an axis (int, tuple or None), `unbroadcast`, and the
row reductions the softmax family and the losses share (`reduced_along`)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..backend import array_module, as_array
from ..engine import Function, is_grad_enabled
from .domain import Picker, Sample, reduce_domain


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum `grad` back down to `shape`, undoing NumPy broadcasting.

    The one place where broadcast inputs get their gradients reduced: a value
    that was broadcast to many positions receives the sum of their gradients.
    """
    if grad.data.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, side in enumerate(shape) if side == 1 and grad.shape[extra + i] != 1
    )
    if not is_grad_enabled():  # not recorded: the sum on the array, without two ops
        g = grad.data
        return grad.wrap(as_array(g.sum(axis=axes, keepdims=True) if axes else g).reshape(shape))
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def kept_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """`shape` with the reduced axes set to 1 (the keepdims shape)."""
    if axis is None:
        return (1,) * len(shape)
    given = axis if isinstance(axis, tuple) else (axis,)
    axes = {a % len(shape) for a in given} if shape else set()
    return tuple(1 if i in axes else side for i, side in enumerate(shape))


def reduced_size(shape: tuple[int, ...], axis: Any) -> int:
    """How many values a reduction over `axis` (None, an int or a tuple) takes in."""
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))


def as_kept(kept: Any, axis: Any, keepdims: bool) -> Any:
    """A reduction computed with its reduced axes kept (as size 1), as asked: as it is
    with keepdims, else with those axes dropped (all of them for axis=None)."""
    if keepdims:
        return kept
    return kept.squeeze(axis=tuple(range(kept.ndim)) if axis is None else axis)


def row_reduced(x: Any, how: str) -> Any:
    """x.max, x.min or x.sum over axis 1 of (rows, classes) x, as a (rows, 1) column.
    NumPy reduces a short last axis one row at a time; along axis 0 of the transposed copy
    it goes a whole row of the copy at once (measured on 128 x 10 float32 logits: max 7.5
    -> 3.7 us, sum 4.5 -> 3.5 us; no gain for max or min past about 32 classes or for sum
    past about 16, where the copy costs more)."""
    rows, classes = x.shape
    if type(x) is np.ndarray and rows > classes and classes <= (16 if how == "sum" else 32):
        reduced = getattr(np.ascontiguousarray(x.T), how)(axis=0)
        return reduced.reshape(rows, 1)
    return getattr(x, how)(axis=1, keepdims=True)


def reduced_along(x: Any, how: str, axis: Any) -> Any:
    """x.max, x.min or x.sum along `axis` (an int, a tuple or None), kept as axes of size
    1; along the last axis of a C-ordered array, through row_reduced (NumPy's row-by-row
    loop avoided)."""
    if type(axis) is int and x.ndim >= 2 and axis % x.ndim == x.ndim - 1 and (
            x.ndim == 2 or x.flags.c_contiguous):
        rows = row_reduced(x.reshape(-1, x.shape[-1]), how)
        return rows if x.ndim == 2 else rows.reshape(x.shape[:-1] + (1,))
    return getattr(x, how)(axis=axis, keepdims=True)


class Sum(Function):
    """d(sum x)/dx_i = 1: the gradient is copied to every summed element."""

    reads_inputs = False  # backward needs only the input's shape

    def forward(ctx, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        return as_array(x.sum(axis=axis, keepdims=keepdims))

    def backward(ctx, grad: Any) -> Any:
        (x,) = ctx.parents
        kept = kept_shape(x.shape, ctx.params["axis"])
        if not is_grad_enabled():  # not recorded: the same view, without two Tensor ops
            g = grad.data.reshape(kept)
            return grad.wrap(array_module(g).broadcast_to(g, x.shape))
        return grad.reshape(kept).expand(x.shape)

    domain = reduce_domain(lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims))


class _Extremum(Function):
    """Shared by Max and Min: d(max x)/dx_i = 1/k for the k elements equal to the
    maximum, 0 elsewhere (ties share the gradient evenly, as torch.amax)."""

    reduce_fn: ClassVar[str] = "max"  # the array method

    def forward(ctx, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        out = as_kept(reduced_along(x, ctx.reduce_fn, axis), axis, keepdims)
        # the ties are counted by backward, from x and this output (as PyTorch): a
        # reduction that is never differentiated pays for the reduction alone (amax(1) of
        # 128 x 10 float32: 15.4 -> 4.3 us)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad: Any) -> Any:
        (x,) = ctx.parents
        (out,) = ctx.saved_arrays
        axis = ctx.params["axis"]
        kept = kept_shape(x.shape, axis)
        winners = x.data == out.reshape(kept)
        with np.errstate(invalid="ignore"):  # a nan maximum has no winner: 0 / 0 = nan
            share = grad.wrap(winners / winners.sum(axis=axis, keepdims=True))
        return grad.reshape(kept).expand(x.shape) * share


class Max(_Extremum):
    """d(max x)/dx_i = 1/k where x_i is one of k tied maxima, else 0."""

    reduce_fn = "max"

    # distinct values: max and min are only differentiable where there is no tie
    domain = reduce_domain(lambda x, axis, keepdims: x.amax(axis=axis, keepdims=keepdims),
                           distinct=True)


class Min(_Extremum):
    """d(min x)/dx_i = 1/k where x_i is one of k tied minima, else 0."""

    reduce_fn = "min"

    domain = reduce_domain(lambda x, axis, keepdims: x.amin(axis=axis, keepdims=keepdims),
                           distinct=True)


class Cumsum(Function):
    """d cumsum(x)/dx_i = the sum of the gradient from position i to the end
    (a cumulative sum of the reversed gradient, reversed back)."""

    reads_inputs = False

    def forward(ctx, x: np.ndarray, axis: int = 0) -> np.ndarray:
        if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
            raise IndexError(
                f"cumsum: dim {axis} is out of range for a tensor with {x.ndim} dims"
            )
        if not x.ndim:
            return x.copy()
        if x.dtype == np.float16:  # running sums in float32, as PyTorch's (float16's
            # spacing is 1/64 at 16: a long float16 running sum drifted by a few percent)
            return x.cumsum(axis=axis, dtype=np.float32).astype(np.float16)
        return x.cumsum(axis=axis)

    def backward(ctx, grad: Any) -> Any:
        if grad.ndim == 0:
            return grad
        axis = ctx.params["axis"] % grad.ndim
        return grad.flip(axis).cumsum(axis).flip(axis)

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=1)
        axis = pick.integer(-len(shape), len(shape) - 1)
        return Sample((pick.values(shape),), lambda x: x.cumsum(axis))


class Prod(Function):
    """d prod(x)/dx_i = the product of the other elements: prod / x_i where x_i != 0;
    at a single zero, the product of the rest; 0 where the slice has two zeros."""

    def forward(ctx, x: np.ndarray, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
        return x.prod(axis=axis, keepdims=keepdims)

    def backward(ctx, grad: Any) -> Any:
        (x,) = ctx.parents
        axis = ctx.params["axis"]
        if not ctx.params["keepdims"]:
            grad = grad.reshape(kept_shape(x.shape, axis))
        zero = x.data == 0
        zeros = zero.sum(axis=axis, keepdims=True)
        nonzero = x.where(~zero, 1.0)  # zeros replaced by 1: their product is the rest's
        rest = Prod.apply(nonzero, axis=axis, keepdims=True)
        # per element, the product of the others in its slice
        alone = zero & (zeros == 1)  # the slice's only zero: the rest's product
        no_zero = ~zero & (zeros == 0)  # a slice without zeros: prod / x_i
        others = rest.where(alone, 0.0) + (rest / nonzero).where(no_zero, 0.0)
        return grad * others

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=0, max_dims=2, max_side=3)
        axis = None if pick.boolean() or not shape else pick.integer(-len(shape), len(shape) - 1)
        keepdims = pick.boolean()
        values = pick.values(shape, 0.5, 1.5) * np.where(pick.mask(shape), 1.0, -1.0)
        return Sample((values,), lambda x: x.prod(axis, keepdims=keepdims))
