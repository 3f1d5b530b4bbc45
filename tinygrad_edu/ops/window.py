"""Sliding-window primitives: Unfold (im2col) and Fold (col2im), each the other's adjoint.

Unfold copies every kh x kw window of a padded (N, C, H, W) image into a column:
the result has shape (N, C*kh*kw, L), L being the number of window positions,
row c*kh*kw + i*kw + j holding kernel tap (i, j) of channel c, as PyTorch's
unfold. Fold goes back: it adds every column entry into the pixel it came from
(pixels covered by several windows receive the sum) and drops the padding.

Both are linear maps and each is the transpose of the other, so the backward of
one is the other: <unfold(x), g> = <x, fold(g)>. Convolution and pooling are
built on top of them (nn/functional_conv.py) and need no backward code of their own.

Memory layout: both return arrays whose logical shape is PyTorch's but whose
memory is ordered batch-innermost, (C*kh*kw, L, N) and (C, H, W, N). NumPy
follows an operand's layout in elementwise ops and reductions, so activations
stay that way through a network. It matters for speed: every strided window
copy and every col2im add then moves N neighbouring numbers at once instead of
one short image row (in NCHW order the per-row loop overhead dominated, 3-5x
slower), and conv2d's product becomes one 2-D BLAS call. Any input layout is
accepted; results are plain strided NumPy arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module, as_strided
from ..engine import Function
from .domain import Picker, Sample

Pair = tuple[int, int]


def blocks(size: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair:
    """Number of window positions along H and W (may be <= 0 when the kernel does not fit)."""
    return tuple(  # type: ignore[return-value]
        (s + 2 * p - d * (k - 1) - 1) // st + 1
        for s, k, st, p, d in zip(size, kernel, stride, padding, dilation)
    )


def _describe(kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> str:
    return f"kernel_size={kernel}, stride={stride}, padding={padding}, dilation={dilation}"


def _batch_inner_zeros(xp: Any, n: int, c: int, h: int, w: int, dtype: Any) -> np.ndarray:
    """Zeros of logical shape (N, C, H, W) stored batch-innermost, as (C, H, W, N), made
    by the array module `xp` (the input's)."""
    return xp.zeros((c, h, w, n), dtype=dtype).transpose(3, 0, 1, 2)


def padded_image(x: Any, padding: Pair, fill: float = 0.0) -> Any:
    """x (N, C, H, W) with `padding` rows and columns of `fill` around it, a copy stored
    batch-innermost; x itself (any layout) when there is no padding."""
    (ph, pw), (n, c, h, w) = padding, x.shape
    if not (ph or pw):
        return x  # the window view follows its strides
    padded = array_module(x).full((c, h + 2 * ph, w + 2 * pw, n), fill, dtype=x.dtype)
    padded = padded.transpose(3, 0, 1, 2)
    padded[:, :, ph:ph + h, pw:pw + w] = x
    return padded


def window_view(padded: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair,
                out: Pair) -> np.ndarray:
    """A read-only strided view (N, C, kh, kw, oh, ow) of a padded image: no copy.

    Element [n, c, i, j, y, x] is padded[n, c, y*sh + i*dh, x*sw + j*dw]."""
    sn, sc, sy, sx = padded.strides
    return as_strided(
        padded,
        padded.shape[:2] + tuple(kernel) + tuple(out),
        (sn, sc, sy * dilation[0], sx * dilation[1], sy * stride[0], sx * stride[1]),
    )


class Unfold(Function):
    """im2col: d unfold(x)/dx is its transpose, so the gradient is fold(grad) (col2im)."""

    def forward(ctx, x: np.ndarray, kernel_size: Pair = (1, 1), stride: Pair = (1, 1),
                padding: Pair = (0, 0), dilation: Pair = (1, 1)) -> np.ndarray:
        if x.ndim != 4:
            raise ValueError(f"unfold: expected a 4-D input (N, C, H, W), got shape {x.shape}")
        n, c, h, w = x.shape
        out = blocks((h, w), kernel_size, stride, padding, dilation)
        if min(out) < 1:
            raise ValueError(
                f"unfold: input of shape {x.shape} is too small for "
                f"{_describe(kernel_size, stride, padding, dilation)}: it gives {out} windows "
                "along (H, W), but each needs at least one"
            )
        kh, kw = kernel_size
        xp = array_module(x)
        windows = window_view(padded_image(x, padding), kernel_size, stride, dilation, out)
        cols = xp.empty((c, kh, kw) + out + (n,), dtype=x.dtype)
        xp.moveaxis(cols, -1, 0)[...] = windows  # the one im2col copy
        # logical (N, C*kh*kw, L) over memory laid out (C*kh*kw, L, N)
        return cols.reshape(c * kh * kw, out[0] * out[1], n).transpose(2, 0, 1)

    def backward(ctx, grad: Any) -> Any:
        p = ctx.params
        size = ctx.parents[0].shape[2:]
        return Fold.apply(grad, output_size=tuple(size), kernel_size=p["kernel_size"],
                          stride=p["stride"], padding=p["padding"], dilation=p["dilation"])

    @staticmethod
    def domain(pick: Picker) -> Sample:
        n, c, size, kernel, stride, padding, dilation = _pick_window(pick)
        x = pick.values((n, c) + size)

        def call(t: Any) -> Any:
            return Unfold.apply(t, kernel_size=kernel, stride=stride, padding=padding,
                                dilation=dilation)

        return Sample((x,), call)


class Fold(Function):
    """col2im: d fold(cols)/dcols is its transpose, so the gradient is unfold(grad) (im2col)."""

    def forward(ctx, cols: np.ndarray, output_size: Pair = (1, 1), kernel_size: Pair = (1, 1),
                stride: Pair = (1, 1), padding: Pair = (0, 0),
                dilation: Pair = (1, 1)) -> np.ndarray:
        kh, kw = kernel_size
        out = blocks(output_size, kernel_size, stride, padding, dilation)
        settings = f"output_size={output_size}, " + _describe(kernel_size, stride, padding,
                                                               dilation)
        if min(out) < 1:
            raise ValueError(f"fold: {settings} leave no room for a single window")
        if cols.ndim != 3 or cols.shape[1] % (kh * kw) or cols.shape[2] != out[0] * out[1]:
            raise ValueError(
                f"fold: expected input of shape (N, C*{kh}*{kw}, {out[0] * out[1]}) "
                f"({out[0]} x {out[1]} windows) for {settings}, got shape {cols.shape}"
            )
        n, c = cols.shape[0], cols.shape[1] // (kh * kw)
        xp = array_module(cols)
        image = _batch_inner_zeros(xp, n, c, output_size[0], output_size[1], cols.dtype)
        if cols.strides[0] != cols.itemsize:
            # batch axis not innermost (a C-ordered gradient, e.g. from a flatten): one
            # transposing copy first makes the kh*kw adds below 3-5x faster
            cols = xp.moveaxis(xp.moveaxis(cols, 0, -1).copy(), -1, 0)
        taps = cols.reshape(n, c, kh, kw, out[0], out[1])
        # one big strided add per kernel tap (kh*kw of them), never a per-pixel loop;
        # entries that fall on the padding are skipped, so no padded buffer to crop
        for i in range(kh):
            rows, from_rows = _inside(i, output_size[0], kernel_size[0], stride[0],
                                      padding[0], dilation[0], out[0])
            for j in range(kw):
                columns, from_columns = _inside(j, output_size[1], kernel_size[1], stride[1],
                                                padding[1], dilation[1], out[1])
                image[:, :, rows, columns] += taps[:, :, i, j, from_rows, from_columns]
        return image

    def backward(ctx, grad: Any) -> Any:
        p = ctx.params
        return Unfold.apply(grad, kernel_size=p["kernel_size"], stride=p["stride"],
                            padding=p["padding"], dilation=p["dilation"])

    @staticmethod
    def domain(pick: Picker) -> Sample:
        n, c, size, kernel, stride, padding, dilation = _pick_window(pick)
        out = blocks(size, kernel, stride, padding, dilation)
        cols = pick.values((n, c * kernel[0] * kernel[1], out[0] * out[1]))

        def call(t: Any) -> Any:
            return Fold.apply(t, output_size=size, kernel_size=kernel, stride=stride,
                              padding=padding, dilation=dilation)

        return Sample((cols,), call)


def _inside(tap: int, size: int, kernel: int, stride: int, padding: int, dilation: int,
            out: int) -> tuple[slice, slice]:
    """Along one axis: the image pixels that `tap` of windows 0..out-1 lands on, and
    those windows, leaving out the ones whose tap falls on the padding."""
    offset = tap * dilation - padding  # pixel of this tap in window 0
    first = max(0, -(offset // stride))  # first window whose tap is >= 0
    last = min(out - 1, (size - 1 - offset) // stride)  # last one whose tap is < size
    if last < first:
        return slice(0, 0), slice(0, 0)
    start = offset + first * stride
    return slice(start, start + (last - first) * stride + 1, stride), slice(first, last + 1)


def _pick_window(pick: Picker) -> tuple:
    """Small valid settings: (N, C, (H, W), kernel, stride, padding, dilation)."""
    kernel = (pick.integer(1, 3), pick.integer(1, 3))
    stride = (pick.integer(1, 2), pick.integer(1, 2))
    dilation = (pick.integer(1, 2), pick.integer(1, 2))
    # PyTorch allows any padding for unfold; keep it at most half the kernel as conv does
    padding = (pick.integer(0, kernel[0] // 2), pick.integer(0, kernel[1] // 2))
    size = tuple(
        max(d * (k - 1) + 1 - 2 * p, 1) + pick.integer(0, 2)
        for k, p, d in zip(kernel, padding, dilation)
    )
    return pick.integer(1, 2), pick.integer(1, 2), size, kernel, stride, padding, dilation
