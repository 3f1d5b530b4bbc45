"""Stateless neural network functions (import as F), all composites of Tensor ops.

Nothing here has backward code: every function is written with differentiable
Tensor operations, so its gradient (and second derivative) follows. Constants
that only shape the computation (dropout masks, one-hot targets, batch-norm
running statistics) are plain arrays outside the graph.

This file holds linear, activations, padding, embedding and normalization;
convolution and pooling are in functional_conv.py, losses in functional_loss.py,
dropout in functional_extra.py and attention in functional_attention.py, all
re-exported here so that F.conv2d, F.cross_entropy, ... work as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend import array_module
from ..ops.activations import Gelu, Silu
from ..ops.nn_ops import (
    BatchNorm,
    LayerNorm,
    Linear,
    batch_statistics,
    norm_axes,
    per_channel,
)
from ..tensor import Tensor
from .functional_activations import (
    celu,
    elu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from .functional_attention import pairwise_distance, scaled_dot_product_attention
from .functional_conv import avg_pool2d, conv2d, fold, max_pool2d, unfold
from .functional_extra import (
    adaptive_avg_pool2d,
    cosine_similarity,
    dropout,
    dropout2d,
    normalize,
)
from .functional_loss import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from .functional_loss_elementwise import (
    binary_cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    smooth_l1_loss,
)

__all__ = [
    "linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "softmax",
    "log_softmax", "dropout", "flatten", "pad", "one_hot", "embedding", "batch_norm",
    "layer_norm", "conv2d", "max_pool2d", "avg_pool2d", "unfold", "fold", "cross_entropy",
    "nll_loss", "mse_loss", "binary_cross_entropy_with_logits", "l1_loss", "smooth_l1_loss",
    "huber_loss", "binary_cross_entropy", "kl_div", "elu", "selu", "celu", "softplus",
    "hardtanh", "relu6", "hardsigmoid", "hardswish", "mish", "softsign", "prelu",
    "adaptive_avg_pool2d", "normalize", "cosine_similarity", "dropout2d", "logsigmoid",
    "softmin", "glu", "hardshrink", "softshrink", "tanhshrink", "threshold",
    "pairwise_distance", "scaled_dot_product_attention",
]


def _constant(array: Any) -> Tensor:
    """A tensor around an array made here, on whichever device the array is."""
    return Tensor.wrap(array)


# -- linear and activations -------------------------------------------------------


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, with weight stored (out_features, in_features) as PyTorch.

    One primitive (ops/nn_ops.py) rather than permute + matmul + add: fewer
    recorded ops and a C-ordered weight gradient (see that file for the numbers)."""
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)


def relu(x: Tensor, inplace: bool = False) -> Tensor:
    return x.relu_() if inplace else x.relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    if inplace:  # the result in x's memory, as PyTorch (it saves no memory here)
        return x.update_("leaky_relu_", lambda t: t.leaky_relu(negative_slope))
    return x.leaky_relu(negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF: 0.5 x (1 + erf(x / sqrt(2))).

    approximate='tanh' uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as PyTorch.
    One primitive (ops/activations.py), not a composite: see that file for why."""
    if approximate == "none":
        return Gelu.apply(x)
    if approximate == "tanh":
        return Gelu.apply(x, approximate="tanh")
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish); one primitive (ops/activations.py)."""
    if inplace:
        return x.update_("silu_", silu)
    return Silu.apply(x)


def softmax(x: Tensor, dim: int = -1, *, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, computed with the max shifted out; with
    `dtype`, x is cast first (as PyTorch, e.g. to float64 for precision)."""
    return (x if dtype is None else x.to(dtype)).softmax(dim)


def log_softmax(x: Tensor, dim: int = -1, *, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along `dim`: finite even for logits of size 1e4; with `dtype`,
    x is cast first."""
    return (x if dtype is None else x.to(dtype)).log_softmax(dim)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return x.flatten(start_dim, end_dim)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad as torch.nn.functional.pad: `pad` lists (before, after) pairs starting
    from the LAST axis, e.g. (1, 1, 2, 0) pads the last axis by 1 on each side and
    the one before it by 2 in front. Negative widths crop."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got {mode!r}")
    pad = tuple(int(w) for w in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: the pad tuple must have an even length of at most 2 * ndim = {2 * x.ndim} "
            f"for a tensor of shape {tuple(x.shape)}, got {pad}"
        )
    pairs = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        pairs[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if any(b < 0 or a < 0 for b, a in pairs):
        crop = tuple(slice(max(-b, 0), side - max(-a, 0)) for (b, a), side in zip(pairs, x.shape))
        x = x[crop]
        pairs = [(max(b, 0), max(a, 0)) for b, a in pairs]
    if all(b == 0 and a == 0 for b, a in pairs):
        return x
    return x.pad(pairs, value=value)


def one_hot(labels: Any, num_classes: int = -1) -> Tensor:
    """int64 tensor with a 1 at each label's position along a new last axis."""
    array = _class_indices("one_hot", labels)
    if num_classes < 0:
        num_classes = int(array.max()) + 1 if array.size else 0
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(
            f"one_hot: labels must lie in [0, {num_classes}), got values from "
            f"{int(array.min())} to {int(array.max())}"
        )
    return _constant(array_module(array).eye(num_classes, dtype=np.int64)[array])


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` (num_embeddings, embedding_dim) picked by integer indices:
    output shape input.shape + (embedding_dim,).

    The gradient of a row is the sum of the gradients of the outputs that picked
    it (indexing's backward); the row padding_idx gets none, as PyTorch."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(
            "embedding: max_norm, scale_grad_by_freq and sparse are not supported"
        )
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        shape = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"embedding: weight must be a 2-D tensor (num_embeddings, "
                         f"embedding_dim), got {shape}")
    indices = input.data if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor (int64 or int32), "
                        f"got dtype {indices.dtype}")
    rows = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        raise IndexError(
            f"embedding: indices must lie in [0, {rows}) for a weight of shape "
            f"{tuple(weight.shape)}, got values from {int(indices.min())} to {int(indices.max())}"
        )
    out = weight[indices]
    if padding_idx is None:
        return out
    if not -rows <= padding_idx < rows:
        raise ValueError(f"embedding: padding_idx must lie in [-{rows}, {rows}) for a weight of "
                         f"shape {tuple(weight.shape)}, got {padding_idx}")
    padded = indices == padding_idx % rows
    if not padded.any():
        return out
    # the same values, but taken from outside the graph where the index is padding_idx
    return out.where(~padded[..., None], _constant(weight.data[indices]))


def _class_indices(name: str, labels: Any) -> np.ndarray:
    array = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: class labels must be an integer tensor (int64), got dtype {array.dtype}"
        )
    return array


# -- normalization ----------------------------------------------------------------------


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (axis 1) of an (N, C, *) input to zero mean, unit variance,
    then scale by weight and shift by bias.

    In training (or without running statistics) the batch's statistics are used
    (biased variance) and the running ones, when given, are updated in place:
    running = (1 - momentum) * running + momentum * batch, with the unbiased
    variance, as PyTorch. In eval the running statistics are used as constants."""
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *), got {tuple(x.shape)}")
    channels = x.shape[1]
    for label, t in (("running_mean", running_mean), ("running_var", running_var),
                     ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(
                f"batch_norm: {label} has shape {tuple(t.shape)} but the input of shape "
                f"{tuple(x.shape)} has {channels} channels (axis 1)"
            )
    shape = norm_axes(x.data)[1]  # (1, C, 1, ...): per-channel numbers against x
    use_batch = training or running_mean is None or running_var is None
    if use_batch:
        count = per_channel(x.data)
        if count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {tuple(x.shape)}"
            )
        # one primitive (ops/nn_ops.py): as a composite of about ten ops over the whole
        # activation it took about a third of the recipe CNN's step (36 of 105 ms)
        xp = array_module(x.data)
        w = weight if weight is not None else _constant(xp.ones(channels, dtype=x.dtype))
        b = bias if bias is not None else _constant(xp.zeros(channels, dtype=x.dtype))
        out = BatchNorm.apply(x, w, b, eps=eps)
        if training and running_mean is not None and running_var is not None:
            ctx = out.grad_fn  # the statistics it computed, unless nothing was recorded
            mean, var = (ctx.statistics if isinstance(ctx, BatchNorm)
                         else batch_statistics(x.data)[:2])
            _update_running(running_mean, mean, momentum)
            _update_running(running_var, var * (count / (count - 1)), momentum)
        return out
    # the running statistics, constants: (x - mean) / std * w + b = x * scale + shift, with
    # the weight and bias folded into the per-channel scale and shift (Tensor ops on C
    # numbers, so they still get gradients): two passes over x instead of four
    xp = array_module(running_var.data)  # type: ignore[union-attr]
    inv_std = 1.0 / xp.sqrt(running_var.data + eps)  # type: ignore[union-attr]
    scale = _constant(inv_std.astype(x.dtype).reshape(shape))
    shift = _constant((-running_mean.data * inv_std).astype(x.dtype).reshape(shape))  # type: ignore
    if weight is not None:
        scale = scale * weight.reshape(shape)
        shift = shift * weight.reshape(shape)
    if bias is not None:
        shift = shift + bias.reshape(shape)
    return x * scale + shift


def _update_running(running: Tensor, batch_value: np.ndarray, momentum: float) -> None:
    """running <- (1 - momentum) * running + momentum * batch_value, in place."""
    data = running.data
    data *= 1.0 - momentum
    data += (momentum * batch_value).astype(data.dtype)


def layer_norm(x: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) axes to zero mean and unit (biased)
    variance, then scale by weight and shift by bias (both of normalized_shape)."""
    shape = normalized_shape_tuple("layer_norm", normalized_shape)
    if x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ValueError(f"layer_norm: normalized_shape={shape} expects an input of shape "
                         f"(*, {', '.join(map(str, shape))}), got {tuple(x.shape)}")
    for label, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"layer_norm: {label} has shape {tuple(t.shape)}, expected "
                             f"normalized_shape {shape}")
    # one primitive (ops/nn_ops.py): as a composite of 8 ops its forward and backward
    # took 2.8x PyTorch's time on a 32 x 32 input
    if weight is None and bias is not None:  # the op takes a bias only after a weight
        weight = _constant(array_module(x.data).ones(shape, dtype=bias.dtype))
    affine = tuple(t for t in (weight, bias) if t is not None)
    return LayerNorm.apply(x, *affine, dims=len(shape), eps=eps)


def normalized_shape_tuple(name: str, normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    """An int or a sequence of ints as a non-empty tuple of positive ints."""
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    shape = tuple(normalized_shape)
    if not shape or not all(isinstance(s, (int, np.integer)) and s > 0 for s in shape):
        raise ValueError(f"{name}: normalized_shape must be a positive int or a non-empty "
                         f"sequence of positive ints, got {normalized_shape!r}")
    return tuple(int(s) for s in shape)
