"""Everyday PyTorch idioms, each a short snippet run on tinygrad_edu and on PyTorch.

Every idiom is a function of the library module (`tg` = tinygrad_edu or torch) that
returns plain values (tensors, numbers, lists, tuples of them); the two libraries'
results must agree in value, shape and kind of dtype. Without torch installed, each
snippet still has to run on tinygrad_edu and give a finite, well-formed result.
"""
# ruff: noqa: N806 (F for nn.functional is PyTorch's spelling)

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu

HAVE_TORCH = importlib.util.find_spec("torch") is not None

A = np.arange(12, dtype=np.float32).reshape(3, 4) / 4 - 1  # values in [-1, 1.75]
B = np.array([[0.5, -2.0, 3.0], [1.5, 0.25, -1.0]], dtype=np.float32)
LABELS = np.array([2, 0, 1, 2], dtype=np.int64)

IDIOMS: dict[str, Callable[[Any], Any]] = {}


def idiom(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    IDIOMS[fn.__name__] = fn
    return fn


def t(tg: Any, array: np.ndarray, **kwargs: Any) -> Any:
    return tg.tensor(array.copy(), **kwargs)


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


# -- nn --------------------------------------------------------------------------------------

def _mlp(tg):
    tg.manual_seed(0)
    nn = tg.nn
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with tg.no_grad():
        for index, p in enumerate(model.parameters()):
            p.copy_(tg.from_numpy(np.linspace(-1, 1, p.numel(), dtype=np.float32)
                                  .reshape(p.shape) * (index + 1) / 4))
    return model


@idiom
def parameters_named_parameters(tg):
    model = _mlp(tg)
    names = [name for name, _ in model.named_parameters()]
    return (names, sum(p.numel() for p in model.parameters()), len(model.state_dict()),
            list(model.state_dict().keys()) == names)


@idiom
def module_list(tg):
    nn = tg.nn

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(4)])

    return len(Stack().layers), len(list(Stack().parameters()))


@idiom
def forward_and_loss(tg):
    model = _mlp(tg)
    out = model(t(tg, np.vstack([A, A[:1]])))
    nn, F = tg.nn, tg.nn.functional
    target = tg.from_numpy(LABELS.copy())
    return (out, nn.CrossEntropyLoss()(out, target), F.cross_entropy(out, target),
            F.nll_loss(F.log_softmax(out, dim=1), target, reduction="sum"))


@idiom
def cross_entropy_label_smoothing(tg):
    logits = t(tg, np.vstack([A, A[:1]])[:, :3])
    return tg.nn.functional.cross_entropy(logits, tg.tensor([2, 0, 1, 2]), label_smoothing=0.1)


@idiom
def one_hot_softmax(tg):
    F = tg.nn.functional
    x = t(tg, B)
    return F.one_hot(tg.tensor([0, 2, 1]), num_classes=4), F.softmax(x, dim=1), x.softmax(-1)


@idiom
def embedding_layernorm_gelu(tg):
    nn = tg.nn
    tg.manual_seed(0)
    emb = nn.Embedding(5, 4)
    with tg.no_grad():
        emb.weight.copy_(tg.from_numpy(np.arange(20, dtype=np.float32).reshape(5, 4) / 10))
    h = emb(tg.tensor([[1, 3], [4, 0]]))
    return h, nn.LayerNorm(4)(h), nn.GELU()(h - 1), h.shape


@idiom
def clip_grad_norm(tg):
    model = _mlp(tg)
    model(t(tg, A)).pow(2).sum().backward()
    total = tg.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    clipped = sum(float((p.grad ** 2).sum()) for p in model.parameters()) ** 0.5
    return float(total), clipped


@idiom
def optimizer_scheduler_loop(tg):
    model = _mlp(tg)
    optimizer = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = tg.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    x, y = t(tg, np.vstack([A, A[:1]])), tg.from_numpy(LABELS.copy())
    losses = []
    for _ in range(4):
        optimizer.zero_grad(set_to_none=True)
        loss = tg.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses, scheduler.get_last_lr(), optimizer.param_groups[0]["lr"]


@idiom
def train_eval_dropout(tg):
    nn = tg.nn
    model = nn.Sequential(nn.Dropout(0.5))
    model.eval()
    x = t(tg, A)
    return model(x), model.training, model.train().training


@idiom
def checkpoint_dict_round_trip(tg):
    model = _mlp(tg)
    optimizer = tg.optim.Adam(model.parameters(), lr=1e-3)
    model(t(tg, A)).sum().backward()
    optimizer.step()
    buffer = io.BytesIO()
    tg.save({"epoch": 3, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "loss": 0.5}, buffer)
    buffer.seek(0)
    checkpoint = tg.load(buffer, weights_only=True)
    fresh = _mlp(tg)
    with tg.no_grad():
        for p in fresh.parameters():
            p.zero_()
    fresh.load_state_dict(checkpoint["model"])
    opt2 = tg.optim.Adam(fresh.parameters(), lr=1e-3)
    opt2.load_state_dict(checkpoint["optimizer"])
    return (checkpoint["epoch"], checkpoint["loss"], fresh(t(tg, A)),
            opt2.state_dict()["param_groups"][0]["lr"])


@idiom
def dataloader_tensor_dataset(tg):
    from_data = importlib.import_module(f"{tg.__name__}.utils.data")
    ds = from_data.TensorDataset(t(tg, A), tg.tensor([0, 1, 2]))
    batches = list(from_data.DataLoader(ds, batch_size=2))
    return len(ds), len(batches), batches[0][0], batches[1][1]


@idiom
def functional_conv_pool(tg):
    F = tg.nn.functional
    x = t(tg, np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4) / 16)
    w = t(tg, np.linspace(-1, 1, 36, dtype=np.float32).reshape(2, 2, 3, 3))
    return F.conv2d(x, w, padding=1), F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.relu(x - 1)


@idiom
def apply_init_and_buffers(tg):
    nn = tg.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.register_buffer("steps", tg.zeros(1))

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)

    net = Net()
    net.apply(init_weights)
    return net.fc.weight, net.fc.bias, list(net.state_dict().keys()), len(list(net.buffers()))


@idiom
def autograd_grad_and_retain_graph(tg):
    x = t(tg, B, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = tg.autograd.grad(y, x, create_graph=True)
    g.sum().backward(retain_graph=True)
    return g, x.grad, isinstance(x, tg.Tensor), tg.is_tensor(g)


@idiom
def gather_and_mse(tg):
    F = tg.nn.functional
    x = t(tg, A)
    picked = x.gather(1, tg.tensor([[0], [3], [1]]))
    return picked, F.mse_loss(x, tg.zeros_like(x)), tg.nn.MSELoss(reduction="sum")(x, x * 0)


@idiom
def batchnorm_conv_eval(tg):
    nn = tg.nn
    tg.manual_seed(0)
    block = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten())
    with tg.no_grad():
        for p in block.parameters():
            p.copy_(tg.from_numpy(np.linspace(-0.5, 0.5, p.numel(), dtype=np.float32)
                                  .reshape(p.shape)))
    x = t(tg, np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 2, 4, 4))
    training = block(x)
    block.eval()
    return training, block(x), block[1].running_mean, block[1].num_batches_tracked


@idiom
def grad_modes(tg):
    x = t(tg, B, requires_grad=True)
    with tg.set_grad_enabled(False):
        off = (x * 2).requires_grad
    with tg.inference_mode():
        inference = (x * 2).requires_grad
    return off, inference, (x * 2).requires_grad


@idiom
def param_group_lr_and_model_zero_grad(tg):
    model = _mlp(tg)
    optimizer = tg.optim.Adam(model.parameters(), lr=0.01)
    for group in optimizer.param_groups:
        group["lr"] = 0.001
    model(t(tg, A)).sum().backward()
    model.zero_grad()
    return optimizer.param_groups[0]["lr"], all(p.grad is None for p in model.parameters())


# -- comparing -------------------------------------------------------------------------------

def plain(value: Any) -> Any:
    """Library values as NumPy/Python ones: tensors to arrays, devices and shapes to text."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    if type(value).__name__ == "Size":
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value) if not hasattr(value, "_fields") \
            else tuple(plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def assert_same(ours: Any, theirs: Any, where: str = "result") -> None:
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)), f"{where}: {type(ours)} vs a sequence"
        assert len(ours) == len(theirs), f"{where}: {len(ours)} items vs {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{where}: {type(ours).__name__} vs an array"
        assert ours.shape == theirs.shape, f"{where}: shape {ours.shape} vs {theirs.shape}"
        assert ours.dtype == theirs.dtype, f"{where}: dtype {ours.dtype} vs {theirs.dtype}"
        np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64),
                                   rtol=1e-5, atol=1e-6, err_msg=where)
    elif isinstance(theirs, float):
        assert isinstance(ours, float), f"{where}: {type(ours).__name__} vs float"
        assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-6), where
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{where}: {ours!r} vs {theirs!r}"


# Known gaps, each reported: strict, so the marker must go when the gap is filled.
GAPS = {
    "floor_divide": "Tensor.__floordiv__ (x // 2) and __mod__ are missing",
    "mm_method": "Tensor.mm / Tensor.bmm methods are missing (torch.mm and torch.bmm exist)",
    "prod": "Tensor.prod / torch.prod are missing (needs a primitive with a backward)",
    "sign": "Tensor.sign / torch.sign are missing (needs a primitive with zero gradient)",
}


def _cases() -> list[Any]:
    return [pytest.param(name, marks=pytest.mark.xfail(reason=GAPS[name], strict=True,
                                                        raises=(AttributeError, TypeError)))
            if name in GAPS else name for name in sorted(IDIOMS)]


@pytest.mark.parametrize("name", _cases())
def test_idiom(name):
    ours = plain(IDIOMS[name](tinygrad_edu))
    assert ours is not None
    if HAVE_TORCH:
        import torch

        assert_same(ours, plain(IDIOMS[name](torch)))


def test_idioms_are_many():
    assert len(IDIOMS) >= 40


def test_randperm_takes_a_generator_and_checks_n():
    first = tinygrad_edu.randperm(6, generator=tinygrad_edu.Generator().manual_seed(1))
    again = tinygrad_edu.randperm(6, generator=tinygrad_edu.Generator().manual_seed(1))
    assert first.tolist() == again.tolist() and sorted(first.tolist()) == list(range(6))
    assert tinygrad_edu.randperm(4, dtype=tinygrad_edu.float32).dtype == np.float32
    assert tinygrad_edu.randperm(0).shape == (0,)
    with pytest.raises(ValueError, match=r"randperm: n must be a non-negative int, got -1"):
        tinygrad_edu.randperm(-1)
