"""The engine's semantics: graph walking, accumulation, retain/free, grad mode, grad()."""

import time

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.engine import GraphFreedError


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_diamond_graph_accumulates_both_paths():
    # y = a*b + a*c with a shared: dy/da = b + c
    a, b, c = leaf(2.0), leaf(3.0), leaf(5.0)
    y = a * b + a * c
    y.backward()
    assert a.grad.item() == 8.0
    assert b.grad.item() == 2.0
    assert c.grad.item() == 2.0


def test_shared_node_used_many_times():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    y = (h + h + h * h).sum()  # dy/dx = 3 * (2 + 2h)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 3 * (2 + 2 * np.array([3.0, 6.0])))


def _chain(depth):
    x = leaf(1.0)
    h = x
    for _ in range(depth):
        h = h * 1.0
    return x, h


def test_deep_chain_has_no_recursion_limit():
    x, h = _chain(100_000)
    h.backward()
    assert x.grad.item() == 1.0


def test_deep_chain_is_linear_in_depth():
    def seconds(depth):
        x, h = _chain(depth)
        start = time.perf_counter()
        h.backward()
        return time.perf_counter() - start

    seconds(10_000)  # warm-up
    small = min(seconds(10_000) for _ in range(3))
    large = min(seconds(100_000) for _ in range(2))
    # linear: about 10x; quadratic would be about 100x. Generous for a noisy CI machine.
    assert large / small < 30, f"10k: {small:.4f}s, 100k: {large:.4f}s"


def test_leaf_grad_accumulates_over_two_backward_calls():
    x = leaf([1.0, -2.0])
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * 2 * np.array([1.0, -2.0]))


def test_non_leaf_grad_not_kept_unless_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    kept = x * 3.0
    kept.retain_grad()
    (h.sum() + kept.sum()).backward()
    assert h.grad is None
    np.testing.assert_allclose(kept.grad.data, [1.0, 1.0])
    assert not h.is_leaf and x.is_leaf


def test_retain_graph_allows_second_backward():
    x = leaf(3.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 12.0


def test_second_backward_through_freed_graph_raises_clearly():
    x = leaf(3.0)
    y = (x * x).exp()
    y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_backward_on_non_scalar_needs_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*scalar.*gradient="):
        y.backward()
    y.backward(gradient=Tensor([1.0, 10.0], dtype=np.float64))
    np.testing.assert_allclose(x.grad.data, [2.0, 20.0])


def test_backward_gradient_shape_is_checked():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*\(2,\)"):
        y.backward(gradient=np.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(1.0).backward()


def test_no_grad_records_nothing_and_restores_mode():
    x = leaf([1.0])
    with tg.no_grad():
        y = x * 2.0
        assert not tg.is_grad_enabled()
        with tg.enable_grad():
            z = x * 2.0
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_as_decorator():
    @tg.no_grad()
    def double(t):
        return t * 2.0

    assert not double(leaf([1.0])).requires_grad
    assert tg.is_grad_enabled()


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError):
        with tg.no_grad():
            raise ValueError("boom")
    assert tg.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_data():
    x = leaf([1.0, 2.0])
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])  # d treated as a constant


def test_requires_grad_propagates_only_from_inputs_that_need_it():
    a, b = leaf(1.0), Tensor(2.0, dtype=np.float64)
    assert (a * b).requires_grad
    assert not (b * b).requires_grad
    b.requires_grad_()
    assert (b * b).requires_grad


def test_requires_grad_only_for_floats_and_leaves():
    with pytest.raises(TypeError, match="floating point"):
        Tensor([1, 2], requires_grad=True)
    y = leaf(1.0) * 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_grad_returns_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = tg.grad(y, [x, w])
    np.testing.assert_allclose(gx.data, [3.0, 4.0])
    np.testing.assert_allclose(gw.data, [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_with_grad_outputs_and_non_leaf_input():
    x = leaf([1.0, 2.0])
    h = x * x
    y = h * 3.0
    (gh,) = tg.grad(y, h, grad_outputs=Tensor([1.0, 2.0], dtype=np.float64))
    np.testing.assert_allclose(gh.data, [3.0, 6.0])


def test_grad_unused_input():
    x, unused = leaf(1.0), leaf(2.0)
    with pytest.raises(RuntimeError, match="not used"):
        tg.grad(x * 2.0, [x, unused])
    gx, gu = tg.grad(x * 2.0, [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_second_order_of_cube():
    # d/dx x^3 = 3x^2 = 12, d2/dx2 = 6x = 12, d3/dx3 = 6 at x = 2
    x = leaf(2.0)
    (g1,) = tg.grad(x ** 3, x, create_graph=True)
    (g2,) = tg.grad(g1, x, create_graph=True)
    (g3,) = tg.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (12.0, 12.0, 6.0)


def test_create_graph_backward_gives_differentiable_grad():
    x = leaf([1.0, 2.0])
    (x.tanh().sum()).backward(create_graph=True)
    assert x.grad.requires_grad
    first = x.grad.data.copy()
    gg = tg.grad(x.grad.sum(), x)[0]  # d/dx sum(1 - tanh^2) = -2 tanh (1 - tanh^2)
    t = np.tanh([1.0, 2.0])
    np.testing.assert_allclose(first, 1 - t ** 2)
    np.testing.assert_allclose(gg.data, -2 * t * (1 - t ** 2))


def test_grads_keep_input_dtype():
    x = Tensor([1.0, 2.0], requires_grad=True)  # float32
    (x * Tensor([1.0, 2.0], dtype=np.float64)).sum().backward()
    assert x.grad.dtype == np.float32


def test_manual_seed_reproduces_random_draws():
    tg.manual_seed(123)
    a = tg.randn(3, 3).numpy().copy()
    b = tg.rand(2).numpy().copy()
    tg.manual_seed(123)
    np.testing.assert_array_equal(a, tg.randn(3, 3).numpy())
    np.testing.assert_array_equal(b, tg.rand(2).numpy())
    tg.manual_seed(124)
    assert not np.array_equal(a, tg.randn(3, 3).numpy())
    assert tg.initial_seed() == 124


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_ops_that_skip_the_engines_check_still_fit_each_input(op, create_graph):
    # Add, Sub, Mul and Div declare grads_fit_inputs: their own backward must sum a
    # broadcast gradient back and cast a promoted one, as the engine's check would
    import operator
    x = Tensor(np.array([[1.0, 2.0, 3.0]], np.float32), requires_grad=True)  # (1, 3)
    y = Tensor(np.array([[2.0], [4.0]]), requires_grad=True)  # (2, 1) float64
    out = getattr(operator, op)(x, y)
    assert out.shape == (2, 3) and out.dtype == np.float64
    gx, gy = tg.autograd.grad(out.sum(), (x, y), create_graph=create_graph)
    assert (gx.shape, gx.dtype) == ((1, 3), np.float32)
    assert (gy.shape, gy.dtype) == ((2, 1), np.float64)
    xd, yd = x.data.astype(np.float64), y.data
    expected = {"add": (np.full((1, 3), 2.0), np.full((2, 1), 3.0)),
                "sub": (np.full((1, 3), 2.0), np.full((2, 1), -3.0)),
                "mul": (yd.sum(0, keepdims=True).repeat(3, 1), np.full((2, 1), xd.sum())),
                "truediv": ((1 / yd).sum(0, keepdims=True).repeat(3, 1),
                            -xd.sum() / yd ** 2)}[op]
    np.testing.assert_allclose(gx.data, expected[0], rtol=1e-6)
    np.testing.assert_allclose(gy.data, expected[1], rtol=1e-12)


def test_a_subclass_of_a_trusted_op_is_checked_again():
    from tinygrad_edu.ops.elementwise import Mul

    class WrongMul(Mul):  # its own backward forgets to sum the broadcast gradient back
        def backward(ctx, grad):
            return grad, grad

    assert Mul.grads_fit_inputs and not WrongMul.grads_fit_inputs
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    y = Tensor([[1.0], [2.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"wrongmul: backward returned a gradient of "
                                           r"shape \(2, 2\) for input 0 of shape \(1, 2\)"):
        WrongMul.apply(x, y).sum().backward()
