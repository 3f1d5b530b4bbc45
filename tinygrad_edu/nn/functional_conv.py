"""Convolution and pooling functions, built from the im2col primitive (ops/window.py).

conv2d = unfold -> one matrix product for the whole batch -> reshape; average
pooling = the windows (unfold, or a reshape when they tile the image) -> a sum over
each window; max pooling is its own primitive (ops/pool.py). Everything here is
built from primitives, so first and second order gradients come for free; shapes
and arguments follow PyTorch (NCHW: batch, channels, height, width). nn.functional
re-exports the public functions; the layers wrapping them are in conv.py.

Results are stored batch-innermost in memory (see ops/window.py for why); their
shapes and values are exactly PyTorch's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module
from ..engine import is_grad_enabled
from ..ops.pool import AvgPool2d, MaxPool2d, valid_taps, window_maxima, winners
from ..ops.window import Fold, Unfold, blocks
from ..tensor import Tensor

IntPair = int | tuple[int, int]
Pair = tuple[int, int]



def as_pair(value: Any, name: str, op: str, minimum: int = 1) -> tuple[int, int]:
    """PyTorch's convention: an int means the same value along H and W."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_image(x: Tensor, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a (N, C, H, W) or unbatched (C, H, W) input, "
                         f"got shape {tuple(x.shape)}")


# ---------------------------------------------------------------------------
# im2col and col2im
# ---------------------------------------------------------------------------


def unfold(x: Tensor, kernel_size: IntPair, dilation: IntPair = 1, padding: IntPair = 0,
           stride: IntPair = 1) -> Tensor:
    """im2col, as torch.nn.functional.unfold: (N, C, H, W) -> (N, C*kh*kw, L).

    Column l holds the window at position l (row-major over the output grid);
    row c*kh*kw + i*kw + j holds tap (i, j) of channel c. An unbatched (C, H, W)
    input gives (C*kh*kw, L)."""
    _check_image(x, "unfold")
    kernel = as_pair(kernel_size, "kernel_size", "unfold")
    params = dict(kernel_size=kernel, stride=as_pair(stride, "stride", "unfold"),
                  padding=as_pair(padding, "padding", "unfold", minimum=0),
                  dilation=as_pair(dilation, "dilation", "unfold"))
    if x.ndim == 3:
        return Unfold.apply(x.unsqueeze(0), **params).squeeze(0)
    return Unfold.apply(x, **params)


def fold(x: Tensor, output_size: IntPair, kernel_size: IntPair, dilation: IntPair = 1,
         padding: IntPair = 0, stride: IntPair = 1) -> Tensor:
    """col2im, as torch.nn.functional.fold: (N, C*kh*kw, L) -> (N, C, H, W), adding
    the entries that land on the same pixel. An unbatched (C*kh*kw, L) input gives (C, H, W)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"fold: expected a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3):
        raise ValueError(f"fold: expected a (N, C*kh*kw, L) or unbatched (C*kh*kw, L) input, "
                         f"got shape {tuple(x.shape)}")
    params = dict(output_size=as_pair(output_size, "output_size", "fold"),
                  kernel_size=as_pair(kernel_size, "kernel_size", "fold"),
                  stride=as_pair(stride, "stride", "fold"),
                  padding=as_pair(padding, "padding", "fold", minimum=0),
                  dilation=as_pair(dilation, "dilation", "fold"))
    if x.ndim == 2:
        return Fold.apply(x.unsqueeze(0), **params).squeeze(0)
    return Fold.apply(x, **params)


# ---------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------


def _conv_padding(padding: Any, kernel: tuple[int, int], dilation: tuple[int, int],
                  stride: tuple[int, int], op: str) -> tuple[int, int]:
    """Numbers as they are; 'valid' is no padding, 'same' keeps H and W (stride 1)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride={stride}")
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            if any(t % 2 for t in totals):
                raise ValueError(f"{op}: padding='same' with kernel_size={kernel} and "
                                 f"dilation={dilation} would need uneven padding, which is "
                                 "not supported; pad the input with Tensor.pad first")
            return (totals[0] // 2, totals[1] // 2)
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', "
                         f"got {padding!r}")
    return as_pair(padding, "padding", op, minimum=0)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1,
           *, name: str = "conv2d") -> Tensor:
    """2-D cross-correlation, as torch.nn.functional.conv2d.

    x (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,) -> (N, O, oh, ow).
    Built as unfold -> weight (O, C*kh*kw) @ the columns of the whole batch as one
    (C*kh*kw, L*N) matrix -> reshape. `name` is the layer named in shape errors."""
    _check_image(x, name)
    if weight.ndim != 4:
        raise ValueError(f"{name}: weight must have shape (out_channels, in_channels/groups, "
                         f"kh, kw), got {tuple(weight.shape)}")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    out_channels, group_channels, kh, kw = weight.shape
    n, c, h, w = x.shape
    if groups < 1 or c % groups or out_channels % groups:
        raise ValueError(f"{name}: groups={groups} must divide both the input channels ({c}) "
                         f"and the output channels ({out_channels})")
    if c != group_channels * groups:
        raise ValueError(
            f"{name}: weight of shape {tuple(weight.shape)} expects input with "
            f"{group_channels * groups} channels (N, {group_channels * groups}, H, W), got "
            f"input of shape {tuple(x.shape)} with {c} channels"
        )
    kernel = (kh, kw)
    stride = as_pair(stride, "stride", name)
    dilation = as_pair(dilation, "dilation", name)
    padding = _conv_padding(padding, kernel, dilation, stride, name)
    oh, ow = blocks((h, w), kernel, stride, padding, dilation)
    if oh < 1 or ow < 1:
        needed = tuple(d * (k - 1) + 1 - 2 * p for k, d, p in zip(kernel, dilation, padding))
        raise ValueError(
            f"{name}: input of shape {tuple(x.shape)} is smaller than the kernel: "
            f"kernel_size={kernel}, dilation={dilation}, padding={padding} need H and W of "
            f"at least {needed}"
        )
    cols = Unfold.apply(x, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation)
    # Unfold stores the columns as (C*kh*kw, L, N) in memory: seen that way they are
    # one matrix, and the whole batch is a single BLAS product (no per-image loop)
    cols = cols.permute(1, 2, 0)
    size = oh * ow * n
    if groups == 1:
        out = weight.reshape(out_channels, c * kh * kw) @ cols.reshape(c * kh * kw, size)
    else:
        per_group = group_channels * kh * kw
        grouped = weight.reshape(groups, out_channels // groups, per_group)
        out = grouped @ cols.reshape(groups, per_group, size)
    # (O, oh, ow, N) in memory, (N, O, oh, ow) to the user; later ops keep the layout
    out = out.reshape(out_channels, oh, ow, n).permute(3, 0, 1, 2)
    if bias is not None:
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"{name}: bias must have shape ({out_channels},), "
                             f"got {tuple(bias.shape)}")
        out = out + bias.reshape(out_channels, 1, 1)
    return out.squeeze(0) if unbatched else out


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------


def _pool_settings(x: Tensor, kernel_size: IntPair, stride: IntPair | None, padding: IntPair,
                   dilation: IntPair, ceil_mode: bool,
                   op: str) -> tuple[Tensor, bool, Pair, Pair, Pair, Pair, Pair]:
    """Checks a pooling call; returns (x as a batch, whether it was unbatched, kernel,
    stride, padding, dilation, output size), the pairs as PyTorch reads its arguments."""
    _check_image(x, op)
    if ceil_mode:
        raise NotImplementedError(f"{op}: ceil_mode=True is not supported")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    kernel = as_pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == () else as_pair(stride, "stride", op)
    padding = as_pair(padding, "padding", op, minimum=0)
    dilation = as_pair(dilation, "dilation", op)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half of "
                         f"kernel_size {kernel}")
    out = blocks((x.shape[-2], x.shape[-1]), kernel, stride, padding, dilation)
    if min(out) < 1:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} is too small for "
                         f"kernel_size={kernel}, dilation={dilation}, padding={padding}")
    return x, unbatched, kernel, stride, padding, dilation, out


def _batch_inner_grad(t: Tensor) -> Tensor:
    """The same (N, C, H, W) values; the gradient flowing back through it is stored
    batch-innermost like t, whatever layout it arrives in.

    A flatten before a Linear layer sends back a C-ordered gradient; meeting the
    batch-innermost masks of pooling, it would make every op before it 2-4x slower.
    Viewing t as one flat (C, H, W, N)-ordered vector costs nothing in the forward
    pass (t is stored that way) and turns the gradient around with one copy."""
    n, c, h, w = t.shape
    if t.data.strides[0] != t.data.itemsize or n == 1:
        return t  # not stored batch-innermost (an NCHW input to pooling): nothing to match
    return t.permute(1, 2, 3, 0).reshape(-1).reshape(c, h, w, n).permute(3, 0, 1, 2)


def max_pool2d(x: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0, dilation: IntPair = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """Max over each window, as torch.nn.functional.max_pool2d (stride defaults to the kernel).

    The gradient of a window goes to one element, its first maximum in row-major
    order (as PyTorch), not shared among ties: flat image regions tie a lot.
    Padding never wins. With return_indices=True also returns, for every output,
    the flat index h*W + w of the chosen input element."""
    x, unbatched, kernel, stride, padding, dilation, out_size = _pool_settings(
        x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    valid = valid_taps((x.shape[2], x.shape[3]), kernel, stride, padding, dilation, out_size)
    if valid is not None and not valid.any(axis=(0, 1)).all():
        # PyTorch returns -inf there, with an index outside the image; refuse instead
        raise ValueError(
            f"max_pool2d: with kernel_size={kernel}, stride={stride}, padding={padding} and "
            f"dilation={dilation}, some windows of an input of shape {tuple(x.shape)} lie "
            "entirely on the padding; use less padding or dilation"
        )
    if is_grad_enabled() and x.requires_grad:
        pooled = MaxPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                                 dilation=dilation)
    else:  # not recorded (evaluation, no_grad): the maxima alone, no winners to find
        pooled = x.wrap(window_maxima(x.data, kernel, stride, padding, dilation))
    out = _batch_inner_grad(pooled)
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    chosen, _ = winners(x.data, kernel, stride, padding, dilation)
    xp = array_module(chosen)
    n, c, kh, kw, oh, ow = chosen.shape
    winner = xp.argmax(chosen.reshape(n, c, kh * kw, oh, ow), axis=2)
    i, j = xp.divmod(winner, kw)
    rows = xp.arange(oh)[:, None] * stride[0] + i * dilation[0] - padding[0]
    columns = xp.arange(ow)[None, :] * stride[1] + j * dilation[1] - padding[1]
    indices = (rows * x.shape[3] + columns).astype(np.int64)
    return out, Tensor(indices[0] if unbatched else indices)


def avg_pool2d(x: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over each window, as torch.nn.functional.avg_pool2d (zero padding; with
    count_include_pad=False the padded zeros are left out of the count)."""
    x, unbatched, kernel, stride, padding, _, _ = _pool_settings(
        x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    if divisor_override is not None:
        divisor: float | None = float(divisor_override)
    elif count_include_pad or padding == (0, 0):
        divisor = float(kernel[0] * kernel[1])
    else:  # each window's count of real (unpadded) pixels, found by the op
        divisor = None
    if x.dtype.kind != "f":  # integers: the mean in float64, as the composite gave
        x = x.to(np.float64)
    # one primitive (ops/pool.py): as a composite (windows, sum, divide and the views
    # around them) its forward and backward took 2.3x PyTorch's time on 4x3x8x8
    out = _batch_inner_grad(AvgPool2d.apply(x, kernel_size=kernel, stride=stride,
                                            padding=padding, divisor=divisor))
    return out.squeeze(0) if unbatched else out
