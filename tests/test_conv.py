"""Convolution and pooling: unfold/fold, conv2d, max/avg pooling, the layers, training.

References are written in this file as direct loops in float64 (never by calling
the code under test); gradients are also checked against finite differences, first
and second order, on hypothesis-drawn settings. Real MNIST images (the 5k subset)
are used because they tie a lot (flat black backgrounds), which random inputs
rarely do. Runtime: about 13 s on 2 shared cores (8 s of it the training run).
"""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mnist_5k import HAVE_MNIST_5K, MNIST_5K, SKIP_REASON, needs_5k

import tinygrad_edu as tg
from tinygrad_edu import Tensor, gradcheck, gradgradcheck
from tinygrad_edu.data import MNIST
from tinygrad_edu.engine import toposort
from tinygrad_edu.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from tinygrad_edu.nn.functional_conv import avg_pool2d, conv2d, fold, max_pool2d, unfold
from tinygrad_edu.nn.norm import BatchNorm2d
from tinygrad_edu.ops.window import Fold, Unfold

REPO = Path(__file__).resolve().parents[1]
GRAD_SETTINGS = settings(max_examples=25, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def f64(a, requires_grad=True):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- references: direct loops in float64 ----------------------------------------------


def out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def ref_unfold(x, k, s, p, d):
    """cols[n, c*kh*kw + i*kw + j, y*ow + x] = padded x at the tap, one element at a time."""
    n, c, h, w = x.shape
    oh, ow = out_size(h, k[0], s[0], p[0], d[0]), out_size(w, k[1], s[1], p[1], d[1])
    cols = np.zeros((n, c * k[0] * k[1], oh * ow))
    for ci in range(c):
        for i in range(k[0]):
            for j in range(k[1]):
                for y in range(oh):
                    for xx in range(ow):
                        r, q = y * s[0] + i * d[0] - p[0], xx * s[1] + j * d[1] - p[1]
                        if 0 <= r < h and 0 <= q < w:
                            cols[:, (ci * k[0] + i) * k[1] + j, y * ow + xx] = x[:, ci, r, q]
    return cols


def ref_conv(x, w, b, s, p, d):
    """out[n, o, y, x] = sum over c, i, j of w[o, c, i, j] * padded x, by loops."""
    n, c, h, width = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh, ow = out_size(h, kh, s[0], p[0], d[0]), out_size(width, kw, s[1], p[1], d[1])
    out = np.zeros((n, o, oh, ow))
    for y in range(oh):
        for xx in range(ow):
            patch = xp[:, :, y * s[0]:y * s[0] + d[0] * (kh - 1) + 1:d[0],
                       xx * s[1]:xx * s[1] + d[1] * (kw - 1) + 1:d[1]]
            out[:, :, y, xx] = np.einsum("ncij,ocij->no", patch, w)
    return out if b is None else out + b[None, :, None, None]


def ref_conv_grads(x, w, g, s, p, d):
    """Gradients of sum(g * conv(x, w, b)) for x, w, b, accumulated tap by tap."""
    n, c, h, width = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    gxp, gw = np.zeros_like(xp), np.zeros_like(w)
    for y in range(g.shape[2]):
        for xx in range(g.shape[3]):
            rows = slice(y * s[0], y * s[0] + d[0] * (kh - 1) + 1, d[0])
            cols = slice(xx * s[1], xx * s[1] + d[1] * (kw - 1) + 1, d[1])
            gw += np.einsum("no,ncij->ocij", g[:, :, y, xx], xp[:, :, rows, cols])
            gxp[:, :, rows, cols] += np.einsum("no,ocij->ncij", g[:, :, y, xx], w)
    gx = gxp[:, :, p[0]:p[0] + h, p[1]:p[1] + width]
    return gx, gw, g.sum(axis=(0, 2, 3))


def ref_max_pool(x, g, k, s, p, d):
    """PyTorch's rule, one window at a time: scan the taps inside the image in
    row-major order, keep a tap when it is greater than the best so far (the first
    maximum wins ties); the window's gradient goes to that one element."""
    n, c, h, w = x.shape
    oh, ow = out_size(h, k[0], s[0], p[0], d[0]), out_size(w, k[1], s[1], p[1], d[1])
    out, gx = np.zeros((n, c, oh, ow)), np.zeros_like(x)
    for b in range(n):
        for ch in range(c):
            for y in range(oh):
                for xx in range(ow):
                    best, at = -np.inf, None
                    for i in range(k[0]):
                        for j in range(k[1]):
                            r, q = y * s[0] + i * d[0] - p[0], xx * s[1] + j * d[1] - p[1]
                            if 0 <= r < h and 0 <= q < w:
                                if at is None or x[b, ch, r, q] > best:
                                    best, at = x[b, ch, r, q], (r, q)
                    out[b, ch, y, xx] = best
                    if g is not None:
                        gx[b, ch, at[0], at[1]] += g[b, ch, y, xx]
    return out, gx


# -- hypothesis: valid window settings ------------------------------------------------


@st.composite
def window_settings(draw, max_kernel=3, max_extra=3, pool=False):
    """(kernel, stride, padding, dilation, (H, W)) that give at least one window."""
    k = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (1, 1) if pool and draw(st.booleans()) else (draw(st.integers(1, 2)),
                                                     draw(st.integers(1, 2)))
    # pooling allows padding up to half the kernel; unfold and conv2d allow any
    p = tuple(draw(st.integers(0, kk // 2 if pool else kk)) for kk in k)
    size = tuple(max(dd * (kk - 1) + 1 - 2 * pp, 1) + draw(st.integers(0, max_extra))
                 for kk, pp, dd in zip(k, p, d))
    return k, s, p, d, size


def distinct_values(shape, seed):
    """Values at least 0.1 apart: max pooling is differentiable only away from ties."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0)


# -- unfold / fold ----------------------------------------------------------------------


@SETTINGS
@given(window_settings(), st.integers(1, 2), st.integers(1, 3), st.integers(0, 10**6))
def test_unfold_matches_loops_and_fold_is_its_adjoint(setting, n, c, seed):
    k, s, p, d, (h, w) = setting
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    cols = unfold(Tensor(x), k, d, p, s).data
    np.testing.assert_allclose(cols, ref_unfold(x, k, s, p, d), atol=1e-12)
    # <unfold(x), g> == <x, fold(g)>: fold is unfold's transpose
    g = rng.standard_normal(cols.shape)
    folded = fold(Tensor(g), (h, w), k, d, p, s).data
    assert folded.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * g), np.sum(x * folded), rtol=1e-10)


def test_fold_adds_overlapping_windows():
    # 3x3 image of ones, 2x2 windows at stride 1: the centre pixel is in all 4 windows
    out = fold(Tensor(np.ones((1, 4, 4))), (3, 3), 2).data
    assert out.shape == (1, 1, 3, 3)
    np.testing.assert_array_equal(out[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_unbatched_unfold_and_fold():
    x = np.arange(2 * 4 * 5, dtype=np.float64).reshape(2, 4, 5)
    cols = unfold(Tensor(x), (2, 3), padding=1)
    np.testing.assert_array_equal(cols.data, ref_unfold(x[None], (2, 3), (1, 1), (1, 1),
                                                        (1, 1))[0])
    assert fold(cols, (4, 5), (2, 3), padding=1).shape == (2, 4, 5)


def test_unfold_fold_are_registered_primitives_and_each_others_backward():
    assert Function_registry_has("Unfold") and Function_registry_has("Fold")
    x = f64(np.ones((1, 1, 3, 3)))
    cols = unfold(x, 2)
    assert isinstance(cols.grad_fn, Unfold)
    seed = f64(np.ones(cols.shape))  # requires grad: the backward pass is recorded
    (g,) = tg.grad(cols, [x], seed, create_graph=True)
    assert isinstance(g.grad_fn, Fold)  # the backward of unfold is a (differentiable) fold
    (gg,) = tg.grad(g, [seed], f64(np.ones(x.shape)))
    assert isinstance(gg, Tensor) and gg.shape == cols.shape
    np.testing.assert_array_equal(g.data[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def Function_registry_has(name):  # noqa: N802
    from tinygrad_edu.engine import Function

    return name in Function.registry


@GRAD_SETTINGS
@given(window_settings(max_extra=1), st.integers(1, 2), st.data())
def test_unfold_fold_gradcheck_first_and_second_order(setting, c, data):
    k, s, p, d, (h, w) = setting
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    x = f64(rng.standard_normal((1, c, h, w)))
    assert gradcheck(lambda t: unfold(t, k, d, p, s), [x])
    assert gradgradcheck(lambda t: unfold(t, k, d, p, s), [x])
    cols = f64(rng.standard_normal(unfold(x, k, d, p, s).shape))
    assert gradcheck(lambda t: fold(t, (h, w), k, d, p, s), [cols])
    assert gradgradcheck(lambda t: fold(t, (h, w), k, d, p, s), [cols])


def test_unfold_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"unfold: input of shape \(1, 1, 2, 2\) is too small"):
        unfold(Tensor(np.zeros((1, 1, 2, 2))), 3)
    with pytest.raises(ValueError, match=r"unfold: expected a \(N, C, H, W\)"):
        unfold(Tensor(np.zeros((2, 2))), 1)
    with pytest.raises(ValueError, match=r"fold: expected input of shape \(N, C\*3\*3, 9\)"):
        fold(Tensor(np.zeros((1, 9, 5))), (5, 5), 3)
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        unfold(Tensor(np.zeros((1, 1, 4, 4))), (1, 2, 3))


def test_results_do_not_depend_on_the_input_memory_layout():
    """Unfold stores its results batch-innermost; any input layout gives the same values."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 6, 5))
    w = rng.standard_normal((4, 2, 3, 3))
    layouts = [x, np.asfortranarray(x), x.transpose(1, 2, 3, 0).copy().transpose(3, 0, 1, 2),
               np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))[:, :, 1:-1]]
    expected = ref_conv(x, w, None, (1, 1), (1, 1), (1, 1))
    for arr in layouts:
        t = Tensor(arr)
        np.testing.assert_allclose(conv2d(t, Tensor(w), padding=1).data, expected, atol=1e-12)
        np.testing.assert_allclose(max_pool2d(t, 2).data,
                                   ref_max_pool(x, None, (2, 2), (2, 2), (0, 0), (1, 1))[0])
        np.testing.assert_allclose(fold(unfold(t, 2), (6, 5), 2).data,
                                   fold(Tensor(ref_unfold(x, (2, 2), (1, 1), (0, 0), (1, 1))),
                                        (6, 5), 2).data)


# -- conv2d -----------------------------------------------------------------------------


@SETTINGS
@given(window_settings(), st.integers(1, 2), st.sampled_from([(1, 1), (2, 1), (1, 2), (2, 2)]),
       st.booleans(), st.integers(0, 10**6))
def test_conv2d_forward_and_backward_match_loops(setting, n, channels, with_bias, seed):
    k, s, p, d, (h, w) = setting
    (groups, per_group) = channels
    c, o = groups * per_group, groups * 2
    rng = np.random.default_rng(seed)
    x, wt = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, per_group) + k)
    b = rng.standard_normal(o) if with_bias else None
    xt, wtt = f64(x), f64(wt)
    bt = f64(b) if with_bias else None
    out = conv2d(xt, wtt, bt, s, p, d, groups)
    if groups == 1:
        expected = ref_conv(x, wt, b, s, p, d)
    else:  # each group is an independent convolution
        expected = np.concatenate([
            ref_conv(x[:, i * per_group:(i + 1) * per_group], wt[2 * i:2 * i + 2],
                     None if b is None else b[2 * i:2 * i + 2], s, p, d)
            for i in range(groups)], axis=1)
    np.testing.assert_allclose(out.data, expected, atol=1e-10)
    if groups == 1:
        g = rng.standard_normal(out.shape)
        out.backward(Tensor(g))
        gx, gw, gb = ref_conv_grads(x, wt, g, s, p, d)
        np.testing.assert_allclose(xt.grad.data, gx, atol=1e-10)
        np.testing.assert_allclose(wtt.grad.data, gw, atol=1e-10)
        if with_bias:
            np.testing.assert_allclose(bt.grad.data, gb, atol=1e-10)


@GRAD_SETTINGS
@given(window_settings(max_extra=1), st.integers(1, 2), st.booleans(), st.data())
def test_conv2d_gradcheck_first_and_second_order(setting, c, groups, data):
    k, s, p, d, (h, w) = setting
    groups = 2 if groups and c == 2 else 1
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    x = f64(rng.standard_normal((1, c, h, w)))
    wt = f64(rng.standard_normal((2, c // groups) + k) * 0.5)
    b = f64(rng.standard_normal(2))

    def fn(x, wt, b):
        return conv2d(x, wt, b, s, p, d, groups)

    assert gradcheck(fn, [x, wt, b])
    assert gradgradcheck(fn, [x, wt, b])


def test_conv2d_accepts_padding_strings_and_unbatched_input():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 7, 6)), rng.standard_normal((2, 3, 3, 5))
    same = conv2d(Tensor(x), Tensor(w), padding="same")
    np.testing.assert_allclose(same.data, ref_conv(x[None], w, None, (1, 1), (1, 2), (1, 1))[0])
    assert conv2d(Tensor(x), Tensor(w), padding="valid").shape == (2, 5, 2)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        conv2d(Tensor(x), Tensor(w), padding="same", stride=2)


def test_conv2d_errors_say_what_was_expected():
    x = Tensor(np.zeros((2, 3, 8, 8), dtype=np.float32))
    with pytest.raises(ValueError, match=r"expects input with 4 channels .* got input of shape "
                                         r"\(2, 3, 8, 8\) with 3 channels"):
        conv2d(x, Tensor(np.zeros((5, 4, 3, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"is smaller than the kernel"):
        conv2d(x, Tensor(np.zeros((5, 3, 9, 9), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"bias must have shape \(5,\)"):
        conv2d(x, Tensor(np.zeros((5, 3, 3, 3), dtype=np.float32)),
               Tensor(np.zeros(4, dtype=np.float32)))


# -- pooling ----------------------------------------------------------------------------


@SETTINGS
@given(window_settings(pool=True), st.integers(1, 2), st.integers(1, 2), st.integers(0, 10**6),
       st.booleans())
def test_max_pool_matches_loops_with_ties(setting, n, c, seed, few_values):
    k, s, p, d, (h, w) = setting
    assume(not _window_on_padding_only(setting))
    rng = np.random.default_rng(seed)
    # few distinct values: most windows hold ties, and the first maximum must win
    x = (rng.integers(-1, 2, (n, c, h, w)) if few_values
         else rng.standard_normal((n, c, h, w))).astype(np.float64)
    xt = f64(x)
    out, indices = max_pool2d(xt, k, s, p, d, return_indices=True)
    g = rng.standard_normal(out.shape)
    expected, expected_grad = ref_max_pool(x, g, k, s, p, d)
    np.testing.assert_array_equal(out.data, expected)
    out.backward(Tensor(g))
    np.testing.assert_allclose(xt.grad.data, expected_grad, atol=1e-12)
    # the index of each window's winner, as a flat h * W + w position
    flat = x.reshape(n, c, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, indices.data.reshape(n, c, -1), 2),
                                  expected.reshape(n, c, -1))


@SETTINGS
@given(window_settings(pool=True), st.integers(1, 3), st.integers(0, 10**6), st.booleans(),
       st.sampled_from(["no_grad", "constant"]))
def test_max_pool_not_recorded_gives_the_recorded_maxima(setting, n, seed, batch_inner, how):
    # outside the graph max pooling skips finding the winners (only backward needs
    # them): the maxima must still be the op's, nan, inf and ties included, in the same
    # memory layout, and nothing may be recorded
    k, s, p, d, (h, w) = setting
    assume(not _window_on_padding_only(setting))
    rng = np.random.default_rng(seed)
    values = rng.choice([-np.inf, -1.0, 0.0, 0.0, 2.0, np.inf, np.nan], (n, 2, h, w))
    values = np.where(rng.random(values.shape) < 0.5, rng.standard_normal(values.shape), values)
    if batch_inner:
        values = np.ascontiguousarray(values.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    recorded = max_pool2d(Tensor(values, requires_grad=True), k, s, p, d)
    assert recorded.grad_fn is not None
    if how == "no_grad":
        with tg.no_grad():
            plain = max_pool2d(Tensor(values, requires_grad=True), k, s, p, d)
    else:
        plain = max_pool2d(Tensor(values), k, s, p, d)
    assert plain.grad_fn is None and not plain.requires_grad
    np.testing.assert_array_equal(plain.data, recorded.data)  # nan where nan
    assert plain.data.strides == recorded.data.strides
    assert not np.shares_memory(plain.data, values)


def _window_on_padding_only(setting):
    k, s, p, d, size = setting
    for kk, ss, pp, dd, n in zip(k, s, p, d, size):
        for y in range(out_size(n, kk, ss, pp, dd)):
            if not any(0 <= y * ss + i * dd - pp < n for i in range(kk)):
                return True
    return False


def test_max_pool_refuses_windows_that_see_only_padding():
    # H = 1, rows -1 and 1 of the padded input: PyTorch returns -inf there
    with pytest.raises(ValueError, match="lie entirely on the padding"):
        max_pool2d(f64(np.ones((1, 1, 1, 1))), (2, 1), 1, (1, 0), (2, 1))


def test_max_pool_handles_nan_and_inf_as_pytorch():
    x = np.array([[[[1.0, np.nan, 3.0, np.nan], [-np.inf, 0.0, 2.0, 5.0]]]])
    xt = f64(x)
    out = max_pool2d(xt, 2)
    # a nan wins its window (and propagates); -inf is an ordinary, small value
    np.testing.assert_array_equal(np.isnan(out.data[0, 0]), [[True, True]])
    out.sum().backward()
    # PyTorch's scan keeps the last nan of a window
    np.testing.assert_array_equal(xt.grad.data[0, 0], [[0, 1, 0, 1], [0, 0, 0, 0]])
    y = max_pool2d(f64([[[[-np.inf, -np.inf], [-np.inf, -1.0]]]]), 2)
    assert y.item() == -1.0
    # both at once: a nan in one window, a -inf losing in another
    z = f64([[[[np.nan, 1.0, -np.inf, 2.0], [0.0, 0.0, 3.0, 3.0]]]])
    out = max_pool2d(z, 2)
    assert np.isnan(out.data[0, 0, 0, 0]) and out.data[0, 0, 0, 1] == 3.0
    out.sum().backward()
    np.testing.assert_array_equal(z.grad.data[0, 0], [[1, 0, 0, 0], [0, 0, 1, 0]])


@pytest.mark.parametrize("values, expected", [
    ([np.inf, 1.0, 0.0, 0.0, -np.inf, -np.inf, -np.inf, -np.inf], [np.inf, -np.inf]),
    ([3e38] * 8, [3e38, 3e38]),  # their sum overflows float32
])
def test_max_pool_warns_of_nothing_at_infinities_and_huge_values(values, expected):
    # PyTorch warns of nothing here; NumPy's warnings about the finiteness test that
    # picks the exact scan (a sum of the maxima) reached the user
    x = Tensor(np.array(values, np.float32).reshape(1, 2, 2, 2), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = max_pool2d(x, 2)
        out.backward(Tensor(np.ones(out.shape, np.float32)))
    np.testing.assert_array_equal(out.data.ravel(), np.array(expected, np.float32))
    np.testing.assert_array_equal(x.grad.data.reshape(2, 4).sum(axis=1), [1, 1])


@GRAD_SETTINGS
@given(window_settings(pool=True, max_extra=2), st.integers(1, 2), st.integers(0, 10**6))
def test_pooling_gradcheck_first_and_second_order(setting, c, seed):
    k, s, p, d, (h, w) = setting
    assume(not _window_on_padding_only(setting))
    x = f64(distinct_values((1, c, h, w), seed))
    assert gradcheck(lambda t: max_pool2d(t, k, s, p, d), [x])
    assert gradgradcheck(lambda t: max_pool2d(t, k, s, p, d), [x])
    assert gradcheck(lambda t: avg_pool2d(t, k, s, p), [x])
    assert gradgradcheck(lambda t: avg_pool2d(t, k, s, p, count_include_pad=False), [x])


@SETTINGS
@given(window_settings(pool=True), st.booleans(), st.integers(0, 10**6))
def test_avg_pool_matches_loops(setting, include_pad, seed):
    k, s, p, _, (h, w) = setting
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    oh, ow = out_size(h, k[0], s[0], p[0], 1), out_size(w, k[1], s[1], p[1], 1)
    if oh < 1 or ow < 1:
        return
    expected = np.zeros((2, 2, oh, ow))
    for y in range(oh):
        for xx in range(ow):
            rows = [r for r in range(y * s[0] - p[0], y * s[0] - p[0] + k[0]) if 0 <= r < h]
            cols = [q for q in range(xx * s[1] - p[1], xx * s[1] - p[1] + k[1]) if 0 <= q < w]
            total = x[:, :, rows][:, :, :, cols].sum(axis=(2, 3))
            count = k[0] * k[1] if include_pad else len(rows) * len(cols)
            expected[:, :, y, xx] = total / count
    out = avg_pool2d(Tensor(x), k, s, p, count_include_pad=include_pad)
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


# -- real MNIST images: flat backgrounds tie everywhere -----------------------------------


@pytest.fixture(scope="module")
def digits():
    if not HAVE_MNIST_5K:
        pytest.skip(SKIP_REASON)
    ds = MNIST(MNIST_5K, train=True, download=False)
    x, _ = ds.get_batch(np.arange(0, 5000, 625))  # 8 digits, one of each of 8 classes
    return x.astype(np.float64)


@needs_5k
def test_max_pool_on_real_digits_routes_ties_to_the_first_maximum(digits):
    assert np.mean(digits == 0) > 0.7  # mostly background: nearly every window ties
    for k, s, p in [((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1)), ((3, 3), (1, 1), (0, 0))]:
        x = f64(digits)
        out = max_pool2d(x, k, s, p)
        g = np.random.default_rng(0).standard_normal(out.shape)
        out.backward(Tensor(g))
        expected, expected_grad = ref_max_pool(digits, g, k, s, p, (1, 1))
        np.testing.assert_array_equal(out.data, expected)
        np.testing.assert_allclose(x.grad.data, expected_grad, atol=1e-12)


@needs_5k
def test_conv_relu_pool_on_real_digits_matches_loops(digits):
    """A conv layer's ReLU output is 0 over the background: ties again."""
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((4, 1, 3, 3)) * 0.5, np.full(4, -0.1)
    x, wt, bt = f64(digits), f64(w), f64(b)
    conv = conv2d(x, wt, bt, padding=1)
    np.testing.assert_allclose(conv.data, ref_conv(digits, w, b, (1, 1), (1, 1), (1, 1)),
                               atol=1e-10)
    pooled = max_pool2d(conv.relu(), 2)
    g = rng.standard_normal(pooled.shape)
    pooled.backward(Tensor(g))
    relu = np.maximum(ref_conv(digits, w, b, (1, 1), (1, 1), (1, 1)), 0)
    expected, g_relu = ref_max_pool(relu, g, (2, 2), (2, 2), (0, 0), (1, 1))
    np.testing.assert_allclose(pooled.data, expected, atol=1e-10)
    g_conv = g_relu * (relu > 0)
    gx, gw, gb = ref_conv_grads(digits, w, g_conv, (1, 1), (1, 1), (1, 1))
    np.testing.assert_allclose(x.grad.data, gx, atol=1e-9)
    np.testing.assert_allclose(wt.grad.data, gw, atol=1e-9)
    np.testing.assert_allclose(bt.grad.data, gb, atol=1e-9)


# -- layers -----------------------------------------------------------------------------


def test_conv2d_layer_init_shapes_and_rgb_input():
    tg.manual_seed(0)
    layer = Conv2d(3, 16, 5, padding=2, bias=True)
    assert layer.weight.shape == (16, 3, 5, 5) and layer.bias.shape == (16,)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    bound = 1 / np.sqrt(3 * 5 * 5)  # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for p in (layer.weight.data, layer.bias.data):
        assert p.dtype == np.float32 and np.abs(p).max() <= bound
    assert abs(layer.weight.data.std() - bound / np.sqrt(3)) < 0.1 * bound
    rgb = Tensor(np.random.default_rng(0).random((2, 3, 12, 10), dtype=np.float32))
    out = layer(rgb)
    assert out.shape == (2, 16, 12, 10) and out.dtype == np.float32
    expected = ref_conv(rgb.data.astype(np.float64), layer.weight.data.astype(np.float64),
                        layer.bias.data.astype(np.float64), (1, 1), (2, 2), (1, 1))
    np.testing.assert_allclose(out.data, expected, atol=1e-5)
    assert "Conv2d(3, 16, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))" == repr(layer)
    assert Conv2d(4, 8, 3, groups=2, bias=False).weight.shape == (8, 2, 3, 3)


def test_layer_shape_errors_name_the_layer_channels_and_shape():
    layer = Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8, kernel_size=\(3, 3\)\): expected input "
                                         r"with 3 channels .* got input of shape \(4, 1, 28, 28\)"):
        layer(Tensor(np.zeros((4, 1, 28, 28), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*got \(28, 28\)"):
        layer(Tensor(np.zeros((28, 28), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(8\).*\(4, 3, 5, 5\).*expected 8"):
        BatchNorm2d(8)(Tensor(np.zeros((4, 3, 5, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(8\): expected 4D"):
        BatchNorm2d(8)(Tensor(np.zeros((4, 8), dtype=np.float32)))


def test_pool_layers():
    x = Tensor(np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4))
    np.testing.assert_array_equal(MaxPool2d(2)(x).data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(AvgPool2d(2)(x).data[0, 1], [[18.5, 20.5], [26.5, 28.5]])
    out, idx = MaxPool2d(2, return_indices=True)(x)
    np.testing.assert_array_equal(idx.data[0, 0], [[5, 7], [13, 15]])
    assert MaxPool2d(3, stride=1, padding=1)(x).shape == (1, 2, 4, 4)


def test_batchnorm2d_train_and_eval():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 4, 5)) * 2 + np.array([1.0, -2.0, 0.5])[None, :, None, None]
    bn = BatchNorm2d(3, momentum=0.1).double()
    bn.weight.data[:] = [1.0, 2.0, 0.5]
    bn.bias.data[:] = [0.0, 1.0, -1.0]
    out = bn(f64(x))
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    normalized = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    expected = normalized * bn.weight.data[None, :, None, None] + bn.bias.data[None, :, None, None]
    np.testing.assert_allclose(out.data, expected, atol=1e-10)
    # running statistics: momentum 0.1, the unbiased variance (n = 6 * 4 * 5 per channel)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * mean, atol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * var * 120 / 119, atol=1e-12)
    assert int(bn.num_batches_tracked.data) == 1
    # eval: the running statistics, not the batch's, and nothing is updated
    bn.eval()
    before = bn.running_mean.data.copy()
    y = rng.standard_normal((2, 3, 4, 5))
    out = bn(f64(y))
    rm, rv = bn.running_mean.data, bn.running_var.data
    expected = ((y - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5)
                * bn.weight.data[None, :, None, None] + bn.bias.data[None, :, None, None])
    np.testing.assert_allclose(out.data, expected, atol=1e-10)
    np.testing.assert_array_equal(bn.running_mean.data, before)
    assert sorted(bn.state_dict()) == ["bias", "num_batches_tracked", "running_mean",
                                       "running_var", "weight"]


def test_batchnorm2d_gradcheck():
    rng = np.random.default_rng(3)
    bn = BatchNorm2d(2).double()
    x = f64(rng.standard_normal((3, 2, 2, 3)))
    # the weight and bias are the layer's own parameters, perturbed in place by gradcheck
    assert gradcheck(lambda t, weight, bias: bn(t), [x, bn.weight, bn.bias])


# -- a short training run on the 5k subset -------------------------------------------------

TRAIN_SCRIPT = """
import sys, time
import numpy as np
import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.data import MNIST, DataLoader
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn import BatchNorm2d, Conv2d, MaxPool2d

tg.manual_seed(0)
root = sys.argv[1]
train = DataLoader(MNIST(root, train=True, download=False), batch_size=64, shuffle=True)
test = DataLoader(MNIST(root, train=False, download=False), batch_size=1000)
model = nn.Sequential(
    Conv2d(1, 8, 3, padding=1), BatchNorm2d(8), nn.ReLU(), MaxPool2d(2),
    Conv2d(8, 16, 3, padding=1), BatchNorm2d(16), nn.ReLU(), MaxPool2d(2),
    nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
)
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
start = time.perf_counter()
for _ in range(2):
    for x, y in train:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
model.eval()
correct = 0
with tg.no_grad():
    for x, y in test:
        correct += int((model(x).data.argmax(axis=1) == y.data).sum())
print(correct / 10_000, time.perf_counter() - start)
"""


@needs_5k
def test_small_cnn_learns_mnist_5k():
    """The benchmark network (with batch norm) passes 90% test accuracy on 5,000 digits in
    2 epochs (measured: about 95%, ~10 s).

    It runs in a child process with one BLAS thread: on a machine whose cores are busy,
    multithreaded OpenBLAS spins and made this same run take 20 to 80 s."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", TRAIN_SCRIPT, str(MNIST_5K)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    accuracy, seconds = (float(v) for v in done.stdout.split()[-2:])
    assert accuracy > 0.90, f"test accuracy {accuracy:.2%} after 2 epochs"
    assert seconds < 60, f"2 epochs and the evaluation took {seconds:.0f} s"


@pytest.mark.parametrize("kernel", [1, 2])  # 1: one tap, whose copy kept no layout
@pytest.mark.parametrize("batch_inner", [True, False])
def test_max_pool_keeps_the_memory_layout_of_its_input(batch_inner, kernel):
    # a CNN keeps its activations batch-innermost (ops/window.py); a pool that handed
    # back a C-ordered result made the ops after it about 20x slower, so the layout is
    # part of what the op keeps; values and gradients do not depend on it
    rng = np.random.default_rng(0)
    values = rng.standard_normal((6, 3, 8, 8))
    upstream = Tensor(rng.standard_normal((6, 3, 8 // kernel, 8 // kernel)))
    x = Tensor(values, requires_grad=True)
    if batch_inner:
        x.data = np.ascontiguousarray(values.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    out = max_pool2d(x, kernel)
    assert (out.data.strides[0] == out.data.itemsize) == batch_inner
    out.backward(upstream)
    plain = Tensor(values, requires_grad=True)
    max_pool2d(plain, kernel).backward(upstream)
    np.testing.assert_array_equal(out.numpy(), max_pool2d(Tensor(values), kernel).numpy())
    np.testing.assert_array_equal(x.grad.numpy(), plain.grad.numpy())


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("kernel, stride", [(2, 2), (2, 1)])  # windows that tile, overlap
def test_max_pool_sends_an_inf_gradient_only_to_the_winners(create_graph, kernel, stride):
    # inf times a loser's 0 would be nan there; PyTorch gives 0
    x = Tensor(np.array([[[[1.0, 2.0, 0.5], [3.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]]),
               requires_grad=True)
    out = max_pool2d(x, kernel, stride)
    upstream = np.full(out.shape, np.inf)
    (gx,) = tg.grad(out, [x], grad_outputs=Tensor(upstream), create_graph=create_graph)
    winners = np.zeros(x.shape, bool)
    winners[0, 0, 1, 1] = True  # 4.0 wins every window (one when they tile, four if not)
    g = gx.numpy()
    assert not np.isnan(g).any()
    assert np.isinf(g[winners]).all() and not g[~winners].any()


@SETTINGS
@given(window_settings(pool=True), st.integers(1, 3), st.integers(0, 10**6),
       st.booleans(), st.booleans(), st.sampled_from([None, 3]))
def test_avg_pool_op_in_both_layouts_and_both_backward_paths(setting, n, seed, batch_inner,
                                                             include_pad, divisor):
    # one op: its values and layout follow the input, and its unrecorded backward (arrays,
    # written through a view or folded) gives the recorded one's (Tensor ops) gradient,
    # in both layouts of the input and of the incoming gradient; PyTorch's numbers
    torch = pytest.importorskip("torch")
    k, s, p, _, (h, w) = setting
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n, 2, h, w))
    x = Tensor(values, requires_grad=True)
    if batch_inner:
        x.data = np.ascontiguousarray(values.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    out = avg_pool2d(x, k, s, p, count_include_pad=include_pad, divisor_override=divisor)
    recorded_ops = {type(t.grad_fn).__name__ for t in toposort([out]) if t.grad_fn}
    assert "AvgPool2d" in recorded_ops and not recorded_ops & {"Unfold", "Sum", "Div"}
    if p == (0, 0):  # a padded copy is stored batch-innermost whatever the input's layout
        assert (out.data.strides[0] == out.data.itemsize) == (batch_inner and n > 1)
    upstream = rng.standard_normal(out.shape)
    if rng.random() < 0.5:  # a gradient stored batch-innermost, as a conv sends back
        upstream = np.ascontiguousarray(upstream.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    (recorded,) = tg.autograd.grad(out, [x], Tensor(upstream), create_graph=True)
    out.backward(Tensor(upstream))
    tx = torch.tensor(values, requires_grad=True)
    theirs = torch.nn.functional.avg_pool2d(tx, k, s, p, count_include_pad=include_pad,
                                            divisor_override=divisor)
    theirs.backward(torch.tensor(np.ascontiguousarray(upstream)))
    np.testing.assert_allclose(out.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(recorded.data, x.grad.data, rtol=1e-12, atol=1e-14)
