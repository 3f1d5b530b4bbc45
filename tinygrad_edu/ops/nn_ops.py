"""Primitives for neural network layers, where a composite would cost measurable time
or precision (the losses are in losses.py).

Linear is x @ w.T + b in one op. As a composite (a permute, a matmul and an
add) it records 3 ops forward and 6 backward per layer, and its weight
gradient comes back as a transposed (Fortran-order) view that makes the
optimizer's in-place update slower; on a 784-128-10 MLP step (batch 128) the
fused op saves about 20% of the time (measured: 1.60 -> 1.28 ms per step).

Softmax and LogSoftmax are one op each (and NllLoss, in losses.py), for the loss of
PyTorch's MNIST example, nll_loss(log_softmax(x)): as composites (the max shifted out,
exp, sum, log; an index, a sum and a scale) it recorded 8 ops and took 125 us forward
and backward on 128 x 10 float32 logits (one thread), PyTorch 2.13 43 us; as two ops,
51 us. LogSumExp too: as 7 ops (the max, a subtraction, exp, sum, log, an addition and
a squeeze) its forward took 26.4 us and forward and backward 72.4 us on 128 x 10
float32; as one op 12.2 and 34.7 us (PyTorch 2.13's forward: 10.8 us).

BatchNorm is training-mode batch norm (the batch's statistics) with its affine map
in one op. As a composite (mean, subtract, square, mean, add, pow, multiply, and the
weight and bias) it recorded about 10 ops over the whole activation and its backward
went back through each of them: in the recipe CNN (models.cnn, batch 128, one thread)
a step took 104.6 ms, fused 80.0 ms. Its per-channel sums of products (the variance,
the weight's gradient) are BLAS dot products over a convolution's channel-major output
(channel_dots): forward and backward of the recipe CNN's two batch norms 34.0 -> 27.0 ms
(batch 128, float32, one thread, on a slower machine than the figures above).

LayerNorm is layer norm with its optional affine map in one op, for the same reason: as
a composite of 8 ops, forward and backward (of the output's sum) took 168-251 us on a
32 x 32 float32 input and 641-687 us on 128 x 512 (one thread; PyTorch 2.13: 84 and
203 us); as one op 123-138 and 271-405 us. Its variance and its backward's row sums of
products are one dot product per row (row_dots): on 128 x 512 float32, 11 us against
30 us for (a * b).sum(1).

Var, Std and Norm (the 2-norm) are one op each. As composites (var: a mean, a
subtraction, a square, a sum and a division; std adds where, sqrt, where; norm a square,
a sum and the root with its guards) they recorded 6 to 10 ops; forward and backward of
var(1), std(1) and norm() on 32 x 32 float32 took about 2x, 2.5x and 2.3x PyTorch's time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import array_module, as_array
from ..engine import Function, is_grad_enabled
from .domain import Picker, Sample
from .reduce import as_kept, kept_shape, reduced_along, reduced_size


class Linear(Function):
    """y = x @ w.T + b with w of shape (out, in): dy/dx = grad @ w,
    dy/dw = grad.T @ x (batch axes flattened), dy/db = grad summed over batch axes."""

    reads_for = ((1,), (0,), ())

    def forward(ctx, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"linear: input of shape {x.shape} does not fit weight of shape {w.shape}: "
                f"the weight is (out_features, in_features), so the input's last axis must be "
                f"{w.shape[1] if w.ndim == 2 else '?'}"
            )
        if b is not None and b.shape != (w.shape[0],):
            raise ValueError(f"linear: bias of shape {b.shape} does not match weight of shape "
                             f"{w.shape}; expected ({w.shape[0]},)")
        out = array_module(x).matmul(x, w.T)  # BLAS reads the transposed view in place, no copy
        if b is not None:
            out += b
        return out

    def backward(ctx, grad: Any) -> tuple:
        if not is_grad_enabled():  # not recorded: the same products without 5 Tensor ops
            return ctx.backward_arrays(grad)
        x, w = ctx.parents[0], ctx.parents[1]
        needs = ctx.needs_input_grad
        gx = grad @ w if needs[0] else None
        gw = None
        if needs[1]:
            # (out, N) @ (N, in): the gradient comes out C-ordered like the weight
            g2 = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = g2.T @ x2
        if len(ctx.parents) == 2:
            return gx, gw
        gb = None
        if needs[2]:
            gb = grad.sum(tuple(range(grad.ndim - 1))) if grad.ndim > 1 else grad
        return gx, gw, gb

    def backward_arrays(ctx, grad: Any) -> tuple:
        """backward's arithmetic on the arrays, for a backward pass that is not recorded
        (create_graph=False): about 40% of a small MLP's backward time was op overhead."""
        g, x, w = grad.data, ctx.parents[0].data, ctx.parents[1].data
        needs, wrap = ctx.needs_input_grad, grad.wrap
        gx = wrap(g @ w) if needs[0] else None
        gw = None
        if needs[1]:
            g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = wrap(g2.T @ x2)
        if len(ctx.parents) == 2:
            return gx, gw
        gb = None
        if needs[2]:
            gb = wrap(g.sum(axis=tuple(range(g.ndim - 1)))) if g.ndim > 1 else grad
        return gx, gw, gb

    @staticmethod
    def domain(pick: Picker) -> Sample:
        batch = pick.shape(min_dims=0, max_dims=2, max_side=3)
        n_in, n_out = pick.integer(1, 3), pick.integer(1, 3)
        x, w = pick.values(batch + (n_in,)), pick.values((n_out, n_in))
        if pick.boolean():
            return Sample((x, w, pick.values((n_out,))), lambda x, w, b: Linear.apply(x, w, b))
        return Sample((x, w), lambda x, w: Linear.apply(x, w))


def shifted_by_max(x: Any, axis: Any) -> Any:
    """x - max(x) along `axis` (a new array, exact: no rounding), in floating point: what
    softmax and log_softmax exponentiate, so that exp cannot overflow. A row of -inf
    or holding +inf becomes nan, as PyTorch's softmax gives."""
    if x.dtype.kind != "f":  # integer or bool logits: float64, as exp would give
        x = x.astype(np.float64)
    if not x.size:
        return x.copy()
    # no np.errstate around it (1.3 us on 128 x 10): inf - inf warns, as NumPy does
    return x - reduced_along(x, "max", axis)


class Softmax(Function):
    """s = exp(x - max) / sum(exp(x - max)) along `axis`: with g the output's gradient,
    dL/dx = s * (g - sum(g * s)) along the axis."""

    reads_inputs = False  # backward reads the output it saved

    def forward(ctx, x: np.ndarray, axis: Any = -1) -> np.ndarray:
        e = array_module(x).exp(shifted_by_max(x, axis))
        if e.size:
            e /= reduced_along(e, "sum", axis)
        ctx.save_for_backward(e)
        return e

    def backward(ctx, grad: Any) -> Any:
        axis = ctx.params.get("axis", -1)
        if not is_grad_enabled():  # not recorded: the same numbers on the arrays
            (s,) = ctx.saved_arrays
            g = grad.data
            gx = g - (g * s).sum(axis=axis, keepdims=True)
            gx *= s
            return grad.wrap(gx)
        (s,) = ctx.saved_tensors  # the output, in the graph: second derivatives flow
        return s * (grad - (grad * s).sum(axis, keepdims=True))

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=1, max_dims=3, max_side=3)
        axis = pick.integer(-len(shape), len(shape) - 1)
        return Sample((pick.values(shape, -3.0, 3.0),), lambda x: Softmax.apply(x, axis=axis))


class LogSoftmax(Function):
    """y = (x - max) - log(sum(exp(x - max))) along `axis`: with g the output's gradient,
    dL/dx = g - exp(y) * sum(g) along the axis (exp(y) is the softmax)."""

    reads_inputs = False  # backward reads the output it saved

    def forward(ctx, x: np.ndarray, axis: Any = -1) -> np.ndarray:
        # the shifted logits are exact and the log of the sum lies in [0, log n]: a
        # loss at logits of 1e5 is exact in float32
        xp = array_module(x)
        y = shifted_by_max(x, axis)
        if y.size:
            y -= xp.log(reduced_along(xp.exp(y), "sum", axis))
        ctx.save_for_backward(y)
        return y

    def backward(ctx, grad: Any) -> Any:
        axis = ctx.params.get("axis", -1)
        if not is_grad_enabled():  # not recorded: the same numbers on the arrays
            (y,) = ctx.saved_arrays
            g = grad.data
            return grad.wrap(g - array_module(y).exp(y) * g.sum(axis=axis, keepdims=True))
        (y,) = ctx.saved_tensors  # the output, in the graph: second derivatives flow
        return grad - y.exp() * grad.sum(axis, keepdims=True)

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=1, max_dims=3, max_side=3)
        axis = pick.integer(-len(shape), len(shape) - 1)
        return Sample((pick.values(shape, -3.0, 3.0),),
                      lambda x: LogSoftmax.apply(x, axis=axis))


class LogSumExp(Function):
    """y = log(sum(exp(x))) along `axis` (an int or a tuple): dy/dx = exp(x - y), the
    softmax of x along the axis."""

    def forward(ctx, x: np.ndarray, axis: Any = -1, keepdims: bool = False) -> np.ndarray:
        xp = array_module(x)
        if x.dtype.kind != "f":  # integer or bool input: float64, as exp would give
            x = x.astype(np.float64)
        if not x.size:  # an empty sum: log(0) = -inf
            with np.errstate(divide="ignore"):
                kept = xp.log(x.sum(axis=axis, keepdims=True))
        else:
            # the max shifted out, so that exp cannot overflow; an infinite (or nan) max is
            # not shifted out: inf stays inf, a row of -inf gives log(0) = -inf, nan stays nan
            peak = reduced_along(x, "max", axis)
            finite = xp.isfinite(peak)
            if finite.all():
                kept = xp.log(reduced_along(xp.exp(x - peak), "sum", axis))
            else:
                peak = xp.where(finite, peak, 0).astype(x.dtype)
                with np.errstate(divide="ignore", invalid="ignore"):
                    kept = xp.log(reduced_along(xp.exp(x - peak), "sum", axis))
            kept += peak
        out = as_kept(kept, axis, keepdims)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad: Any) -> Any:
        (x,) = ctx.parents
        kept = kept_shape(x.shape, ctx.params.get("axis", -1))
        if not is_grad_enabled():  # not recorded: the same numbers on the arrays
            (y,) = ctx.saved_arrays
            gx = array_module(y).exp(x.data - y.reshape(kept))
            gx *= grad.data.reshape(kept)
            return grad.wrap(gx)
        (y,) = ctx.saved_tensors  # the output, in the graph: second derivatives flow
        return (x - y.reshape(kept)).exp() * grad.reshape(kept)

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=1, max_dims=3, max_side=3)
        axis = pick.axes(len(shape))
        if axis is None:  # PyTorch asks for the dims; all of them, as a tuple
            axis = tuple(range(len(shape)))
        keepdims = pick.boolean()
        return Sample((pick.values(shape, -3.0, 3.0),),
                      lambda x: x.logsumexp(axis, keepdims=keepdims))


class BatchNorm(Function):
    """Batch norm with the batch's statistics: y = xhat * w + b per channel (axis 1),
    xhat = (x - mean) / sqrt(var + eps), mean and biased var over every other axis
    (M values per channel). With g the output's gradient, summed over those axes:
    dy/db = sum g, dy/dw = sum g * xhat, dy/dx = w / sqrt(var + eps) *
    (g - sum g / M - xhat * sum(g * xhat) / M)."""

    reads_for = ((0, 1), (0,), ())

    statistics: tuple[Any, Any]  # the batch's (mean, var), per channel, kept by forward

    def forward(ctx, x: np.ndarray, w: np.ndarray, b: np.ndarray,
                eps: float = 1e-5) -> np.ndarray:
        if x.ndim < 2 or w.shape != (x.shape[1],) or b.shape != w.shape:
            raise ValueError(f"batchnorm: expected an input (N, C, *) and a weight and bias "
                             f"of shape (C,), got {x.shape}, {w.shape} and {b.shape}")
        xp = array_module(x)
        shape = norm_axes(x)[1]
        narrow = x
        x = widened(x)
        mean, var, xhat = batch_statistics(x)
        # kept for F.batch_norm's running averages, which read them from the recorded op
        # instead of computing them again
        ctx.statistics = (mean, var)
        inv_std = 1.0 / xp.sqrt(var + x.dtype.type(eps))
        xhat *= inv_std.reshape(shape)  # x - mean, normalized in place
        ctx.save_for_backward(xhat, inv_std)
        out = xhat * w.reshape(shape)
        out += b.reshape(shape)
        return narrowed(out, narrow)

    def backward(ctx, grad: Any) -> tuple:
        x, w = ctx.parents[0], ctx.parents[1]
        needs = ctx.needs_input_grad
        axes, shape = norm_axes(x.data)
        count = per_channel(x.data)
        if not is_grad_enabled():  # not recorded: from the saved xhat, on arrays
            xhat, inv_std = ctx.saved_arrays
            g = grad.data.astype(xhat.dtype, copy=False)  # float16's sums in float32
            gb = g.sum(axis=axes)
            gw = channel_dots(g, xhat)
            gx = None
            if needs[0]:
                gx = xhat * (gw / count).reshape(shape)
                gx += (gb / count).reshape(shape)
                xp = array_module(g)
                xp.subtract(g, gx, out=gx)
                gx *= (w.data * inv_std).reshape(shape)
            return (grad.wrap(gx) if gx is not None else None,
                    grad.wrap(gw) if needs[1] else None, grad.wrap(gb) if needs[2] else None)
        # recorded: xhat again as a function of x, so second derivatives flow through it
        eps = ctx.params.get("eps", 1e-5)
        if x.data.dtype == np.float16:  # in float32, as forward (widened)
            x, w, grad = x.cast(np.float32), w.cast(np.float32), grad.cast(np.float32)
        centered = x - x.mean(axes, keepdims=True)
        inv_std = ((centered * centered).mean(axes, keepdims=True) + eps).pow(-0.5)
        xhat = centered * inv_std
        gb = grad.sum(axes)
        gw = (grad * xhat).sum(axes)
        gx = None
        if needs[0]:
            gx = (w.reshape(shape) * inv_std) * (
                grad - gb.reshape(shape) / count - xhat * gw.reshape(shape) / count)
        return gx, gw if needs[1] else None, gb if needs[2] else None

    @staticmethod
    def domain(pick: Picker) -> Sample:
        # a batch of 2 or more values per channel, spread out: a near-constant channel
        # has var ~ 0, where 1/sqrt(var + eps) is too steep for finite differences
        n, c = pick.integer(2, 3), pick.integer(1, 3)
        shape = (n, c) + pick.shape(min_dims=0, max_dims=2, max_side=2)
        x = pick.distinct(shape)
        w, b = pick.values((c,), 0.5, 2.0), pick.values((c,))
        return Sample((x, w, b), lambda x, w, b: BatchNorm.apply(x, w, b, eps=1e-5))


class LayerNorm(Function):
    """Layer norm over the last `dims` axes: y = xhat * w + b, xhat = (x - mean) /
    sqrt(var + eps), mean and biased var over those axes (M values per row). With g the
    output's gradient and h = g * w: dy/db = sum g and dy/dw = sum g * xhat over the
    other axes, dy/dx = (h - mean h - xhat * mean(h * xhat)) / sqrt(var + eps), the
    means over the row. The weight and the bias are optional (inputs x, x w or x w b)."""

    reads_for = ((0, 1), (0,), ())

    def forward(ctx, x: np.ndarray, w: np.ndarray | None = None, b: np.ndarray | None = None,
                dims: int = 1, eps: float = 1e-5) -> np.ndarray:
        normalized = x.shape[x.ndim - dims:]
        if not 1 <= dims <= x.ndim or any(a is not None and a.shape != normalized
                                          for a in (w, b)):
            raise ValueError(f"layernorm: expected an input with {dims} normalized axes and "
                             f"a weight and bias of their shape, got {x.shape}, "
                             f"{None if w is None else w.shape}, {None if b is None else b.shape}")
        xp = array_module(x)
        rows = x.reshape(-1, math.prod(normalized))  # one row per normalized sample
        if rows.dtype.kind != "f":  # integers: float64, as mean() gives
            rows = rows.astype(np.float64)
        rows = widened(rows)
        centered = rows - rows.mean(axis=1, keepdims=True)
        # the variance from x - mean (a second pass: no cancellation)
        var = row_dots(centered, centered) / centered.dtype.type(rows.shape[1])
        inv_std = 1.0 / xp.sqrt(var + centered.dtype.type(eps))
        xhat = centered
        xhat *= inv_std  # normalized in place
        ctx.save_for_backward(xhat, inv_std)
        # a new array even without the affine map: the saved xhat must not be the output,
        # which the caller may change in place (F.relu(..., inplace=True))
        out = xhat * w.reshape(-1) if w is not None else xhat.copy()
        if b is not None:
            out += b.reshape(-1)
        return narrowed(out, x).reshape(x.shape)

    def backward(ctx, grad: Any) -> tuple:
        x, needs = ctx.parents[0], ctx.needs_input_grad
        w = ctx.parents[1] if len(ctx.parents) > 1 else None
        dims = ctx.params.get("dims", 1)
        count = len(ctx.parents)  # 1 to 3: x, then the weight and the bias if given
        if not is_grad_enabled():  # not recorded: from the saved xhat, on arrays
            xhat, inv_std = ctx.saved_arrays
            g = grad.data.reshape(xhat.shape).astype(xhat.dtype, copy=False)
            normalized = x.shape[x.ndim - dims:]
            gx = gw = gb = None
            if count > 1 and needs[1]:
                gw = grad.wrap((g * xhat).sum(axis=0).reshape(normalized))
            if count > 2 and needs[2]:
                gb = grad.wrap(g.sum(axis=0).reshape(normalized))
            if needs[0]:
                h = g * w.data.reshape(-1) if w is not None else g
                size = xhat.dtype.type(xhat.shape[1])
                gx_data = xhat * (row_dots(h, xhat) / size)
                gx_data += h.mean(axis=1, keepdims=True)
                array_module(g).subtract(h, gx_data, out=gx_data)
                gx_data *= inv_std
                gx = grad.wrap(gx_data.reshape(x.shape))
            return (gx, gw, gb)[:count]
        # recorded: xhat again as a function of x, so second derivatives flow through it
        if x.data.dtype == np.float16:  # in float32, as forward (widened)
            x, grad = x.cast(np.float32), grad.cast(np.float32)
            w = w.cast(np.float32) if w is not None else None
        axes = tuple(range(x.ndim - dims, x.ndim))
        others = tuple(range(x.ndim - dims))
        centered = x - x.mean(axes, keepdims=True)
        inv_std = ((centered * centered).mean(axes, keepdims=True)
                   + ctx.params.get("eps", 1e-5)).pow(-0.5)
        xhat = centered * inv_std
        h = grad * w if w is not None else grad
        gx = inv_std * (h - h.mean(axes, keepdims=True)
                        - xhat * (h * xhat).mean(axes, keepdims=True)) if needs[0] else None
        gw = gb = None
        if count > 1 and needs[1]:
            gw = (grad * xhat).sum(others) if others else grad * xhat
        if count > 2 and needs[2]:
            gb = grad.sum(others) if others else grad
        return (gx, gw, gb)[:count]

    @staticmethod
    def domain(pick: Picker) -> Sample:
        # rows of 2 or more values, spread out: a near-constant row has var ~ 0, where
        # 1/sqrt(var + eps) is too steep for finite differences
        dims = pick.integer(1, 2)
        normalized = (pick.integer(2, 3),) + ((pick.integer(1, 2),) if dims == 2 else ())
        shape = pick.shape(min_dims=0, max_dims=2, max_side=2) + normalized
        x = pick.distinct(shape)
        w, b = pick.values(normalized, 0.5, 2.0), pick.values(normalized)
        affine = pick.choice(("none", "weight", "both"))
        if affine == "none":
            return Sample((x,), lambda x: LayerNorm.apply(x, dims=dims, eps=1e-5))
        if affine == "weight":
            return Sample((x, w), lambda x, w: LayerNorm.apply(x, w, dims=dims, eps=1e-5))
        return Sample((x, w, b), lambda x, w, b: LayerNorm.apply(x, w, b, dims=dims, eps=1e-5))


def row_dots(a: Any, b: Any) -> Any:
    """(a * b).sum(axis=1, keepdims=True) of two (rows, M) arrays, without the array of
    products: one dot product per row (a batched matmul)."""
    return (a[:, None, :] @ b[:, :, None]).reshape(-1, 1)


def norm_axes(x: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes batch norm reduces over (all but the channel axis 1), and the shape
    (1, C, 1, ...) that broadcasts a per-channel array against x."""
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def per_channel(x: Any) -> int:
    """How many values each channel (axis 1) of x (N, C, ...) holds: what batch norm's
    means divide by."""
    return x.size // max(x.shape[1], 1)


def batch_statistics(x: Any) -> tuple[Any, Any, Any]:
    """Per channel (axis 1): the mean and the biased variance of x over the other axes
    (the variance from x - mean, a second pass: no cancellation), and x - mean, a new
    array."""
    axes, shape = norm_axes(x)
    mean = x.mean(axis=axes)
    centered = x - mean.reshape(shape)
    count = centered.dtype.type(per_channel(x))  # 0 / 0: nan, as mean()
    return mean, channel_dots(centered, centered) / count, centered


def channel_dots(a: Any, b: Any) -> Any:
    """Per channel (axis 1), the sum of a * b over every other axis: (a * b).sum(axes).
    When the two NumPy arrays share a layout that keeps each channel's values together
    in memory (a convolution's output is stored channel-major, see ops/window.py), one
    BLAS dot product per channel, with no array of products written and read again: on
    128 x 32 x 28 x 28 float32, 1.1 ms instead of 3.2 (rounding within 4e-7 of float64's
    against 8e-8 for NumPy's pairwise sum). Other dtypes (float16: BLAS has none) and
    layouts take the sum."""
    blas = type(a) is np.ndarray and a.dtype.char in "fd" and a.strides == b.strides
    rows_a = channel_rows(a) if blas else None
    rows_b = None if rows_a is None else channel_rows(b)
    if rows_a is None or rows_b is None:
        return (a * b).sum(axis=norm_axes(a)[0])
    return row_dots(rows_a, rows_b).reshape(-1)


def channel_rows(x: np.ndarray) -> np.ndarray | None:
    """x (N, C, ...) as a (C, M) matrix that shares its memory, each row one channel's
    values in memory order; None when the channels' values are interleaved (NCHW with
    N > 1) or x is empty."""
    if not x.size:
        return None
    order = sorted(range(x.ndim), key=lambda axis: -x.strides[axis])  # outermost first
    if order[0] != 1:
        return None
    in_memory_order = x.transpose(order)
    if not in_memory_order.flags.c_contiguous:
        return None
    return in_memory_order.reshape(x.shape[1], -1)


def deviations(x: Any, axis: Any) -> Any:
    """x minus its mean along `axis`: var's first pass (the squares come after it, so
    a large mean cannot cancel the digits of a small spread)."""
    return x - x.sum(axis=axis, keepdims=True) / reduced_size(x.shape, axis)


def _gathered(grad: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """A reduction's gradient (a Tensor or an array) with its reduced axes back, as 1."""
    return grad if keepdims else grad.reshape(kept_shape(shape, axis))


def sum_of_squares(a: Any, axis: Any, keepdims: bool) -> Any:
    """(a * a).sum(axis). In float16 and float32 a sum that overflowed although every
    value of a is finite is done again in float64, as PyTorch sums narrow floats wider
    (float16's squares leave its range from 256, float32's from 1.8e19): the result is
    then float64, for the caller to take the root of or to cast (narrowed)."""
    if a.dtype.char not in "ef":  # float64 (and integers): nothing wider to sum in
        return (a * a).sum(axis=axis, keepdims=keepdims)
    with np.errstate(over="ignore"):  # an overflowing square is handled below
        total = (a * a).sum(axis=axis, keepdims=keepdims)
    # a comparison, not isfinite().all(): 0.05 us on a 0-d total against 1.8 (nan fails
    # it too, and then the values' own check keeps the nan)
    below = total < np.inf
    if not (below if total.ndim == 0 else below.all()):
        xp = array_module(a)
        if xp.isfinite(a).all():
            wide = a.astype(np.float64)
            total = (wide * wide).sum(axis=axis, keepdims=keepdims)
    return total


def widened(a: Any) -> Any:
    """a in float32 if it is float16 (whose squares leave its range from 256: batch
    and layer norm compute their statistics wider, as PyTorch does), else a itself."""
    return a.astype(np.float32) if a.dtype == np.float16 else a


def narrowed(a: Any, like: Any) -> Any:
    """a (a result computed wider, see sum_of_squares) in the float dtype of `like`, as
    an array (a 0-d result too)."""
    if like.dtype.kind == "f" and a.dtype != like.dtype:
        a = a.astype(like.dtype)
    return as_array(a)


def _variance(x: Any, axis: Any, keepdims: bool, correction: int) -> tuple[Any, Any]:
    """(x - mean, the variance) along `axis`: Var's and Std's forward. The variance may
    come back in float64 (sum_of_squares); the callers narrow it."""
    c = deviations(x, axis)
    dof = reduced_size(x.shape, axis) - correction
    return c, sum_of_squares(c, axis, keepdims) / dof


def _moment_grad(ctx: Function, grad: Any) -> tuple[Any, int, Any]:
    """What Var's and Std's backward start from, recorded (grad a Tensor) or on arrays:
    (the axis, the divisor n - correction, grad with the reduced axes back as 1)."""
    shape, p = ctx.parents[0].shape, ctx.params
    dof = reduced_size(shape, p["axis"]) - p["correction"]
    return p["axis"], dof, _gathered(grad, shape, p["axis"], p["keepdims"])


def _moments_domain(root: bool) -> Any:
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=0, max_dims=3)
        axis = pick.axes(len(shape))
        keepdims = pick.boolean()
        # a positive divisor: with none left, the binding takes the composite path
        correction = pick.integer(0, 1) if reduced_size(shape, axis) > 1 else 0
        if root:
            return Sample((pick.values(shape),),
                          lambda x: x.std(axis, keepdim=keepdims, correction=correction))
        return Sample((pick.values(shape),),
                      lambda x: x.var(axis, keepdim=keepdims, correction=correction))

    return staticmethod(domain)


class Var(Function):
    """v = sum((x - mean)**2) / (n - correction) over `axis`:
    dv/dx = 2 (x - mean) / (n - correction)."""

    def forward(ctx, x: np.ndarray, axis: Any = None, keepdims: bool = False,
                correction: int = 1) -> np.ndarray:
        c, var = _variance(x, axis, keepdims, correction)
        ctx.save_for_backward(c)
        return narrowed(var, x)

    def backward(ctx, grad: Any) -> Any:
        if not is_grad_enabled():  # not recorded: the same numbers on the arrays
            return ctx.backward_arrays(grad)
        (x,) = ctx.parents
        axis, dof, g = _moment_grad(ctx, grad)
        return g * (x - x.mean(axis, keepdims=True)) * (2.0 / dof)

    def backward_arrays(ctx, grad: Any) -> Any:
        """backward's arithmetic on the arrays, for a backward pass that is not recorded."""
        (c,) = ctx.saved_arrays
        _, dof, g = _moment_grad(ctx, grad.data)
        return grad.wrap(c * (g * (2.0 / dof)))

    domain = _moments_domain(root=False)


class Std(Function):
    """s = sqrt(var(x)) over `axis`: ds/dx = (x - mean) / ((n - correction) s), and 0
    where s = 0 (all values equal: sqrt's infinite slope replaced by the subgradient 0,
    as PyTorch); a nan s keeps its nan gradient."""

    def forward(ctx, x: np.ndarray, axis: Any = None, keepdims: bool = False,
                correction: int = 1) -> np.ndarray:
        c, var = _variance(x, axis, keepdims, correction)
        # the root before narrowing: a variance past float32's range may have one within
        out = narrowed(array_module(x).sqrt(var), x)
        ctx.save_for_backward(c, out)
        return out

    def backward(ctx, grad: Any) -> Any:
        if not is_grad_enabled():  # not recorded: the same numbers on the arrays
            return ctx.backward_arrays(grad)
        (x,) = ctx.parents
        axis, dof, g = _moment_grad(ctx, grad)
        s = _gathered(ctx.saved_tensors[1], x.shape, axis, ctx.params["keepdims"])
        spread = s != 0  # not > 0: a nan stays nan
        scale = (g / s.where(spread, 1.0)).where(spread, 0.0)
        return (x - x.mean(axis, keepdims=True)) * scale / dof

    def backward_arrays(ctx, grad: Any) -> Any:
        """backward's arithmetic on the arrays, for a backward pass that is not recorded."""
        c, out = ctx.saved_arrays
        axis, dof, g = _moment_grad(ctx, grad.data)
        s = _gathered(out, c.shape, axis, ctx.params["keepdims"])
        xp = array_module(c)
        spread = s != 0
        scale = xp.where(spread, g / xp.where(spread, s, 1), 0)
        return grad.wrap(c * (scale / dof))

    domain = _moments_domain(root=True)


class Norm(Function):
    """n = sqrt(sum(x**2)) over `axis` (the 2-norm): dn/dx = x / n, and 0 where n = 0
    (a zero vector: the subgradient 0, as PyTorch)."""

    def forward(ctx, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        out = narrowed(array_module(x).sqrt(sum_of_squares(x, axis, keepdims)), x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad: Any) -> Any:
        if not is_grad_enabled():  # not recorded: the same numbers on the arrays
            return ctx.backward_arrays(grad)
        (x,) = ctx.parents
        p = ctx.params
        g = _gathered(grad, x.shape, p["axis"], p["keepdims"])
        n = _gathered(ctx.saved_tensors[0], x.shape, p["axis"], p["keepdims"])
        nonzero = n != 0  # not > 0: a nan stays nan
        return x * (g / n.where(nonzero, 1.0)).where(nonzero, 0.0)

    def backward_arrays(ctx, grad: Any) -> Any:
        """backward's arithmetic on the arrays, for a backward pass that is not recorded."""
        x = ctx.parents[0].data
        (out,) = ctx.saved_arrays
        p = ctx.params
        g = _gathered(grad.data, x.shape, p["axis"], p["keepdims"])
        n = _gathered(out, x.shape, p["axis"], p["keepdims"])
        xp = array_module(x)
        nonzero = n != 0
        return grad.wrap(x * xp.where(nonzero, g / xp.where(nonzero, n, 1), 0))

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=0, max_dims=3)
        axis = pick.axes(len(shape))
        keepdims = pick.boolean()
        # away from 0: a one-element norm is |x|, with its kink there
        return Sample((pick.values(shape, avoid=(0.0,)),),
                      lambda x: x.norm(2, axis, keepdim=keepdims))
