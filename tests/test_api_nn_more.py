"""adaptive_avg_pool2d / AdaptiveAvgPool2d (every output size, PyTorch's windows),
normalize, cosine_similarity, dropout2d / Dropout2d, Unflatten and ParameterList:
values and gradients against PyTorch on hypothesis-drawn inputs, and first and second
order finite differences in float64 (these run without PyTorch)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F  # noqa: N812


def torch_module():
    return pytest.importorskip("torch")


def compare(fn, tfn, arrays, rtol=1e-12, atol=1e-10):
    """Values, and gradients of every input for a random upstream gradient."""
    torch = torch_module()
    mine = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = fn(*mine), tfn(*theirs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).normal(size=ref.shape)
    out.backward(tg.tensor(g))
    ref.backward(torch.tensor(g))
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), batch=st.booleans(), h=st.integers(1, 9),
       w=st.integers(1, 9), oh=st.integers(1, 9), ow=st.one_of(st.none(), st.integers(1, 9)))
def test_adaptive_avg_pool2d_matches_pytorch_for_every_output_size(seed, batch, h, w, oh, ow):
    torch = torch_module()
    x = np.random.default_rng(seed).normal(size=((2,) if batch else ()) + (3, h, w))
    size = oh if ow is None and seed % 2 else (oh, ow)
    compare(lambda t: F.adaptive_avg_pool2d(t, size),
            lambda t: torch.nn.functional.adaptive_avg_pool2d(t, size), [x])
    mine = nn.AdaptiveAvgPool2d(size)
    assert repr(mine) == repr(torch.nn.AdaptiveAvgPool2d(size))
    assert mine(tg.tensor(x)).shape == torch.nn.AdaptiveAvgPool2d(size)(torch.tensor(x)).shape


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), shape=st.lists(st.integers(1, 4), min_size=1,
                                                       max_size=3),
       p=st.sampled_from([1.0, 2.0, 3.0]), zero_row=st.booleans())
def test_normalize_matches_pytorch(seed, shape, p, zero_row):
    torch = torch_module()
    x = np.random.default_rng(seed).normal(size=shape)
    dim = seed % len(shape)
    if zero_row:  # a zero vector stays zero (the norm is floored at eps)
        x = np.moveaxis(x, dim, -1)
        x.reshape(-1, x.shape[-1])[0] = 0.0
        x = np.moveaxis(x, -1, dim).copy()
    compare(lambda t: F.normalize(t, p, dim),
            lambda t: torch.nn.functional.normalize(t, p, dim), [x])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), rows=st.integers(1, 4), features=st.integers(1, 5),
       broadcast=st.booleans(), zero_row=st.booleans())
def test_cosine_similarity_matches_pytorch(seed, rows, features, broadcast, zero_row):
    torch = torch_module()
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(rows, features))
    b = rng.normal(size=(1 if broadcast else rows, features))
    if zero_row:  # a zero vector: similarity 0 and a finite gradient (its norm floored at
        a[0] = 0.0  # eps), as PyTorch; it was nan (the sqrt's slope at 0 times 0)
    # gradients that cancel to ~0 differ in their rounding: atol 1e-10 (compare)
    compare(F.cosine_similarity, torch.nn.functional.cosine_similarity, [a, b], 1e-10, 1e-10)
    compare(lambda u, v: F.cosine_similarity(u, v, 0),
            lambda u, v: torch.nn.functional.cosine_similarity(u, v, 0), [a, b], 1e-10, 1e-10)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), h=st.integers(2, 5), oh=st.integers(1, 4))
def test_pooling_and_similarity_gradcheck_first_and_second_order(seed, h, oh):
    rng = np.random.default_rng(seed)
    x = tg.tensor(rng.normal(size=(1, 2, h, h + 1)), requires_grad=True)
    assert tg.gradcheck(lambda t: F.adaptive_avg_pool2d(t, (oh, 2)), [x])
    assert tg.gradgradcheck(lambda t: F.adaptive_avg_pool2d(t, (oh, 2)), [x])
    a = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    b = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    for fn in (lambda u, v: F.cosine_similarity(u, v),
               lambda u, v: F.normalize(u, 2.0, 1) * v, lambda u, v: F.normalize(u, 3.0, 0)):
        assert tg.gradcheck(fn, [a, b])
        assert tg.gradgradcheck(fn, [a, b])


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    tg.manual_seed(0)
    x = tg.ones(8, 16, 3, 3, requires_grad=True)
    out = F.dropout2d(x, 0.25)
    maps = out.numpy().reshape(8, 16, 9)
    assert set(np.unique(maps)) <= {0.0, np.float32(1 / 0.75)}
    assert (maps == maps[..., :1]).all()  # one value per feature map
    dropped = (maps[..., 0] == 0).mean()
    assert 0.1 < dropped < 0.4
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())
    unbatched = F.dropout2d(tg.ones(5, 2, 2), 0.5)
    assert (unbatched.numpy() == unbatched.numpy()[:, :1, :1]).all()
    layer = nn.Dropout2d(0.5)
    assert repr(layer) == "Dropout2d(p=0.5, inplace=False)"
    layer.eval()
    same = tg.ones(2, 3, 2, 2)
    assert layer(same) is same
    y = tg.ones(2, 3, 2, 2)
    assert F.dropout2d(y, 0.5, inplace=True) is y
    assert F.dropout2d(tg.ones(2, 3, 2, 2), 1.0).numpy().sum() == 0
    with pytest.raises(ValueError, match=r"dropout2d: expected a 3-d \(C, H, W\) or 4-d"):
        F.dropout2d(tg.ones(2, 3))


def test_unflatten_matches_pytorch():
    torch = torch_module()
    x = np.arange(2 * 12 * 5.0).reshape(2, 12, 5)
    for dim, size in ((1, (3, 4)), (1, [2, -1]), (-1, (5, 1)), (0, (1, 2))):
        mine, ref = nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size)
        assert repr(mine) == repr(ref)
        np.testing.assert_array_equal(mine(tg.tensor(x)).numpy(), ref(torch.tensor(x)).numpy())
    with pytest.raises(ValueError, match=r"Unflatten: axis 1 of the input of shape "
                                         r"\(2, 12, 5\) has size 12, which cannot be split"):
        nn.Unflatten(1, (5, 2))(tg.tensor(x))


def test_parameter_list_registers_its_parameters():
    weights = nn.ParameterList([nn.Parameter(tg.zeros(2, 3)), tg.ones(2)])
    weights.append(tg.full((4,), 2.0))
    assert len(weights) == 3 and all(isinstance(p, nn.Parameter) for p in weights)
    assert [name for name, _ in weights.named_parameters()] == ["0", "1", "2"]

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = weights

        def forward(self, x):
            for scale in self.scales:
                x = x * scale.sum()
            return x

    model = Model()
    assert list(model.state_dict()) == ["scales.0", "scales.1", "scales.2"]
    model(tg.tensor(1.0)).backward()
    assert weights[1].grad is not None and np.allclose(weights[1].grad.numpy(), 0.0)
    assert weights[-1] is weights[2] and isinstance(weights[1:], nn.ParameterList)
    assert repr(weights).splitlines()[1] == "    (0): Parameter containing: [float32 of size 2x3]"
    with pytest.raises(TypeError, match=r"ParameterList: expected a Parameter or a Tensor"):
        weights.append([1.0])
