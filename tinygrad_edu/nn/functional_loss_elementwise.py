"""Elementwise losses (re-exported by nn.functional): l1_loss, smooth_l1_loss,
huber_loss, binary_cross_entropy and kl_div, each a composite of Tensor ops in
PyTorch's argument order (the deprecated size_average and reduce slots included,
refused with a message).

Each computes one loss per element and reduces it; kinks (|d| = beta in
smooth_l1, |d| = delta in huber) are picked with `where` on the values, so the
gradient on each side is that side's formula, as PyTorch's.
"""

from __future__ import annotations

from typing import Any

from ..engine import named_scope
from ..tensor import Tensor
from .functional_loss import (
    as_target,
    check_legacy,
    check_not_reduction,
    check_reduction,
    check_same_shape,
    reduce_loss,
    reduce_weighted,
)

LOG_FLOOR = -100.0  # binary_cross_entropy clamps its logs here, as PyTorch


def _difference(name: str, input: Tensor, target: Any, reduction: str) -> Tensor:  # noqa: A002
    check_reduction(name, reduction)
    target = as_target(input, target)
    check_same_shape(name, input, target)
    return input - target


@named_scope("l1_loss")
def l1_loss(input: Tensor, target: Any, size_average: Any = None,  # noqa: A002
            reduce: Any = None, reduction: str = "mean", weight: Any = None) -> Tensor:
    """|input - target|, averaged by default; with `weight` (input's shape) the mean
    divides by the summed weights, as PyTorch."""
    check_legacy("l1_loss", size_average, reduce)
    diff = _difference("l1_loss", input, target, reduction)
    return reduce_weighted("l1_loss", diff.abs(), input, weight, reduction, mean_by_weights=True)


def _quadratic_then_linear(diff: Tensor, width: float, scale: float) -> Tensor:
    """0.5 d^2 inside |d| < width, scale * (|d| - 0.5 width) outside (continuous, with
    a continuous slope when scale == width)."""
    size = diff.abs()
    inside = size.data < width
    return (diff * diff * 0.5).where(inside, (size - 0.5 * width) * scale)


@named_scope("smooth_l1_loss")
def smooth_l1_loss(input: Tensor, target: Any, size_average: Any = None,  # noqa: A002
                   reduce: Any = None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target);
    beta = 0 is l1_loss."""
    name = "smooth_l1_loss"
    check_legacy(name, size_average, reduce)
    if beta < 0:
        raise ValueError(f"{name}: beta must be non-negative, got {beta}")
    diff = _difference(name, input, target, reduction)
    if beta == 0:
        return reduce_loss(name, diff.abs(), reduction)
    return reduce_loss(name, _quadratic_then_linear(diff, beta, beta) * (1.0 / beta),
                       reduction)


@named_scope("huber_loss")
def huber_loss(input: Tensor, target: Any, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0, weight: Any = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): smooth_l1_loss times
    delta. With `weight`, as PyTorch, the mean still divides by the element count."""
    name = "huber_loss"
    if delta <= 0:
        raise ValueError(f"{name}: delta must be positive, got {delta}")
    diff = _difference(name, input, target, reduction)
    loss = _quadratic_then_linear(diff, delta, delta)
    return reduce_weighted(name, loss, input, weight, reduction, mean_by_weights=False)


def _floored_log(x: Tensor) -> Tensor:
    """max(log x, -100), with log never evaluated at 0 (so no inf, and no 0 * inf = nan
    in the gradient): where x is 0 the value is the floor and the gradient 0."""
    positive = x.data > 0
    return x.where(positive, 1.0).log().clamp(min=LOG_FLOOR).where(positive, LOG_FLOOR)


@named_scope("binary_cross_entropy")
def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """-[y log x + (1 - y) log(1 - x)] for probabilities x in [0, 1], each log floored
    at -100 as PyTorch (so x = 0 or 1 gives a finite loss); `weight` (broadcast to the
    input) rescales each element's loss. Prefer binary_cross_entropy_with_logits on
    logits: it is stable where sigmoid saturates.

    At exactly x = 0 or 1 the gradient here is that of the floored logs (the
    floored term contributes 0); PyTorch divides by max(x (1 - x), 1e-12) instead."""
    name = "binary_cross_entropy"
    check_legacy(name, size_average, reduce)
    check_reduction(name, reduction)
    target = as_target(input, target)
    check_same_shape(name, input, target)
    values = input.data
    if values.size and not bool(((values >= 0) & (values <= 1)).all()):
        raise RuntimeError(f"{name}: all elements of input (shape {tuple(input.shape)}) "
                           "must be probabilities between 0 and 1; for logits use "
                           "binary_cross_entropy_with_logits")
    loss = -(target * _floored_log(input) + (1.0 - target) * _floored_log(1.0 - input))
    if weight is not None:
        check_not_reduction(name, weight, "a tensor that broadcasts to the input")
        loss = loss * as_target(input, weight)
    return reduce_loss(name, loss, reduction)


_KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


@named_scope("kl_div")
def kl_div(input: Tensor, target: Any, size_average: Any = None,  # noqa: A002
           reduce: Any = None, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """target * (log target - input) with `input` log-probabilities: the pointwise
    Kullback-Leibler divergence KL(target || exp(input)); a target of 0 adds 0 (as
    xlogy). With log_target the target is given as log-probabilities too:
    exp(target) * (target - input). reduction='batchmean' divides the sum by the
    batch size input.shape[0], the true KL divergence per sample ('mean' divides by
    every element, as PyTorch, which warns about it)."""
    name = "kl_div"
    check_legacy(name, size_average, reduce)
    if reduction not in _KL_REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_KL_REDUCTIONS}, got {reduction!r}")
    target = as_target(input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        zero = target.data == 0
        loss = target * (target.where(~zero, 1.0).log() - input)  # log 1 = 0 where t = 0
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return reduce_loss(name, loss, reduction)
