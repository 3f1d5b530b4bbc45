"""The activations elu, selu, celu, softplus, hardtanh, relu6, hardsigmoid, hardswish,
mish, softsign, prelu and their modules: values and gradients against PyTorch on
hypothesis-drawn inputs (the seams included: PyTorch's gradient at a corner is matched
too), inplace=True, the reprs, and first and second order finite differences in
float64 (these run without PyTorch)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F  # noqa: N812

# name, keyword arguments, the seams (where the pieces meet)
CASES = [
    ("elu", {}, (0.0,)), ("elu", {"alpha": 0.4}, (0.0,)), ("selu", {}, (0.0,)),
    ("celu", {"alpha": 2.0}, (0.0,)), ("softplus", {}, (20.0,)),
    ("softplus", {"beta": 2.0, "threshold": 3.0}, (1.5,)), ("hardtanh", {}, (-1.0, 1.0)),
    ("hardtanh", {"min_val": -0.5, "max_val": 2.0}, (-0.5, 2.0)), ("relu6", {}, (0.0, 6.0)),
    ("hardsigmoid", {}, (-3.0, 3.0)), ("hardswish", {}, (-3.0, 3.0)), ("mish", {}, ()),
    ("softsign", {}, (0.0,)),
]
IDS = [f"{name}{kwargs or ''}" for name, kwargs, _ in CASES]


def torch_module():
    return pytest.importorskip("torch")


@st.composite
def inputs(draw, seams=()):
    """An array of a drawn shape, scaled to cover the pieces, with the seams in it."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.normal(size=shape) * draw(st.sampled_from([0.5, 3.0, 10.0]))
    flat = x.reshape(-1)
    for i, seam in enumerate(seams[:flat.size]):
        if draw(st.booleans()):
            flat[i] = seam
    return x


@pytest.mark.parametrize(("name", "kwargs", "seams"), CASES, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_activation_values_and_gradients_match_pytorch(name, kwargs, seams, data):
    torch = torch_module()
    x = data.draw(inputs(seams))
    g = np.random.default_rng(0).normal(size=x.shape)
    mine, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(mine, **kwargs)
    ref = getattr(torch.nn.functional, name)(theirs, **kwargs)
    out.backward(tg.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    # rtol 1e-7: PyTorch's float64 hardsigmoid gradient uses a float32 1/6
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize(("name", "kwargs", "seams"), CASES, ids=IDS)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_activations_gradcheck_first_and_second_order(name, kwargs, seams, data):
    x = data.draw(inputs())
    for seam in seams:  # finite differences across a corner see no derivative
        x = np.where(np.abs(x - seam) < 1e-3, seam + 0.01, x)
    if name in ("softsign",):
        x = np.where(np.abs(x) < 1e-3, 0.01, x)
    t = tg.tensor(x, requires_grad=True)

    def fn(u):
        return getattr(F, name)(u, **kwargs)

    assert tg.gradcheck(fn, [t])
    assert tg.gradgradcheck(fn, [t])


@pytest.mark.parametrize("channels", [1, 3])
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), rows=st.integers(1, 4), extra=st.integers(0, 2))
def test_prelu_matches_pytorch_and_learns_its_slopes(channels, seed, rows, extra):
    torch = torch_module()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, channels) + (2,) * extra)
    w = rng.uniform(0.0, 0.5, channels)
    mine, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mw, tw = tg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    out, ref = F.prelu(mine, mw), torch.nn.functional.prelu(theirs, tw)
    (out * out).sum().backward()
    (ref * ref).sum().backward()
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(mw.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    x = np.where(np.abs(x) < 1e-3, 0.01, x)
    assert tg.gradcheck(F.prelu, [tg.tensor(x, requires_grad=True), mw])
    assert tg.gradgradcheck(F.prelu, [tg.tensor(x, requires_grad=True), mw])


def test_prelu_module_is_pytorchs():
    layer = nn.PReLU(3, init=0.1)
    assert repr(layer) == "PReLU(num_parameters=3)"
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert np.allclose(layer.weight.numpy(), 0.1) and layer.weight.dtype == np.float32
    out = layer(tg.tensor([[-1.0, 2.0, -3.0]]))
    assert np.allclose(out.numpy(), [[-0.1, 2.0, -0.3]])
    out.sum().backward()
    assert np.allclose(layer.weight.grad.numpy(), [-1.0, 0.0, -3.0])
    with pytest.raises(ValueError, match=r"prelu: weight has 3 slopes but the input of shape "
                                         r"\(2, 4\) has 4 channels"):
        layer(tg.zeros(2, 4))


def test_activation_modules_compute_their_function_and_print_as_pytorch():
    torch = torch_module()
    x = np.linspace(-8.0, 8.0, 33)
    cases = [("ELU", (0.5,)), ("ELU", (1.0, True)), ("CELU", (2.0,)), ("SELU", ()),
             ("SELU", (True,)), ("ReLU6", ()), ("ReLU6", (True,)), ("Mish", ()),
             ("Mish", (True,)), ("Hardsigmoid", ()), ("Hardsigmoid", (True,)),
             ("Hardswish", (True,)), ("Softsign", ()), ("Softplus", (2.0, 5.0)),
             ("Hardtanh", (-2.0, 3.0)), ("Hardtanh", (-2.0, 3.0, True)), ("PReLU", ())]
    for name, args in cases:
        mine, ref = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(mine) == repr(ref), name
        a = tg.tensor(x, dtype=tg.float32)
        b = torch.tensor(x, dtype=torch.float32)
        expected = ref(b).detach().numpy()
        out = mine(a)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-7, err_msg=name)
        if getattr(mine, "inplace", False):  # the result is in the input's memory
            assert out is a and np.allclose(a.numpy(), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["elu", "selu", "celu", "hardtanh", "relu6", "hardsigmoid",
                                  "hardswish", "mish"])
def test_inplace_activations_write_into_the_input_and_keep_the_gradient(name):
    x = np.array([-4.0, -3.0, -0.5, 0.7, 2.0, 3.5, 7.0])
    leaf = tg.tensor(x, requires_grad=True)
    expected_out = getattr(F, name)(leaf)
    expected_out.sum().backward()
    expected_grad = leaf.grad.numpy().copy()
    leaf.grad = None
    y = leaf * 1.0  # a non-leaf may be changed in place
    out = getattr(F, name)(y, inplace=True)
    assert out is y
    np.testing.assert_array_equal(y.numpy(), expected_out.numpy())
    out.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), expected_grad)
    with pytest.raises(RuntimeError, match=f"{name}_: a leaf tensor that requires grad"):
        getattr(F, name)(tg.tensor(x, requires_grad=True), inplace=True)


def test_activation_errors_are_named():
    with pytest.raises(ValueError, match=r"hardtanh: min_val=2.0 must not exceed max_val=1.0"):
        F.hardtanh(tg.zeros(2), 2.0, 1.0)
    with pytest.raises(TypeError, match=r"Hardtanh: min_value and max_value are PyTorch's "
                                        "deprecated"):
        nn.Hardtanh(min_value=-2.0)
    with pytest.raises(ValueError, match=r"prelu: weight must be 0-d or 1-d"):
        F.prelu(tg.zeros(2, 2), tg.zeros(2, 2))


def test_softplus_and_elu_stay_finite_far_out():
    x = tg.tensor([-1000.0, 1000.0], requires_grad=True)
    for fn in (F.softplus, F.elu, F.selu, F.mish):
        x.grad = None
        out = fn(x)
        out.sum().backward()
        assert np.isfinite(out.numpy()).all() and np.isfinite(x.grad.numpy()).all(), fn
