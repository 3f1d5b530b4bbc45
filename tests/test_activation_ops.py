"""GELU (both forms) and SiLU as single ops (ops/activations.py): values and gradients
against PyTorch where it is importable (float64 on hypothesis-drawn inputs up to
|x| = 1e150, inf and nan; float32 as accurate as PyTorch's), one recorded op each, and
no overflow or warning at large |x|. Their backward on arrays is checked against the
Tensor-op rule in test_backward_fast_paths.py."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import autograd
from tinygrad_edu.nn import functional as F  # noqa: N812
from tinygrad_edu.ops.activations import Elu, Gelu, LeakyRelu, Silu

FORMS = {
    "gelu": (lambda t: F.gelu(t), lambda tf, t: tf.gelu(t), Gelu),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"),
                  lambda tf, t: tf.gelu(t, approximate="tanh"), Gelu),
    "silu": (lambda t: F.silu(t), lambda tf, t: tf.silu(t), Silu),
}
# the ELU family and leaky ReLU, one op each too (with non-default constants)
PIECEWISE = {
    "elu": (lambda t: F.elu(t), lambda tf, t: tf.elu(t), Elu),
    "elu_alpha": (lambda t: F.elu(t, 0.3), lambda tf, t: tf.elu(t, 0.3), Elu),
    "selu": (lambda t: F.selu(t), lambda tf, t: tf.selu(t), Elu),
    "celu": (lambda t: F.celu(t, 2.5), lambda tf, t: tf.celu(t, 2.5), Elu),
    "leaky_relu": (lambda t: F.leaky_relu(t), lambda tf, t: tf.leaky_relu(t), LeakyRelu),
    **{f"leaky_relu_{slope}": (lambda t, s=slope: F.leaky_relu(t, s),
                               lambda tf, t, s=slope: tf.leaky_relu(t, s), LeakyRelu)
       for slope in (0.0, 1.5, -0.5)},
}
ALL = {**FORMS, **PIECEWISE}
# up to 1e150: beyond, PyTorch's own x * x overflows in the tanh form's gradient (nan)
VALUES = st.one_of(st.floats(-12, 12, width=64),
                   st.floats(-1e150, 1e150, allow_nan=False, allow_infinity=False, width=64))


def ours(name, x, upstream):
    t = tg.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings
        out = ALL[name][0](t)
        out.backward(tg.tensor(upstream))
    return out.numpy(), t.grad.numpy()


def pytorch(name, x, upstream):
    torch = pytest.importorskip("torch")
    t = torch.tensor(x, requires_grad=True)
    out = ALL[name][1](torch.nn.functional, t)
    out.backward(torch.tensor(upstream))
    return out.detach().numpy(), t.grad.numpy()


def assert_close(got, expected, x, rtol, eps):
    """Relative error rtol, or eps * |x| absolute: 1 + erf(x / sqrt 2) cancels for x
    below about -3, so an erf an ulp apart moves gelu by about eps * |x|."""
    scale = np.maximum(np.abs(x), 1.0)
    close = np.abs(got - expected) <= rtol * np.abs(expected) + eps * scale
    close |= np.isnan(got) & np.isnan(expected)
    close |= got == expected  # infinities
    assert close.all(), f"at x = {x[~close]}: got {got[~close]}, expected {expected[~close]}"


@pytest.mark.parametrize("name", list(ALL))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_float64_values_and_gradients_match_pytorch(name, data):
    shape = data.draw(hnp.array_shapes(max_dims=2, max_side=5))
    x = data.draw(hnp.arrays(np.float64, shape, elements=VALUES))
    upstream = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2)))
    (out, grad), (t_out, t_grad) = ours(name, x, upstream), pytorch(name, x, upstream)
    assert out.dtype == grad.dtype == np.float64
    assert_close(out, t_out, x, rtol=1e-13, eps=1e-15)
    assert_close(grad, t_grad, x, rtol=1e-12, eps=1e-15)


@pytest.mark.parametrize("name", list(ALL))
def test_float32_values_and_gradients_as_accurate_as_pytorchs(name):
    # float32 results differ in the last bits (erf and tanh differ, and near saturation
    # 1 - tanh**2 loses its digits in both): each is measured against PyTorch's float64
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 4, 400), np.linspace(-12, 12, 2001),
                        [0.0, -0.0, 30.0, -30.0, 1e4, -1e4, 1e18, -1e18]]).astype(np.float32)
    upstream = rng.uniform(-2, 2, x.size).astype(np.float32)
    out, grad = ours(name, x, upstream)
    assert out.dtype == grad.dtype == np.float32
    t_out, t_grad = pytorch(name, x, upstream)
    exact = pytorch(name, x.astype(np.float64), upstream.astype(np.float64))
    scale = np.maximum(np.abs(x.astype(np.float64)), 1.0)
    for got, theirs, truth in ((out, t_out, exact[0]), (grad, t_grad, exact[1])):
        error = np.abs(got - truth) / scale
        assert error.max() <= 2 * (np.abs(theirs - truth) / scale).max() + 1e-7


@pytest.mark.parametrize("name", list(ALL))
def test_infinities_nan_and_signed_zero_as_pytorch_in_float64(name):
    x = np.array([-np.inf, np.inf, np.nan, 0.0, -0.0, -1e100, 1e100])
    upstream = np.ones_like(x)
    (out, grad), (t_out, t_grad) = ours(name, x, upstream), pytorch(name, x, upstream)
    np.testing.assert_array_equal(out, t_out)  # nan where PyTorch has nan
    np.testing.assert_array_equal(np.signbit(out), np.signbit(t_out))
    np.testing.assert_array_equal(grad, t_grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(FORMS))
def test_large_magnitudes_saturate_without_overflow(name, dtype):
    # x ** 3 and x * x overflow float32 past 7e12 and 2e19: the result must not care
    big = np.finfo(dtype).max
    x = np.array([-big, -1e30, -1e20, -88.0, 88.0, 1e20, 1e30, big], dtype=dtype)
    out, grad = ours(name, x, np.ones_like(x))
    assert out.dtype == grad.dtype == dtype
    np.testing.assert_array_equal(out[x > 0], x[x > 0])
    np.testing.assert_allclose(out[x < 0], 0.0, atol=1e-30)
    np.testing.assert_array_equal(grad[x > 0], 1.0)
    np.testing.assert_allclose(grad[x < 0], 0.0, atol=1e-30)


@pytest.mark.parametrize("name", list(ALL))
def test_one_op_is_recorded(name):
    fn, _, op = ALL[name]
    x = tg.tensor(np.linspace(-3, 3, 12).reshape(3, 4), requires_grad=True)
    out = fn(x)
    assert type(out.grad_fn) is op and out.grad_fn.parents == (x,)
    # and the backward, when it is not recorded, makes no graph of its own
    (g,) = autograd.grad(out.sum(), [x])
    assert g.grad_fn is None
    with tg.no_grad():
        plain = fn(x)
    assert plain.grad_fn is None
    np.testing.assert_array_equal(plain.numpy(), out.numpy())


def test_gelu_op_rejects_an_unknown_approximation():
    x = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'.*'erf'"):
        Gelu.apply(x, approximate="erf")
    with pytest.raises(ValueError, match="gelu: approximate must be"):
        F.gelu(x, approximate="sigmoid")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_stable_sigmoid_is_the_two_branch_formula_bit_for_bit(dtype):
    # Sigmoid and Silu share stable_sigmoid: max(e, x >= 0) / (1 + e) must be exactly
    # 1 / (1 + e) where x >= 0 and e / (1 + e) elsewhere, e = exp(-|x|), nan and inf too
    from tinygrad_edu.ops.elementwise import stable_sigmoid

    rng = np.random.default_rng(0)
    x = (rng.standard_normal(4000) * 30).astype(dtype)
    x[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, np.finfo(dtype).max]
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
        expected = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(dtype)
        got = stable_sigmoid(np, x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(tg.tensor(x).sigmoid().numpy(), expected)
