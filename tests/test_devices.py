"""Devices: names as torch.device, torch.cuda / torch.accelerator queries, Tensor.to
and Module.to. Without CuPy and a GPU, asking for CUDA is a clear error (the stand-in
device's tests are in test_device_standin.py)."""

import pickle

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim


def test_device_names():
    cpu, gpu = tg.device("cpu"), tg.device("cuda:1")
    assert (cpu.type, cpu.index) == ("cpu", None) and (gpu.type, gpu.index) == ("cuda", 1)
    assert repr(cpu) == "device(type='cpu')" and repr(gpu) == "device(type='cuda', index=1)"
    assert str(gpu) == "cuda:1" and tg.device("cuda", 1) == gpu and tg.device(gpu) == gpu
    assert cpu == "cpu" and "cpu" == cpu and cpu != "cuda" and gpu != "cuda:0"
    assert cpu != "not a device" and hash(cpu) == hash(tg.device("cpu"))
    assert {cpu: 1}[tg.device("cpu")] == 1 and pickle.loads(pickle.dumps(gpu)) == gpu


@pytest.mark.parametrize(("spec", "message"), [
    ("foo", r"device: unknown device type 'foo'"),
    ("cuda:x", r"device: invalid device string 'cuda:x'"),
    (3.5, r"device: expected a device string"),
])
def test_bad_device_names(spec, message):
    with pytest.raises((RuntimeError, TypeError), match=message):
        tg.device(spec)


def test_cuda_and_accelerator_say_no_gpu():
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    assert tg.cuda.manual_seed(0) is None and tg.cuda.manual_seed_all(0) is None
    assert tg.accelerator.is_available() is False
    assert tg.accelerator.current_accelerator() is None
    device = tg.accelerator.current_accelerator() or tg.device("cpu")  # the usual idiom
    assert tg.ones(2).to(device).device == "cpu"


def test_tensor_to_forms():
    x = tg.ones(2, 3, requires_grad=True)
    assert x.device == tg.device("cpu") and x.device.type == "cpu" and not x.is_cuda
    assert x.to("cpu") is x and x.to(tg.device("cpu")) is x and x.cpu() is x
    assert x.to(tg.float32) is x
    y = x.to(tg.float64)
    assert y.dtype == np.float64 and y.grad_fn is not None
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [[1.0] * 3] * 2
    assert x.to("cpu", tg.float16).dtype == np.float16
    assert x.to(device="cpu", dtype=tg.double).dtype == np.float64
    assert x.to(tg.zeros(1, dtype=tg.int64)).dtype == np.int64
    copied = x.to("cpu", copy=True)
    assert copied is not x and copied.data is not x.data and copied.tolist() == x.tolist()


@pytest.mark.parametrize("call", [
    lambda x: x.to("cuda"), lambda x: x.to("cuda:0", tg.float64), lambda x: x.cuda(),
    lambda x: x.to(0), lambda x: tg.zeros(2, device="cuda"),
    lambda x: tg.tensor([1.0], device="cuda"), lambda x: x.new_zeros(2, device="cuda"),
])
def test_cuda_is_a_clear_error(call):
    with pytest.raises(RuntimeError, match=r"CUDA is not available: .*cuda.*(CuPy is not "
                                           r"installed|finds no GPU|sees no GPU)"):
        call(tg.ones(2))


def test_unknown_and_unavailable_devices_are_named():
    with pytest.raises(RuntimeError, match=r"Tensor.to: device: unknown device type 'foo'"):
        tg.ones(2).to("foo")
    with pytest.raises(RuntimeError, match=r"Tensor.to: device 'mps' is not available"):
        tg.ones(2).to("mps")
    with pytest.raises(RuntimeError, match=r"device 'cpu:1' does not exist"):
        tg.ones(2).to("cpu:1")
    with pytest.raises(TypeError, match=r"Tensor.type: 'banana' is not a dtype"):
        tg.ones(2).type("banana")


def test_module_to_casts_in_place_and_keeps_parameters():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    params = list(model.parameters())
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(tg.randn(5, 3)).sum().backward()
    assert model.to("cpu") is model and model.cpu() is model
    assert model.double() is model
    assert list(model.parameters()) == params and all(p.dtype == np.float64 for p in params)
    assert all(p.grad.dtype == np.float64 for p in params)  # gradients are cast too
    assert all(b.dtype == np.float64 for b in model.buffers() if b.dtype.kind == "f")
    assert any(b.dtype.kind == "i" for b in model.buffers())  # num_batches_tracked stays int
    opt.step()
    assert all(p.dtype == np.float64 for p in params)
    assert model.to("cpu", tg.float32) is model and params[0].dtype == np.float32
    assert model.half() is model and params[0].dtype == np.float16
    assert model.float() is model and params[0].dtype == np.float32
    assert model.to(tg.ones(1, dtype=tg.double)) is model and params[0].dtype == np.float64


def test_module_to_refuses_int_dtypes_and_cuda():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"Linear.to: only floating point dtypes .*int64"):
        model.to(tg.int64)
    with pytest.raises(RuntimeError, match=r"CUDA is not available: Linear.to"):
        model.to("cuda")
    with pytest.raises(RuntimeError, match=r"CUDA is not available: Linear.cuda"):
        model.cuda()
    assert model.weight.dtype == np.float32
