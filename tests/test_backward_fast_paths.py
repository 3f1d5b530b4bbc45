"""Ops whose backward has a NumPy fast path (taken when the backward pass is not being
recorded) must give the numbers of their Tensor-op rule (taken under create_graph=True,
which the second-order checks exercise): the two branches are compared here on inputs
drawn by hypothesis, in float64."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import autograd
from tinygrad_edu.nn import functional as F  # noqa: N812
from tinygrad_edu.ops.nn_ops import batch_statistics, channel_dots, channel_rows

FINITE = st.floats(-5, 5, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape):
    return hnp.arrays(np.float64, shape, elements=FINITE)


def both_branches(fn, arrays_in, upstream):
    """(gradients with the backward not recorded, gradients with it recorded)."""
    results = []
    for create_graph in (False, True):
        xs = [tg.tensor(a, requires_grad=True) for a in arrays_in]
        out = fn(*xs)
        seed = tg.tensor(upstream) if upstream is not None else None
        grads = autograd.grad(out, xs, grad_outputs=seed, create_graph=create_graph)
        results.append([g.numpy() for g in grads])
    return results


def assert_same(fast, recorded):
    for f, r in zip(fast, recorded):
        np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-15, equal_nan=True)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_unary_fast_path_matches_tensor_rule(name, data):
    shape = data.draw(hnp.array_shapes(max_dims=3, max_side=4))
    x = data.draw(arrays(shape))
    upstream = data.draw(arrays(shape))
    fast, recorded = both_branches(lambda t: getattr(t, name)(), [x], upstream)
    assert_same(fast, recorded)


def test_relu_fast_path_keeps_inf_times_masked_zero_at_zero():
    # an inf upstream gradient at a masked element: the rule gives 0 there, not nan
    x, upstream = np.array([-1.0, 2.0, -3.0]), np.array([np.inf, 1.0, -np.inf])
    fast, recorded = both_branches(lambda t: t.relu(), [x], upstream)
    np.testing.assert_array_equal(fast[0], [0.0, 1.0, 0.0])
    assert_same(fast, recorded)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_fast_path_is_where_in_every_float_width_and_layout(dtype):
    # the fast path works on the bits: inf, nan and -0.0 upstream must pass (or stop)
    # exactly as np.where would, whatever the float width, for a transposed upstream too
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6)).astype(dtype)
    x[0, :3] = [0.0, -0.0, np.nan]  # relu(nan) = nan passes the gradient, as PyTorch
    upstream = rng.standard_normal((6, 4)).astype(dtype).T  # not C-contiguous
    upstream[1, :4] = [np.inf, -np.inf, np.nan, -0.0]
    t = tg.tensor(x, requires_grad=True)
    (grad,) = autograd.grad(t.relu(), [t], grad_outputs=tg.tensor(upstream))
    expected = np.where((x > 0) | np.isnan(x), upstream, dtype(0))
    assert grad.dtype == dtype
    np.testing.assert_array_equal(grad.numpy(), expected)
    np.testing.assert_array_equal(np.signbit(grad.numpy()), np.signbit(expected))


ACTIVATIONS = {"gelu": F.gelu, "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
               "silu": F.silu, "elu": F.elu, "selu": F.selu, "celu": lambda t: F.celu(t, 0.5),
               "leaky_relu": F.leaky_relu, "leaky_relu_steep": lambda t: F.leaky_relu(t, 1.5)}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_activation_fast_paths_match_tensor_rule(name, data):
    shape = data.draw(hnp.array_shapes(max_dims=3, max_side=4))
    # up to |x| = 60: where erf, exp and tanh saturate too
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-60, 60)))
    upstream = data.draw(arrays(shape))
    assert_same(*both_branches(ACTIVATIONS[name], [x], upstream))


@settings(max_examples=30, deadline=None)
@given(data=st.data(), bias=st.booleans(), lead=st.integers(0, 2))
def test_linear_fast_path_matches_tensor_rule(data, bias, lead):
    batch = data.draw(st.lists(st.integers(1, 3), min_size=lead, max_size=lead))
    n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    arrays_in = [data.draw(arrays((*batch, n_in))), data.draw(arrays((n_out, n_in)))]
    if bias:
        arrays_in.append(data.draw(arrays((n_out,))))
    upstream = data.draw(arrays((*batch, n_out)))
    fast, recorded = both_branches(F.linear, arrays_in, upstream)
    assert_same(fast, recorded)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_class_index_loss_fast_paths_match_tensor_rule(name, reduction, data):
    rows, classes = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
    logits = data.draw(arrays((rows, classes)))
    target = np.array(data.draw(st.lists(st.integers(0, classes - 1),
                                         min_size=rows, max_size=rows)))
    upstream = data.draw(arrays((rows,))) if reduction == "none" else None
    loss = getattr(F, name)
    fast, recorded = both_branches(
        lambda t: loss(t, tg.tensor(target), reduction=reduction), [logits], upstream)
    assert_same(fast, recorded)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_softmax_family_fast_path_matches_tensor_rule(name, data):
    shape = data.draw(hnp.array_shapes(max_dims=3, max_side=4))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x, upstream = data.draw(arrays(shape)), data.draw(arrays(shape))
    fast, recorded = both_branches(lambda t: getattr(t, name)(axis), [x], upstream)
    assert_same(fast, recorded)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), keepdims=st.booleans())
def test_logsumexp_fast_path_matches_tensor_rule(data, keepdims):
    shape = data.draw(hnp.array_shapes(max_dims=3, max_side=4))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(arrays(shape))
    out_shape = tuple(1 if i == axis % len(shape) else side for i, side in enumerate(shape)
                      if keepdims or i != axis % len(shape))
    upstream = data.draw(arrays(out_shape))
    fast, recorded = both_branches(lambda t: t.logsumexp(axis, keepdims), [x], upstream)
    assert_same(fast, recorded)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "binary_cross_entropy_with_logits"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_elementwise_loss_fast_paths_match_tensor_rule(name, reduction, data):
    # both inputs take gradients: the target's gradient has its own fast path
    shape = data.draw(hnp.array_shapes(max_dims=2, max_side=4))
    x, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    upstream = data.draw(arrays(shape)) if reduction == "none" else None
    loss = getattr(F, name)
    fast, recorded = both_branches(lambda a, b: loss(a, b, reduction=reduction), [x, target],
                                   upstream)
    assert_same(fast, recorded)


def channel_major(a):
    """The same values stored channel by channel, batch innermost, as a convolution
    stores its output: each channel's values lie together in memory."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 0, -1)), -1, 0)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), spatial=st.integers(0, 2), stored_by_channel=st.booleans())
def test_batch_norm_fast_path_matches_tensor_rule(data, spatial, stored_by_channel):
    n, c = data.draw(st.integers(2, 4)), data.draw(st.integers(1, 3))
    shape = (n, c) + (3,) * spatial
    x = data.draw(arrays(shape))
    x += np.arange(x.size).reshape(shape) * 0.01  # no constant channel (var 0)
    upstream = data.draw(arrays(shape))
    if stored_by_channel:  # the statistics and the weight's gradient take BLAS dot products
        x, upstream = channel_major(x), channel_major(upstream)
    weight, bias = data.draw(arrays((c,))), data.draw(arrays((c,)))
    fast, recorded = both_branches(
        lambda t, w, b: F.batch_norm(t, None, None, w, b, training=True),
        [x, weight, bias], upstream)
    # the input's gradient cancels to ~0 in small batches (exactly 0 for two values per
    # channel): rounding there is absolute, of the size of the other terms times 1e-16
    for f, r in zip(fast, recorded):
        np.testing.assert_allclose(f, r, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("op", ["mul", "div", "sub"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_binary_fast_path_matches_tensor_rule(op, data):
    # shapes that broadcast either way, so the unbroadcast of each side is exercised
    shape_x, shape_y = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_side=3)
                                 ).input_shapes
    x = data.draw(arrays(shape_x))
    y = data.draw(arrays(shape_y))
    if op == "div":
        y = np.where(np.abs(y) < 0.5, 0.5, y)  # away from zero
    upstream = data.draw(arrays(np.broadcast_shapes(shape_x, shape_y)))
    fn = {"mul": lambda a, b: a * b, "div": lambda a, b: a / b, "sub": lambda a, b: a - b}[op]
    fast, recorded = both_branches(fn, [x, y], upstream)
    assert_same(fast, recorded)


def test_binary_fast_paths_keep_the_gradient_dtype():
    # float32 times a float32 scalar made from a Python number, and a bool mask
    x = tg.tensor(np.array([1.0, -2.0], np.float32), requires_grad=True)
    (x * 3.0 / 2.0 - x * tg.tensor([True, False])).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 1.5])


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_pow_fast_path_matches_tensor_rule(data):
    shape = data.draw(hnp.array_shapes(max_dims=2, max_side=4))
    upstream = data.draw(arrays(shape))
    if data.draw(st.booleans()):  # x ** a constant, any sign of x (0 included)
        exponent = data.draw(st.sampled_from([2, 3, 1, 0, 0.5, -1]))
        x = data.draw(arrays(shape))
        if exponent in (0.5, -1):
            x = np.abs(x) + 0.5
        with np.errstate(all="ignore"):  # 0 ** -1 and the like: inf on both branches
            fast, recorded = both_branches(lambda t: t ** exponent, [x], upstream)
    else:  # x ** y with both taking gradients, a base of 0 included
        x = np.abs(data.draw(arrays(shape)))
        x.flat[0] = 0.0
        y = data.draw(arrays(shape))
        y.flat[0] = abs(y.flat[0])
        with np.errstate(all="ignore"):  # 0 ** negative: inf on both branches, as NumPy
            fast, recorded = both_branches(lambda a, b: a ** b, [x, y], upstream)
    assert_same(fast, recorded)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64])
def test_power_of_two_by_a_multiply_is_numpys_power(dtype):
    from tinygrad_edu.ops.elementwise import power

    rng = np.random.default_rng(0)
    if np.dtype(dtype).kind == "f":
        x = rng.standard_normal(20000) * 10.0 ** rng.integers(-30, 30, 20000)
        with np.errstate(over="ignore"):  # some overflow to inf on the way: wanted
            x = x.astype(dtype)
        x[:6] = [np.inf, -np.inf, np.nan, 0.0, -0.0, np.finfo(dtype).max]
    else:
        x = rng.integers(-1000, 1000, 20000).astype(dtype)
    two = np.array(2, dtype)
    with np.errstate(all="ignore"):
        mine, numpys = power(x, two), np.power(x, two)
    assert mine.dtype == numpys.dtype
    np.testing.assert_array_equal(mine, numpys)
    np.testing.assert_array_equal(np.signbit(mine), np.signbit(numpys))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_sum_fast_path_matches_tensor_rule(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))
    axis = data.draw(st.one_of(st.none(), st.integers(-max(len(shape), 1), max(len(shape) - 1, 0))
                               if shape else st.none()))
    keepdims = data.draw(st.booleans())
    x = data.draw(arrays(shape))
    out_shape = np.sum(x, axis=axis, keepdims=keepdims).shape
    fast, recorded = both_branches(lambda t: t.sum(axis, keepdims=keepdims), [x],
                                   data.draw(arrays(out_shape)))
    assert_same(fast, recorded)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_matmul_fast_path_matches_tensor_rule(data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    arrays_in = [data.draw(arrays((n, k))), data.draw(arrays((k, m)))]
    fast, recorded = both_branches(lambda a, b: a @ b, arrays_in, data.draw(arrays((n, m))))
    assert_same(fast, recorded)


@pytest.mark.parametrize("m, k, n", [(8, 3 * 8192 + 5, 9), (9, 2 * 8192, 8), (3, 40000, 3),
                                     (16, 100, 72), (200, 20000, 200)])
def test_long_inner_products_are_the_plain_product(m, k, n):
    from tinygrad_edu.ops.linalg import long_inner_product

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    out = long_inner_product(a, b)
    assert out.shape == (m, n) and out.flags.c_contiguous
    np.testing.assert_allclose(out, a @ b, rtol=1e-10, atol=1e-9)


def test_a_convolution_weight_gradient_goes_through_the_blocked_product():
    x = tg.randn(128, 1, 28, 28)  # 128 * 28 * 28 = 100,352 positions: a long inner axis
    conv = tg.nn.Conv2d(1, 8, 3, padding=1).double()
    out = conv(x.double())
    (gw,) = autograd.grad(out.sum(), [conv.weight])
    # the sum of every position's 3x3 patch, per output channel
    patches = np.pad(x.double().numpy()[:, 0], ((0, 0), (1, 1), (1, 1)))
    expected = np.array([[patches[:, i:i + 28, j:j + 28].sum() for j in range(3)]
                         for i in range(3)])
    np.testing.assert_allclose(gw.numpy()[:, 0], np.broadcast_to(expected, (8, 3, 3)),
                               rtol=1e-10)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), ndim=st.integers(2, 4), stored_by_channel=st.booleans())
def test_channel_dots_equal_the_sum_of_products(data, ndim, stored_by_channel):
    # batch norm's per-channel sums of products (its variance, its weight's gradient):
    # BLAS dot products where each channel's values lie together in memory, else a sum
    shape = tuple(data.draw(st.integers(0 if i != 1 else 1, 3)) for i in range(ndim))
    a, b = data.draw(arrays(shape)), data.draw(arrays(shape))
    if stored_by_channel and a.size:
        a, b = channel_major(a), channel_major(b)
    expected = (a * b).sum(axis=(0,) + tuple(range(2, ndim)))
    np.testing.assert_allclose(channel_dots(a, b), expected, rtol=1e-12, atol=1e-12)
    # in float32 within a few units of rounding of the float64 result
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    exact = (a32.astype(np.float64) * b32).sum(axis=(0,) + tuple(range(2, ndim)))
    scale = (np.abs(a32.astype(np.float64) * b32)).sum(axis=(0,) + tuple(range(2, ndim)))
    assert np.all(np.abs(channel_dots(a32, b32) - exact) <= 1e-6 * scale + 1e-30)


def test_channel_dots_take_dot_products_only_on_channel_rows():
    a = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    assert channel_rows(a) is None  # channels interleaved (N > 1, C order)
    stored = channel_major(a)
    rows = channel_rows(stored)
    assert rows is not None and rows.shape == (3, 8) and np.shares_memory(rows, stored)
    np.testing.assert_array_equal(np.sort(rows, axis=1), np.sort(
        np.moveaxis(a, 1, 0).reshape(3, -1), axis=1))
    # different layouts of the two operands: no dot products (their rows would not match)
    np.testing.assert_allclose(channel_dots(a, channel_major(a)), (a * a).sum(axis=(0, 2)))
    # float16 (no BLAS type) takes the sum of products, as before
    half = channel_major(a).astype(np.float16)
    np.testing.assert_array_equal(channel_dots(half, half), (half * half).sum(axis=(0, 2)))
    # an empty batch: the variance is 0 / 0, nan, as numpy's mean gives
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        assert np.isnan(batch_statistics(np.zeros((0, 3, 2), np.float32))[1]).all()
