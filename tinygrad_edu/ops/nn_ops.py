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


class CrossEntropy(Function):
    """loss_i = -sum_c q[i, c] * log_softmax(x)[i, c] for logits x and target weights q
    (rows, classes), summed over rows unless reduce=False: d loss/dx = softmax(x) *
    sum_c q[i, c] - q, d loss/dq = -log_softmax(x). A class of weight 0 adds nothing,
    even at logit -inf (a masked class), as PyTorch's nll_loss picks only the target."""

    def forward(ctx, x: np.ndarray, q: np.ndarray, reduce: bool = True) -> np.ndarray:
        if x.ndim != 2 or q.shape != x.shape:
            raise ValueError(
                f"crossentropy: expected logits of shape (rows, classes) and target weights "
                f"of the same shape, got {x.shape} and {q.shape}"
            )
        # x - max is exact, and log(sum(exp)) is in [0, log C]: no large number is
        # added and taken away again, so losses at logits of 1e5 are exact in float32
        xp = array_module(x)
        shifted = x - x.max(axis=1, keepdims=True) if x.size else x.copy()
        e = xp.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        logp = shifted
        logp -= xp.log(total)  # in place: fresh arrays, one allocation less each
        e /= total
        ctx.save_for_backward(e)  # softmax(x), what backward needs
        if reduce:
            # one dot product, no array of terms; 0 * -inf inside it gives nan without a
            # warning, and a nan goes the long way below (this halved a small batch's time)
            loss = -xp.vdot(q, logp)
            if not xp.isnan(loss):
                return loss
        with np.errstate(invalid="ignore"):  # a masked class: 0 * -inf, fixed below
            terms = q * logp
        loss = -(terms.sum() if reduce else terms.sum(axis=1))
        if xp.isnan(loss).any():  # maybe 0 * -inf: weight-0 terms must add nothing
            terms[q == 0] = 0
            loss = -(terms.sum() if reduce else terms.sum(axis=1))
        return loss

    def backward(ctx, grad: Any) -> tuple:
        x, q = ctx.parents
        g = grad if ctx.params.get("reduce", True) else grad.reshape(-1, 1)
        gx = gq = None
        if ctx.needs_input_grad[0]:
            if is_grad_enabled():
                # a recorded backward (create_graph) needs softmax as a function of x
                # for the second derivative
                gx = (x.softmax(-1) * q.sum(-1, keepdims=True) - q) * g
            else:  # the forward's softmax is the same numbers; 4 Tensor ops saved
                probs, qd = ctx.saved_tensors[0].data, q.data
                gx = x.wrap((probs * qd.sum(-1, keepdims=True) - qd) * g.data)
        if ctx.needs_input_grad[1]:
            gq = x.log_softmax(-1) * -g
        return gx, gq

    @staticmethod
    def domain(pick: Picker) -> Sample:
        shape = (pick.integer(1, 3), pick.integer(1, 4))
        reduce = pick.boolean()
        x, q = pick.values(shape, -3.0, 3.0), pick.values(shape, 0.1, 1.0)
        return Sample((x, q), lambda x, q: CrossEntropy.apply(x, q, reduce=reduce))
