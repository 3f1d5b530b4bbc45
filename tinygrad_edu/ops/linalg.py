"""Matrix multiplication with NumPy's semantics: 1-D, 2-D and batched broadcasting.

A backward pass that is not recorded computes the gradients of 2-D products on the
arrays, and a product along a long inner axis (a convolution's weight gradient sums
over every position of the batch) in blocks, see `long_inner_product`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module, as_array
from ..engine import Function, is_grad_enabled
from .domain import Picker, Sample
from .reduce import unbroadcast


class MatMul(Function):
    """d(x @ y)/dx = grad @ y^T, d(x @ y)/dy = x^T @ grad (batch axes summed back)."""

    reads_for = ((1,), (0,))

    def forward(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(
                f"matmul: both operands need at least 1 dimension, got shapes {x.shape} "
                f"and {y.shape} (use * to multiply by a scalar)"
            )
        inner_x = x.shape[-1]
        inner_y = y.shape[-2] if y.ndim >= 2 else y.shape[0]
        if inner_x != inner_y:
            raise ValueError(
                f"matmul: shapes {x.shape} and {y.shape} are not aligned: the last axis "
                f"of the first ({inner_x}) must equal the "
                f"{'second-to-last' if y.ndim >= 2 else 'only'} axis of the second ({inner_y})"
            )
        try:
            return as_array(array_module(x).matmul(x, y))
        except ValueError as error:  # batch axes that do not broadcast
            raise ValueError(
                f"matmul: batch axes of shapes {x.shape} and {y.shape} cannot be "
                f"broadcast together ({error})"
            ) from None

    def backward(ctx, grad: Any) -> tuple:
        x, y = ctx.parents
        if x.ndim == 2 and y.ndim == 2 and not is_grad_enabled():  # not recorded
            g, needs = grad.data, ctx.needs_input_grad
            return (grad.wrap(long_inner_product(g, y.data.T)) if needs[0] else None,
                    grad.wrap(long_inner_product(x.data.T, g)) if needs[1] else None)
        # 1-D operands are matrices with a unit axis, as NumPy treats them
        x2 = x.unsqueeze(0) if x.ndim == 1 else x
        y2 = y.unsqueeze(-1) if y.ndim == 1 else y
        if x.ndim == 1 and y.ndim == 1:
            g2 = grad.reshape((1, 1))
        elif x.ndim == 1:
            g2 = grad.unsqueeze(-2)
        elif y.ndim == 1:
            g2 = grad.unsqueeze(-1)
        else:
            g2 = grad
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = unbroadcast(g2 @ y2.transpose(-1, -2), x2.shape).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            gy = unbroadcast(x2.transpose(-1, -2) @ g2, y2.shape).reshape(y.shape)
        return gx, gy

    @staticmethod
    def domain(pick: Picker) -> Sample:
        n, k, m = pick.integer(1, 3), pick.integer(1, 3), pick.integer(1, 3)
        kind = pick.choice(("2d", "vec-mat", "mat-vec", "dot", "batched"))
        shapes: tuple[tuple[int, ...], tuple[int, ...]]
        if kind == "2d":
            shapes = (n, k), (k, m)
        elif kind == "vec-mat":
            shapes = (k,), (k, m)
        elif kind == "mat-vec":
            shapes = (n, k), (k,)
        elif kind == "dot":
            shapes = (k,), (k,)
        else:  # batch axes that broadcast against each other
            batch = pick.shape(min_dims=1, max_dims=2, max_side=3)
            other = pick.broadcastable(batch)
            if pick.boolean():
                batch, other = other, batch
            shapes = batch + (n, k), other + (k, m)
        return Sample(tuple(pick.values(s) for s in shapes), lambda x, y: x @ y)


# Measured with OpenBLAS 0.3.31 (SkylakeX kernel, 1 and 2 threads) on the weight gradients
# of a small CNN: (8, 100352) @ (100352, 9) took 0.97 ms in one call and 0.22 ms in blocks
# of 8192 along the inner axis (the blocks stay in cache); (16, 25088) @ (25088, 72) took
# 1.48 ms as it is and 0.98 ms as the transposed product (72 x 16, transposed back),
# and every other long-inner shape tried gained 10-35% that way too.
INNER_BLOCK = 8192


def long_inner_product(a: Any, b: Any) -> Any:
    """a @ b for 2-D arrays a (m, k) and b (k, n), C-ordered; when k is long next to the
    result (k >= 2 blocks and m * n <= k), summed over blocks of k and computed as the
    transposed product when that has more rows (m < n). Other shapes: a @ b as it is."""
    m, k = a.shape
    n = b.shape[1]
    if k < 2 * INNER_BLOCK or m * n > k:
        return a @ b
    swap = m < n

    def block(start: int) -> Any:
        a_part, b_part = a[:, start:start + INNER_BLOCK], b[start:start + INNER_BLOCK]
        return b_part.T @ a_part.T if swap else a_part @ b_part

    total = block(0)
    for start in range(INNER_BLOCK, k, INNER_BLOCK):
        total += block(start)
    return array_module(a).ascontiguousarray(total.T) if swap else total
