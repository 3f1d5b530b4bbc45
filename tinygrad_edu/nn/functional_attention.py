"""scaled_dot_product_attention and pairwise_distance (re-exported by nn.functional);
composites of Tensor ops, with PyTorch's arguments and PyTorch's answers, fully masked
rows included."""

from __future__ import annotations

import math

import numpy as np

from ..backend import array_module
from ..tensor import Tensor
from .functional_extra import dropout


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value over the last two dims, batch dims
    broadcast: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).

    scale defaults to 1 / sqrt(E). attn_mask is boolean (True: may attend) or a float
    bias added to the scores; is_causal lets position i attend to positions <= i.
    A row that may attend nowhere gives zeros (and a zero gradient), as PyTorch's.
    dropout_p drops attention weights (PyTorch drops them whatever the module's mode:
    pass dropout_p=0.0 when evaluating)."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa (grouped "
                                  "query heads) is not supported; repeat key and value "
                                  "along the head dim instead")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2 or query.shape[-1] != key.shape[-1] \
            or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            "scaled_dot_product_attention: expected query (..., L, E), key (..., S, E) and "
            f"value (..., S, Ev), got shapes {tuple(query.shape)}, {tuple(key.shape)} and "
            f"{tuple(value.shape)}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: give attn_mask or is_causal, not "
                           "both")
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * factor
    xp = array_module(scores.data)
    rows, cols = scores.shape[-2:]
    allowed = None  # where attention may go, when some of it is masked
    if is_causal:
        allowed = xp.tril(xp.ones((rows, cols), dtype=bool))
    elif attn_mask is not None and attn_mask.dtype == np.bool_:
        allowed = attn_mask.data
    elif attn_mask is not None:
        scores = scores + attn_mask
    if allowed is not None:
        scores = scores.masked_fill(Tensor.wrap(~allowed), -math.inf)
    # a row with nowhere to attend: softmax of all -inf would be nan; PyTorch gives zeros
    blocked = xp.isneginf(scores.data).all(axis=-1, keepdims=True)
    if bool(blocked.any()):
        open_rows = Tensor.wrap(~blocked)
        weights = scores.where(open_rows, 0.0).softmax(-1).where(open_rows, 0.0)
    else:
        weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ value


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The p-norm of x1 - x2 + eps along the last dim (eps keeps the gradient finite
    where the two are equal), x1 and x2 broadcast together."""
    if not isinstance(x2, Tensor):
        x2 = x1.new_tensor(x2)
    dim = -1 if max(x1.ndim, x2.ndim) else None
    return (x1 - x2 + eps).norm(p, dim, keepdim)
