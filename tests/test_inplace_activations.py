"""PyTorch's `inplace=True` activations (nn.ReLU(inplace=True), the commonest line of
PyTorch model code): the result lands in the input's memory and the gradients are those
of the out-of-place version."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F  # noqa: N812

ACTIVATIONS = {
    "relu": lambda x, inplace: F.relu(x, inplace=inplace),
    "leaky_relu": lambda x, inplace: F.leaky_relu(x, 0.2, inplace=inplace),
    "silu": lambda x, inplace: F.silu(x, inplace=inplace),
    "relu_": lambda x, inplace: x.relu_() if inplace else x.relu(),
    "sigmoid_": lambda x, inplace: x.sigmoid_() if inplace else x.sigmoid(),
    "tanh_": lambda x, inplace: x.tanh_() if inplace else x.tanh(),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(max_examples=25, deadline=None)
@given(values=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                         elements=st.floats(-4, 4, width=64).filter(lambda v: abs(v) > 1e-3)))
def test_inplace_writes_into_the_input_and_keeps_the_gradients(name, values):
    fn = ACTIVATIONS[name]
    results = {}
    for inplace in (False, True):
        w = tg.tensor(values, requires_grad=True)
        h = w * 1.5  # a non-leaf: a leaf that requires grad cannot change in place
        memory = h.data
        out = fn(h, inplace)
        if inplace:
            assert out is h and out.data is memory  # the input's own memory
        (out * out).sum().backward()
        results[inplace] = (out.numpy().copy(), w.grad.numpy())
    for a, b in zip(results[False], results[True]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def test_dropout_inplace_zeroes_the_input_itself():
    tg.manual_seed(0)
    h = tg.ones(1000) * 1.0
    out = F.dropout(h, 0.5, True, True)
    assert out is h
    kept = h.numpy() != 0
    assert 400 < kept.sum() < 600 and np.allclose(h.numpy()[kept], 2.0)


def test_a_model_with_inplace_relus_trains_like_one_without():
    def step(inplace):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(inplace=inplace),
                              nn.Linear(8, 3), nn.LeakyReLU(0.1, inplace=inplace))
        optimizer = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = tg.tensor(np.random.default_rng(1).normal(size=(16, 4)), dtype=tg.float32)
        y = tg.tensor(np.arange(16) % 3)
        for _ in range(3):
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return {k: v.numpy() for k, v in model.state_dict().items()}

    plain, inplace = step(False), step(True)
    for key in plain:
        np.testing.assert_allclose(inplace[key], plain[key], rtol=1e-6, atol=1e-7)


def test_inplace_on_a_leaf_that_requires_grad_is_refused_as_in_pytorch():
    w = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"relu_: a leaf tensor that requires grad"):
        F.relu(w, inplace=True)


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(2).normal(size=(3, 5))
    for module, reference in [(nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
                              (nn.SiLU(inplace=True), torch.nn.SiLU(inplace=True)),
                              (nn.LeakyReLU(0.3, True), torch.nn.LeakyReLU(0.3, True))]:
        assert repr(module) == repr(reference)
        w, tw = tg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        out, tout = module(w * 2.0), reference(tw * 2.0)
        (out * out).sum().backward()
        (tout * tout).sum().backward()
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_tensors_changed_in_place_are_freed_with_their_graph():
    # the engine remembers a changed tensor's old node for earlier ops; that memory must
    # not keep the tensor (and so every activation of every step) alive
    import gc
    import weakref

    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Linear(8, 2))
    optimizer = tg.optim.SGD(model.parameters(), lr=0.1)
    x, y = tg.randn(16, 4), tg.tensor(np.arange(16) % 2)
    hidden = []
    model[1].register_forward_hook(lambda module, inputs, output: hidden.append(
        weakref.ref(output)))
    for _ in range(3):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    del loss
    gc.collect()
    assert len(hidden) == 3 and all(ref() is None for ref in hidden)
