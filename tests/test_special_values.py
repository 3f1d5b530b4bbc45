"""Values and gradients at nan, +-inf, +-0 and at the kinks, against PyTorch: sign,
hardtanh, relu6, hardsigmoid, maximum/minimum with nan on either side, and the functions
computed as an approximation with NumPy's exact values (log1p, expm1, log2, log10, exp2);
division over wide magnitudes; and sums that leave a narrow float's range (float16 and
float32 statistics, float16 running sums), which PyTorch accumulates wider. Each
gradient is compared element by element, nan where PyTorch has nan.

PyTorch's CPU kernels do not always agree with themselves at nan: hardtanh's gradient
there is 1 on the scalar path (arrays shorter than a SIMD vector) and 0 on the vectorized
one, hardswish's 1 and nan. The inputs here are long enough for the vectorized path,
which is what a model's activations take."""

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F  # noqa: N812

# repeated to 64 values: past PyTorch's scalar path (see above)
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, -2.0, 3.0, -3.0, 6.0, 1e-300,
           5e-8, 2.5, -2.5, 7.0] * 4


def torch_module():
    return pytest.importorskip("torch")


def compare_unary(mine_fn, theirs_fn, dtype, rtol64=1e-14):
    torch = torch_module()
    x = np.array(SPECIAL, dtype=dtype)
    mine = tg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own, at log(-1) and such
        out = mine_fn(mine)
        out.backward(tg.ones_like(out))
    ref = theirs_fn(theirs)
    ref.backward(torch.ones_like(ref))
    tolerance = dict(rtol=1e-6 if dtype == np.float32 else rtol64, atol=0, equal_nan=True)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **tolerance)
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), **tolerance)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["sign", "hardtanh", "relu6", "hardsigmoid", "hardswish"])
def test_steps_and_clamps_at_special_values_match_pytorch(name, dtype):
    # sign(nan) is 0 in PyTorch (nan in NumPy); the gradients at the bounds and at nan
    torch = torch_module()
    if name == "sign":
        compare_unary(lambda t: t.sign(), torch.sign, dtype)
    else:  # PyTorch's float64 hard* multiply by 1/6 rounded to float32 (3e-8 off)
        compare_unary(getattr(F, name), getattr(torch.nn.functional, name), dtype,
                      rtol64=1e-7 if name.startswith("hards") else 1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["log1p", "expm1", "log2", "log10", "exp2"])
def test_exact_value_functions_at_special_values_match_pytorch(name, dtype):
    # where the approximation and NumPy's exact value agree (inf and nan too) the
    # gradient is the approximation's: expm1'(inf) = inf, log2'(0) = inf, as PyTorch's
    torch = torch_module()
    compare_unary(lambda t: getattr(t, name)(), getattr(torch, name), dtype)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_send_the_gradient_to_both_sides_at_nan(name):
    torch = torch_module()
    nan, inf = np.nan, np.inf
    x = np.array([nan, 1.0, nan, 2.0, 1.0, inf, -inf, 0.0])
    y = np.array([1.0, nan, nan, 2.0, 3.0, inf, 1.0, -0.0])
    mine = [tg.tensor(v, requires_grad=True) for v in (x, y)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, y)]
    out = getattr(tg, name)(*mine)
    ref = getattr(torch, name)(*theirs)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    weights = np.arange(1.0, 9.0)
    out.backward(tg.tensor(weights))
    ref.backward(torch.tensor(weights))
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    assert mine[0].grad.numpy()[0] == 1.0 and mine[1].grad.numpy()[0] == 1.0  # both sides


def test_nan_cases_work_on_zero_dimensional_tensors():
    # 0-d results come back from NumPy as scalars, which take no item assignment
    nan = float("nan")
    assert tg.tensor(nan).sign().item() == 0.0
    assert tg.tensor(np.float32(nan)).sign().dtype == np.float32
    a, b = tg.tensor(nan, requires_grad=True), tg.tensor(1.0, requires_grad=True)
    tg.maximum(a, b).backward()
    assert a.grad.item() == 1.0 and b.grad.item() == 1.0
    a, b = tg.tensor(2.0, requires_grad=True), tg.tensor(1.0, requires_grad=True)
    tg.minimum(a, b).backward()
    assert a.grad.item() == 0.0 and b.grad.item() == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_division_gradients_match_pytorch_over_wide_magnitudes(dtype):
    # d(x / y)/dy as -(x / y) / y: y * y overflowed float32 from |y| = 1.8e19 and gave
    # 0 where PyTorch gives -1e-20 (x = y = 1e20)
    torch = torch_module()
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(4000) * 10 ** rng.uniform(-20, 20, 4000)).astype(dtype)
    y = (rng.standard_normal(4000) * 10 ** rng.uniform(-15, 15, 4000)).astype(dtype)
    x[:2], y[:2] = 1e20, (1e20, 4e19)
    g = rng.standard_normal(4000).astype(dtype)
    mine = [tg.tensor(v, requires_grad=True) for v in (x, y)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, y)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # some quotients overflow: wanted
        (mine[0] / mine[1]).backward(tg.tensor(g))
    (theirs[0] / theirs[1]).backward(torch.tensor(g))
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    assert mine[1].grad.numpy()[0] != 0


# each called with the library's functional module (F or torch.nn.functional) and a tensor
NARROW_SQUARES = {
    "std": lambda f, t: t.std(1),
    "var": lambda f, t: t.var(1),
    "norm": lambda f, t: t.norm(dim=1),
    "layer_norm": lambda f, t: f.layer_norm(t, (50,)),
    "batch_norm": lambda f, t: f.batch_norm(t, None, None, training=True),
}


@pytest.mark.parametrize("name", sorted(NARROW_SQUARES))
def test_float16_statistics_whose_squares_overflow_match_pytorch(name):
    # float16's largest value is 65504: a sum of 50 squares of about 150 passes it, the
    # variance itself (about 22,500) does not. PyTorch sums them in float32; here the
    # variance was inf and batch and layer norm gave zeros (their inverse std was 0)
    torch = torch_module()
    statistic = NARROW_SQUARES[name]
    x = (np.random.default_rng(5).standard_normal((4, 50)) * 150).astype(np.float16)
    mine, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no overflow warning on the way
        out = statistic(F, mine)
        out.backward(tg.ones_like(out))  # (a sum of four variances would overflow)
    ref = statistic(torch.nn.functional, theirs)
    ref.backward(torch.ones_like(ref))
    assert out.dtype == np.float16 and np.isfinite(out.numpy()).all()
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=2e-2, atol=1e-3)


@pytest.mark.parametrize("name", ["std", "norm"])
def test_float32_roots_of_overflowing_squares_are_finite(name):
    # |x| near 1e23: the squares pass float32's range, the root does not (PyTorch's
    # float32 norm is inf here; its std sums wider and agrees)
    x = (np.random.default_rng(6).standard_normal((4, 50)) * 1e23).astype(np.float32)
    mine = tg.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = mine.std(1) if name == "std" else mine.norm(dim=1)
        out.sum().backward()
    wide = x.astype(np.float64)
    expected = wide.std(1, ddof=1) if name == "std" else np.sqrt((wide * wide).sum(1))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert np.isfinite(mine.grad.numpy()).all() and np.abs(mine.grad.numpy()).max() > 0


def test_float16_cumsum_runs_in_float32_as_pytorch():
    # float16's spacing is 1/64 at 16: a running sum of 2,000 values drifted by a few
    # percent when it was kept in float16
    torch = torch_module()
    x = np.random.default_rng(8).standard_normal((4, 2000)).astype(np.float16)
    mine, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = mine.cumsum(1), theirs.cumsum(1)
    out.backward(tg.ones_like(out))
    ref.backward(torch.ones_like(ref))
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(mine.grad.numpy(), theirs.grad.numpy())



@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_read_pytorchs_arguments(name):
    # x.var(1, False) is PyTorch's biased variance (unbiased=False); reading the False as
    # keepdim gave the unbiased one, silently
    torch = torch_module()
    data = np.arange(12.0).reshape(3, 4) ** 1.5
    mine, theirs = tg.tensor(data), torch.tensor(data)
    calls = [lambda m: getattr(m, name)(1, False), lambda m: getattr(m, name)(1, True, True),
             lambda m: getattr(m, name)(False), lambda m: getattr(m, name)(0, unbiased=False),
             lambda m: getattr(m, name)(dim=1, correction=0, keepdim=True)]
    for call in calls:
        out, ref = call(mine), call(theirs)
        assert out.shape == tuple(ref.shape)
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
    function = getattr(tg, name)
    np.testing.assert_allclose(function(mine, 1, False).numpy(),
                               getattr(torch, name)(theirs, 1, False).numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match="unbiased or correction, not both"):
        getattr(mine, name)(1, False, correction=1)
    with pytest.raises(TypeError, match="unbiased must be True or False"):
        getattr(mine, name)(1, 0)  # PyTorch refuses it too
