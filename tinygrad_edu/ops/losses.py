"""Loss functions that are one primitive each, where a composite would cost measurable
time or precision; nn/functional_loss.py checks the arguments and calls them.

CrossEntropy is log_softmax and the weighted pick of the targets in one op. The
composite lost float32 precision at logits of 1e4 (log-sum-exp added back, then
subtracted: 2e-4 off), turned a masked class (logit -inf, weight 0) into
0 * -inf = nan, and recorded about 10 ops forward and backward.

NllLoss picks each row's target entry of log-probabilities (nll_loss without class
weights or ignored targets): as an index, a sum and a scale it took 77 us forward and
backward on 128 x 10 float32 (one thread), as one op 33 us.

MseLoss and BceWithLogits are mse_loss and binary_cross_entropy_with_logits without
weights. Forward and backward on 128 x 128 float32, one thread, against PyTorch 2.13 in
the same process: mse_loss as 4 ops 50 us, as one 14 us (PyTorch 27 us); the binary
cross-entropy as 8 ops 132 us, as one 73 us (PyTorch 77 us).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module
from ..engine import Function, is_grad_enabled
from .domain import Picker, Sample
from .nn_ops import shifted_by_max
from .reduce import row_reduced


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
        shifted = shifted_by_max(x, 1)
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
            indices = target.data.dtype.kind in "iu"
            q = x.wrap(one_hot_rows(x.data, target.data)) if indices else target
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


class NllLoss(Function):
    """loss_i = -scale * x[i, t_i] for log-probabilities x (rows, classes) and integer
    class indices t (rows,), summed over rows unless reduce=False: d loss/dx = -scale at
    each (i, t_i), 0 elsewhere."""

    reads_for = ((1,), ())  # the gradient reads where the targets are, not x's values

    def forward(ctx, x: np.ndarray, target: np.ndarray, reduce: bool = True,
                scale: float = 1.0) -> np.ndarray:
        if x.ndim != 2 or target.dtype.kind not in "iu" or target.shape != x.shape[:1]:
            raise ValueError(
                f"nllloss: expected log-probabilities of shape (rows, classes) and integer "
                f"class indices of shape (rows,), got {x.shape} and {target.shape} "
                f"({target.dtype})"
            )
        picked = x[array_module(x).arange(target.shape[0]), target]
        return -scale * (picked.sum() if reduce else picked)

    def backward(ctx, grad: Any) -> tuple:
        x, target = ctx.parents
        scale = ctx.params.get("scale", 1.0)
        g = grad if ctx.params.get("reduce", True) else grad.reshape(-1, 1)
        if not is_grad_enabled():  # not recorded: the rows' entries set on zeros
            xp = array_module(x.data)
            gx = xp.zeros(x.data.shape, dtype=x.data.dtype)
            t = target.data
            gx[xp.arange(t.shape[0]), t] = (g.data * -scale).reshape(-1)
            return grad.wrap(gx), None
        # recorded: a function of the gradient, for second derivatives through it
        picks = one_hot_rows(x.data, target.data)
        return x.wrap(picks) * (g * -scale), None

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = (pick.integer(1, 3), pick.integer(1, 4))
        reduce, scale = pick.boolean(), pick.choice((1.0, 0.5))
        t = np.array([pick.integer(0, shape[1] - 1) for _ in range(shape[0])], np.int64)
        return Sample((pick.values(shape),), lambda x, t: NllLoss.apply(
            x, t, reduce=reduce, scale=scale), constants=(t,))


def one_hot_rows(like: Any, target: Any) -> Any:
    """Integer class indices (rows,) as one-hot rows of `like`'s shape and dtype."""
    xp = array_module(like)
    q = xp.zeros(like.shape, dtype=like.dtype)
    q[xp.arange(target.shape[0]), target] = 1
    return q


class MseLoss(Function):
    """loss = scale * sum((x - t)**2) for inputs x and targets t of one shape, or
    scale * (x - t)**2 per element unless reduce: d loss/dx = 2 * scale * (x - t) * g,
    d loss/dt = -d loss/dx."""

    def forward(ctx, x: np.ndarray, target: np.ndarray, reduce: bool = True,
                scale: float = 1.0) -> np.ndarray:
        if x.shape != target.shape:
            raise ValueError(f"mseloss: input and target must have one shape, got {x.shape} "
                             f"and {target.shape}")
        diff = x - target
        ctx.save_for_backward(diff)
        if not reduce:
            squares = diff * diff
            if scale != 1.0:
                squares *= scale
            return squares
        # one dot product, no array of squares (128 x 128 float32: 4.5 -> 1.1 us)
        return scale * array_module(diff).vdot(diff, diff)

    def backward(ctx, grad: Any) -> tuple:
        needs = ctx.needs_input_grad
        factor = 2.0 * ctx.params.get("scale", 1.0)
        if not is_grad_enabled():  # not recorded: from the saved difference
            (diff,) = ctx.saved_arrays
            gx = grad.wrap(diff * (grad.data * factor))
        else:  # the difference again as a function of both inputs: second derivatives
            x, target = ctx.parents
            gx = (x - target) * (grad * factor)
        return gx if needs[0] else None, -gx if needs[1] else None

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(max_dims=2, max_side=3)
        reduce, scale = pick.boolean(), pick.choice((1.0, 0.5))
        return Sample((pick.values(shape), pick.values(shape)),
                      lambda x, t: MseLoss.apply(x, t, reduce=reduce, scale=scale))


class BceWithLogits(Function):
    """loss = scale * sum(max(x, 0) - x * y + log(1 + exp(-|x|))) for logits x and target
    probabilities y of one shape, or scale * (...) per element unless reduce: d loss/dx =
    scale * (sigmoid(x) - y) * g, d loss/dy = -scale * x * g."""

    def forward(ctx, x: np.ndarray, target: np.ndarray, reduce: bool = True,
                scale: float = 1.0) -> np.ndarray:
        if x.shape != target.shape:
            raise ValueError(f"bcewithlogits: input and target must have one shape, got "
                             f"{x.shape} and {target.shape}")
        xp = array_module(x)
        small = xp.exp(-xp.abs(x))  # exp of a non-positive number: never overflows
        ctx.save_for_backward(small)
        terms = xp.maximum(x, 0) - x * target  # a new array, in the promoted dtype
        terms += xp.log1p(small)
        if reduce:
            return scale * terms.sum()
        if scale != 1.0:
            terms *= scale
        return terms

    def backward(ctx, grad: Any) -> tuple:
        x, target = ctx.parents
        needs = ctx.needs_input_grad
        g = grad * ctx.params.get("scale", 1.0)
        gx = gy = None
        if not is_grad_enabled():  # not recorded: sigmoid from the saved exp(-|x|)
            (small,) = ctx.saved_arrays
            xp = array_module(small)
            if needs[0]:
                sigmoid = xp.where(x.data >= 0, 1.0, small).astype(small.dtype, copy=False)
                sigmoid /= 1.0 + small
                gx = grad.wrap((sigmoid - target.data) * g.data)  # promoted, as the rule
            if needs[1]:
                gy = grad.wrap(x.data * -g.data)
            return gx, gy
        if needs[0]:
            gx = (x.sigmoid() - target) * g
        if needs[1]:
            gy = x * -g
        return gx, gy

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = pick.shape(max_dims=2, max_side=3)
        reduce, scale = pick.boolean(), pick.choice((1.0, 0.5))
        # max(x, 0) + log(1 + exp(-|x|)) is softplus(x): smooth at 0 too
        return Sample((pick.values(shape, -3.0, 3.0), pick.values(shape, 0.0, 1.0)),
                      lambda x, y: BceWithLogits.apply(x, y, reduce=reduce, scale=scale))
