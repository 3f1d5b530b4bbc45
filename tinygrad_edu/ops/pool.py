"""Max pooling as one primitive: the max of each window forward; backward, each window's
gradient goes to the element it chose, the first maximum in row-major order (PyTorch's
rule), and an element chosen by several windows gets their sum (col2im, Fold).

As a composite (the windows times a one-hot mask of the winners, summed over each
window) max pooling recorded a multiply, a sum and the views around them, and its
backward copied the gradient through each of them. Here the forward pass finds the
winners and the maxima in one scan over the taps and saves the winners' mask (a
constant of the input); backward multiplies the gradient by it and folds. Where nothing
will take the gradient (no_grad, evaluation), max_pool2d skips the op and its winners:
window_maxima computes the same maxima in a third of the time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module, like
from ..engine import Function, is_grad_enabled
from .domain import Picker, Sample
from .window import Fold, blocks, padded_image, window_view

Pair = tuple[int, int]


def valid_taps(size: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
               out: Pair) -> np.ndarray | None:
    """(kh, kw, oh, ow) bool: which taps of which window fall inside the image
    (None when there is no padding: all of them)."""
    if padding == (0, 0):
        return None
    inside = []
    for side, k, st, p, d, o in zip(size, kernel, stride, padding, dilation, out):
        position = np.arange(o)[None, :] * st + np.arange(k)[:, None] * d - p  # (k, o)
        inside.append((position >= 0) & (position < side))
    rows, columns = inside
    return rows[:, None, :, None] & columns[None, :, None, :]


def max_windows(x: Any, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                out: Pair) -> Any:
    """Every window of x (N, C, H, W) as a read-only (N, C, kh, kw, oh, ow) view; a
    padded copy first when there is padding, padded with -inf, which never wins."""
    return window_view(padded_image(x, padding, -np.inf), kernel, stride, dilation, out)


def tap_views(windows: Any) -> list:
    """The taps of windows (N, C, kh, kw, oh, ow), row-major: [windows[:, :, i, j], ...],
    each an (N, C, oh, ow) view."""
    kh, kw = windows.shape[2:4]
    return [windows[:, :, i, j] for i in range(kh) for j in range(kw)]


def running_maximum(xp: Any, values: list) -> list:
    """[values[0], max(values[0], values[1]), ...]: the maximum over taps 0..t, for each
    t, in the taps' memory layout (np.maximum passes nan on, as PyTorch's max pooling).
    The last, the windows' maxima, is a new array (a copy for a lone tap), never a view
    of the input."""
    running = [values[0] if len(values) > 1 else values[0].copy(order="K")]
    for v in values[1:]:
        running.append(xp.maximum(running[-1], v))
    return running


def window_maxima(x: Any, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Any:
    """The max of every window of x (N, C, H, W), the same numbers as MaxPool2d's forward,
    without finding the winners that only its backward needs: a third of the time, for
    max pooling that nothing will differentiate (evaluation, no_grad)."""
    out = blocks(x.shape[2:], kernel, stride, padding, dilation)
    windows = max_windows(x, kernel, stride, padding, dilation, out)
    return running_maximum(array_module(x), tap_views(windows))[-1]


def first_max(xp: Any, windows: Any, valid: Any) -> tuple[Any, Any]:
    """(chosen, best): the one-hot bool mask, shaped like windows (N, C, kh, kw, oh, ow),
    of the winning tap of every window, and the windows' maxima (N, C, oh, ow), a new
    array in the windows' memory order. The winner is PyTorch's: among the taps inside
    the image, the first maximum in row-major order, or the last nan. Vectorized over
    windows: about 3*kh*kw passes over (N, C, oh, ow) arrays. `xp` is the windows'
    array module."""
    chosen = xp.zeros_like(windows, dtype=bool)  # zeros_like keeps the memory layout
    kh, kw = windows.shape[2:4]
    taps = [(i, j) for i in range(kh) for j in range(kw)]
    values = tap_views(windows)
    if valid is not None:  # taps on the padding must never win
        penalty = xp.where(valid, 0, -np.inf).astype(windows.dtype)
        values = [v if valid[i, j].all() else v + penalty[i, j]
                  for v, (i, j) in zip(values, taps)]
    # The running maximum over taps 0..t reaches the window's maximum first at the
    # winning tap: chosen[t] = (running[t] == max) and not (running[t - 1] == max).
    running = running_maximum(xp, values)
    best = running[-1]
    # nan (np.maximum passes it on) or inf wins somewhere; a sum that overflows lands
    # here too, harmlessly: the exact scan below handles every input. The sum is only a
    # test, so NumPy's warnings about it (inf - inf, overflow) are not the user's
    with np.errstate(invalid="ignore", over="ignore"):
        total = xp.sum(best)
    if not xp.isfinite(total):
        _scan_like_pytorch(xp, windows, valid, chosen)
        return chosen, best
    for (i, j), peak in zip(taps[:-1], running[:-1]):
        xp.equal(peak, best, out=chosen[:, :, i, j])
    if len(taps) == 1:
        chosen[...] = True
        return chosen, best
    # from the last tap back; the running maximum always reaches the maximum at the last
    (i, j), (pi, pj) = taps[-1], taps[-2]
    xp.logical_not(chosen[:, :, pi, pj], out=chosen[:, :, i, j])
    for (i, j), (pi, pj) in zip(taps[-2:0:-1], taps[-3::-1]):
        xp.greater(chosen[:, :, i, j], chosen[:, :, pi, pj], out=chosen[:, :, i, j])
    return chosen, best


def _scan_like_pytorch(xp: Any, windows: Any, valid: Any, chosen: Any) -> None:
    """PyTorch's CPU rule, step by step, for inputs with nan or inf: start from -inf and
    the first tap inside the image; a tap wins when it is greater than the best so
    far or is nan."""
    kh, kw = windows.shape[2:4]
    best = xp.full_like(windows[:, :, 0, 0], -np.inf)
    winner = xp.zeros(best.shape, dtype=np.intp)
    if valid is not None:
        winner += xp.argmax(valid.reshape(kh * kw, *valid.shape[2:]), axis=0)
    for t in range(kh * kw):
        i, j = divmod(t, kw)
        value = windows[:, :, i, j]
        take = (value > best) | xp.isnan(value)
        if valid is not None:
            take &= valid[i, j]
        best = xp.where(take, value, best)
        winner = xp.where(take, t, winner)
    for t in range(kh * kw):
        chosen[:, :, t // kw, t % kw] = winner == t


def winners(x: Any, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair
            ) -> tuple[Any, Any]:
    """first_max of x's windows: (the one-hot mask (N, C, kh, kw, oh, ow) of each
    window's chosen tap, the windows' maxima (N, C, oh, ow))."""
    out = blocks(x.shape[2:], kernel, stride, padding, dilation)
    valid = valid_taps(x.shape[2:], kernel, stride, padding, dilation, out)
    if valid is not None:
        valid = like(valid, x)
    return first_max(array_module(x), max_windows(x, kernel, stride, padding, dilation, out),
                     valid)


def fold_params(shape: tuple[int, ...], params: dict[str, Any]) -> dict[str, Any]:
    """Fold's arguments that put a pooling op's columns back on its input of `shape`."""
    return dict(output_size=shape[2:], kernel_size=params["kernel_size"],
                stride=params["stride"], padding=params["padding"],
                dilation=params.get("dilation", (1, 1)))


def spread_over_windows(grad: Any, weights: Any, shape: tuple[int, ...],
                        params: dict[str, Any]) -> Any:
    """The input gradient of a pooling op, not recorded: each window's gradient times
    `weights` (broadcast to (N, C, kh, kw, oh, ow): the winners' mask, or one over the
    window's divisor) at each tap, added up where windows overlap, on NumPy arrays."""
    n, c, h, w = shape
    kernel, stride = params["kernel_size"], params["stride"]
    (kh, kw), g = kernel, grad.data
    oh, ow = g.shape[2:]
    xp = array_module(g)
    batch_inner = g.strides[0] == g.itemsize and n > 1
    if stride == kernel and params["padding"] == (0, 0) and \
            params.get("dilation", (1, 1)) == (1, 1) and (h, w) == (oh * kh, ow * kw):
        # windows that tile the image: each element is in exactly one window, so the
        # gradient is written in one pass through a view, with no fold
        if batch_inner:
            image = xp.empty((c, h, w, n), dtype=g.dtype)
            taps = image.reshape(c, oh, kh, ow, kw, n).transpose(5, 0, 2, 4, 1, 3)
            gx = image.transpose(3, 0, 1, 2)
        else:
            gx = xp.empty((n, c, h, w), dtype=g.dtype)
            taps = gx.reshape(n, c, oh, kh, ow, kw).transpose(0, 1, 3, 5, 2, 4)
        xp.multiply(g[:, :, None, None], weights, out=taps)
        return grad.wrap(gx)
    if batch_inner:  # batch-innermost, as fold adds fastest
        cols = xp.empty((c, kh, kw, oh, ow, n), dtype=g.dtype)
        xp.multiply(g[:, :, None, None], weights, out=xp.moveaxis(cols, -1, 0))
        columns = cols.reshape(c * kh * kw, oh * ow, n).transpose(2, 0, 1)
    else:  # written in the gradient's order (a strided read of it took 20x longer)
        columns = xp.empty((n, c, kh, kw, oh, ow), dtype=g.dtype)
        xp.multiply(g[:, :, None, None], weights, out=columns)
        columns = columns.reshape(n, c * kh * kw, oh * ow)
    return Fold.apply(grad.wrap(columns), **fold_params(shape, params))


def pool_window(pick: Picker) -> tuple[Pair, Pair, Pair]:
    """A pooling op's test window: kernel and stride of 1 to 3, padding up to half the
    kernel (PyTorch's limit)."""
    kernel = (pick.integer(1, 3), pick.integer(1, 3))
    stride = (pick.integer(1, 3), pick.integer(1, 3))
    return kernel, stride, (pick.integer(0, kernel[0] // 2), pick.integer(0, kernel[1] // 2))


class MaxPool2d(Function):
    """d maxpool(x)/dx: 1 at the element each window chose (its first maximum in
    row-major order, as PyTorch), 0 elsewhere; an element chosen by several windows
    gets the sum of their gradients."""

    def forward(ctx, x: np.ndarray, kernel_size: Pair = (1, 1), stride: Pair = (1, 1),
                padding: Pair = (0, 0), dilation: Pair = (1, 1)) -> np.ndarray:
        if x.ndim != 4:
            raise ValueError(f"maxpool2d: expected a 4-D input (N, C, H, W), got shape {x.shape}")
        out = blocks(x.shape[2:], kernel_size, stride, padding, dilation)
        if min(out) < 1:
            raise ValueError(f"maxpool2d: input of shape {x.shape} is too small for "
                             f"kernel_size={kernel_size}, dilation={dilation}, "
                             f"padding={padding}")
        # the winners are found here, while x is still in cache (in backward they took 3x
        # as long on the benchmark CNN), along with the maxima themselves
        chosen, best = winners(x, kernel_size, stride, padding, dilation)
        ctx.save_for_backward(chosen)
        return best  # max passes nan on, as PyTorch's max pooling

    def backward(ctx, grad: Any) -> Any:
        x, p = ctx.parents[0], ctx.params
        n, c, h, w = x.shape
        (kh, kw), (oh, ow) = p["kernel_size"], grad.shape[2:]
        (chosen,) = ctx.saved_arrays  # a constant: which element each window chose
        g = grad.data
        # not recorded: the columns written once, by a multiply; an inf gradient times a
        # loser's 0 would be nan, so a gradient that is not finite takes the where below
        # (NumPy only checks: on a GPU the check would wait for the device; where is one
        # kernel there)
        if not is_grad_enabled() and type(g) is np.ndarray and np.isfinite(g).all():
            return spread_over_windows(grad, chosen, x.shape, p)
        taps = grad.reshape(n, c, 1, 1, oh, ow).where(grad.wrap(chosen), 0.0)
        return Fold.apply(taps.reshape(n, c * kh * kw, oh * ow), **fold_params(x.shape, p))

    @staticmethod
    def domain(pick: Picker) -> Sample:
        kernel, stride, padding = pool_window(pick)
        dilation = (1, 1) if padding != (0, 0) else (pick.integer(1, 2), pick.integer(1, 2))
        size = tuple(d * (k - 1) + 1 + pick.integer(0, 2) for k, d in zip(kernel, dilation))
        x = pick.distinct((pick.integer(1, 2), pick.integer(1, 2)) + size)  # no ties

        def call(t: Any) -> Any:
            return MaxPool2d.apply(t, kernel_size=kernel, stride=stride, padding=padding,
                                   dilation=dilation)

        return Sample((x,), call)


class AvgPool2d(Function):
    """d avgpool(x)/dx: each window's gradient divided by its divisor, to every element
    of the window; an element in several windows gets the sum."""

    reads_inputs = False  # backward needs only the input's shape

    def forward(ctx, x: np.ndarray, kernel_size: Pair = (1, 1), stride: Pair = (1, 1),
                padding: Pair = (0, 0), divisor: float | None = None) -> np.ndarray:
        if x.ndim != 4:
            raise ValueError(f"avgpool2d: expected a 4-D input (N, C, H, W), got shape {x.shape}")
        out = blocks(x.shape[2:], kernel_size, stride, padding, (1, 1))
        if min(out) < 1:
            raise ValueError(f"avgpool2d: input of shape {x.shape} is too small for "
                             f"kernel_size={kernel_size}, padding={padding}")
        windows = window_view(padded_image(x, padding, 0.0), kernel_size, stride, (1, 1), out)
        taps = tap_views(windows)
        # the sum in the taps' memory layout (the input's), a new array for a lone tap too
        total = taps[0] + taps[1] if len(taps) > 1 else taps[0].copy(order="K")
        for tap in taps[2:]:
            total += tap
        total *= window_scale(x, kernel_size, stride, padding, divisor, out)
        return total

    def backward(ctx, grad: Any) -> Any:
        x, p = ctx.parents[0], ctx.params
        n, c = x.shape[:2]
        (kh, kw), (oh, ow) = p["kernel_size"], grad.shape[2:]
        scale = window_scale(x.data, p["kernel_size"], p["stride"], p["padding"],
                             p.get("divisor"), (oh, ow))
        if not is_grad_enabled() and type(grad.data) is np.ndarray:  # not recorded
            return spread_over_windows(grad, scale, x.shape, p)
        scaled = grad * (scale if type(scale) is float else grad.wrap(scale))
        taps = scaled.reshape(n, c, 1, 1, oh, ow).expand(n, c, kh, kw, oh, ow)
        return Fold.apply(taps.reshape(n, c * kh * kw, oh * ow), **fold_params(x.shape, p))

    @staticmethod
    def domain(pick: Picker) -> Sample:
        kernel, stride, padding = pool_window(pick)
        divisor = pick.choice((None, float(kernel[0] * kernel[1]), 2.5))
        size = tuple(k + pick.integer(0, 2) for k in kernel)
        x = pick.values((pick.integer(1, 2), pick.integer(1, 2)) + size)

        def call(t: Any) -> Any:
            return AvgPool2d.apply(t, kernel_size=kernel, stride=stride, padding=padding,
                                   divisor=divisor)

        return Sample((x,), call)


def window_scale(x: Any, kernel: Pair, stride: Pair, padding: Pair, divisor: float | None,
                 out: Pair) -> Any:
    """What average pooling multiplies each window's sum by: 1 / divisor, or with
    divisor None, one over the number of the window's taps inside the image (an (oh, ow)
    array of x's dtype on x's device: padding left out of the count)."""
    if divisor is not None:
        return 1.0 / divisor
    valid = valid_taps(x.shape[2:], kernel, stride, padding, (1, 1), out)
    if valid is None:
        return 1.0 / (kernel[0] * kernel[1])
    return like((1.0 / valid.sum(axis=(0, 1))).astype(x.dtype), x)
