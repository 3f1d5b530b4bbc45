"""Elementwise math (tensor_math.py): log1p, expm1, log2, log10, exp2, reciprocal, rsqrt,
floor/ceil/round/trunc/frac, isnan/isinf/isfinite, isclose, clamp_min/clamp_max, the
logical ops and the in-place versions, as Tensor methods and torch.* functions: values
and gradients against PyTorch on hypothesis-drawn inputs, and first and second order
finite differences in float64 (these run without PyTorch)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg

# name, domain (low, high) of the drawn inputs
SMOOTH = [("log1p", (-0.9, 5.0)), ("expm1", (-5.0, 5.0)), ("log2", (0.05, 50.0)),
          ("log10", (0.05, 50.0)), ("exp2", (-6.0, 6.0)), ("reciprocal", (0.2, 5.0)),
          ("rsqrt", (0.05, 20.0)), ("frac", (-5.0, 5.0)), ("square", (-3.0, 3.0))]
STEPS = ["floor", "ceil", "round", "trunc", "fix"]


def torch_module():
    return pytest.importorskip("torch")


@st.composite
def arrays(draw, low, high):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.uniform(low, high, shape)
    if draw(st.booleans()):  # and some values where precision matters
        x.reshape(-1)[:1] = draw(st.sampled_from([1e-12, -1e-9, 0.5, 1.0, 2.0]))
    return np.clip(x, low, high)


@pytest.mark.parametrize(("name", "domain"), SMOOTH, ids=[n for n, _ in SMOOTH])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_smooth_functions_match_pytorch_as_methods_and_functions(name, domain, data):
    torch = torch_module()
    x = data.draw(arrays(*domain))
    for dtype, rtol in ((np.float64, 1e-13), (np.float32, 2e-6)):
        mine = tg.tensor(x.astype(dtype), requires_grad=True)
        theirs = torch.tensor(x.astype(dtype), requires_grad=True)
        out, ref = getattr(mine, name)(), getattr(theirs, name)()
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=1e-300)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=rtol * 10)
    np.testing.assert_allclose(getattr(tg, name)(tg.tensor(x)).numpy(),
                               getattr(torch, name)(torch.tensor(x)).numpy(), rtol=1e-14)


def test_log1p_and_expm1_are_exact_for_tiny_values():
    x = tg.tensor([1e-20, -3e-12, 1e-300], dtype=tg.float64)
    np.testing.assert_array_equal(x.log1p().numpy(), np.log1p(x.numpy()))
    np.testing.assert_array_equal(x.expm1().numpy(), np.expm1(x.numpy()))
    assert tg.log2(tg.tensor([8.0, 1024.0])).tolist() == [3.0, 10.0]
    with np.errstate(divide="ignore"):
        assert tg.log1p(tg.tensor([-1.0])).item() == -np.inf  # inf where NumPy's is


@pytest.mark.parametrize(("name", "domain"), SMOOTH, ids=[n for n, _ in SMOOTH])
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_smooth_functions_gradcheck_first_and_second_order(name, domain, data):
    x = data.draw(arrays(*domain))
    if name == "frac":
        x = np.where(np.abs(x - np.round(x)) < 1e-3, x + 0.01, x)  # away from the jumps
    t = tg.tensor(x, requires_grad=True)

    def fn(u):
        return getattr(u, name)()

    assert tg.gradcheck(fn, [t])
    assert tg.gradgradcheck(fn, [t])


@pytest.mark.parametrize("name", STEPS)
@settings(max_examples=20, deadline=None)
@given(x=arrays(-10.0, 10.0), halves=st.booleans())
def test_rounding_matches_pytorch_with_zero_gradient(name, x, halves):
    torch = torch_module()
    if halves:
        x = np.round(x) + 0.5  # ties: round goes to even, as PyTorch
    mine, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = getattr(tg, name)(mine), getattr(torch, name)(theirs)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    assert out.requires_grad
    (out * 3.0).sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(mine.grad.numpy(), theirs.grad.numpy())
    assert not mine.grad.numpy().any()


def test_round_decimals_and_integer_inputs():
    torch = torch_module()
    x = np.array([1.2345, -2.5551, 1e5 + 0.126])
    np.testing.assert_allclose(tg.tensor(x).round(decimals=2).numpy(),
                               torch.tensor(x).round(decimals=2).numpy(), rtol=1e-15)
    ints = tg.tensor([1, 2, 3])
    assert ints.floor().dtype == np.int64 and ints.floor().tolist() == [1, 2, 3]
    assert ints.log1p().dtype == np.float32  # ints become float32, as PyTorch


def test_tests_for_nan_inf_and_closeness_match_pytorch():
    torch = torch_module()
    x = np.array([0.0, np.nan, np.inf, -np.inf, 1.0, 1.0 + 1e-7])
    y = np.array([0.0, np.nan, np.inf, np.inf, 1.1, 1.0])
    for name in ("isnan", "isinf", "isfinite"):
        out = getattr(tg, name)(tg.tensor(x))
        assert out.dtype == np.bool_
        np.testing.assert_array_equal(out.numpy(), getattr(torch, name)(torch.tensor(x)))
        np.testing.assert_array_equal(getattr(tg.tensor(x), name)().numpy(), out.numpy())
    for kwargs in ({}, {"equal_nan": True}, {"rtol": 0.2, "atol": 0.0}):
        np.testing.assert_array_equal(
            tg.isclose(tg.tensor(x), tg.tensor(y), **kwargs).numpy(),
            torch.isclose(torch.tensor(x), torch.tensor(y), **kwargs).numpy())


def test_logical_ops_match_pytorch():
    torch = torch_module()
    a, b = np.array([0.0, 1.0, -2.0, 0.0]), np.array([3, 0, 1, 0])
    for name in ("logical_and", "logical_or", "logical_xor"):
        out = getattr(tg, name)(tg.tensor(a), tg.tensor(b))
        assert out.dtype == np.bool_
        np.testing.assert_array_equal(out.numpy(),
                                      getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
        np.testing.assert_array_equal(getattr(tg.tensor(a), name)(tg.tensor(b)).numpy(),
                                      out.numpy())
    np.testing.assert_array_equal(tg.logical_not(tg.tensor(a)).numpy(),
                                  torch.logical_not(torch.tensor(a)).numpy())


@settings(max_examples=20, deadline=None)
@given(x=arrays(-3.0, 3.0), bound=st.floats(-2.0, 2.0))
def test_clamp_min_and_max_match_pytorch(x, bound):
    torch = torch_module()
    x = np.where(np.abs(x - bound) < 1e-6, x + 0.01, x)
    for name in ("clamp_min", "clamp_max"):
        mine, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = getattr(mine, name)(bound), getattr(theirs, name)(bound)
        np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_array_equal(mine.grad.numpy(), theirs.grad.numpy())
        np.testing.assert_array_equal(getattr(tg, name)(tg.tensor(x), bound).numpy(),
                                      ref.detach().numpy())


@pytest.mark.parametrize("bounds", [(-1.0, 1.0), (None, 1.0), (-1.0, None), (1.0, -1.0)])
def test_clamp_at_its_bounds_and_at_nan_and_inf_matches_pytorch(bounds):
    # the gradient passes where low <= x <= high, bounds included; nan passes nothing
    torch = torch_module()
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, np.nan, np.inf, -np.inf])
    mine, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = mine.clamp(*bounds), theirs.clamp(*bounds)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    out.backward(tg.tensor(np.arange(1.0, 9.0)))
    ref.backward(torch.arange(1.0, 9.0, dtype=torch.float64))
    np.testing.assert_array_equal(mine.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize(("name", "args", "reference"), [
    ("sqrt_", (), np.sqrt), ("abs_", (), np.abs), ("exp_", (), np.exp), ("log_", (), np.log),
    ("square_", (), np.square), ("reciprocal_", (), np.reciprocal),
    ("clamp_min_", (1.0,), lambda v: np.maximum(v, 1.0)),
    ("clamp_max_", (1.0,), lambda v: np.minimum(v, 1.0)),
    ("floor_", (), np.floor), ("ceil_", (), np.ceil), ("round_", (), np.round),
    ("trunc_", (), np.trunc)])
def test_inplace_math_writes_into_the_tensor_and_keeps_the_gradient(name, args, reference):
    x = np.array([0.3, 1.7, 2.5, 4.0])
    plain = tg.tensor(x.copy())
    assert getattr(plain, name)(*args) is plain
    np.testing.assert_allclose(plain.numpy(), reference(x), rtol=1e-15)
    leaf = tg.tensor(x, requires_grad=True)
    expected = getattr(leaf * 1.0, name.rstrip("_"))(*args)
    expected.sum().backward()
    grad = leaf.grad.numpy().copy()
    leaf.grad = None
    y = leaf * 1.0
    getattr(y, name)(*args).sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), grad)
    with pytest.raises(RuntimeError, match=f"{name}: a leaf tensor that requires grad"):
        getattr(tg.tensor(x, requires_grad=True), name)(*args)
