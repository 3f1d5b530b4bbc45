"""The functions a PyTorch script reaches for next: layout (movedim, swapaxes, mT,
unflatten, ravel, tile, broadcast_to, select, broadcast_tensors, atleast_*d, meshgrid),
elementwise pairs and NaN-aware reductions (lerp, logaddexp, logaddexp2, fmod,
nan_to_num, logit, nansum, nanmean, count_nonzero), products with an added term (mv,
addmm, addmv, baddbmm, addbmm, trace), and nn.functional's logsigmoid, softmin, glu,
the shrinks, threshold, pairwise_distance and scaled_dot_product_attention with their
modules.

Values and input gradients against PyTorch on hypothesis-drawn float64 inputs (special
values included, no NumPy warning may escape), and first and second order finite
differences in float64, which run without PyTorch."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F  # noqa: N812

SPECIAL = (0.0, -0.0, 0.5, -0.5, 1.0, math.inf, -math.inf, math.nan)


def torch_module():
    return pytest.importorskip("torch")


@st.composite
def arrays(draw, shape=None, special=False, low=-3.0, high=3.0):
    if shape is None:
        shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.uniform(low, high, size=shape)
    if special:
        picks = rng.random(shape) < 0.3
        x[picks] = rng.choice(SPECIAL, size=int(picks.sum()))
    return x


def run(lib, fn, inputs, seed=0):
    """fn on lib's tensors: (value, input gradients), gradients for a random upstream
    gradient (None for inputs that are not floating point)."""
    tensors = [lib.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    out = fn(lib, *tensors)
    if isinstance(out, tuple):
        out = lib.stack(list(out))
    if not out.requires_grad:
        return out.detach().numpy(), []
    g = np.random.default_rng(seed).normal(size=tuple(out.shape))
    out.backward(lib.tensor(g))
    return out.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in tensors]


def assert_as_pytorch(fn, *inputs, rtol=1e-12):
    """fn(lib, *tensors) gives PyTorch's value and gradients, and ours warns nothing."""
    torch = torch_module()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mine, my_grads = run(tg, fn, inputs)
    theirs, their_grads = run(torch, fn, inputs)
    assert mine.shape == theirs.shape
    np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=1e-12)
    for a, b in zip(my_grads, their_grads):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


def assert_gradchecks(fn, *inputs):
    tensors = [tg.tensor(x, requires_grad=True) for x in inputs]
    assert tg.gradcheck(fn, tensors)
    assert tg.gradgradcheck(fn, tensors)


# -- layout --------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(x=arrays(shape=(2, 3, 4)), source=st.integers(-3, 2), destination=st.integers(-3, 2))
def test_layout_functions_match_pytorch(x, source, destination):
    assert_as_pytorch(lambda lib, t: lib.movedim(t, source, destination), x)
    assert_as_pytorch(lambda lib, t: t.movedim((0, 1), (destination, source))
                      if source % 3 != destination % 3 else t.moveaxis(0, 1), x)
    assert_as_pytorch(lambda lib, t: lib.swapaxes(t, source, destination), x)
    assert_as_pytorch(lambda lib, t: t.swapdims(source, destination), x)
    assert_as_pytorch(lambda lib, t: t.mT, x)
    assert_as_pytorch(lambda lib, t: lib.unflatten(t, 1, (3, 1)), x)
    assert_as_pytorch(lambda lib, t: t.unflatten(-1, (2, -1)), x)
    assert_as_pytorch(lambda lib, t: lib.ravel(t.transpose(0, 2)), x)
    assert_as_pytorch(lambda lib, t: lib.tile(t, (2,)), x)
    assert_as_pytorch(lambda lib, t: t.tile((2, 1, 1, 3)), x)
    assert_as_pytorch(lambda lib, t: lib.broadcast_to(t[:, :1], (5, 2, 3, 4)), x)
    assert_as_pytorch(lambda lib, t: lib.select(t, source, -1), x)
    assert_as_pytorch(lambda lib, t: lib.t(t[0]), x)


@settings(max_examples=10, deadline=None)
@given(a=arrays(shape=(3,)), b=arrays(shape=(2, 1)), c=arrays(shape=(4,)))
def test_tensor_lists_match_pytorch(a, b, c):
    assert_as_pytorch(lambda lib, u, v: lib.broadcast_tensors(u, v), a, b)
    for name in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for x in (np.array(a[0]), a, b):
            assert_as_pytorch(lambda lib, u, name=name: getattr(lib, name)(u), x)
        assert_as_pytorch(lambda lib, u, v, name=name: lib.stack(
            [w.reshape(-1) for w in getattr(lib, name)(u, v)]), a, a)
    for mode in ("ij", "xy"):
        assert_as_pytorch(lambda lib, u, v, mode=mode: lib.meshgrid(u, v, indexing=mode), a, c)
        assert_as_pytorch(lambda lib, u, v, w, mode=mode: lib.stack(
            [g.reshape(-1) for g in lib.meshgrid(u, v, w, indexing=mode)]), a, c, a)


def test_meshgrid_defaults_to_ij_and_takes_a_list():
    x, y = tg.tensor([1.0, 2.0, 3.0]), tg.tensor([4.0, 5.0])
    grid_x, grid_y = tg.meshgrid([x, y])
    assert grid_x.shape == (3, 2)
    np.testing.assert_array_equal(grid_x.numpy()[:, 0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(grid_y.numpy()[0], [4.0, 5.0])


def test_layout_errors_name_the_function_and_the_shapes():
    x = tg.zeros(2, 6)
    with pytest.raises(RuntimeError, match=r"unflatten: sizes \(4, 2\) do not split dim 1 of "
                                           r"size 6 \(shape \(2, 6\)\)"):
        x.unflatten(1, (4, 2))
    with pytest.raises(RuntimeError, match="unflatten: sizes"):
        x.unflatten(1, (-1, -1))
    with pytest.raises(RuntimeError, match="movedim: got 2 source dims"):
        x.movedim((0, 1), 0)
    with pytest.raises(RuntimeError, match="movedim: repeated dim"):
        x.movedim((0, 0), (0, 1))
    with pytest.raises(IndexError, match=r"select: index 6 is out of range for dim 1 of "
                                         r"size 6"):
        x.select(1, 6)
    with pytest.raises(RuntimeError, match=r"mT: expects a tensor with at least 2 dims, got "
                                           r"shape \(3,\)"):
        _ = tg.zeros(3).mT
    with pytest.raises(RuntimeError, match="broadcast_tensors: shapes"):
        tg.broadcast_tensors(tg.zeros(2), tg.zeros(3))
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'ij' or 'xy'"):
        tg.meshgrid(tg.zeros(2), indexing="ji")


# -- elementwise pairs and NaN-aware reductions ----------------------------------------


@settings(max_examples=25, deadline=None)
@given(x=arrays(shape=(3, 4), special=True), y=arrays(shape=(3, 4), special=True),
       w=arrays(shape=(3, 4), low=-1.0, high=2.0), scalar=st.sampled_from(
           [0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 1.5]))
def test_lerp_matches_pytorch_from_either_end(x, y, w, scalar):
    finite_x, finite_y = (np.nan_to_num(a, posinf=5.0, neginf=-5.0) for a in (x, y))
    assert_as_pytorch(lambda lib, a, b, c: lib.lerp(a, b, c), finite_x, finite_y, w)
    assert_as_pytorch(lambda lib, a, b: a.lerp(b, scalar), finite_x, finite_y)
    assert_as_pytorch(lambda lib, a, b: (a * 1.0).lerp_(b, scalar), finite_x, finite_y)
    assert_as_pytorch(lambda lib, a, b, c: (a * 1.0).lerp_(b, c), finite_x, finite_y, w)


@settings(max_examples=25, deadline=None)
@given(x=arrays(shape=(3, 4), special=True, low=-50, high=50),
       y=arrays(shape=(3, 4), special=True, low=-50, high=50))
def test_logaddexp_matches_pytorch_without_overflow(x, y):
    assert_as_pytorch(lambda lib, a, b: lib.logaddexp(a, b), x, y)
    assert_as_pytorch(lambda lib, a, b: a.logaddexp2(b), x, y)


def test_logaddexp_is_exact_where_exp_overflows():
    x = tg.tensor([1000.0, -1000.0, 0.0], dtype=tg.float64, requires_grad=True)
    out = tg.logaddexp(x, tg.tensor([1000.0, -1000.0, -math.inf], dtype=tg.float64))
    np.testing.assert_allclose(out.numpy(), [1000.0 + math.log(2.0),
                                             -1000.0 + math.log(2.0), 0.0], rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5, 1.0])


@settings(max_examples=25, deadline=None)
@given(x=arrays(shape=(3, 4), low=-20, high=20), y=arrays(shape=(3, 4), low=0.5, high=4),
       sign=st.sampled_from([1.0, -1.0]))
def test_fmod_matches_pytorch(x, y, sign):
    assert_as_pytorch(lambda lib, a, b: lib.fmod(a, b), x, y * sign)
    assert_as_pytorch(lambda lib, a: a.fmod(1.5 * sign), x)


def test_fmod_of_integers_and_of_large_quotients():
    torch = torch_module()
    ints = np.array([-7, 7, 5, -5, 0])
    np.testing.assert_array_equal(tg.fmod(tg.tensor(ints), 3).numpy(),
                                  torch.fmod(torch.tensor(ints), 3).numpy())
    # x - trunc(x / y) * y would round here; the value is C's fmod, exactly
    assert tg.fmod(tg.tensor([1e17]), tg.tensor([3.0])).item() == math.fmod(1e17, 3.0)


@settings(max_examples=25, deadline=None)
@given(x=arrays(shape=(3, 4), special=True), p=arrays(shape=(3, 4), low=0.02, high=0.98))
def test_nan_to_num_logit_and_nan_reductions_match_pytorch(x, p):
    torch = torch_module()
    assert_as_pytorch(lambda lib, a: lib.nan_to_num(a), x)
    assert_as_pytorch(lambda lib, a: a.nan_to_num(1.5, posinf=2.0, neginf=-3.0), x)
    assert_as_pytorch(lambda lib, a: lib.logit(a), p)
    assert_as_pytorch(lambda lib, a: a.logit(0.25), p)
    no_inf = np.where(np.isinf(x), 1.0, x)
    assert_as_pytorch(lambda lib, a: lib.nansum(a), no_inf)
    assert_as_pytorch(lambda lib, a: a.nansum(1, keepdim=True), no_inf)
    assert_as_pytorch(lambda lib, a: lib.nanmean(a, 0), np.vstack([no_inf, np.ones(4)]))
    for dim in (None, 0, (0, 1)):
        assert tg.count_nonzero(tg.tensor(x), dim).tolist() == \
            torch.count_nonzero(torch.tensor(x), dim).tolist()
    assert tg.tensor(x).count_nonzero().dtype == np.int64


def test_nanmean_of_an_all_nan_slice_is_nan_with_a_zero_gradient():
    x = tg.tensor([[math.nan, math.nan], [1.0, math.nan]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.nanmean(1)
        out.backward(tg.ones_like(out))
    assert math.isnan(out.numpy()[0]) and out.numpy()[1] == 1.0
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0], [1.0, 0.0]])


@settings(max_examples=10, deadline=None)
@given(x=arrays(shape=(2, 3), low=-2, high=2), y=arrays(shape=(2, 3), low=-2, high=2),
       w=arrays(shape=(2, 3), low=-1.0, high=2.0), p=arrays(shape=(2, 3), low=0.1, high=0.9),
       quotient=arrays(shape=(2, 3), low=-4, high=4), divisor=arrays(shape=(2, 3), low=1, high=2))
def test_elementwise_pairs_gradcheck_first_and_second_order(x, y, w, p, quotient, divisor):
    assert_gradchecks(lambda a, b, c: tg.lerp(a, b, c), x, y, w)
    assert_gradchecks(lambda a, b: tg.logaddexp(a, b) + tg.logaddexp2(a, b), x, y)
    # fmod jumps where x / y is a whole number: dividends a quarter or more away from one
    whole = np.trunc(quotient)
    dividend = divisor * (whole + np.sign(quotient) * (0.25 + 0.5 * np.abs(quotient - whole)))
    assert_gradchecks(lambda a, b: tg.fmod(a, b), dividend, divisor)
    assert_gradchecks(lambda a: tg.logit(a) + a.nansum(1, keepdim=True) + a.nanmean(0), p)


# -- products with an added term -------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(m=arrays(shape=(3, 4)), n=arrays(shape=(4, 5)), b1=arrays(shape=(2, 3, 4)),
       b2=arrays(shape=(2, 4, 5)), bias=arrays(shape=(5,)),
       beta=st.sampled_from([0.0, 1.0, 0.5]), alpha=st.sampled_from([1.0, -2.0]))
def test_products_match_pytorch(m, n, b1, b2, bias, beta, alpha):
    v = n[:, 0].copy()
    assert_as_pytorch(lambda lib, a, b: lib.mv(a, b), m, v)
    assert_as_pytorch(lambda lib, i, a, b: lib.addmm(i, a, b, beta=beta, alpha=alpha),
                      bias, m, n)
    assert_as_pytorch(lambda lib, i, a, b: i.addmv(a, b, beta=beta, alpha=alpha),
                      bias[:3].copy(), m, v)
    assert_as_pytorch(lambda lib, i, a, b: lib.baddbmm(i, a, b, beta=beta, alpha=alpha),
                      bias, b1, b2)
    assert_as_pytorch(lambda lib, i, a, b: lib.addbmm(i, a, b, beta=beta, alpha=alpha),
                      bias, b1, b2)
    assert_as_pytorch(lambda lib, a: lib.trace(a) + a.trace(), m)
    assert_gradchecks(lambda i, a, b: tg.addmm(i, a, b, beta=beta, alpha=alpha), bias, m, n)
    assert_gradchecks(lambda i, a, b: tg.baddbmm(i, a, b, alpha=alpha), bias, b1, b2)


def test_beta_zero_leaves_out_nan_in_the_added_term():
    torch = torch_module()
    nan_bias = np.full((3, 5), math.nan)
    m, n = np.ones((3, 4)), np.ones((4, 5))
    assert_as_pytorch(lambda lib, i, a, b: lib.addmm(i, a, b, beta=0), nan_bias, m, n)
    assert torch.addmm(torch.tensor(nan_bias), torch.tensor(m), torch.tensor(n),
                       beta=0).isfinite().all()


def test_product_errors_name_the_function_and_the_shapes():
    with pytest.raises(RuntimeError, match=r"mv: vec must have 1 dims, got shape \(4, 1\)"):
        tg.mv(tg.zeros(3, 4), tg.zeros(4, 1))
    with pytest.raises(RuntimeError, match=r"addmm: input of shape \(4,\) cannot be "
                                           r"broadcast to the product's shape \(3, 5\)"):
        tg.addmm(tg.zeros(4), tg.zeros(3, 2), tg.zeros(2, 5))
    with pytest.raises(RuntimeError, match="trace: input must have 2 dims"):
        tg.trace(tg.zeros(3))


# -- nn.functional and the modules -------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(x=arrays(shape=(3, 4), special=True, low=-40, high=40),
       lambd=st.sampled_from([0.0, 0.5, 1.0]))
def test_activations_match_pytorch_at_special_values(x, lambd):
    assert_as_pytorch(lambda lib, t: lib.nn.functional.logsigmoid(t), x)
    # no nan for the shrinks: PyTorch's gradient at nan depends on where the nan lies
    no_nan = np.where(np.isnan(x), 1.0, x)
    assert_as_pytorch(lambda lib, t: lib.nn.functional.hardshrink(t, lambd), no_nan)
    assert_as_pytorch(lambda lib, t: lib.nn.functional.softshrink(t, lambd), no_nan)
    assert_as_pytorch(lambda lib, t: lib.nn.functional.threshold(t, lambd, -2.0), x)
    finite = np.nan_to_num(x, posinf=5.0, neginf=-5.0)
    assert_as_pytorch(lambda lib, t: lib.nn.functional.tanhshrink(t), finite)
    assert_as_pytorch(lambda lib, t: lib.nn.functional.softmin(t, 1), finite)
    assert_as_pytorch(lambda lib, t: lib.nn.functional.glu(t), finite)
    assert_as_pytorch(lambda lib, t: lib.nn.functional.glu(t[:2], 0), finite)


def test_shrinks_keep_nan_and_pass_its_gradient():
    for shrink in (F.hardshrink, F.softshrink):
        x = tg.tensor([math.nan, 0.2, 2.0], requires_grad=True)
        out = shrink(x)
        out.backward(tg.ones_like(out))
        assert math.isnan(out.numpy()[0])
        np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])


def test_logsigmoid_keeps_its_digits_far_from_zero():
    # log(sigmoid(x)) rounded through sigmoid gives 0 at x = 40; the value is -e^-40
    out = F.logsigmoid(tg.tensor([40.0, -800.0], dtype=tg.float64))
    np.testing.assert_allclose(out.numpy(), [-math.exp(-40.0), -800.0], rtol=1e-15)


@settings(max_examples=15, deadline=None)
@given(x1=arrays(shape=(3, 4)), x2=arrays(shape=(3, 4)), p=st.sampled_from([1.0, 2.0, 3.0]),
       keepdim=st.booleans())
def test_pairwise_distance_matches_pytorch(x1, x2, p, keepdim):
    assert_as_pytorch(lambda lib, a, b: lib.nn.functional.pairwise_distance(
        a, b, p, keepdim=keepdim), x1, x2)
    assert_as_pytorch(lambda lib, a: lib.nn.functional.pairwise_distance(a, a), x1)
    assert_as_pytorch(lambda lib, a, b: lib.nn.functional.pairwise_distance(a[0], b), x1, x2)


@settings(max_examples=15, deadline=None)
@given(q=arrays(shape=(2, 3, 4, 8)), k=arrays(shape=(2, 3, 5, 8)), v=arrays(shape=(2, 3, 5, 6)),
       seed=st.integers(0, 2**31 - 1), scale=st.sampled_from([None, 0.3]))
def test_scaled_dot_product_attention_matches_pytorch(q, k, v, seed, scale):
    rng = np.random.default_rng(seed)
    allowed = rng.random((4, 5)) > 0.4
    allowed[rng.integers(4)] = False  # a row that may attend nowhere: zeros, as PyTorch
    bias = rng.normal(size=(4, 5))

    def sdpa(lib, *tensors, **options):
        return lib.nn.functional.scaled_dot_product_attention(*tensors, scale=scale, **options)

    assert_as_pytorch(sdpa, q, k, v)
    assert_as_pytorch(lambda lib, a, b, c: sdpa(lib, a, b, c, attn_mask=lib.tensor(allowed)),
                      q, k, v)
    assert_as_pytorch(lambda lib, a, b, c: sdpa(lib, a, b, c, attn_mask=lib.tensor(bias)),
                      q, k, v)
    assert_as_pytorch(lambda lib, a, b, c: sdpa(lib, a, b, c, is_causal=True),
                      q, k[:, :, :4].copy(), v[:, :, :4].copy())


def test_attention_gradchecks_and_checks_its_arguments():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 2))
    assert_gradchecks(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                      q, k, v)
    with pytest.raises(RuntimeError, match=r"expected query \(\.\.\., L, E\), key \(\.\.\., "
                                           r"S, E\)"):
        F.scaled_dot_product_attention(tg.zeros(2, 4), tg.zeros(3, 5), tg.zeros(3, 2))
    with pytest.raises(RuntimeError, match="give attn_mask or is_causal, not both"):
        F.scaled_dot_product_attention(tg.zeros(2, 4), tg.zeros(2, 4), tg.zeros(2, 4),
                                       attn_mask=tg.ones(2, 2), is_causal=True)
    with pytest.raises(RuntimeError, match=r"glu: halving dimension must be even, but "
                                           r"dimension -1 of shape \(2, 3\) is size 3"):
        F.glu(tg.zeros(2, 3))


@settings(max_examples=10, deadline=None)
@given(x=arrays(shape=(2, 4), low=-2, high=2))
def test_activation_functions_gradcheck_first_and_second_order(x):
    assert_gradchecks(lambda t: F.logsigmoid(t) + F.tanhshrink(t) + F.softmin(t, 1), x)
    assert_gradchecks(F.glu, x)
    assert_gradchecks(lambda t: F.pairwise_distance(t, t.flip(0)), x)


def test_modules_print_and_compute_as_pytorch():
    torch = torch_module()
    x = np.random.default_rng(0).normal(size=(3, 4))
    pairs = [(nn.LogSigmoid(), torch.nn.LogSigmoid()), (nn.Softmin(1), torch.nn.Softmin(1)),
             (nn.GLU(), torch.nn.GLU()), (nn.Hardshrink(), torch.nn.Hardshrink()),
             (nn.Softshrink(0.3), torch.nn.Softshrink(0.3)),
             (nn.Tanhshrink(), torch.nn.Tanhshrink()),
             (nn.Threshold(0.1, 20), torch.nn.Threshold(0.1, 20)),
             (nn.Threshold(0.1, 20, inplace=True), torch.nn.Threshold(0.1, 20, inplace=True))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(tg.tensor(x)).numpy(),
                                   theirs(torch.tensor(x)).numpy(), rtol=1e-12)
    for ours, theirs in [(nn.PairwiseDistance(), torch.nn.PairwiseDistance()),
                         (nn.CosineSimilarity(), torch.nn.CosineSimilarity())]:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(tg.tensor(x), tg.tensor(x[::-1].copy())).numpy(),
                                   theirs(torch.tensor(x), torch.tensor(x[::-1].copy())).numpy(),
                                   rtol=1e-12)
