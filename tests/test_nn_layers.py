"""LayerNorm, Embedding, GELU, SiLU and the erf primitive under them.

Values and gradients are compared with PyTorch in float64 when it is importable,
with math.erf for erf, and with finite differences (first and second order).
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, gradcheck, gradgradcheck, nn
from tinygrad_edu.nn import functional as F  # noqa: N812
from tinygrad_edu.ops.special import erf

RNG = np.random.default_rng(0)


def _leaf(array):
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


# -- erf --------------------------------------------------------------------------------


def test_erf_matches_math_erf_to_a_few_ulp():
    # the pieces meet at |x| = 1 and 6
    x = np.concatenate([np.linspace(-7, 7, 4001), RNG.normal(0, 2, 2000),
                        [1e-300, -5e-324, 2.5, np.nextafter(2.5, 0), 26.0, 1.0, -1.0,
                         np.nextafter(1.0, 0), 6.0, np.nextafter(6.0, 0), 5.99]])
    expected = np.array([math.erf(v) for v in x])
    relative = np.abs(erf(x) - expected) / np.maximum(np.abs(expected), 1e-300)
    assert relative.max() < 2e-15


def test_erf_of_float32_is_correctly_rounded():
    # computed in float64 to about 1e-15, so rounding to float32 lands where rounding
    # the true value does (math.erf, within an ulp in float64, stands in for it)
    x = (RNG.normal(0, 2, 20001)).astype(np.float32)
    expected = np.array([math.erf(float(v)) for v in x]).astype(np.float32)
    np.testing.assert_array_equal(erf(x), expected)


def test_erf_special_values_and_dtypes():
    out = erf(np.array([np.inf, -np.inf, np.nan, -0.0, 0.0]))
    assert out[0] == 1.0 and out[1] == -1.0 and np.isnan(out[2])
    assert out[3] == 0.0 and np.signbit(out[3]) and not np.signbit(out[4])
    assert erf(np.array([0.5], dtype=np.float32)).dtype == np.float32
    assert erf(np.array([1, 2])).dtype == np.float64
    zero_d = erf(np.array(0.5))
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == ()
    assert zero_d == pytest.approx(math.erf(0.5), rel=1e-15)


def test_erf_of_huge_values_is_one_without_warnings():
    # x * x overflows past 1.3e154 inside the continued fraction; exp(-inf) is still 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(erf(np.array([1e200, -1e300, 1.7e308])), [1.0, -1.0, 1.0])


def test_tensor_erf_gradient_is_the_gaussian():
    x = _leaf([-2.0, -0.3, 0.0, 1.1, 3.5])
    x.erf().sum().backward()
    expected = 2 / math.sqrt(math.pi) * np.exp(-x.data ** 2)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14)
    assert gradcheck(lambda t: t.erf(), [_leaf(RNG.uniform(-3, 3, 6))])
    assert gradgradcheck(lambda t: t.erf(), [_leaf(RNG.uniform(-3, 3, 6))])


# -- GELU and SiLU ------------------------------------------------------------------------


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_against_torch(approximate):
    torch = pytest.importorskip("torch")
    data = np.concatenate([RNG.normal(0, 3, 50), [0.0, -8.0, 8.0, 40.0, -40.0]])
    x = _leaf(data)
    out = F.gelu(x, approximate=approximate)
    out.backward(Tensor(np.linspace(-1, 1, data.size)))
    tx = torch.tensor(data, requires_grad=True)
    tout = torch.nn.functional.gelu(tx, approximate=approximate)
    tout.backward(torch.linspace(-1, 1, data.size, dtype=torch.float64))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_silu_against_torch():
    torch = pytest.importorskip("torch")
    data = RNG.normal(0, 3, (4, 5))
    x = _leaf(data)
    nn.SiLU()(x).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    torch.nn.functional.silu(tx).sum().backward()
    np.testing.assert_allclose(F.silu(x).data, torch.nn.functional.silu(tx).detach().numpy(),
                               rtol=1e-14)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-13)


@pytest.mark.parametrize("fn", [lambda t: F.gelu(t), lambda t: F.gelu(t, approximate="tanh"),
                                F.silu], ids=["gelu", "gelu_tanh", "silu"])
def test_activation_gradients_first_and_second_order(fn):
    x = _leaf(RNG.uniform(-3, 3, (2, 3)))
    assert gradcheck(fn, [x]) and gradgradcheck(fn, [x])


def test_gelu_values_keep_float32_and_known_points():
    x = Tensor(np.array([-1.0, 0.0, 1.0], dtype=np.float32))
    out = nn.GELU()(x)
    assert out.dtype == np.float32
    phi = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    np.testing.assert_allclose(out.data, [-(1 - phi), 0.0, phi], rtol=1e-6)


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'.*'fast'"):
        F.gelu(_leaf([1.0]), approximate="fast")
    with pytest.raises(ValueError, match="GELU: approximate"):
        nn.GELU("exact")


# -- LayerNorm ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5)),
                                               ((7,), 7)])
def test_layer_norm_against_torch(shape, normalized):
    torch = pytest.importorskip("torch")
    data = RNG.normal(1, 2, shape)
    norm_shape = (normalized,) if isinstance(normalized, int) else normalized
    w, b = RNG.normal(size=norm_shape), RNG.normal(size=norm_shape)
    upstream = RNG.normal(size=shape)
    x, weight, bias = _leaf(data), _leaf(w), _leaf(b)
    F.layer_norm(x, normalized, weight, bias, eps=1e-3).backward(Tensor(upstream))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (data, w, b))
    tout = torch.nn.functional.layer_norm(tx, norm_shape, tw, tb, eps=1e-3)
    tout.backward(torch.tensor(upstream))
    out = F.layer_norm(x, normalized, weight, bias, eps=1e-3)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-13)
    for ours, theirs in ((x, tx), (weight, tw), (bias, tb)):
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-11, atol=1e-12)


def test_layer_norm_normalizes_and_has_gradients():
    x = _leaf(RNG.normal(3, 5, (3, 4)))
    out = F.layer_norm(x, 4).data
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(-1), 1, rtol=1e-4)  # var / (var + eps)
    w, b = _leaf(RNG.normal(size=4)), _leaf(RNG.normal(size=4))

    def fn(x, w, b):
        return F.layer_norm(x, (4,), w, b)

    assert gradcheck(fn, [x, w, b]) and gradgradcheck(fn, [x, w, b])


def test_layer_norm_module_parameters_and_repr():
    layer = nn.LayerNorm([2, 3])
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2, 3)
    assert np.all(layer.weight.data == 1) and np.all(layer.bias.data == 0)
    assert layer.weight.dtype == np.float32
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert repr(layer) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=True)"
    no_bias = nn.LayerNorm(3, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    plain = nn.LayerNorm(3, elementwise_affine=False)
    assert list(plain.parameters()) == []
    x = Tensor(RNG.normal(size=(2, 3)).astype(np.float32))
    np.testing.assert_allclose(plain(x).data, F.layer_norm(x, 3).data)
    assert layer(Tensor(np.ones((5, 2, 3), dtype=np.float32))).shape == (5, 2, 3)


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(0, 3), normalized=st.sampled_from([(2,), (5,), (3, 2)]),
       affine=st.sampled_from(["none", "weight", "bias", "both"]), seed=st.integers(0, 2**16))
def test_layer_norm_one_op_against_torch(rows, normalized, affine, seed):
    """F.layer_norm is one recorded op whatever the affine arguments (a bias alone too),
    with PyTorch's values and gradients; its unrecorded backward (arrays) and its
    recorded one (Tensor ops, create_graph) give the same gradients."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    shape = (rows, 2) + normalized
    data, upstream = rng.normal(1, 2, shape), rng.normal(size=shape)
    w = rng.normal(size=normalized) if affine in ("weight", "both") else None
    b = rng.normal(size=normalized) if affine in ("bias", "both") else None
    x, weight, bias = _leaf(data), None if w is None else _leaf(w), None if b is None else _leaf(b)
    out = F.layer_norm(x, normalized, weight, bias, eps=1e-3)
    assert type(out.grad_fn).__name__ == "LayerNorm"
    assert all(p.grad_fn is None for p in out.grad_fn.parents)  # nothing recorded before it
    leaves = [t for t in (x, weight, bias) if t is not None]
    recorded = tg.autograd.grad(out, leaves, Tensor(upstream), create_graph=True)
    out.backward(Tensor(upstream))
    tx = torch.tensor(data, requires_grad=True)
    tw, tb = (None if a is None else torch.tensor(a, requires_grad=True) for a in (w, b))
    tout = torch.nn.functional.layer_norm(tx, normalized, tw, tb, eps=1e-3)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-13)
    theirs = [t for t in (tx, tw, tb) if t is not None]
    for leaf, again, other in zip(leaves, recorded, theirs):
        np.testing.assert_allclose(leaf.grad.data, other.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(again.data, leaf.grad.data, rtol=1e-10, atol=1e-12)


def test_layer_norm_output_may_change_in_place_and_keeps_float32():
    """Without weight and bias the output is still a new array, not the xhat backward
    reads: an in-place ReLU on it (allowed in PyTorch) leaves the gradient right."""
    torch = pytest.importorskip("torch")
    data = RNG.normal(size=(4, 6)).astype(np.float32)
    x = Tensor(data, requires_grad=True)
    F.relu(F.layer_norm(x, 6), inplace=True).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    torch.relu_(torch.nn.functional.layer_norm(tx, (6,))).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    layer = nn.LayerNorm(6)
    layer(x).sum().backward()
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32


def test_layer_norm_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape=\(4,\) expects an input "
                                         r"of shape \(\*, 4\), got \(2, 3\)"):
        F.layer_norm(_leaf(np.zeros((2, 3))), 4)
    with pytest.raises(ValueError, match=r"expects an input of shape \(\*, 2, 3\), got \(3,\)"):
        F.layer_norm(_leaf(np.zeros(3)), (2, 3))
    with pytest.raises(ValueError, match=r"layer_norm: weight has shape \(2,\), expected"):
        F.layer_norm(_leaf(np.zeros((2, 3))), 3, weight=_leaf(np.ones(2)))
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape must be"):
        nn.LayerNorm([])
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape must be"):
        nn.LayerNorm(0)


# -- Embedding ---------------------------------------------------------------------------


def test_embedding_lookup_and_gradient_against_torch():
    torch = pytest.importorskip("torch")
    w = RNG.normal(size=(6, 3))
    index = np.array([[0, 2, 2], [5, 1, 2]])
    upstream = RNG.normal(size=(2, 3, 3))
    for padding_idx in (None, 2, -1):
        weight = _leaf(w)
        out = F.embedding(Tensor(index), weight, padding_idx=padding_idx)
        out.backward(Tensor(upstream))
        tw = torch.tensor(w, requires_grad=True)
        tout = torch.nn.functional.embedding(torch.tensor(index), tw, padding_idx=padding_idx)
        tout.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(out.data, tout.detach().numpy())
        np.testing.assert_allclose(weight.grad.data, tw.grad.numpy(), rtol=1e-15)


def test_embedding_gradient_sums_repeats_and_skips_the_padding_row():
    weight = _leaf(np.arange(12.0).reshape(4, 3))
    out = F.embedding(np.array([1, 3, 1, 0]), weight, padding_idx=3)
    np.testing.assert_array_equal(out.data[1], [9.0, 10.0, 11.0])  # the row is still read
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.data[:, 0], [1.0, 2.0, 0.0, 0.0])

    def fn(w):  # no padding_idx: its row's zero gradient is on purpose, not the derivative
        return F.embedding(np.array([[2, 0], [0, 1]]), w) ** 2

    assert gradcheck(fn, [_leaf(RNG.normal(size=(3, 2)))])
    assert gradgradcheck(fn, [_leaf(RNG.normal(size=(3, 2)))])


def test_embedding_module_init_repr_and_training_step():
    tg.manual_seed(0)
    layer = nn.Embedding(10, 4, padding_idx=-1)
    assert layer.padding_idx == 9 and repr(layer) == "Embedding(10, 4, padding_idx=9)"
    assert repr(nn.Embedding(5, 2)) == "Embedding(5, 2)"
    assert layer.weight.shape == (10, 4) and layer.weight.dtype == np.float32
    assert np.all(layer.weight.data[9] == 0) and np.any(layer.weight.data[:9] != 0)
    before = layer.weight.data.copy()
    optimizer = tg.optim.SGD(layer.parameters(), lr=0.1)
    layer(Tensor(np.array([[1, 9], [9, 3]]))).sum().backward()
    optimizer.step()
    changed = np.any(layer.weight.data != before, axis=1)
    np.testing.assert_array_equal(np.flatnonzero(changed), [1, 3])


def test_embedding_from_pretrained_is_frozen_by_default():
    table = Tensor(np.arange(6.0).reshape(3, 2))
    layer = nn.Embedding.from_pretrained(table)
    assert not layer.weight.requires_grad
    np.testing.assert_array_equal(layer(Tensor(np.array([2]))).data, [[4.0, 5.0]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_embedding_rejects_bad_indices_and_arguments():
    weight = _leaf(np.zeros((4, 2)))
    with pytest.raises(TypeError, match="embedding: indices must be an integer tensor.*float"):
        F.embedding(Tensor(np.array([0.0, 1.0])), weight)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 4\) for a weight "
                                         r"of shape \(4, 2\), got values from 1 to 4"):
        F.embedding(np.array([1, 4]), weight)
    with pytest.raises(IndexError, match="got values from -1 to 0"):
        F.embedding(np.array([-1, 0]), weight)
    with pytest.raises(ValueError, match=r"embedding: padding_idx must lie in \[-4, 4\)"):
        F.embedding(np.array([0]), weight, padding_idx=4)
    with pytest.raises(ValueError, match="embedding: weight must be a 2-D tensor"):
        F.embedding(np.array([0]), _leaf(np.zeros(4)))
    with pytest.raises(NotImplementedError, match="max_norm"):
        F.embedding(np.array([0]), weight, max_norm=1.0)
    with pytest.raises(ValueError, match=r"Embedding: padding_idx must lie in \[-3, 3\), got 3"):
        nn.Embedding(3, 2, padding_idx=3)


# -- the moved modules still answer under their old names ---------------------------------


def test_functional_reexports_conv_and_losses():
    from tinygrad_edu.nn import functional_conv, functional_loss

    assert F.conv2d is functional_conv.conv2d and F.unfold is functional_conv.unfold
    assert F.cross_entropy is functional_loss.cross_entropy
    for name in F.__all__:
        assert callable(getattr(F, name)), name
    for name in nn.__all__:
        assert hasattr(nn, name), name
