"""The device code paths, run on the stand-in device (tinygrad_edu/standin.py) so that CI
without a GPU checks them: its arrays refuse implicit conversion to NumPy, as CuPy's do,
so a forgotten `np.` call on a device array fails here instead of on a GPU."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import backend, nn, optim
from tinygrad_edu.engine import Function
from tinygrad_edu.nn import functional as F  # noqa: N812
from tinygrad_edu.standin import StandinArray
from tinygrad_edu.testing import check_op

DEV = "standin"
OPS = sorted(Function.registry.values(), key=lambda op: op.__name__)


# -- the stand-in arrays themselves ----------------------------------------------------


def test_standin_arrays_refuse_numpy():
    a = tg.ones(2, 3, device=DEV).data
    assert type(a) is StandinArray
    for attempt in (lambda: np.asarray(a), lambda: np.exp(a), lambda: np.ones(3) + a,
                    lambda: a + np.ones(3), lambda: np.concatenate([a, a]),
                    lambda: np.where(a > 0, a, 0)):
        with pytest.raises(TypeError, match="stand-in device array|cannot mix a stand-in"):
            attempt()
    xp = backend.array_module(a)
    assert type(xp.exp(a)) is StandinArray and type(a.sum()) is StandinArray  # 0-d, as CuPy
    assert xp.asarray(np.ones(2)).shape == (2,)  # the explicit copy onto the device
    assert backend.array_module(np.ones(1)) is np


def test_standin_arrays_have_no_extended_precision_as_cupy():
    a = tg.ones(2, device=DEV, dtype=tg.float64).data
    with pytest.raises(TypeError, match="no dtype float128"):
        a.astype(np.longdouble)
    assert a.astype(np.float32).dtype == np.float32
    assert backend.widest_float(a) == np.float64
    assert backend.widest_float(np.ones(1)) == np.longdouble


def test_creation_builds_on_the_device_without_a_host_copy(monkeypatch):
    from tinygrad_edu import creation

    def no_copy(*args, **kwargs):
        raise AssertionError("a host array was copied onto the device")

    monkeypatch.setattr(creation, "transfer", no_copy)
    like = tg.ones(2, 3, device=DEV)
    made = [tg.zeros(2, 3, device=DEV), tg.full((2,), 7, device=DEV), tg.empty(3, device=DEV),
            tg.arange(5, device=DEV), tg.eye(3, device=DEV), tg.zeros_like(like),
            tg.ones_like(like, dtype=tg.float64), tg.full_like(like, 2.5)]
    for t in made:
        assert type(t.data) is StandinArray and t.device == like.device
    assert made[1].numpy().tolist() == [7, 7] and made[1].dtype == np.int64
    assert made[3].numpy().tolist() == [0, 1, 2, 3, 4] and made[3].dtype == np.int64
    assert made[4].numpy().tolist() == np.eye(3).tolist()
    assert made[6].dtype == np.float64 and made[7].numpy().tolist() == [[2.5] * 3] * 2


def test_views_keep_their_owner():
    a = tg.zeros(2, 3, device=DEV).data
    view = a.reshape(3, 2)
    assert view.base is a and view.T.base is a and a.copy().base is None


# -- every op, first and second order, on the device -----------------------------------


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
def test_op_check_on_the_device(op):
    assert check_op(op, examples=10, device=DEV) >= 10


def test_built_on_the_device():
    tg.manual_seed(0)
    x = tg.randn(3, 4, device=DEV, requires_grad=True)
    w = tg.randn(4, 2, device=DEV, requires_grad=True)
    loss = ((x @ w).relu() * 2.0 + 1).log_softmax(-1).sum()
    loss.backward()
    assert x.device == DEV and x.grad.device == DEV and w.grad.device == DEV
    cpu_x = tg.tensor(x.numpy(), requires_grad=True)
    cpu_w = tg.tensor(w.numpy(), requires_grad=True)
    ((cpu_x @ cpu_w).relu() * 2.0 + 1).log_softmax(-1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), cpu_x.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), cpu_w.grad.numpy(), rtol=1e-6)


def test_to_is_differentiable_and_explicit():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    d = x.to(DEV)
    assert d.device == DEV and x.to("cpu") is x and d.to(DEV) is d
    (d * d).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, 4.0]
    assert d.cpu().device == "cpu" and isinstance(d.numpy(), np.ndarray)
    assert d.sum().item() == 3.0 and "device='standin'" in repr(d)
    with pytest.raises(TypeError, match="cannot convert a tensor on device 'standin'"):
        np.asarray(d)


def test_mixing_devices_names_the_op_and_both_devices():
    a, b = tg.ones(2), tg.ones(2, device=DEV)
    with pytest.raises(RuntimeError, match=r"add: expected all tensors on one device, but "
                                           r"found tensors on cpu and standin"):
        a + b
    with pytest.raises(RuntimeError, match=r"matmul: .*cpu and standin"):
        tg.ones(2, 2) @ tg.ones(2, 2, device=DEV)
    with pytest.raises(RuntimeError, match=r"cat: .*cpu and standin"):
        tg.cat([a, b])


# -- training ----------------------------------------------------------------------------


def _mlp():
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4, 3))


@pytest.mark.parametrize(("make", "shape", "opt"), [
    (_mlp, (5, 6), lambda p: optim.SGD(p, lr=0.1, momentum=0.9)),
    (_cnn, (4, 1, 6, 6), lambda p: optim.Adam(p, lr=0.01)),
])
def test_training_on_the_device_matches_the_cpu(make, shape, opt):
    runs = []
    for device in ("cpu", DEV):
        tg.manual_seed(0)
        model = make().to(device)  # the PyTorch idiom: build on the CPU, move
        optimizer = opt(model.parameters())
        rng = np.random.default_rng(1)
        for _ in range(3):
            x = tg.tensor(rng.standard_normal(shape).astype(np.float32)).to(device)
            y = tg.tensor(rng.integers(0, 3, shape[0])).to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            optimizer.step()
        assert all(p.device == device for p in model.parameters())
        assert all(b.device == device for b in model.buffers())
        for state in optimizer.state.values():  # optimizer state lives with the parameter
            assert all(v.device == device for v in state.values() if isinstance(v, tg.Tensor))
        runs.append({k: v.numpy() for k, v in model.state_dict().items()})
    for key, value in runs[0].items():
        np.testing.assert_allclose(runs[1][key], value, rtol=2e-5, atol=1e-6, err_msg=key)


def test_dropout_and_eval_on_the_device():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.BatchNorm1d(4)).to(DEV)
    out = model(tg.randn(8, 4, device=DEV))
    assert out.device == DEV
    model.eval()
    assert model(tg.randn(8, 4, device=DEV)).device == DEV


# -- seeds, checkpoints ------------------------------------------------------------------


def test_manual_seed_seeds_the_device_generator():
    tg.manual_seed(3)
    first = tg.randn(4, device=DEV).numpy()
    second = tg.randn(4, device=DEV).numpy()
    tg.manual_seed(3)
    assert np.array_equal(tg.randn(4, device=DEV).numpy(), first)
    assert not np.array_equal(first, second)
    assert tg.rand(2, device=DEV).device == DEV and tg.randint(0, 5, (3,), device=DEV).device == DEV


def test_save_and_load_with_map_location(tmp_path):
    model = _mlp().to(DEV)
    tg.save(model.state_dict(), tmp_path / "m.npz")
    on_cpu = tg.load(tmp_path / "m.npz")
    on_device = tg.load(tmp_path / "m.npz", map_location=DEV)
    assert all(t.device == "cpu" for t in on_cpu.values())
    assert all(t.device == DEV for t in on_device.values())
    fresh = _mlp()
    fresh.load_state_dict(on_device)  # across devices, as PyTorch
    assert all(p.device == "cpu" for p in fresh.parameters())
    back = _mlp().to(DEV)
    back.load_state_dict(on_cpu)
    assert all(p.device == DEV for p in back.parameters())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), value.numpy())
        np.testing.assert_array_equal(back.state_dict()[key].numpy(), value.numpy())


def test_optimizer_state_dict_loads_onto_the_parameters_device():
    model = _mlp().to(DEV)
    opt = optim.Adam(model.parameters())
    F.cross_entropy(model(tg.randn(2, 6, device=DEV)), tg.tensor([0, 1]).to(DEV)).backward()
    opt.step()
    saved = opt.state_dict()
    again = optim.Adam(model.parameters())
    again.load_state_dict(saved)
    assert all(v.device == DEV for s in again.state.values() for v in s.values()
               if isinstance(v, tg.Tensor))


# -- composites and library functions: same numbers on the device ------------------------

def _assigned(x, i):
    out = x.clone()
    out[0, [1, 2]] = 5.0
    out[i[:, 0]] = x[1]
    return out


COMPOSITES = {
    "gather": lambda x, i: x.gather(1, i),
    "scatter_add": lambda x, i: x.scatter_add(1, i, x[:, :2]),
    "masked_fill": lambda x, i: x.masked_fill(x > 0, 0.0),
    "sort": lambda x, i: x.sort(1, descending=True).values,
    "argsort": lambda x, i: x.argsort(1),
    "topk": lambda x, i: x.topk(2, 1).values,
    "max_dim": lambda x, i: x.max(1).indices,
    "min_dim": lambda x, i: x.min(1, keepdim=True).values,
    "norm": lambda x, i: x.norm(p=3),
    "tril": lambda x, i: x.triu(1),
    "einsum": lambda x, i: tg.einsum("ij,kj->ik", x, x),
    "flip": lambda x, i: x.flip(0),
    "std": lambda x, i: x.std(1),
    "logsumexp": lambda x, i: x.logsumexp(1),
    "where": lambda x, i: tg.where(x > 0, x, 0.5),
    "setitem": lambda x, i: _assigned(x, i),
    "getitem_list": lambda x, i: x[[0, 2]],
    "floordiv": lambda x, i: x // 0.3,
    "gelu": lambda x, i: F.gelu(x),
    "bce": lambda x, i: F.binary_cross_entropy_with_logits(x, (x > 0).float()),
    "nll": lambda x, i: F.nll_loss(x.log_softmax(-1), i[:, 0]),
    "one_hot": lambda x, i: F.one_hot(i[:, 0], 4),
    "smoothing": lambda x, i: F.cross_entropy(x, i[:, 1], label_smoothing=0.1),
    "avg_pool": lambda x, i: F.avg_pool2d(x.reshape(1, 1, 3, 4), 2, padding=1,
                                          count_include_pad=False),
    "max_pool_idx": lambda x, i: F.max_pool2d(x.reshape(1, 1, 3, 4), 2, padding=1,
                                              return_indices=True)[1],
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composites_on_the_device(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    i = np.array([[0, 1], [2, 3], [1, 1]])
    expected = COMPOSITES[name](tg.tensor(x), tg.tensor(i))
    got = COMPOSITES[name](tg.tensor(x, device=DEV), tg.tensor(i, device=DEV))
    assert got.device == DEV
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)


def test_init_and_random_fills_stay_on_the_device():
    w = tg.zeros(3, 4, device=DEV)
    nn.init.kaiming_uniform_(w)
    nn.init.orthogonal_(w)
    w.normal_()
    assert w.device == DEV and w.new_zeros(2).device == DEV
    assert tg.zeros_like(w).device == DEV and tg.randn_like(w).device == DEV  # as PyTorch
    assert tg.ones_like(w, device="cpu").device == "cpu"


# -- CUDA detection (without a GPU: a stand-in for the cupy module) -------------------------


@pytest.mark.parametrize(("count", "expected"), [
    (0, "CuPy is installed but sees no GPU"),
    (RuntimeError("no CUDA driver"), "CuPy is installed but finds no GPU (RuntimeError: "
                                     "no CUDA driver)"),
])
def test_cuda_detection_says_what_is_missing(monkeypatch, count, expected):
    import sys
    import types

    def device_count():
        if isinstance(count, Exception):
            raise count
        return count

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=device_count))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(backend, "_cuda_problem", None)  # forget the real answer
    assert backend.cuda_backend() is None and backend.cuda_problem() == expected
    assert not tg.cuda.is_available() and tg.accelerator.current_accelerator() is None
    with pytest.raises(RuntimeError, match=r"CUDA is not available: Tensor.to asked for "
                                           r"device 'cuda'.*" + expected.split(" (")[0]):
        tg.ones(1).to("cuda")


@pytest.mark.parametrize("make", [
    lambda device: tg.nn.Linear(3, 2, device=device),
    lambda device: tg.nn.Conv2d(1, 2, 3, device=device),
    lambda device: tg.nn.BatchNorm2d(2, device=device),
    lambda device: tg.nn.LayerNorm(4, device=device),
    lambda device: tg.nn.Embedding(5, 2, device=device),
], ids=["Linear", "Conv2d", "BatchNorm2d", "LayerNorm", "Embedding"])
def test_layers_take_pytorchs_device_keyword(make):
    tg.manual_seed(0)
    on_cpu = make(None)
    tg.manual_seed(0)
    placed = make("standin")
    for (name, a), (_, b) in zip(on_cpu.state_dict().items(), placed.state_dict().items()):
        assert b.device.type == "standin", name
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # the same seeded values
