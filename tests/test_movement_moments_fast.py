"""The fast paths of permute, transpose, T, t, unsqueeze and stack, and var, std and the
2-norm as one op each (Var, Std, Norm): values and gradients against NumPy, the
composites they replace and PyTorch, on hypothesis-drawn shapes and dims (negative
ones too); the unrecorded backward (on arrays) against the recorded one; second order
against the composites; and the errors the checked paths gave, unchanged."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.engine import toposort
from tinygrad_edu.ops.movement import Stack
from tinygrad_edu.ops.nn_ops import Norm, Std, Var

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def arrays(draw, min_dims=1, max_dims=4):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=min_dims, max_size=max_dims)))
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def grad_of(fn, *values, dtype=np.float64):
    """fn's output and the gradients of sum(output * weights) for each input."""
    ts = [tg.tensor(v.astype(dtype), requires_grad=True) for v in values]
    out = fn(*ts)
    weights = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
    (out * tg.tensor(weights)).sum().backward()
    return out.numpy(), [t.grad.numpy() for t in ts], weights


def ops_in_graph(out):
    return {type(t.grad_fn) for t in toposort([out]) if t.grad_fn is not None}


# -- movement ---------------------------------------------------------------------


@SETTINGS
@given(arrays(), st.data())
def test_permute_and_transpose_match_numpy(x, data):
    n = x.ndim
    dims = data.draw(st.permutations(range(n)))
    dims = [d - n if data.draw(st.booleans()) else d for d in dims]  # some negative
    out, (g,), w = grad_of(lambda t: t.permute(*dims), x)
    np.testing.assert_array_equal(out, x.astype(np.float64).transpose(dims))
    np.testing.assert_array_equal(g, w.transpose(np.argsort([d % n for d in dims])))
    d0, d1 = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
    out, (g,), w = grad_of(lambda t: t.transpose(d0, d1), x)
    np.testing.assert_array_equal(out, np.swapaxes(x, d0, d1))
    np.testing.assert_array_equal(g, np.swapaxes(w, d0, d1))
    out, (g,), w = grad_of(lambda t: t.T, x)
    np.testing.assert_array_equal(out, x.T)
    np.testing.assert_array_equal(g, w.T)


def test_t_and_transpose_of_small_ranks():
    m = np.arange(6.0).reshape(2, 3)
    out, (g,), w = grad_of(lambda t: t.t(), m)
    np.testing.assert_array_equal(out, m.T)
    np.testing.assert_array_equal(g, w.T)
    s = tg.tensor(2.0, requires_grad=True)
    assert s.transpose(0, -1) is s and s.t() is s
    assert s.T.shape == () and s.permute().shape == ()
    # NumPy integers take the checked path, with the same result
    v = tg.tensor(m)
    np.testing.assert_array_equal(v.transpose(np.int64(0), np.int64(-1)).numpy(), m.T)


@SETTINGS
@given(arrays(min_dims=0), st.data())
def test_unsqueeze_and_stack_match_numpy(x, data):
    dim = data.draw(st.integers(-x.ndim - 1, x.ndim))
    out, (g,), w = grad_of(lambda t: t.unsqueeze(dim), x)
    np.testing.assert_array_equal(out, np.expand_dims(x, dim))
    np.testing.assert_array_equal(g, w.reshape(x.shape))
    count = data.draw(st.integers(1, 3))
    xs = [x + i for i in range(count)]
    out, grads, w = grad_of(lambda *ts: tg.stack(list(ts), dim), *xs)
    np.testing.assert_array_equal(out, np.stack(xs, dim))
    for i, g in enumerate(grads):
        np.testing.assert_array_equal(g, np.take(w, i, axis=dim))


def test_stack_is_one_op_and_mixes_dtypes_as_cat():
    a = tg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    b = tg.tensor(np.ones((2, 3), np.float64), requires_grad=True)
    out = tg.stack([a, b], dim=-1)
    assert ops_in_graph(out) == {Stack} and out.dtype == np.float64 and out.shape == (2, 3, 2)
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    # one input needing no gradient gets none
    c = tg.tensor(np.ones((2, 3), np.float32))
    tg.stack([a, c]).sum().backward()
    assert c.grad is None


def test_stack_second_order():
    a = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = tg.tensor(np.array([3.0, -1.0]), requires_grad=True)
    s = tg.stack([a * a, b * a], 1)
    (ga,) = tg.grad((s * s).sum(), [a], create_graph=True)
    # d/da sum(a**4 + a**2 b**2) = 4 a**3 + 2 a b**2; its derivative: 12 a**2 + 2 b**2
    np.testing.assert_allclose(ga.numpy(), 4 * a.numpy() ** 3 + 2 * a.numpy() * b.numpy() ** 2)
    ga.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 12 * a.numpy() ** 2 + 2 * b.numpy() ** 2)


ERRORS = [
    (lambda x: x.permute(0, 1, 3), IndexError,
     "permute: dim 3 is out of range for a tensor with 3 dims (shape (2, 3, 4)); expected "
     "a dim in [-3, 2]"),
    (lambda x: x.permute(0, -4, 1), IndexError, "permute: dim -4 is out of range"),
    (lambda x: x.permute(0, -3, 1), ValueError,
     "permute: dims (0, -3, 1) are not a permutation of the 3 axes of a tensor of shape "
     "(2, 3, 4)"),
    (lambda x: x.permute(0, 1), RuntimeError, "permute: got 2 dims (0, 1) for a tensor"),
    (lambda x: x.transpose(0, 3), IndexError, "transpose: dim 3 is out of range"),
    (lambda x: x.transpose(True, 0), TypeError, "transpose: dim must be an int, got bool"),
    (lambda x: x.transpose(0.0, 1), TypeError, "transpose: dim must be an int, got float"),
    (lambda x: x.unsqueeze(-5), IndexError,
     "unsqueeze: dim -5 is out of range for a tensor with 4 dims (shape (2, 3, 4)); expected "
     "a dim in [-4, 3]"),
    (lambda x: x.unsqueeze(1.0), TypeError, "unsqueeze: dim must be an int, got float"),
    (lambda x: tg.stack([x, x], 4), IndexError, "unsqueeze: dim 4 is out of range"),
    (lambda x: tg.stack([x, x], 1.0), TypeError, "unsqueeze: dim must be an int, got float"),
    (lambda x: tg.stack([x, x[0]]), ValueError, "stack: all tensors must have the same shape"),
    (lambda x: x.var((1, 1)), ValueError, "sum: duplicate value in 'axis'"),
    (lambda x: x.norm(dim=(1, -2)), ValueError, "sum: duplicate value in 'axis'"),
    (lambda x: x.norm(dim=3), IndexError, "norm: dim 3 is out of range"),
]


@pytest.mark.parametrize("call, kind, message", ERRORS)
def test_errors_are_the_checked_paths(call, kind, message):
    x = tg.tensor(np.ones((2, 3, 4), np.float32), requires_grad=True)
    with pytest.raises(kind, match=re.escape(message)):
        call(x)


# -- var, std, norm -----------------------------------------------------------------


def composite_var(x, axis, keepdim, correction):
    """var as the two-pass composite it was: x - mean, squared, summed, divided."""
    count = x.data.size if axis is None else int(np.prod(
        [x.shape[a] for a in (axis if isinstance(axis, tuple) else (axis,))]))
    centered = x - x.mean(axis, keepdims=True)
    return (centered * centered).sum(axis, keepdim) / (count - correction)


def composite_std(x, axis, keepdim, correction):
    variance = composite_var(x, axis, keepdim, correction)
    spread = variance != 0
    return variance.where(spread, 1.0).sqrt().where(spread, 0.0)


def composite_norm(x, axis, keepdim):
    total = (x * x).sum(axis, keepdim)
    nonzero = total != 0
    return total.where(nonzero, 1.0).sqrt().where(nonzero, 0.0)


@st.composite
def reductions(draw):
    x = draw(arrays(min_dims=0, max_dims=3))
    n = x.ndim
    kind = draw(st.sampled_from(["none", "int", "tuple"] if n else ["none"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-n, n - 1))
    else:
        chosen = draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n))
        axis = tuple(a - n if draw(st.booleans()) else a for a in sorted(chosen))
    count = x.size if axis is None else int(np.prod(
        [x.shape[a] for a in (axis if isinstance(axis, tuple) else (axis,))]))
    correction = draw(st.integers(0, max(min(count - 1, 2), 0)))
    return x, axis, draw(st.booleans()), correction


FUSED = {
    "var": (Var, lambda x, a, k, c: x.var(a, keepdim=k, correction=c), composite_var),
    "std": (Std, lambda x, a, k, c: x.std(dim=a, keepdim=k, correction=c), composite_std),
    "norm": (Norm, lambda x, a, k, c: x.norm(2, a, k), lambda x, a, k, c: composite_norm(x, a, k)),
}


@pytest.mark.parametrize("name", list(FUSED))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_reductions_match_their_composites(name, dtype):
    op, fused, composite = FUSED[name]

    @SETTINGS
    @given(reductions())
    def check(case):
        x, axis, keep, correction = case
        out, (g,), _ = grad_of(lambda t: fused(t, axis, keep, correction), x, dtype=dtype)
        ref, (ref_g,), _ = grad_of(lambda t: composite(t, axis, keep, correction), x, dtype=dtype)
        assert out.dtype == dtype and g.dtype == dtype
        tol = 2e-6 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
        np.testing.assert_allclose(g, ref_g, rtol=10 * tol, atol=10 * tol)
        assert op in ops_in_graph(fused(tg.tensor(x.astype(dtype), requires_grad=True),
                                        axis, keep, correction))

    check()


@pytest.mark.parametrize("name", list(FUSED))
def test_unrecorded_backward_matches_recorded_and_second_order(name):
    """backward_arrays (create_graph=False) against the Tensor-op backward, and the
    second derivative against the composite's."""
    _, fused, composite = FUSED[name]

    @SETTINGS
    @given(reductions())
    def check(case):
        x, axis, keep, correction = case
        results = []
        for fn, create_graph in ((fused, False), (fused, True), (composite, True)):
            t = tg.tensor(x.astype(np.float64), requires_grad=True)
            out = fn(t, axis, keep, correction)
            w = tg.tensor(np.linspace(-1, 1, out.data.size).reshape(out.shape))
            (g,) = tg.grad((out * w).sum(), [t], create_graph=create_graph)
            second = None
            if create_graph:
                (second,) = tg.grad((g * g).sum(), [t])
            results.append((g.numpy(), second))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(results[1][0], results[2][0], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(results[1][1].numpy(), results[2][1].numpy(),
                                   rtol=1e-7, atol=1e-7)

    check()


def test_var_stays_two_pass_and_edge_cases():
    # a large mean and a small spread: one pass (E[x^2] - E[x]^2) would cancel to 0
    x = tg.tensor(np.array([1e4, 1e4 + 1, 1e4 + 2], np.float32))
    assert x.var().item() == 1.0 and x.std().item() == 1.0
    # all values equal: std's subgradient 0, not nan
    same = tg.tensor(np.full((2, 3), 5.0, np.float32), requires_grad=True)
    same.std(1).sum().backward()
    np.testing.assert_array_equal(same.grad.numpy(), 0.0)
    zero = tg.tensor(np.zeros(3), requires_grad=True)
    zero.norm().backward()
    np.testing.assert_array_equal(zero.grad.numpy(), 0.0)
    # nan stays nan, in values and gradients
    for reduce in (lambda t: t.std(1), lambda t: t.var(1), lambda t: t.norm(dim=1)):
        bad = tg.tensor(np.array([[1.0, np.nan], [1.0, 2.0]]), requires_grad=True)
        out = reduce(bad)
        out.sum().backward()
        assert np.isnan(out.numpy()[0]) and np.isfinite(out.numpy()[1])
        assert np.isnan(bad.grad.numpy()[0]).all() and np.isfinite(bad.grad.numpy()[1]).all()
    # no divisor left: the composite path, its warning and its inf / nan
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert np.isnan(tg.tensor(3.0).var().item())
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert tg.tensor([1.0, 2.0]).std(correction=2).item() == np.inf
    # integers: the composite, as before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.tensor([1, 2, 4]).var().item() == pytest.approx(7 / 3)


def test_fused_reductions_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    cases = [
        lambda m, t: t.var(1), lambda m, t: t.var(-1, keepdim=True),
        lambda m, t: t.var((0, -1), correction=0), lambda m, t: t.var(),
        lambda m, t: t.std(dim=0), lambda m, t: t.std(-2, keepdim=True, correction=2),
        lambda m, t: t.std(), lambda m, t: m.std(t, (1, 2)), lambda m, t: m.var(t, 2),
        lambda m, t: t.norm(), lambda m, t: t.norm(dim=1), lambda m, t: t.norm(2, -1, True),
        lambda m, t: t.norm(p="fro", dim=(0, 2)), lambda m, t: m.norm(t, 2, (-1, 0)),
    ]
    for case in cases:
        ours = tg.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        a, b = case(tg, ours), case(torch, theirs)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
        a.sum().backward()
        b.sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-6)
