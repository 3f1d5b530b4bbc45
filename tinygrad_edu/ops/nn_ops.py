"""Primitives for neural network layers, where a composite would cost measurable time
or precision.

Linear is x @ w.T + b in one op. As a composite (a permute, a matmul and an
add) it records 3 ops forward and 6 backward per layer, and its weight
gradient comes back as a transposed (Fortran-order) view that makes the
optimizer's in-place update slower; on a 784-128-10 MLP step (batch 128) the
fused op saves about 20% of the time (measured: 1.60 -> 1.28 ms per step).

CrossEntropy is log_softmax and the weighted pick of the targets in one op. The
composite lost float32 precision at logits of 1e4 (log-sum-exp added back, then
subtracted: 2e-4 off), turned a masked class (logit -inf, weight 0) into
0 * -inf = nan, and recorded about 10 ops forward and backward.

BatchNorm is training-mode batch norm (the batch's statistics) with its affine map
in one op. As a composite (mean, subtract, square, mean, add, pow, multiply, and the
weight and bias) it recorded about 10 ops over the whole activation and its backward
went back through each of them: in the recipe CNN (models.cnn, batch 128, one thread)
a step took 104.6 ms, fused 80.0 ms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module
from ..engine import Function, is_grad_enabled
from .domain import Picker, Sample


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


def row_reduced(x: Any, how: str) -> Any:
    """x.max or x.sum over axis 1 of (rows, classes) x, as a (rows, 1) column. NumPy
    reduces a short last axis one row at a time; along axis 0 of the transposed copy it
    goes a whole row of the copy at once (measured on 128 x 10 float32 logits: max 7.5 ->
    3.7 us, sum 4.5 -> 3.5 us; no gain for max past about 32 classes or for sum past
    about 16, where the copy costs more)."""
    rows, classes = x.shape
    if type(x) is np.ndarray and rows > classes and classes <= (32 if how == "max" else 16):
        reduced = getattr(np.ascontiguousarray(x.T), how)(axis=0)
        return reduced.reshape(rows, 1)
    return getattr(x, how)(axis=1, keepdims=True)


class CrossEntropy(Function):
    """loss_i = -scale * sum_c q[i, c] * log_softmax(x)[i, c] for logits x and target
    weights q (rows, classes), or for integer class indices t (rows,) with q the one-hot
    rows of t; summed over rows unless reduce=False: d loss/dx = scale * (softmax(x) *
    sum_c q[i, c] - q), d loss/dq = -scale * log_softmax(x). A class of weight 0 adds
    nothing, even at logit -inf (a masked class), as PyTorch's nll_loss picks only the
    target."""

    def forward(ctx, x: np.ndarray, target: np.ndarray, reduce: bool = True,
                scale: float = 1.0) -> np.ndarray:
        indices = target.dtype.kind in "iu"
        if x.ndim != 2 or target.shape != (x.shape[:1] if indices else x.shape):
            raise ValueError(
                f"crossentropy: expected logits of shape (rows, classes) and integer class "
                f"indices of shape (rows,) or target weights of the logits' shape, got "
                f"{x.shape} and {target.shape} ({target.dtype})"
            )
        # x - max is exact, and log(sum(exp)) is in [0, log C]: no large number is
        # added and taken away again, so losses at logits of 1e5 are exact in float32
        xp = array_module(x)
        shifted = x - row_reduced(x, "max") if x.size else x.copy()
        e = xp.exp(shifted)
        total = row_reduced(e, "sum")
        e /= total
        ctx.save_for_backward(e)  # softmax(x), what backward needs
        if indices:  # read only the targets' entries: no (rows, classes) weights to build
            picked = shifted[xp.arange(target.shape[0]), target] - xp.log(total[:, 0])
            return -scale * (picked.sum() if reduce else picked)
        logp = shifted
        logp -= xp.log(total)  # in place: fresh arrays, one allocation less each
        if reduce:
            # one dot product, no array of terms; 0 * -inf inside it gives nan without a
            # warning, and a nan goes the long way below (this halved a small batch's time)
            loss = -scale * xp.vdot(target, logp)
            if not xp.isnan(loss):
                return loss
        with np.errstate(invalid="ignore"):  # a masked class: 0 * -inf, fixed below
            terms = target * logp
        loss = terms.sum() if reduce else terms.sum(axis=1)
        if xp.isnan(loss).any():  # maybe 0 * -inf: weight-0 terms must add nothing
            terms[target == 0] = 0
            loss = terms.sum() if reduce else terms.sum(axis=1)
        return -scale * loss

    def backward(ctx, grad: Any) -> tuple:
        if not is_grad_enabled() and not ctx.needs_input_grad[1]:  # not recorded
            return ctx.backward_arrays(grad), None
        x, target = ctx.parents
        scale = ctx.params.get("scale", 1.0)
        g = grad if ctx.params.get("reduce", True) else grad.reshape(-1, 1)
        if scale != 1.0:
            g = g * scale
        gx = gq = None
        if ctx.needs_input_grad[0]:
            # softmax as a function of x, for a recorded backward's second derivative
            q = x.wrap(ctx.one_hot()) if target.data.dtype.kind in "iu" else target
            gx = (x.softmax(-1) * q.sum(-1, keepdims=True) - q) * g
        if ctx.needs_input_grad[1]:
            gq = x.log_softmax(-1) * -g
        return gx, gq

    def backward_arrays(ctx, grad: Any) -> Any:
        """The logits' gradient from the forward's softmax (the same numbers), for a
        backward pass that is not recorded: no Tensor ops, and no one-hot array."""
        (probs,), t = ctx.saved_arrays, ctx.parents[1].data
        g = grad.data * ctx.params.get("scale", 1.0)
        if not ctx.params.get("reduce", True):
            g = g.reshape(-1, 1)
        if t.dtype.kind in "iu":  # softmax - one-hot, times g
            gx = probs * g
            gx[array_module(t).arange(t.shape[0]), t] -= g.reshape(-1)
        else:
            gx = (probs * t.sum(-1, keepdims=True) - t) * g
        return grad.wrap(gx)

    def one_hot(ctx) -> Any:
        """The integer targets as one-hot rows in the logits' dtype."""
        x, t = ctx.parents[0].data, ctx.parents[1].data
        xp = array_module(x)
        q = xp.zeros(x.shape, dtype=x.dtype)
        q[xp.arange(t.shape[0]), t] = 1
        return q

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = (pick.integer(1, 3), pick.integer(1, 4))
        reduce, scale = pick.boolean(), pick.choice((1.0, 0.5))
        x = pick.values(shape, -3.0, 3.0)
        if pick.boolean():  # class indices, a constant
            t = np.array([pick.integer(0, shape[1] - 1) for _ in range(shape[0])], np.int64)
            return Sample((x,), lambda x, t: CrossEntropy.apply(x, t, reduce=reduce,
                                                                scale=scale), constants=(t,))
        q = pick.values(shape, 0.1, 1.0)
        return Sample((x, q), lambda x, q: CrossEntropy.apply(x, q, reduce=reduce,
                                                              scale=scale))


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
        mean, var, xhat = batch_statistics(x)
        # kept for F.batch_norm's running averages, which read them from the recorded op
        # instead of computing them again
        ctx.statistics = (mean, var)
        inv_std = 1.0 / xp.sqrt(var + x.dtype.type(eps))
        xhat *= inv_std.reshape(shape)  # x - mean, normalized in place
        ctx.save_for_backward(xhat, inv_std)
        out = xhat * w.reshape(shape)
        out += b.reshape(shape)
        return out

    def backward(ctx, grad: Any) -> tuple:
        x, w = ctx.parents[0], ctx.parents[1]
        needs = ctx.needs_input_grad
        axes, shape = norm_axes(x.data)
        count = x.data.size // max(x.shape[1], 1)
        if not is_grad_enabled():  # not recorded: from the saved xhat, on arrays
            xhat, inv_std = ctx.saved_arrays
            g = grad.data
            gb = g.sum(axis=axes)
            gw = (g * xhat).sum(axis=axes)
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


def norm_axes(x: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes batch norm reduces over (all but the channel axis 1), and the shape
    (1, C, 1, ...) that broadcasts a per-channel array against x."""
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_statistics(x: Any) -> tuple[Any, Any, Any]:
    """Per channel (axis 1): the mean and the biased variance of x over the other axes
    (the variance from x - mean, a second pass: no cancellation), and x - mean, a new
    array."""
    axes, shape = norm_axes(x)
    mean = x.mean(axis=axes)
    centered = x - mean.reshape(shape)
    return mean, (centered * centered).mean(axis=axes), centered
