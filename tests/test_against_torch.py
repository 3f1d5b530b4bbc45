"""Random compositions of ops, forward and gradients compared with PyTorch (when importable)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.testing import arrays

torch = pytest.importorskip("torch")

# (name, our op, PyTorch's op): unary steps keep values in a safe range for the next step
UNARY = [
    ("tanh", lambda t: t.tanh(), lambda t: t.tanh()),
    ("sigmoid", lambda t: t.sigmoid(), lambda t: t.sigmoid()),
    ("exp_small", lambda t: (t * 0.5).exp(), lambda t: (t * 0.5).exp()),
    ("log1p_sq", lambda t: (t * t + 1.0).log(), lambda t: (t * t + 1.0).log()),
    ("sqrt", lambda t: (t * t + 0.5).sqrt(), lambda t: (t * t + 0.5).sqrt()),
    ("softmax", lambda t: t.softmax(-1), lambda t: t.softmax(-1)),
    ("log_softmax", lambda t: t.log_softmax(-1), lambda t: t.log_softmax(-1)),
    ("square", lambda t: t ** 2, lambda t: t ** 2),
    ("recip", lambda t: 1.0 / (t * t + 1.0), lambda t: 1.0 / (t * t + 1.0)),
    ("transpose_back", lambda t: t.T.T, lambda t: t.T.T),
    ("flip_rows", lambda t: t[::-1], lambda t: t.flip(0)),
    ("norm_rows", lambda t: t - t.mean(-1, keepdims=True),
     lambda t: t - t.mean(-1, keepdim=True)),
    ("std_scale", lambda t: t / (t.std() + 1.0), lambda t: t / (t.std() + 1.0)),
    ("lse", lambda t: t - t.logsumexp(-1, keepdims=True),
     lambda t: t - t.logsumexp(-1, keepdim=True)),
    ("clip", lambda t: t.clip(-0.77, 0.77), lambda t: t.clamp(-0.77, 0.77)),
]
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
    ("matmul_t", lambda a, b: a @ b.T, lambda a, b: a @ b.T),
    ("maximum", lambda a, b: a.maximum(b * 0.5 + 0.13), lambda a, b: a.maximum(b * 0.5 + 0.13)),
    ("pow", lambda a, b: (a * a + 1.0) ** (b * 0.5), lambda a, b: (a * a + 1.0) ** (b * 0.5)),
    ("where", lambda a, b: tg.where(a > b, a, b * 2.0),
     lambda a, b: torch.where(a > b, a, b * 2.0)),
]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_compositions_match_pytorch(data):
    n = data.draw(st.integers(2, 4))
    x_np = data.draw(arrays((n, n), -1.5, 1.5))
    y_np = data.draw(arrays((n, n), -1.5, 1.5))
    ours = [tg.Tensor(x_np, requires_grad=True), tg.Tensor(y_np, requires_grad=True)]
    theirs = [torch.tensor(x_np, requires_grad=True), torch.tensor(y_np, requires_grad=True)]
    a, ta = ours[0], theirs[0]
    steps = data.draw(st.lists(st.tuples(st.booleans(), st.integers(0, 100)), min_size=1,
                               max_size=8))
    for binary, k in steps:
        if binary:
            _, f, g = BINARY[k % len(BINARY)]
            # the other operand: the second input, or the running value itself (shared node)
            other, t_other = (ours[1], theirs[1]) if k % 2 == 0 else (a, ta)
            a, ta = f(a, other), g(ta, t_other)
        else:
            _, f, g = UNARY[k % len(UNARY)]
            a, ta = f(a), g(ta)
    weights = np.linspace(-1.0, 1.0, a.data.size).reshape(a.shape)
    (a * weights).sum().backward()
    (ta * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(a.data, ta.detach().numpy(), rtol=1e-9, atol=1e-9)
    for mine, reference in zip(ours, theirs):
        expected = reference.grad.numpy() if reference.grad is not None else 0.0
        got = mine.grad.data if mine.grad is not None else 0.0
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


def test_second_order_matches_pytorch():
    x_np = np.array([[0.3, -0.7], [1.1, 0.2]])
    x = tg.Tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    (g,) = tg.grad((x.tanh() @ x).sigmoid().sum(), x, create_graph=True)
    (tgr,) = torch.autograd.grad((tx.tanh() @ tx).sigmoid().sum(), tx, create_graph=True)
    (gg,) = tg.grad((g * g).sum(), x)
    (tgg,) = torch.autograd.grad((tgr * tgr).sum(), tx)
    np.testing.assert_allclose(g.data, tgr.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(gg.data, tgg.numpy(), rtol=1e-9)
