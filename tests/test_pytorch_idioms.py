"""Everyday PyTorch idioms on tensors, each a short snippet run on tinygrad_edu and on
PyTorch with the results compared (see pytorch_idiom_table.py); the nn, optim and data
idioms are in test_pytorch_idioms_nn.py."""

from __future__ import annotations

import numpy as np
import pytest
from pytorch_idiom_table import A, B, cases, check, registry, t

import tinygrad_edu

IDIOMS, idiom = registry()

# -- shapes and views -----------------------------------------------------------------------

@idiom
def view_minus_one(tg):
    return tg.zeros(2, 1, 28, 28).view(-1, 784).shape


@idiom
def size_of_dim(tg):
    x = tg.zeros(5, 3)
    return x.size(0), x.size(), x.size(-1)


@idiom
def numel_dim_t(tg):
    x = t(tg, A)
    return x.numel(), x.dim(), x.t()


@idiom
def unsqueeze_squeeze(tg):
    x = t(tg, A)
    return x.unsqueeze(1).shape, x.unsqueeze(0).squeeze(0).shape, x[None].shape


@idiom
def permute_transpose_contiguous(tg):
    x = t(tg, np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    y = x.transpose(1, 2).contiguous()
    return x.permute(2, 0, 1), y, y.is_contiguous(), y.view(2, -1), x.is_contiguous()


@idiom
def flatten_reshape(tg):
    x = t(tg, np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    return tg.flatten(x, 1).shape, x.reshape(4, -1).shape, x.flatten().shape


@idiom
def cat_stack(tg):
    x, y = t(tg, A), t(tg, A * 2)
    return tg.cat([x, y], dim=0), tg.stack([x, y], dim=1), tg.cat((x, y), 1).shape


@idiom
def chunk_split(tg):
    x = tg.arange(10)
    return [c.tolist() for c in x.chunk(3)], [s.tolist() for s in tg.split(x, 4)]


@idiom
def indexing(tg):
    x = t(tg, A)
    return x[0], x[:, 1], x[1:, ::2], x[x > 0], x[tg.tensor([2, 0])], x[..., -1]


@idiom
def expand_repeat(tg):
    x = t(tg, np.array([[1.0], [2.0]], dtype=np.float32))
    return x.expand(2, 3), x.repeat(2, 2), x.expand_as(tg.zeros(2, 4)).shape


# -- creation --------------------------------------------------------------------------------

@idiom
def arange_linspace(tg):
    return tg.arange(5), tg.arange(1, 10, 2), tg.arange(0, 1, 0.25), tg.linspace(0, 1, 5)


@idiom
def eye_full_zeros_like(tg):
    x = t(tg, A)
    return tg.eye(3), tg.full((2, 2), 7.0), tg.zeros_like(x), tg.ones_like(x), tg.ones(2, 3)


@idiom
def tensor_dtypes(tg):
    return (tg.tensor([1, 2]).dtype == tg.int64, tg.tensor([1.0]).dtype == tg.float32,
            tg.tensor([True]).dtype == tg.bool, tg.zeros(2).dtype == tg.float32)


@idiom
def from_numpy_shares_memory(tg):
    array = np.zeros(3, dtype=np.float32)
    x = tg.from_numpy(array)
    array[0] = 5
    return x, x.dtype == tg.float32


@idiom
def randperm_is_a_permutation(tg):
    tg.manual_seed(0)
    return sorted(tg.randperm(10).tolist()), tg.randperm(10).dtype == tg.int64


@idiom
def manual_seed_reproduces(tg):
    tg.manual_seed(123)
    first = tg.randn(3, 4)
    tg.manual_seed(123)
    return bool(tg.equal(first, tg.randn(3, 4))), tg.rand(2, 2).shape, tg.randint(0, 5, (3,)).shape


# -- conversion ------------------------------------------------------------------------------

@idiom
def item_tolist_numpy(tg):
    x = t(tg, B, requires_grad=True)
    return (x.sum().item(), x.tolist(), x.detach().cpu().numpy(),
            type(x.sum().item()).__name__, type(x[0, 0].item()).__name__)


@idiom
def to_dtype_float_long(tg):
    x = t(tg, B)
    return (x.to(tg.int64), x.long(), x.long().float(), x.int().dtype == tg.int32,
            x.double().dtype == tg.float64, x.to(dtype=tg.float16).dtype == tg.float16,
            (x > 0).type(tg.float), x.bool())


@idiom
def device_moves(tg):
    device = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    x = t(tg, B).to(device)
    as_double = x.to("cpu", tg.float64)
    return str(device), x.device.type, x.cpu().device.type, as_double.dtype == tg.float64


# -- math ------------------------------------------------------------------------------------

@idiom
def max_min_with_dim(tg):
    x = t(tg, A)
    values, indices = x.max(dim=1)
    named = x.min(dim=0)
    return values, indices, named.values, named.indices, x.max(), tg.max(x, 1, keepdim=True)[0]


@idiom
def argmax_eq_sum(tg):
    output = t(tg, np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], dtype=np.float32))
    target = tg.tensor([1, 1, 1])
    pred = output.argmax(dim=1, keepdim=True)
    return pred.eq(target.view_as(pred)).sum().item(), (output.argmax(1) == target).float().mean()


@idiom
def topk_sort(tg):
    x = t(tg, np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0], dtype=np.float32))
    values, indices = tg.topk(x, 3)
    s = x.sort(descending=True)
    return values, indices, s.values, s.indices, x.argsort()


@idiom
def where_masked_fill(tg):
    x = t(tg, A)
    mask = x < 0
    y = x.clone()
    y.masked_fill_(mask, 0.0)
    return tg.where(mask, tg.zeros_like(x), x), x.masked_fill(mask, -1.0), y


@idiom
def clamp_variants(tg):
    x = t(tg, A)
    return x.clamp(min=0), x.clamp(-0.5, 0.5), tg.clamp(x, max=0.25), x.clamp_(min=0.0)


@idiom
def reductions(tg):
    x = t(tg, A)
    return (x.sum(), x.sum(dim=0), x.mean(1, keepdim=True), x.std(), x.var(dim=1),
            tg.sum(x, 1), x.abs().sum(dim=(0, 1)), x.norm(), x.cumsum(0), tg.argmax(x))


@idiom
def prod(tg):
    x = t(tg, A)
    return x.prod(), x.prod(dim=1)


@idiom
def elementwise(tg):
    x = t(tg, B)
    return (x.exp(), x.abs().log(), x.abs().sqrt(), x.pow(2), x ** 2, x.sigmoid(),
            x.tanh(), tg.relu(x), 1 / (x + 10), -x, tg.abs(x), x.square())


@idiom
def sign(tg):
    return t(tg, B).sign()


@idiom
def matmul_einsum(tg):
    x, y = t(tg, A), t(tg, A.T)
    return (x @ y, tg.matmul(x, y), tg.mm(x, y), tg.einsum("ij,jk->ik", x, y),
            tg.einsum("ii->", x @ y))


@idiom
def floor_divide(tg):
    return tg.tensor([3, 4, -5]) // 2, tg.arange(7) % 3


@idiom
def mm_method(tg):
    return t(tg, A).mm(t(tg, A.T))


@idiom
def tril_triu(tg):
    ones = tg.ones(4, 4)
    mask = tg.tril(ones) == 0
    return tg.tril(ones), tg.triu(ones, diagonal=1), mask


@idiom
def inplace_arithmetic(tg):
    x = t(tg, A)
    x.add_(1).mul_(2)
    x -= 1
    x[0, 0] = 10.0
    return x


@idiom
def comparisons(tg):
    x, y = t(tg, A), t(tg, A.T.copy().T)
    return (x == y).all().item(), (x > 0).any().item(), tg.allclose(x, y), x.eq(y).sum()


# -- autograd --------------------------------------------------------------------------------

@idiom
def backward_and_grad(tg):
    x = t(tg, B, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    return x.grad, x.requires_grad, y.grad_fn is not None, x.is_leaf


@idiom
def no_grad_as_decorator(tg):
    @tg.no_grad()
    def evaluate(x):
        return x * 2

    x = t(tg, B, requires_grad=True)
    with tg.no_grad():
        inside = (x + 1).requires_grad
    return evaluate(x).requires_grad, inside, tg.is_grad_enabled()


@idiom
def detach_requires_grad_(tg):
    x = t(tg, B).requires_grad_()
    return x.requires_grad, x.detach().requires_grad


# Known gaps, each reported to the lead and listed in docs/pytorch_compatibility.md.
GAPS = {
}


@pytest.mark.parametrize("name", cases(IDIOMS, GAPS))
def test_idiom(name):
    check(IDIOMS[name])


def test_the_table_is_large():
    assert len(IDIOMS) >= 30


def test_randperm_takes_a_generator_and_checks_n():
    first = tinygrad_edu.randperm(6, generator=tinygrad_edu.Generator().manual_seed(1))
    again = tinygrad_edu.randperm(6, generator=tinygrad_edu.Generator().manual_seed(1))
    assert first.tolist() == again.tolist() and sorted(first.tolist()) == list(range(6))
    assert tinygrad_edu.randperm(4, dtype=tinygrad_edu.float32).dtype == np.float32
    assert tinygrad_edu.randperm(0).shape == (0,)
    with pytest.raises(ValueError, match=r"randperm: n must be a non-negative int, got -1"):
        tinygrad_edu.randperm(-1)
