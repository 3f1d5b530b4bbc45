"""The public engine: backward_walk, tensor gradient hooks, torch.autograd's names."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import autograd
from tinygrad_edu.engine import BackwardStep, backward_walk


def _neuron():
    x = tg.tensor([2.0, 0.0], requires_grad=True, dtype=np.float64)
    w = tg.tensor([-3.0, 1.0], requires_grad=True, dtype=np.float64)
    b = tg.tensor(6.8813735870195432, requires_grad=True, dtype=np.float64)
    return x, w, b, ((x * w).sum() + b).tanh()


def test_walk_yields_every_node_once_outputs_first_and_writes_no_grad():
    x, w, b, out = _neuron()
    steps = list(backward_walk([out], retain_graph=True))
    assert all(isinstance(s, BackwardStep) for s in steps)
    assert steps[0].node is out and steps[0].op is out.grad_fn
    assert steps[0].rule.startswith("d tanh(x)/dx")
    assert len({id(s.node) for s in steps}) == len(steps)
    position = {id(s.node): i for i, s in enumerate(steps)}
    for s in steps:  # every node comes before the inputs it sends gradients to
        for parent, g in zip(s.op.parents if s.op else (), s.input_grads):
            if g is not None:
                assert position[id(parent)] > position[id(s.node)]
    leaves = {id(s.node): s.upstream.numpy() for s in steps if s.op is None}
    assert x.grad is None and w.grad is None  # the walk itself writes no .grad
    out.backward()
    np.testing.assert_allclose(leaves[id(w)], w.grad.numpy())
    np.testing.assert_allclose(leaves[id(x)], x.grad.numpy())
    np.testing.assert_allclose(leaves[id(b)], 0.5, rtol=1e-6)  # 1 - tanh(n)**2 at n = 0.8814


def test_replay_walks_a_freed_graph_without_touching_it():
    x, w, b, out = _neuron()
    out.backward()
    first = w.grad.numpy().copy()
    replayed = {id(s.node): s.upstream.numpy() for s in backward_walk([out], replay=True)}
    np.testing.assert_allclose(replayed[id(w)], first)
    with pytest.raises(autograd.GraphFreedError):  # the real graph stays freed
        out.backward()


def test_walk_restores_grad_mode_between_steps():
    _, _, _, out = _neuron()
    for _ in backward_walk([out], create_graph=False):
        assert tg.is_grad_enabled()  # the consumer's code runs in the user's mode


def test_hook_sees_and_replaces_the_gradient_of_intermediates_and_leaves():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    y.register_hook(lambda g: g * 10)  # runs second: sees the first hook's input
    handle = x.register_hook(lambda g: g + 1)
    (y * y).sum().backward(retain_graph=True)
    np.testing.assert_allclose(seen[0], 2 * y.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * y.numpy() * 10) + 1)
    handle.remove()
    handle.remove()  # twice is harmless
    x.grad = None
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * y.numpy() * 10))


def test_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    data = np.array([0.5, -1.5, 2.0])
    results = []
    for lib in (tg, torch):
        x = lib.tensor(data, requires_grad=True)
        h = (x * x).tanh()
        h.register_hook(lambda g: g * 3)
        x.register_hook(lambda g: g - 1)
        h.retain_grad()
        (h * x).sum().backward()
        results.append((x.grad.numpy().copy(), h.grad.numpy().copy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_hook_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor([1.0]).register_hook(lambda g: g)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"shape \(\) for a tensor of shape \(2,\)"):
        (x * 1.0).sum().backward()
    y = tg.tensor([1.0], requires_grad=True)
    y.register_hook(lambda g: 3.0)
    with pytest.raises(TypeError, match="expected a Tensor or None"):
        (y * 1.0).sum().backward()


def test_autograd_namespace_has_torchs_names():
    assert tg.Function is autograd.Function
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (gx,) = autograd.grad((x * x).sum(), x)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    a, b = (x * 3).sum(), (x * x)
    autograd.backward([a, b], [None, tg.ones_like(b)])
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])


def test_set_grad_enabled_as_call_context_and_decorator():
    tg.set_grad_enabled(False)
    try:
        assert not tg.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)
    assert tg.is_grad_enabled()
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.set_grad_enabled(False)
    def inside():
        return tg.is_grad_enabled()

    assert tg.is_grad_enabled() and not inside() and tg.is_grad_enabled()
    with tg.inference_mode():
        assert not (tg.tensor([1.0], requires_grad=True) * 2).requires_grad


def test_backward_returning_the_wrong_number_of_gradients_names_the_op():
    class TwoIn(tg.Function):
        """d(x + y)/dx = 1, d(x + y)/dy = 1."""

        def forward(ctx, x, y):
            return x + y

        def backward(ctx, grad):
            return grad  # forgot the second input

    try:
        x = tg.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="twoin: backward returned 1 gradient"):
            TwoIn.apply(x, x).sum().backward()
    finally:
        del tg.Function.registry["TwoIn"]
