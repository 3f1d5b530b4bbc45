"""prod (zeros included), remainder, floor division, sign, mm/bmm against PyTorch."""

import numpy as np
import pytest

import tinygrad_edu as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_prod_values_and_gradients_with_zeros_match_pytorch(dim):
    data = np.array([[1.5, 0.0, 3.0], [2.0, 0.0, 0.0], [-1.0, 2.0, 0.5]])
    results = []
    for lib in (tg, torch):
        x = lib.tensor(data, requires_grad=True)
        out = x.prod() if dim is None else x.prod(dim)
        weights = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape))
        (out * lib.tensor(weights)).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_remainder_and_floor_divide_follow_python_signs_as_pytorch():
    a, b = np.array([3.5, -2.5, 7.0, -7.0]), np.array([2.0, 2.0, -3.0, 3.0])
    results = []
    for lib in (tg, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        r = x % y
        r.sum().backward()
        results.append((r.detach().numpy(), x.grad.numpy(), y.grad.numpy(),
                        (x.detach() // y.detach()).numpy(), (5.0 % y.detach()).numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)
    ints = tg.tensor([-7, 7])
    assert (ints // 2).tolist() == [-4, 3] and (ints % 3).tolist() == [2, 1]
    assert not (tg.tensor([3.0], requires_grad=True) // 2).requires_grad


def test_sign_has_zero_gradient():
    x = tg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    s = x.sign()
    (s * 5).sum().backward()
    assert s.tolist() == [-1.0, 0.0, 1.0] and x.grad.tolist() == [0.0, 0.0, 0.0]


def test_mm_and_bmm_check_ranks():
    a, b = tg.ones(2, 3), tg.ones(3, 4)
    assert a.mm(b).shape == (2, 4) and tg.mm(a, b).shape == (2, 4)
    assert tg.ones(5, 2, 3).bmm(tg.ones(5, 3, 4)).shape == (5, 2, 4)
    with pytest.raises(RuntimeError, match=r"mm: expected two 2-d tensors, got shapes \(2, 3\)"):
        a.mm(tg.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="bmm: expected two 3-d tensors with the same batch"):
        tg.bmm(tg.ones(5, 2, 3), tg.ones(4, 3, 4))
