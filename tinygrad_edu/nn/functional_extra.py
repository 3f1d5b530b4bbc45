"""adaptive_avg_pool2d, normalize, cosine_similarity, dropout and dropout2d
(re-exported by nn.functional); composites of Tensor ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..rng import device_generator, generator
from ..tensor import Tensor


def _output_size(output_size: Any, height: int, width: int) -> tuple[int, int]:
    """An int or a pair (None keeps the input's size on that axis) as (oh, ow)."""
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size, output_size)
    sizes = tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got "
                         f"{output_size!r}")
    oh, ow = (side if s is None else int(s) for s, side in zip(sizes, (height, width)))
    if oh <= 0 or ow <= 0:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {sizes}")
    return oh, ow


def _pool_axis(x: Tensor, axis: int, out: int) -> Tensor:
    """Means of the windows [floor(i n / out), ceil((i + 1) n / out)) along `axis`
    (PyTorch's windows), one slice per output; a reshape when out divides n."""
    n = x.shape[axis]
    if out == n:
        return x
    if n % out == 0:
        shape = x.shape[:axis] + (out, n // out) + x.shape[axis + 1:]
        return x.reshape(shape).mean(axis + 1)
    parts = []
    for i in range(out):
        start, end = (i * n) // out, -((-(i + 1) * n) // out)
        index = (slice(None),) * axis + (slice(start, end),)
        parts.append(x[index].mean(axis, keepdims=True))
    return parts[0].cat(parts[1:], axis=axis)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Averages over windows chosen so that the output has `output_size` (oh, ow),
    whatever the input's (H, W): window i along H covers rows floor(i H / oh) to
    ceil((i + 1) H / oh), as PyTorch (windows may overlap when oh does not divide H).
    Input (N, C, H, W) or (C, H, W). Rows are pooled first, then columns: the mean
    over a window is the mean of its row means."""
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected a 3-d (C, H, W) or 4-d "
                         f"(N, C, H, W) input, got shape {tuple(input.shape)}")
    height, width = input.shape[-2:]
    if height == 0 or width == 0:
        raise ValueError(f"adaptive_avg_pool2d: the input of shape {tuple(input.shape)} "
                         "has an empty spatial axis")
    oh, ow = _output_size(output_size, height, width)
    return _pool_axis(_pool_axis(input, input.ndim - 2, oh), input.ndim - 1, ow)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Any = None) -> Tensor:
    """input / max(||input||_p, eps) along `dim`: unit vectors (zero stays zero)."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; use the result")
    norm = input.norm(p, dim, keepdim=True)
    return input / norm.clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along `dim` (after broadcasting
    x1 and x2 together); that axis is removed."""
    if not isinstance(x2, Tensor):
        x2 = x1.new_tensor(x2)
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise ValueError(f"cosine_similarity: x1 of shape {tuple(x1.shape)} and x2 of shape "
                         f"{tuple(x2.shape)} do not broadcast together") from None
    # the norms are of the broadcast vectors, as PyTorch's
    x1, x2 = x1.expand(*shape), x2.expand(*shape)
    # norm(), not sqrt(sum of squares): its gradient at a zero vector is 0, not the
    # sqrt's infinite slope times clamp's 0 (nan), so a zero vector gets PyTorch's gradient
    n1 = x1.norm(2, dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by
    1/(1-p), so the expected value is unchanged and eval needs no rescaling."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x.zero_() if inplace else x * 0.0
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    # the CPU's seeded generator, or the stream of x's device (draws stay there)
    source = generator() if type(x.data) is np.ndarray else device_generator(x.device.type)
    keep = source.random(x.shape, dtype=np.float32 if dtype == np.float32 else np.float64)
    mask = (keep >= p).astype(dtype) * dtype.type(1.0 / (1.0 - p))
    if inplace:
        return x.update_("dropout_", lambda t: t * Tensor.wrap(mask))
    return x * Tensor.wrap(mask)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels: each (n, c) feature map of an (N, C, H, W) input (or each
    c of a (C, H, W) one) with probability p, and scale the rest by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability p must be between 0 and 1, got {p}")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, "
                         f"got shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    dtype = input.dtype if input.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1.0:
        mask: Any = np.zeros((1,) * input.ndim, dtype=dtype)
    else:
        source = (generator() if type(input.data) is np.ndarray
                  else device_generator(input.device.type))
        maps = input.shape[:-2] + (1, 1)
        keep = source.random(maps, dtype=np.float32 if dtype == np.float32 else np.float64)
        mask = (keep >= p).astype(dtype) * dtype.type(1.0 / (1.0 - p))
    if type(input.data) is not np.ndarray and type(mask) is np.ndarray:
        mask = input.new_tensor(mask).data
    if inplace:
        return input.update_("dropout2d_", lambda t: t * Tensor.wrap(mask))
    return input * Tensor.wrap(mask)
