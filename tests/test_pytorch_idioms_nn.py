"""Everyday PyTorch idioms of nn, optim, save/load and data, each run on tinygrad_edu and
on PyTorch with the results compared (see pytorch_idiom_table.py)."""
# ruff: noqa: N806 (F for nn.functional is PyTorch's spelling)

from __future__ import annotations

import importlib
import io

import numpy as np
import pytest
from pytorch_idiom_table import LABELS, A, B, check, registry, t

IDIOMS, idiom = registry()

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


@idiom
def weight_average_with_lerp(tg):
    model, average = _mlp(tg), _mlp(tg)
    with tg.no_grad():
        for p in model.parameters():
            p.mul_(2.0)
        for kept, p in zip(average.parameters(), model.parameters()):
            kept.lerp_(p, 0.1)  # an exponential moving average of the weights
    return [p.clone() for p in average.parameters()]


@idiom
def causal_self_attention(tg):
    F = tg.nn.functional  # noqa: N806
    x = t(tg, np.linspace(-1, 1, 24, dtype=np.float32).reshape(1, 2, 3, 4))
    q, k, v = x, x.flip(-1), x * 0.5
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return out, out.transpose(1, 2).flatten(2).shape


@idiom
def coordinate_grid(tg):
    ys, xs = tg.meshgrid(tg.arange(3), tg.arange(4), indexing="ij")
    grid = tg.stack([xs, ys]).movedim(0, -1)
    return grid, grid.mT.shape, tg.count_nonzero(grid)


@pytest.mark.parametrize("name", sorted(IDIOMS))
def test_idiom(name):
    check(IDIOMS[name])


def test_the_table_is_large():
    assert len(IDIOMS) >= 15
