"""Loss functions (re-exported by nn.functional).

Targets are constants outside the graph. cross_entropy hands the logits and the class
indices (or, with class weights, label smoothing or ignored targets, a weight array per
row) to one op (ops/losses.py CrossEntropy). nll_loss (class indices without weights
or ignored targets), mse_loss and binary_cross_entropy_with_logits (without weights)
are one op each too, and composites otherwise (nll_loss picks the targets' entries by
indexing); the other losses are composites of Tensor ops.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import array_module, transfer
from ..engine import Function, named_scope
from ..ops.losses import BceWithLogits, CrossEntropy, MseLoss, NllLoss
from ..tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")
IGNORE_INDEX = -100  # PyTorch's default: no real class index is negative
# the unsigned integer type of each size (a dtype object: parsing "u8" per call cost 2 us)
_UNSIGNED = {size: np.dtype(f"u{size}") for size in (1, 2, 4, 8)}


def _constant(array: Any) -> Tensor:
    """A tensor around an array made here, on whichever device the array is."""
    return Tensor.wrap(array)


def reduce_loss(name: str, loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _classes_last(name: str, x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C): the class axis last, one row per prediction."""
    if x.ndim < 1:
        raise ValueError(f"{name}: input must have a class axis, got a 0-d tensor")
    if x.ndim <= 2:
        return x.reshape(1, -1) if x.ndim == 1 else x
    dims = (0,) + tuple(range(2, x.ndim)) + (1,)
    return x.permute(*dims).reshape(-1, x.shape[1])


def _target_weights(name: str, shape: tuple[int, ...], dtype: np.dtype, target: Any,
                    label_smoothing: float, weight: Any = None,
                    ignore_index: int = IGNORE_INDEX) -> tuple[Any, Any]:
    """Per-class weights q with loss_i = -sum_c q[i, c] * logp[i, c], as a (rows, C)
    array for an input of `shape` (N, C, *), and what the mean divides by.

    Class indices become one-hot rows, mixed with the uniform distribution when
    label_smoothing > 0 (as PyTorch: (1 - eps) * onehot + eps / C), times the class
    weights `weight` (an array or None); a target equal to ignore_index gets a row of
    zeros. As PyTorch, the mean divides by the summed weights of the kept targets
    (their count without `weight`); for class probabilities, by the number of rows."""
    classes = shape[1] if len(shape) >= 2 else shape[0]
    expected = _expected_target_shape(shape)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind == "f":
        if t.shape == expected and t.shape != shape:
            raise TypeError(
                f"{name}: target has dtype {t.dtype} and shape {t.shape}: class indices must "
                f"be an integer (int64) tensor (use target.long()); float targets are class "
                f"probabilities of the input's shape {shape}"
            )
        if t.shape != shape:
            raise ValueError(
                f"{name}: float targets are class probabilities and must have the input's "
                f"shape {shape}, got {t.shape}; for class indices pass an integer (int64) "
                f"tensor of shape {expected}"
            )
        if ignore_index >= 0:
            raise ValueError(f"{name}: ignore_index={ignore_index} applies to class indices "
                             "only, not to float targets (class probabilities)")
        q = _classes_last(name, _constant(t.astype(dtype))).data
        if label_smoothing:
            q = q * (1.0 - label_smoothing) + label_smoothing / classes
        # a fresh array: the caller scales it in place
        q = array_module(q).array(q, dtype=dtype)
        if weight is not None:
            q *= weight
        return q, q.shape[0]
    flat = _class_indices(name, shape, t, ignore_index)
    xp = array_module(flat)  # the target's device: the op checks it is the input's
    rows = xp.arange(flat.size)
    q = xp.full((flat.size, classes), label_smoothing / classes, dtype=dtype)
    ignored = flat == ignore_index
    if not ignored.any():  # the usual case: no masking, no copies
        q[rows, flat] += 1.0 - label_smoothing
        if weight is None:
            return q, flat.size
        q *= weight
        return q, weight[flat].sum()
    kept = ~ignored
    q[rows[kept], flat[kept]] += 1.0 - label_smoothing
    q[ignored] = 0.0
    if weight is None:
        return q, kept.sum()
    q *= weight
    return q, weight[flat[kept]].sum()


def _class_weight(name: str, weight: Any, classes: int, like: Tensor) -> Any:
    """The per-class weights as an array of `like`'s dtype on its device, or None."""
    if weight is None:
        return None
    check_not_reduction(name, weight, f"a tensor of {classes} class weights")
    if isinstance(weight, Tensor):
        if weight.device != like.device:
            raise RuntimeError(f"{name}: weight is on {weight.device} but the input is on "
                               f"{like.device}; move it with weight.to(device)")
        w = weight.data
    else:
        w = transfer(np.asarray(weight), like.device.type)
    if w.shape != (classes,):
        raise ValueError(f"{name}: weight must hold one number per class, shape "
                         f"({classes},), got shape {tuple(w.shape)}")
    return w.astype(like.dtype)


def check_not_reduction(name: str, weight: Any, expected: str) -> None:
    """A reduction passed where PyTorch's order puts `weight`: say how to pass it."""
    if isinstance(weight, str):
        raise TypeError(f"{name}: weight must be {expected}, got {weight!r}; pass reduction "
                        "by keyword (reduction=...), as PyTorch's argument order puts "
                        "weight third")


def check_legacy(name: str, size_average: Any, reduce: Any) -> None:
    if size_average is not None or reduce is not None:
        raise TypeError(f"{name}: size_average and reduce are PyTorch's deprecated spellings "
                        "of reduction; use reduction='mean', 'sum' or 'none'")


def _class_indices(name: str, shape: tuple[int, ...], t: np.ndarray,
                   ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """Integer targets for an input of `shape` (N, C, *), checked, as one flat array;
    entries equal to ignore_index may lie outside the classes."""
    return _checked_indices(name, shape, t, ignore_index)[0]


def _checked_indices(name: str, shape: tuple[int, ...], t: np.ndarray,
                     ignore_index: int = IGNORE_INDEX) -> tuple[np.ndarray, bool]:
    """_class_indices, and whether any target equals ignore_index (known from the range
    check alone in the usual case, an ignore_index outside the classes)."""
    classes = shape[1] if len(shape) >= 2 else shape[0]
    expected = _expected_target_shape(shape)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: target must hold integer class indices (int64) of shape {expected}, "
            f"got dtype {t.dtype}"
        )
    if t.shape != expected:
        raise ValueError(
            f"{name}: input of shape {shape} needs integer targets of shape {expected} "
            f"(one class index per prediction), got target shape {t.shape}"
        )
    flat = t if t.ndim == 1 else t.reshape(-1)
    if not t.size:
        return flat, False
    # one reduction finds both kinds of outsider: seen as unsigned, a negative index is
    # larger than any class
    unsigned = t.view(_UNSIGNED[t.dtype.itemsize]) if t.dtype.kind == "i" else t
    if unsigned.max() >= classes:
        kept = t[t != ignore_index]  # ignored entries may lie anywhere (-100 by default)
        if kept.size and (kept.min() < 0 or kept.max() >= classes):
            raise IndexError(
                f"{name}: target class indices must lie in [0, {classes}) for input of "
                f"shape {shape} with {classes} classes (or equal ignore_index="
                f"{ignore_index}), got values from {int(kept.min())} to {int(kept.max())}"
            )
        return flat, True  # the entries outside the classes are ignored ones
    return flat, 0 <= ignore_index < classes and bool((flat == ignore_index).any())


def _expected_target_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return () if len(shape) == 1 else (shape[0],) + shape[2:]


def _check_smoothing(name: str, label_smoothing: float) -> None:
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")


@named_scope("cross_entropy")
def cross_entropy(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
                  size_average: Any = None, ignore_index: int = IGNORE_INDEX,
                  reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """-log softmax(input)[target], averaged over the batch by default (PyTorch's
    arguments, in PyTorch's order).

    input: (N, C), (C,) or (N, C, d1, ...) logits; target: int64 class indices of
    shape (N,) (or (N, d1, ...)), or float class probabilities shaped like input.
    weight: one weight per class; the mean then divides by the summed weights of the
    targets. Targets equal to ignore_index add nothing and are not counted.
    One fused op (log_softmax and the pick together): losses at logits of 1e5 are
    exact in float32, and a class masked with logit -inf adds nothing."""
    name = "cross_entropy"
    if (weight is None and not label_smoothing and reduction == "mean" and size_average is None
            and reduce is None and isinstance(target, Tensor) and input.ndim == 2
            and target.data.dtype.kind in "iu"):
        # the call of every training step, without the general path's helpers (a third
        # of this function's time on a batch of 128 x 10 logits)
        flat, ignores_some = _checked_indices(name, input.data.shape, target.data, ignore_index)
        if not ignores_some and flat.size:
            return CrossEntropy.apply(input, target, reduce=True, scale=1.0 / flat.size)
    check_legacy(name, size_average, reduce)
    check_reduction(name, reduction)
    _check_smoothing(name, label_smoothing)
    shape = tuple(input.shape)
    logits = _classes_last(name, input)
    w = _class_weight(name, weight, logits.shape[1], logits)
    t = target.data if isinstance(target, Tensor) else np.array(target)  # data: a copy
    if w is None and not label_smoothing and t.dtype.kind in "iu":
        flat, ignores_some = _checked_indices(name, shape, t, ignore_index)
        if not ignores_some:
            return _picked_loss(CrossEntropy, logits, _index_input(target, flat), shape,
                                reduction)
    q, count = _target_weights(name, shape, logits.dtype, target, label_smoothing, w,
                               ignore_index)
    if reduction == "none":
        loss = CrossEntropy.apply(logits, _constant(q), reduce=False)
        return loss.reshape(_expected_target_shape(shape))
    if reduction == "mean" and count:
        q *= q.dtype.type(1.0 / float(count))  # the mean folded into the constant weights
    loss = CrossEntropy.apply(logits, _constant(q), reduce=True)
    return loss + math.nan if reduction == "mean" and not count else loss


def _index_input(target: Any, flat: Any) -> Tensor:
    """The class indices `flat` (target's data as one row) as an op's input: the target
    tensor itself, or a view of it, so that changing it in place before backward is an
    error (as in PyTorch) instead of a gradient for other classes; other data, copied
    by the caller, as a constant."""
    if isinstance(target, Tensor):
        return target if target.ndim == 1 else target.reshape(-1)
    return _constant(flat)


def _picked_loss(op: type[Function], logits: Tensor, targets: Tensor,
                 shape: tuple[int, ...], reduction: str) -> Tensor:
    """`op` (CrossEntropy, NllLoss) for class indices `targets` (one row) with every
    target counted and no class weights, reduced as asked: the op reads each row's target
    entry rather than a row of one-hot weights (cross_entropy, measured on 128 x 10
    logits: forward 38 -> 28 us, forward and backward 57 -> 46 us)."""
    flat = targets.data
    if reduction == "none":
        loss = op.apply(logits, targets, reduce=False)
        return loss.reshape(_expected_target_shape(shape))
    if reduction == "mean" and not flat.size:
        return op.apply(logits, targets, reduce=True) + math.nan  # 0 / 0
    scale = 1.0 / flat.size if reduction == "mean" else 1.0
    return op.apply(logits, targets, reduce=True, scale=scale)


def _elementwise_loss(op: type[Function], input: Tensor, target: Tensor,  # noqa: A002
                      reduction: str) -> Tensor:
    """`op` (MseLoss, BceWithLogits) of an input and a target of one shape, with no
    weights, reduced as asked (the mean of a non-empty input)."""
    scale = 1.0 / input.data.size if reduction == "mean" else 1.0
    return op.apply(input, target, reduce=reduction != "none", scale=scale)


@named_scope("nll_loss")
def nll_loss(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
             size_average: Any = None, ignore_index: int = IGNORE_INDEX, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """-weight[target] * input[target]: the negative log-likelihood of log-probabilities
    `input` (N, C) (PyTorch's arguments, in PyTorch's order); the mean divides by the
    summed weights of the targets, and targets equal to ignore_index are left out.

    Only the targets' entries are read (indexing), so a log-probability of -inf
    in another class (a masked class) leaves the loss and its gradient finite."""
    name = "nll_loss"
    check_legacy(name, size_average, reduce)
    check_reduction(name, reduction)
    t = target.data if isinstance(target, Tensor) else np.array(target)  # data: a copy
    if t.dtype.kind == "f":
        raise TypeError(
            f"nll_loss: target must hold integer class indices (int64), got dtype {t.dtype}"
        )
    shape = tuple(input.shape)
    logp = _classes_last(name, input)
    w = _class_weight(name, weight, logp.shape[1], logp)
    flat, ignores_some = _checked_indices(name, shape, t, ignore_index)
    if w is None and not ignores_some:  # the usual call: one op
        return _picked_loss(NllLoss, logp, _index_input(target, flat), shape, reduction)
    xp = array_module(flat)
    kept = flat != ignore_index
    everything = bool(kept.all())
    # ignored rows read class 0 (and count 0, below); a copy either way, so that changing
    # the target in place cannot change the gradient's indices
    safe = flat.copy() if everything else xp.where(kept, flat, 0)
    picked = logp[xp.arange(flat.size), safe]
    scale = None if everything else kept.astype(logp.dtype)
    if w is not None:
        scale = w[safe] if scale is None else scale * w[safe]
    if scale is not None:
        picked = picked * _constant(scale)
    count = flat.size if scale is None else scale.sum()
    if reduction == "none":
        return (-picked).reshape(_expected_target_shape(shape))
    if reduction == "sum":
        return -picked.sum()
    if not count:
        return picked.sum() + math.nan  # the mean over nothing: 0 / 0, as PyTorch
    return picked.sum() * (-1.0 / float(count))


def check_same_shape(name: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"{name}: target shape {tuple(target.shape)} differs from input shape "
            f"{tuple(input.shape)}; they must be equal"
        )


def as_target(input: Tensor, target: Any) -> Tensor:  # noqa: A002
    if isinstance(target, Tensor):
        return target
    # plain data (a number, a list) is made on the input's device; NumPy data is copied,
    # so that changing the array before backward leaves the gradient as computed
    return _constant(transfer(np.array(target, dtype=input.dtype), input.device.type))


@named_scope("mse_loss")
def mse_loss(input: Tensor, target: Any, size_average: Any = None,  # noqa: A002
             reduce: Any = None, reduction: str = "mean", weight: Any = None) -> Tensor:
    """(input - target)**2, averaged by default (PyTorch's arguments, in its order);
    with `weight` (input's shape) each squared error is weighted and the mean divides
    by the summed weights."""
    name = "mse_loss"
    check_legacy(name, size_average, reduce)
    check_reduction(name, reduction)
    target = as_target(input, target)
    check_same_shape(name, input, target)
    if weight is None and input.data.size:  # one op (ops/losses.py)
        return _elementwise_loss(MseLoss, input, target, reduction)
    diff = input - target
    return reduce_weighted(name, diff * diff, input, weight, reduction, mean_by_weights=True)


def reduce_weighted(name: str, loss: Tensor, input: Tensor, weight: Any,  # noqa: A002
                    reduction: str, mean_by_weights: bool) -> Tensor:
    """loss * weight reduced; with mean_by_weights the mean divides by the summed
    weights (l1_loss, mse_loss in PyTorch), else by the element count (huber_loss)."""
    if weight is None:
        return reduce_loss(name, loss, reduction)
    check_not_reduction(name, weight, "a tensor of the input's shape")
    weight = as_target(input, weight)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{name}: weight of shape {tuple(weight.shape)} must have the "
                         f"input's shape {tuple(input.shape)}")
    weighted = loss * weight
    if reduction == "mean" and mean_by_weights:
        return weighted.sum() / weight.sum()
    return reduce_loss(name, weighted, reduction)


@named_scope("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input: Tensor, target: Any,  # noqa: A002
                                     weight: Any = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], in the stable form

        max(x, 0) - x * y + log(1 + exp(-|x|))

    (exp of a non-positive number only), one op (its gradient sigmoid(x) - y). With
    `weight` or `pos_weight` it is a composite, where max(x, 0) and |x| are written as
    x times a constant sign so that both use the same side at x = 0, where the loss is
    smooth: its gradient there is 0.5 - y. With pos_weight p the positive term
    is weighted: (1 - y) x + (1 + (p - 1) y) softplus(-x), as PyTorch; `weight`
    (broadcast to the input) rescales each element's loss before the reduction."""
    name = "binary_cross_entropy_with_logits"
    check_legacy(name, size_average, reduce)
    check_reduction(name, reduction)
    raw_dtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    if raw_dtype.kind != "f":
        raise TypeError(f"{name}: target must be a float tensor of probabilities in [0, 1] "
                        f"shaped like the input, got dtype {raw_dtype}")
    target = as_target(input, target)
    check_same_shape(name, input, target)
    if weight is None and pos_weight is None and input.data.size:  # one op (ops/losses.py)
        return _elementwise_loss(BceWithLogits, input, target, reduction)
    positive = input.data >= 0
    sign = array_module(positive).where(positive, 1.0, -1.0).astype(input.dtype)
    # log(1 + exp(-|x|)), always finite
    log_term = ((input * _constant(-sign)).exp() + 1.0).log()
    if pos_weight is None:
        loss = input * (_constant(positive.astype(input.dtype)) - target) + log_term
    else:
        pw = as_target(input, pos_weight)
        # softplus(-x) = max(-x, 0) + log(1 + exp(-|x|))
        softplus_neg = input * _constant((~positive).astype(input.dtype) * -1) + log_term
        loss = (1.0 - target) * input + ((pw - 1.0) * target + 1.0) * softplus_neg
    if weight is not None:
        check_not_reduction(name, weight, "a tensor that broadcasts to the input")
        loss = loss * as_target(input, weight)
    return reduce_loss(name, loss, reduction)
