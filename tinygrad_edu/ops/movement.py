"""Movement primitives: they move numbers around without arithmetic.

Each backward is another movement: reshape undoes reshape, permute undoes
permute, expand's backward is a sum, indexing's backward scatters (and the
scatter's backward is indexing), pad's backward slices, cat's and stack's backward split.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import add_at, array_module, as_array, backend_of, is_array, transfer
from ..engine import Function, is_grad_enabled
from .domain import Picker, Sample
from .reduce import unbroadcast


class Reshape(Function):
    """d reshape(x)/dx: the gradient is reshaped back to x's shape."""

    returns_view = True
    reads_inputs = False

    def forward(ctx, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                f"into shape {shape}"
            ) from None

    def backward(ctx, grad: Any) -> Any:
        shape = ctx.parents[0].shape
        # the op itself, not the binding: the shape is known good
        return grad if grad.shape == shape else Reshape.apply(grad, shape=shape)

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(max_dims=4)
        target = tuple(pick.permutation(len(shape)))
        new_shape = tuple(shape[i] for i in target)  # same size, different layout
        if new_shape == shape:  # the binding skips a reshape to the same shape
            new_shape = shape + (1,)
        if pick.boolean() and new_shape:
            new_shape = (-1,) + new_shape[1:]
        return Sample((pick.values(shape),), lambda x: x.reshape(new_shape))


class Permute(Function):
    """d permute(x, dims)/dx: the gradient is permuted by the inverse permutation."""

    returns_view = True
    reads_inputs = False

    def forward(ctx, x: np.ndarray, dims: tuple[int, ...] = ()) -> np.ndarray:
        rank = x.ndim
        if len(dims) != rank or len({d % max(rank, 1) for d in dims}) != rank:
            raise ValueError(
                f"permute: dims {dims} are not a permutation of the {x.ndim} axes "
                f"of a tensor of shape {x.shape}"
            )
        return x.transpose(dims)

    def backward(ctx, grad: Any) -> Any:
        dims = ctx.params["dims"]
        inverse = [0] * len(dims)
        for i, d in enumerate(dims):
            inverse[d % len(dims)] = i
        return Permute.apply(grad, dims=tuple(inverse))  # a known good permutation

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(max_dims=4)
        dims = pick.permutation(len(shape))
        return Sample((pick.values(shape),), lambda x: x.permute(*dims))


class Expand(Function):
    """d expand(x)/dx: the gradients of all copies of an element are summed."""

    returns_view = True
    reads_inputs = False

    def forward(ctx, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        try:
            return array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise ValueError(
                f"expand: cannot expand shape {x.shape} to {shape}: each axis must "
                "match or be 1, and new axes go in front"
            ) from None

    def backward(ctx, grad: Any) -> Any:
        return unbroadcast(grad, ctx.parents[0].shape)

    @staticmethod
    def domain(pick: Picker) -> Sample:
        target = pick.shape(min_dims=1)
        shape = pick.broadcastable(target)
        full = np.broadcast_shapes(shape, target)
        if full == shape:  # the binding skips an expand to the same shape
            full = (2,) + full
        return Sample((pick.values(shape),), lambda x: x.expand(full))


def _is_advanced(index: Any) -> bool:
    """True when the index holds an array (advanced indexing can repeat elements)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(is_array(p) for p in parts)


class GetItem(Function):
    """d x[index]/dx: the gradient is scattered back to the indexed positions,
    adding where an index repeats."""

    returns_view = True
    reads_inputs = False

    def forward(ctx, x: np.ndarray, index: Any = None) -> np.ndarray:
        try:
            return as_array(x[index])
        except IndexError as error:
            raise IndexError(f"getitem: {error} (tensor shape {x.shape})") from None

    def backward(ctx, grad: Any) -> Any:
        # the op's own index, already an array on the device: no copy (Tensor's entry
        # points copy an index that a user could change later)
        return ScatterAdd.apply(grad, shape=tuple(ctx.parents[0].shape),
                                index=ctx.params["index"])

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=1)
        index = _pick_index(pick, shape)
        return Sample((pick.values(shape),), lambda x: x[index])


class ScatterAdd(Function):
    """zeros(shape) with x added at `index`: the adjoint of indexing, so
    d scatter(x)/dx = indexing the gradient with the same index."""

    reads_inputs = False

    def forward(ctx, x: np.ndarray, shape: tuple[int, ...] = (), index: Any = None) -> np.ndarray:
        out = array_module(x).zeros(shape, dtype=x.dtype)
        if _is_advanced(index):
            add_at(out, index, x)  # repeated indices accumulate
        else:
            out[index] = x  # basic indexing never repeats an element
        return out

    def backward(ctx, grad: Any) -> Any:
        return GetItem.apply(grad, index=ctx.params["index"])  # the op's own index

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=1)
        index = _pick_index(pick, shape)
        values_shape = np.zeros(shape)[index].shape
        return Sample(
            (pick.values(values_shape),), lambda v: v.scatter_add_into(shape, index)
        )


def _pick_index(pick: Picker, shape: tuple[int, ...]) -> Any:
    """An index of every kind getitem supports, valid for `shape`."""
    kind = pick.choice(("int", "slice", "none", "ellipsis", "array", "mask"))
    first = shape[0]
    if kind == "int":
        return pick.integer(-first, first - 1)
    if kind == "slice":
        start = pick.integer(0, first - 1)
        return (slice(start, None, pick.integer(1, 2)),) + (slice(None),) * (len(shape) - 1)
    if kind == "none":
        return (None, slice(None), None)
    if kind == "ellipsis":
        return (Ellipsis, pick.integer(0, shape[-1] - 1))
    if kind == "array":  # repeats on purpose: their gradients must add up
        count = pick.integer(1, 5)
        return np.array([pick.integer(0, first - 1) for _ in range(count)])
    return pick.mask(shape)


class Pad(Function):
    """d pad(x)/dx: the gradient of the padded tensor, sliced back to x's place."""

    reads_inputs = False

    def forward(
        ctx, x: np.ndarray, widths: tuple[tuple[int, int], ...] = (), value: float = 0.0
    ) -> np.ndarray:
        if len(widths) != x.ndim or any(b < 0 or a < 0 for b, a in widths):
            raise ValueError(
                f"pad: need one non-negative (before, after) pair per axis of a tensor "
                f"of shape {x.shape}, got {widths}"
            )
        return array_module(x).pad(x, widths, constant_values=value)

    def backward(ctx, grad: Any) -> Any:
        widths = ctx.params["widths"]
        return grad[tuple(slice(b, side - a) for (b, a), side in zip(widths, grad.shape))]

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=1)
        widths = tuple((pick.integer(0, 2), pick.integer(0, 2)) for _ in shape)
        return Sample((pick.values(shape),), lambda x: x.pad(widths, value=0.5))


class Cat(Function):
    """d cat(xs)/dx_i: the slice of the gradient where x_i was placed."""

    reads_inputs = False

    def forward(ctx, *xs: np.ndarray, axis: int = 0) -> np.ndarray:
        return array_module(xs[0]).concatenate(xs, axis=axis)

    def backward(ctx, grad: Any) -> tuple:
        axis = ctx.params["axis"] % grad.ndim
        grads, start = [], 0
        for needed, x in zip(ctx.needs_input_grad, ctx.parents):
            stop = start + x.shape[axis]
            index = (slice(None),) * axis + (slice(start, stop),)
            # slices only: the op, without the binding's index conversion
            grads.append(GetItem.apply(grad, index=index) if needed else None)
            start = stop
        return tuple(grads)

    @staticmethod
    def domain(pick: Picker) -> Sample:
        from_shape = pick.shape(min_dims=1)
        axis = pick.integer(-len(from_shape), len(from_shape) - 1)
        count = pick.integer(1, 3)
        shapes = []
        for _ in range(count):
            shape = list(from_shape)
            shape[axis] = pick.integer(1, 3)
            shapes.append(tuple(shape))
        inputs = tuple(pick.values(s) for s in shapes)
        return Sample(inputs, lambda *xs: xs[0].cat(xs[1:], axis=axis))


class Stack(Function):
    """d stack(xs)/dx_i: the gradient's i-th slice along the new axis. One op, not an
    unsqueeze per input and a cat (stack of two 32 x 32, forward and backward: 7 ops)."""

    reads_inputs = False

    def forward(ctx, *xs: np.ndarray, axis: int = 0) -> np.ndarray:
        shape = xs[0].shape
        axis %= len(shape) + 1
        # concatenate of reshaped views: half of np.stack's time on small arrays
        lifted = shape[:axis] + (1,) + shape[axis:]
        return array_module(xs[0]).concatenate([x.reshape(lifted) for x in xs], axis=axis)

    def backward(ctx, grad: Any) -> tuple:
        axis = ctx.params["axis"] % grad.ndim
        lead = (slice(None),) * axis
        if not is_grad_enabled():  # not recorded: views of the gradient, no GetItem ops
            g, wrap = grad.data, grad.wrap
            return tuple(wrap(g[lead + (i,)]) if needed else None
                         for i, needed in enumerate(ctx.needs_input_grad))
        return tuple(GetItem.apply(grad, index=lead + (i,)) if needed else None
                     for i, needed in enumerate(ctx.needs_input_grad))

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape()
        axis = pick.integer(-len(shape) - 1, len(shape))
        inputs = tuple(pick.values(shape) for _ in range(pick.integer(1, 3)))
        return Sample(inputs, lambda *xs: Stack.apply(*xs, axis=axis))


class Clone(Function):
    """d clone(x)/dx = 1: a copy in fresh memory, so the gradient passes unchanged."""

    reads_inputs = False  # backward needs no input values: an in-place change later is fine

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(ctx, grad: Any) -> Any:
        return grad

    @staticmethod
    def domain(pick: Picker) -> Sample:
        return Sample((pick.values(pick.shape()),), lambda x: x.clone())


class SetItem(Function):
    """x with x[index] = v: d/dx is the gradient with the overwritten positions zeroed,
    d/dv is the gradient at those positions, summed back to v's shape."""

    reads_inputs = False

    def forward(ctx, x: np.ndarray, v: np.ndarray, index: Any = None) -> np.ndarray:
        out = x.copy()
        try:
            target = out[index]
            if v.ndim > target.ndim and all(s == 1 for s in v.shape[:v.ndim - target.ndim]):
                v = v.reshape(v.shape[v.ndim - target.ndim:])  # as PyTorch: x[1] = t of shape (1,)
            out[index] = v
        except (IndexError, ValueError) as error:
            raise type(error)(
                f"setitem: cannot assign a value of shape {v.shape} to index {index!r} "
                f"of a tensor of shape {x.shape} ({error})"
            ) from None
        return out

    def backward(ctx, grad: Any) -> tuple:
        index = ctx.params["index"]
        grad_x = grad_v = None
        if ctx.needs_input_grad[0]:
            kept = array_module(grad.data).ones(grad.shape, dtype=grad.dtype)
            kept[index] = 0
            grad_x = grad * grad.wrap(kept)
        if ctx.needs_input_grad[1]:
            shape = ctx.parents[1].shape
            picked = grad[index]
            if len(shape) > picked.ndim:  # the value had extra leading size-1 axes
                grad_v = unbroadcast(picked, shape[len(shape) - picked.ndim:]).reshape(shape)
            else:
                grad_v = unbroadcast(picked, shape)
        return grad_x, grad_v

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=1)
        kind = pick.choice(("int", "slice", "ellipsis"))  # basic indexes: no repeats
        index: Any
        if kind == "int":
            index = pick.integer(-shape[0], shape[0] - 1)
        elif kind == "slice":
            index = slice(pick.integer(0, shape[0] - 1), None)
        else:
            index = (Ellipsis, pick.integer(0, shape[-1] - 1))
        target = np.zeros(shape)[index].shape
        value_shape = pick.broadcastable(target) if target else ()

        def call(x: Any, v: Any) -> Any:
            out = x * 1.0  # a non-leaf: in-place assignment on a leaf is refused
            out[index] = v
            return out

        return Sample((pick.values(shape), pick.values(value_shape)), call)


class ToDevice(Function):
    """d to(x, device)/dx = 1: the gradient is copied back to x's device.

    The one op that copies between devices (Tensor.to, .cpu(), .cuda() call it); every
    other op refuses inputs on different devices."""

    reads_inputs = False

    def forward(ctx, x: np.ndarray, device: str = "cpu") -> np.ndarray:
        return transfer(x, device)

    def backward(ctx, grad: Any) -> Any:
        return ToDevice.apply(grad, device=backend_of(ctx.parents[0].data).name)

    @staticmethod
    def domain(pick: Picker) -> Sample:
        # there and back: the output is on the input's device, whichever that is
        def call(x: Any) -> Any:
            away = "standin" if x.device.type == "cpu" else "cpu"
            return x.to(away).to(x.device)

        return Sample((pick.values(pick.shape()),), call)
