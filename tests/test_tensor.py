"""The Tensor API: creation, dtypes, introspection, operators and composites,
checked against NumPy computed independently in the test."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.testing import arrays, assert_close, broadcastable_pairs, shapes

# -- creation and dtypes ---------------------------------------------------------

def test_python_floats_default_to_float32_and_arrays_keep_dtype():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(3.0).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor([True]).dtype == np.bool_
    assert Tensor(np.ones(2, dtype=np.float64)).dtype == np.float64
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    assert Tensor([1.0], dtype="float64").dtype == np.float64


def test_constructor_copies_its_input():
    source = np.ones(3, dtype=np.float32)
    t = Tensor(source)
    source[0] = 5.0
    assert t.data[0] == 1.0


def test_python_scalar_never_upcasts_float32():
    x = Tensor([1.0, 2.0])
    for y in (x + 1, 1 + x, x * 2.5, 2.5 * x, x - 1.0, 1.0 - x, x / 3, 3 / x, x ** 2, 2 ** x):
        assert y.dtype == np.float32


def test_mixed_float_tensors_promote_as_numpy_and_pytorch():
    y = Tensor([1.0]) + Tensor([1.0], dtype=np.float64)
    assert y.dtype == np.float64


def test_double_float_cast_round_trip_and_gradient_dtype():
    x = Tensor([1.5, 2.5], requires_grad=True)
    y = x.double() * 2.0
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    assert x.double().float().dtype == np.float32


def test_integer_and_bool_tensors_exist_without_grad():
    i = tg.arange(5)
    assert i.dtype == np.int64 and not i.requires_grad
    assert (i * 2).tolist() == [0, 2, 4, 6, 8]
    mask = i > 2
    assert mask.dtype == np.bool_ and mask.tolist() == [False, False, False, True, True]


def test_creation_functions():
    assert tg.zeros(2, 3).shape == (2, 3) and tg.zeros((2, 3)).dtype == np.float32
    assert tg.ones(4).data.sum() == 4
    assert tg.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert tg.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert tg.arange(0.0, 1.0, 0.5).dtype == np.float32
    np.testing.assert_array_equal(tg.eye(3).data, np.eye(3))
    x = Tensor(np.ones((2, 3), dtype=np.float64))
    assert tg.zeros_like(x).dtype == np.float64 and tg.ones_like(x).shape == (2, 3)
    assert tg.tensor([1.0], requires_grad=True).requires_grad
    assert tg.zeros(2, requires_grad=True).requires_grad


def test_random_creation_statistics():
    tg.manual_seed(0)
    u = tg.rand(20000).data
    n = tg.randn(20000).data
    assert u.dtype == np.float32 and 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03


def test_introspection_and_conversions():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.ndim == 2 and t.numel() == 4 and t.size(1) == 2
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert Tensor([[3.5]]).item() == 3.5 and float(Tensor(2.0)) == 2.0
    assert np.asarray(t).shape == (2, 2) and np.asarray(t, dtype=np.float64).dtype == np.float64
    assert len(t) == 2 and [row.tolist() for row in t] == [[1.0, 2.0], [3.0, 4.0]]
    assert t.numpy() is t.data


def test_repr_reads_like_pytorch():
    assert repr(Tensor([1.0, 2.0])) == "tensor([1., 2.])"
    x = Tensor([1.0], requires_grad=True)
    assert repr(x) == "tensor([1.], requires_grad=True)"
    assert repr(x * 2.0) == "tensor([2.], grad_fn=<Mul>)"
    assert repr(Tensor([1.0], dtype=np.float64)) == "tensor([1.], dtype=float64)"


def test_hashable_by_identity_and_eq_is_elementwise():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 3.0])
    assert len({a, b}) == 2
    assert (a == b).tolist() == [True, False]


# -- operators and bindings against NumPy ------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.data())
def test_binary_operators_match_numpy_with_broadcasting(data):
    sa, sb = data.draw(broadcastable_pairs())
    a = data.draw(arrays(sa, 0.5, 2.0))
    b = data.draw(arrays(sb, 0.5, 2.0))
    ta, tb = Tensor(a), Tensor(b)
    assert_close(ta + tb, a + b)
    assert_close(ta - tb, a - b)
    assert_close(ta * tb, a * b)
    assert_close(ta / tb, a / b)
    assert_close(ta ** tb, a ** b)
    assert_close(ta.maximum(tb), np.maximum(a, b))
    assert_close(ta.minimum(tb), np.minimum(a, b))


def test_scalars_on_either_side():
    x = Tensor(np.array([1.0, 2.0, 4.0]))
    assert_close(2 - x, [1.0, 0.0, -2.0])
    assert_close(1 / x, [1.0, 0.5, 0.25])
    assert_close(x ** 2, [1.0, 4.0, 16.0])
    assert_close(2 ** x, [2.0, 4.0, 16.0])
    assert_close(-x + 3, [2.0, 1.0, -1.0])
    assert_close(np.array([1.0, 1.0, 1.0]) + x, [2.0, 3.0, 5.0])  # ndarray on the left


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_unary_ops_match_numpy(data):
    a = data.draw(arrays(data.draw(shapes()), 0.1, 3.0))
    t = Tensor(a)
    assert_close(t.exp(), np.exp(a))
    assert_close(t.log(), np.log(a))
    assert_close(t.sqrt(), np.sqrt(a))
    assert_close((-t).abs(), a)
    assert_close((t - 1).relu(), np.maximum(a - 1, 0))
    assert_close(t.sigmoid(), 1 / (1 + np.exp(-a)))
    assert_close(t.tanh(), np.tanh(a))
    assert_close(t.clip(0.5, 1.0), np.clip(a, 0.5, 1.0))


def test_sigmoid_is_stable_for_large_inputs():
    with np.errstate(over="raise"):
        s = Tensor([-1e4, 0.0, 1e4]).sigmoid()
    np.testing.assert_allclose(s.data, [0.0, 0.5, 1.0])


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_reductions_match_numpy(data):
    shape = data.draw(shapes(1, 3))
    a = data.draw(arrays(shape))
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    keep = data.draw(st.booleans())
    t = Tensor(a)
    assert_close(t.sum(axis, keep), a.sum(axis=axis, keepdims=keep), atol=1e-5)
    assert_close(t.amax(axis, keep), a.max(axis=axis, keepdims=keep))
    assert_close(t.amin(dim=axis, keepdim=keep), a.min(axis=axis, keepdims=keep))
    assert_close(t.mean(axis, keep), a.mean(axis=axis, keepdims=keep), atol=1e-5)
    if a.size > 1 and (axis is None or shape[axis] > 1):
        # (dim, unbiased, keepdim), PyTorch's positional order
        assert_close(t.var(axis, True, keep), a.var(axis=axis, keepdims=keep, ddof=1),
                     atol=1e-4)
        assert_close(t.std(axis, keepdim=keep), a.std(axis=axis, keepdims=keep, ddof=1),
                     atol=1e-4)
        assert_close(t.var(axis, False, keep), a.var(axis=axis, keepdims=keep), atol=1e-4)
    assert_close(t.argmax(axis), np.argmax(a, axis=axis))


def test_max_ties_share_the_gradient_evenly_like_amax():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    x.amax(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_maximum_tie_splits_the_gradient():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([1.0, 3.0]), requires_grad=True)
    a.maximum(b).sum().backward()
    np.testing.assert_allclose(a.grad.data, [0.5, 0.0])
    np.testing.assert_allclose(b.grad.data, [0.5, 1.0])


def test_matmul_numpy_semantics():
    rng = np.random.default_rng(0)
    cases = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
             ((5, 2, 3), (3, 4)), ((1, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (3, 3, 2))]
    for sa, sb in cases:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        assert_close(Tensor(a) @ Tensor(b), a @ b, atol=1e-12)


def test_indexing_kinds_match_numpy():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = Tensor(a)
    for index in [1, -1, (0, 2), slice(None, None, -1), (Ellipsis, 1), (None, 0),
                  (slice(None), [0, 2]), a > 10, (np.array([1, 1, 0]), np.array([0, 2, 2]))]:
        assert_close(t[index], a[index])
    assert_close(t[Tensor([1, 0])], a[[1, 0]])


def test_repeated_indices_accumulate_in_backward():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


def test_movement_ops_match_numpy():
    a = np.arange(6.0).reshape(2, 3)
    t = Tensor(a)
    assert_close(t.T, a.T)
    assert_close(t.transpose(0, 1), a.T)
    assert_close(t.reshape(3, 2), a.reshape(3, 2))
    assert_close(t.reshape(-1), a.reshape(-1))
    assert_close(t.permute(1, 0), a.T)
    assert_close(t.unsqueeze(0), a[None])
    assert_close(t.unsqueeze(-1), a[..., None])
    assert_close(t.unsqueeze(0).squeeze(), a)
    assert_close(t.flatten(), a.reshape(-1))
    assert_close(t.expand(4, 2, 3), np.broadcast_to(a, (4, 2, 3)))
    assert_close(t[:, :1].expand(-1, 3), np.broadcast_to(a[:, :1], (2, 3)))
    assert_close(t.pad(((1, 0), (0, 2)), value=9.0), np.pad(a, ((1, 0), (0, 2)),
                                                             constant_values=9.0))
    assert_close(tg.cat([t, t], dim=1), np.concatenate([a, a], axis=1))
    assert_close(tg.stack([t, t], dim=0), np.stack([a, a]))
    assert_close(tg.where(t > 2, t, 0.0), np.where(a > 2, a, 0.0))


# -- composites: stability at large magnitudes ------------------------------------

def _np_log_softmax(z, axis=-1):
    z = z.astype(np.float64)
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("scale", [1.0, 1e4, -1e4])
def test_softmax_family_is_stable(scale):
    logits = np.array([[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]], dtype=np.float32) * scale
    t = Tensor(logits, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        ls = t.log_softmax(axis=1)
        sm = t.softmax(axis=1)
        lse = t.logsumexp(axis=1)
        ls.sum().backward()
    expected = _np_log_softmax(logits)
    np.testing.assert_allclose(ls.data, expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(sm.data, np.exp(expected), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lse.data, (logits - expected)[:, 0], rtol=1e-5)
    assert np.isfinite(t.grad.data).all()


def test_logsumexp_of_all_minus_infinity_rows():
    t = Tensor(np.array([[-np.inf, -np.inf], [0.0, 0.0]]))
    out = t.logsumexp(axis=1)
    assert out.data[0] == -np.inf
    np.testing.assert_allclose(out.data[1], np.log(2.0))


def test_std_of_constant_input_has_zero_gradient_not_nan():
    x = Tensor(np.full(4, 2.0), requires_grad=True)
    s = x.std()
    s.backward()
    assert s.item() == 0.0
    np.testing.assert_array_equal(x.grad.data, np.zeros(4))


def test_leaky_relu_matches_pytorch_rule():
    x = Tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    y = x.leaky_relu(0.1)
    np.testing.assert_allclose(y.data, [-0.2, 0.0, 3.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.1, 0.1, 1.0])  # slope at 0 is the negative one


@pytest.mark.parametrize("composite", ["mean", "var", "std", "softmax", "log_softmax",
                                       "logsumexp", "leaky_relu"])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_composites_gradcheck(composite, data):
    shape = data.draw(shapes(1, 3))
    x = Tensor(data.draw(arrays(shape, -2.0, 2.0, avoid=(0.0,))), requires_grad=True)
    if composite in ("var", "std"):  # std has a kink where all values are equal (sqrt at 0)
        assume(x.data.size >= 2 and x.data.std() > 0.1)
    fn = {"mean": lambda t: t.mean(axis=-1), "var": lambda t: t.var(),
          "std": lambda t: t.std(), "softmax": lambda t: t.softmax(-1),
          "log_softmax": lambda t: t.log_softmax(-1), "logsumexp": lambda t: t.logsumexp(-1),
          "leaky_relu": lambda t: t.leaky_relu(0.2)}[composite]
    assert tg.gradcheck(fn, [x])
    assert tg.gradgradcheck(fn, [x])
