"""state_dict / load_state_dict and nn.save / nn.load (.npz, no pickle, atomic).

Runtime: about 1 s.
"""

import base64
import io
import os
import pickle
import zipfile
import zlib
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.nn import serialization


def make_model(seed):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(8, 3))


def test_model_round_trip_through_a_file_gives_identical_outputs(tmp_path):
    model = make_model(0)
    x = Tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    model(x)  # one training step moves the BatchNorm running statistics
    model.eval()
    path = tmp_path / "model.npz"
    nn.save(model.state_dict(), path)
    other = make_model(1).eval()
    assert not np.array_equal(other(x).data, model(x).data)
    weight_array = other[0].weight.data
    result = other.load_state_dict(nn.load(path))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert other[0].weight.data is weight_array  # copied into the existing arrays
    assert np.array_equal(other(x).data, model(x).data)
    assert np.array_equal(other[1].running_var.data, model[1].running_var.data)
    assert other[1].num_batches_tracked.item() == 1
    loaded = tg.load(path)
    assert isinstance(loaded, dict) and list(loaded) == list(model.state_dict())
    assert all(isinstance(v, Tensor) and not v.requires_grad for v in loaded.values())


def test_load_state_dict_keeps_the_models_dtype():
    model = nn.Linear(2, 2)
    state = {k: v.numpy().astype(np.float64) + 1 for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert model.weight.dtype == np.float32
    np.testing.assert_allclose(model.weight.data, state["weight"], rtol=1e-6)


def test_strict_load_names_every_problem_in_one_error():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = model.state_dict()
    del state["0.bias"], state["1.weight"]
    state["0.weight"] = np.zeros((4, 2), dtype=np.float32)
    state["extra.weight"] = np.zeros(1)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    for piece in ("cannot load into Sequential (nothing was loaded)",
                  "missing keys: 0.bias, 1.weight", "unexpected keys: extra.weight",
                  "0.weight: checkpoint has shape (4, 2), the model has (3, 2)"):
        assert piece in message
    before = model[0].weight.data.copy()
    state["0.weight"] = np.ones((3, 2), dtype=np.float32)
    with pytest.raises(RuntimeError):
        model.load_state_dict(state)  # nothing is loaded when an error is raised
    assert np.array_equal(model[0].weight.data, before)


def test_non_strict_load_returns_missing_and_unexpected_keys():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = model.state_dict()
    state.pop("1.bias")
    state["0.weight"] = np.full((3, 2), 7.0, dtype=np.float32)
    state["head.weight"] = np.zeros(2)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["1.bias"] and unexpected == ["head.weight"]
    assert (model[0].weight.data == 7.0).all()
    state["0.weight"] = np.zeros((1, 1))  # shapes must match even when not strict
    with pytest.raises(RuntimeError, match="shape mismatch"):
        model.load_state_dict(state, strict=False)


def test_nested_checkpoint_round_trip(tmp_path):
    model = make_model(0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(Tensor(np.ones((3, 4), dtype=np.float32))).sum().backward()
    opt.step()
    checkpoint = {
        "model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
        "loss": 0.25, "done": False, "note": "a/b %2F", "nothing": None,
        "history": [1.5, 2, (3, "x")], "tensor": Tensor(np.arange(3.0)),
        7: {"0": np.zeros(1), 0: np.ones(1)},  # an int key and the str key "0" side by side
    }
    nn.save(checkpoint, tmp_path / "ckpt.npz")
    loaded = nn.load(tmp_path / "ckpt.npz")
    assert list(loaded) == list(checkpoint)
    assert loaded["epoch"] == 3 and type(loaded["epoch"]) is int
    assert loaded["loss"] == 0.25 and loaded["done"] is False and loaded["nothing"] is None
    assert loaded["note"] == "a/b %2F"
    assert loaded["history"] == [1.5, 2, (3, "x")]
    assert isinstance(loaded["tensor"], Tensor)
    assert np.array_equal(loaded["tensor"].data, np.arange(3.0))
    assert np.array_equal(loaded[7]["0"], np.zeros(1)) and np.array_equal(loaded[7][0], np.ones(1))
    for key, value in checkpoint["model"].items():
        assert isinstance(loaded["model"][key], Tensor)
        assert np.array_equal(loaded["model"][key].data, value.data)
        assert loaded["model"][key].dtype == value.dtype
    saved_opt = checkpoint["optimizer"]
    assert loaded["optimizer"]["param_groups"] == saved_opt["param_groups"]
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert list(loaded["optimizer"]["state"]) == list(saved_opt["state"])  # int keys
    assert np.array_equal(loaded["optimizer"]["state"][0]["exp_avg"],
                          saved_opt["state"][0]["exp_avg"])


def test_a_pickled_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, weight=np.zeros(2), payload=np.array([{"run": "code"}], dtype=object))
    with pytest.raises(tg.CheckpointError, match="'payload'.*pickled object array; refusing"):
        nn.load(path)
    with pytest.raises(TypeError, match="object array"):
        nn.save({"x": np.array([None, 1], dtype=object)}, tmp_path / "out.npz")
    assert not (tmp_path / "out.npz").exists()
    with pytest.raises(TypeError, match="cannot save Linear"):
        nn.save({"model": nn.Linear(1, 1)}, tmp_path / "out.npz")


def test_a_plain_npz_loads_as_a_dict_and_junk_is_rejected(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.arange(3), b=np.ones((2, 2)))
    loaded = nn.load(tmp_path / "plain.npz")
    assert sorted(loaded) == ["a", "b"] and np.array_equal(loaded["a"], np.arange(3))
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not an .npz checkpoint"):  # CheckpointError is one
        nn.load(tmp_path / "junk.npz")


def test_save_is_atomic_when_a_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    nn.save({"w": np.arange(4.0)}, path)
    original = path.read_bytes()
    calls = []
    real_write = np.lib.format.write_array

    def failing_write(*args, **kwargs):  # the disk "fills up" after the first array
        calls.append(1)
        if len(calls) > 1:
            raise OSError("No space left on device")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="No space left"):
        nn.save({"w": np.zeros(4), "v": np.ones(1000)}, path)
    monkeypatch.undo()
    assert len(calls) == 2  # the failure happened in the middle of the write
    assert path.read_bytes() == original  # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # and no temporary file is left behind
    assert np.array_equal(nn.load(path)["w"], np.arange(4.0))
    with pytest.raises(OSError, match="No space left"):
        monkeypatch.setattr(np.lib.format, "write_array", failing_write)
        nn.save({"a": np.zeros(1), "b": np.zeros(1)}, tmp_path / "new.npz")
    assert not (tmp_path / "new.npz").exists()
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_the_file_is_an_npz_with_a_json_manifest_and_no_pickle(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"model": {"fc.weight": np.ones((2, 2))}, "epoch": 1}, path)
    with zipfile.ZipFile(path) as archive:  # members are named t0, t1, ...: keys never collide
        assert sorted(archive.namelist()) == [serialization.MANIFEST + ".npy", "t0.npy"]
    with np.load(path, allow_pickle=False) as raw:  # every member reads without pickle
        assert raw[serialization.MANIFEST].dtype.kind == "U"
        assert raw["t0"].shape == (2, 2)


# -- tinygrad_edu.save / load: every supported type --------------------------------


def test_every_supported_type_round_trips_with_its_type(tmp_path):
    shared = Tensor(np.arange(3.0), requires_grad=True)
    obj = OrderedDict([
        ("floats", Tensor(np.ones((2, 3), dtype=np.float32))), ("f64", shared),
        ("same", shared), ("ints", Tensor(np.arange(4))), ("mask", Tensor(np.array([True]))),
        ("array", np.arange(6, dtype=np.int16).reshape(2, 3)), ("text", np.array(["a", "bc"])),
        ("np_scalar", np.float32(1.5)), ("empty", np.zeros((0, 3))),
        ("python", [0, -7, 2**70, 0.1, float("inf"), True, False, "héllo", None]),
        ("nested", ((1, (2,)), [], (), {})), ("", "an empty key"),
        ("k", np.zeros(1)), ("k.npy", np.ones(1)),  # once the same member name
        ("a/b", np.full(1, 2.0)), ("a", {"b": np.full(1, 3.0)}), ("__tinygrad_edu__", 1),
        (0, "int key 0"), ("0", "str key '0'"),
    ])
    tg.save(obj, tmp_path / "all.npz")
    loaded = tg.load(tmp_path / "all.npz")
    assert type(loaded) is OrderedDict and list(loaded) == list(obj)
    for key in ("floats", "f64", "ints", "mask"):
        assert type(loaded[key]) is Tensor and loaded[key].dtype == obj[key].dtype
        assert np.array_equal(loaded[key].data, obj[key].data)
    assert loaded["f64"].requires_grad and not loaded["floats"].requires_grad
    assert loaded["same"] is loaded["f64"]  # one tensor saved once, loaded once
    for key in ("array", "text", "empty", "k", "k.npy", "a/b"):
        assert type(loaded[key]) is np.ndarray and loaded[key].dtype == obj[key].dtype
        assert np.array_equal(loaded[key], obj[key])
    assert type(loaded["np_scalar"]) is np.float32 and loaded["np_scalar"] == 1.5
    assert loaded["python"] == obj["python"]
    assert [type(v) for v in loaded["python"]] == [type(v) for v in obj["python"]]
    assert loaded["nested"] == ((1, (2,)), [], (), {})
    assert loaded["a"]["b"][0] == 3.0 and loaded["__tinygrad_edu__"] == 1
    assert loaded[0] == "int key 0" and loaded["0"] == "str key '0'"
    assert loaded[""] == "an empty key"
    for root in (Tensor(np.eye(2)), np.eye(2), None, 3, [1, 2]):  # any supported root
        tg.save(root, tmp_path / "root.npz")
        back = tg.load(tmp_path / "root.npz")
        assert type(back) is type(root)
        assert np.array_equal(np.asarray(back), np.asarray(root))


def test_save_and_load_through_a_file_object():
    buffer = io.BytesIO()
    tg.save({"w": Tensor(np.arange(3.0))}, buffer)
    buffer.seek(0)
    assert np.array_equal(tg.load(buffer)["w"].data, np.arange(3.0))


def test_an_optimizer_state_dict_made_by_torch_round_trips_with_the_same_layout(tmp_path):
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(3, 2)
    layouts = []
    for opt in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                torch.optim.Adam(model.parameters(), lr=1e-3)):
        model(torch.ones(4, 3)).sum().backward()
        opt.step()
        state = opt.state_dict()
        ours = _map_tensors(state, lambda t: Tensor(t.detach().numpy()))
        tg.save({"optimizer": ours, "model": _map_tensors(model.state_dict(),
                                                          lambda t: t.numpy()),
                 "epoch": 4}, tmp_path / "opt.npz")
        loaded = tg.load(tmp_path / "opt.npz")
        assert _layout(loaded["optimizer"]) == _layout(state)  # keys, key types, containers
        layouts.append(_layout(loaded["optimizer"]))
        assert list(loaded["optimizer"]["state"]) == [0, 1]
        for index, entry in state["state"].items():
            for name, value in entry.items():
                got = loaded["optimizer"]["state"][index][name]
                np.testing.assert_array_equal(got.data, value.numpy())
        assert loaded["optimizer"]["param_groups"] == state["param_groups"]
        assert loaded["epoch"] == 4
    assert "momentum_buffer" in str(layouts[0]) and "exp_avg_sq" in str(layouts[1])


def _map_tensors(obj, fn):
    torch = pytest.importorskip("torch")
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: _map_tensors(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_tensors(v, fn) for v in obj)
    return obj


def _layout(obj):
    """The shape of a nested object: container types, keys with their types, leaf kinds."""
    if isinstance(obj, dict):
        return {(type(k).__name__, k): _layout(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_layout(v) for v in obj])
    if hasattr(obj, "shape") and not isinstance(obj, np.generic):
        return ("tensor", tuple(obj.shape))
    return type(obj).__name__


def test_map_location_and_weights_only(tmp_path):
    tg.save({"w": np.ones(1)}, tmp_path / "c.npz")

    class Device:
        type = "cpu"

    for location in (None, "cpu", Device()):
        assert tg.load(tmp_path / "c.npz", map_location=location)["w"][0] == 1.0
    if not tg.cuda.is_available():
        with pytest.raises(RuntimeError, match=r"CUDA is not available: load asked for "
                                               r"device 'cuda:0'"):
            tg.load(tmp_path / "c.npz", map_location="cuda:0")
    with pytest.raises(ValueError, match=r"map_location must be None, a device name or a "
                                         r"device, got 3"):
        tg.load(tmp_path / "c.npz", map_location=3)
    # the format cannot hold pickled objects, so weights_only=False loads the same data
    assert tg.load(tmp_path / "c.npz", weights_only=False)["w"][0] == 1.0
    with pytest.raises(TypeError, match="weights_only must be a bool, got 'yes'"):
        tg.load(tmp_path / "c.npz", weights_only="yes")


def test_unsavable_objects_raise_before_the_file_is_touched(tmp_path):
    path = tmp_path / "c.npz"
    tg.save({"w": np.ones(1)}, path)
    before = path.read_bytes()
    cases = [({True: 1}, "dict keys must be str or int, got True"),
             ({1.5: 1}, "got 1.5 \\(float\\) in '<root>'"),
             ({"a": [np.ones(1), {"b": object()}]}, "cannot save object at '<root>/a/1/b'"),
             ({"x": 1 + 2j}, "cannot save complex")]
    for obj, message in cases:
        with pytest.raises(TypeError, match=message):
            tg.save(obj, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.npz"]


# -- one error type for every damaged or foreign file -----------------------------


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _npy(array):
    out = io.BytesIO()
    np.lib.format.write_array(out, np.asarray(array), allow_pickle=False)
    return out.getvalue()


def test_every_kind_of_damage_raises_checkpoint_error_naming_the_file(tmp_path):
    good = tmp_path / "good.npz"
    tg.save({"a": np.arange(3.0), "b": np.ones(2)}, good)
    data = good.read_bytes()
    manifest = serialization.MANIFEST + ".npy"
    with zipfile.ZipFile(good) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    cases = {
        "empty.npz": (b"", "the file is empty \\(0 bytes"),
        "truncated.npz": (data[: len(data) // 2], "the zip archive is truncated or damaged"),
        "text.npz": (b"epoch,loss\n1,0.5\n", "does not start like a zip archive"),
        "single.npz": (_npy(np.ones(2)), "single .npy array \\(np.save\\)"),
        "pickle.npz": (pickle.dumps({"w": [1.0]}), "looks like a pickle file; tinygrad_edu "
                                                   "never unpickles"),
    }
    for name, (content, _) in cases.items():
        (tmp_path / name).write_bytes(content)
    zips = {
        "bad_json.npz": ({**members, manifest: _npy(np.array("{not json"))},
                         "the manifest is unreadable \\(JSONDecodeError"),
        "no_tree.npz": ({**members, manifest: _npy(np.array('{"format": 2}'))},
                        "the manifest is unreadable \\(KeyError: 'tree'"),
        "bad_node.npz": ({**members, manifest: _npy(np.array(
            '{"format": 2, "tree": {"type": "dict"}}'))}, "the manifest is malformed"),
        "future.npz": ({**members, manifest: _npy(np.array('{"format": 99, "tree": {}}'))},
                       "has checkpoint format 99; this version reads formats \\(1, 2\\)"),
        "missing.npz": ({k: v for k, v in members.items() if k != "t1.npy"},
                        "member 't1.npy' \\(the value at '<root>/b'\\) is missing"),
        "manifest_not_npy.npz": ({**members, manifest: b"garbage"},
                                 "member '__tinygrad_edu__.npy' \\(the manifest\\) cannot be "
                                 "read"),
        "foreign.npz": ({"notes.txt": b"hello"}, "member 'notes.txt' is not an .npy array"),
    }
    for name, (content, message) in zips.items():
        _zip(tmp_path / name, content)
        cases[name] = (None, message)
    flipped = bytearray(data)  # one bit flipped inside t0's numbers: the CRC check fails
    flipped[data.index(np.arange(3.0).tobytes()) + 3] ^= 1
    (tmp_path / "bitflip.npz").write_bytes(bytes(flipped))
    cases["bitflip.npz"] = (None, "member 't0.npy' \\(the value at '<root>/a'\\) cannot be "
                                  "read: BadZipFile: Bad CRC-32")
    for name, (_, message) in cases.items():
        with pytest.raises(tg.CheckpointError, match=message) as info:
            tg.load(tmp_path / name)
        assert str(tmp_path / name) in str(info.value), name
        assert "allow_pickle" not in str(info.value)
    assert issubclass(tg.CheckpointError, ValueError)
    assert nn.serialization.CheckpointError is tg.CheckpointError
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "nowhere.npz")


def test_a_torch_save_file_is_refused_with_a_way_out(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    with pytest.raises(tg.CheckpointError, match="written by torch.save .* never unpickles"):
        tg.load(tmp_path / "model.pt")


# A checkpoint written by format 1 (members named by key path), before generated names:
# {"model": {"fc.weight": arange(4) 2x2 f32, "fc.bias": [0.5, -1] f32}, "optimizer":
#  {"state": {0: {"momentum_buffer": ones 2x2 f32, "step": 3}}, "param_groups": [{"lr": 0.1,
#  "betas": (0.9, 0.999), "params": [0, 1]}]}, "epoch": 3, "tensor": Tensor([1., 2.]),
#  7: {"0": zeros(1), 0: ones(1)}, "note": None}
FORMAT_1 = """
eNrVWM1PE0EUnwIK6QlC9eKlkmA1KWyLRARN4OQFNU0MB0PIZkt32026H9kPSCElHEzkiPHmyav+BSYe+CsUI2fj
EQ7cPOgb+kZmN9PSdjdunfS3u52d9+b93nszu/tKq8MjM6TVbpM35z9PfmObJBliWBW1Lmmbs9uqXq15s6bdSJFx
cogC7Pz2+dqz0ssU2SK7uYrqbjq5pWzusTafy2dzmuV4jmLKllNRaf8Tpe6q0O/WFFuF/3fn8tm5e/lsM9t3S7es
2F+Gwwr8VkoBUq8+vDtlpCZ4UmVdcRmlAxx+EA+laIRalIDO/lGQytNfpzcZlWmgYtmebug7qiO5nuKpUkEyLEM1
Pd+Qy76mqc7gRoxG6xJBmpX1j0eMZhpoeqrpWr1yefgPQwXtbBnNCWXfo1spn3EZBS4LUqHHnOuOSDEuIoQECXw+
PjlmBMZaBPYGm8FZKJ1+NL/fYQwywECWPd1sVB2lIqsVX5YZm2/jLQl2FrNZKxbmH3RFKCKd9C7YMAXQABbAARgA
BeDhvSVAFlAE5PF6Cu/T8SqCH7vLjWkAbMEYel0B6IBNbj5+Dh37VbTLDelYR0zhfQt10vH1kL4kbNJQzyxgG2Wo
fBVQE+jv1kYFfe/gdUNgJ5UzuTg1BHpEPpN6sLsJ2ODmFfEuo6zC+WqQ+YrsZTw3OnC20H4P5Q087+BczgDko4tj
FU4mSZsKCfuD5YMRyh8f+2TMBx9zRIsYy7jyuJtck9rEW0K/SzHwb7cWXG4+u09fuRhjBdepIvA7vd7ixvgCXffb
rN9Oa9nm5lM4X1Sxz8K57Ah7Wh1j5kbI4yTWTD1C/scV0wLu1cUOMSyjnBfx2eNxsa4L9sy4YxW3jxbRR0nHapFD
s4/19z+sszh9lmTMioIYbVzRF44h2/sttKk2QM+BsK0e9/xzuW+hfveLq3R1+5zvpEvEZSHh96lCwu9FC9z7TTsf
FQbEvr0evi1MjH2Ud/a41pGJ/XVE2P7mRX0nNTQzHKz6HmJBbZJctv0UPQpqwGEFtMJ6gGWgiYCCL7wCVm8Ni9Oq
Jpt/OiD+HizoqsYZVkkriExlOqDy9RDh6olhOVqtY0xGA3Ivhgmr3YWFaIWMCY0FhDIj5G+9LCxFq1K00kSRCUh9
BSlRjaq0eu06uTBslHwCz5zfoP/+AIOz6m8=
"""


def test_a_format_1_checkpoint_still_loads(tmp_path):
    path = tmp_path / "old.npz"
    path.write_bytes(zlib.decompress(base64.b64decode(FORMAT_1)))
    loaded = tg.load(path)
    assert list(loaded) == ["model", "optimizer", "epoch", "tensor", 7, "note"]
    np.testing.assert_array_equal(loaded["model"]["fc.weight"],
                                  np.arange(4, dtype=np.float32).reshape(2, 2))
    assert loaded["model"]["fc.bias"].dtype == np.float32
    state = loaded["optimizer"]["state"]
    assert list(state) == [0] and state[0]["step"] == 3
    np.testing.assert_array_equal(state[0]["momentum_buffer"], np.ones((2, 2)))
    assert loaded["optimizer"]["param_groups"] == [
        {"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1]}]
    assert isinstance(loaded["tensor"], Tensor) and loaded["tensor"].tolist() == [1.0, 2.0]
    assert loaded[7]["0"][0] == 0.0 and loaded[7][0][0] == 1.0 and loaded["note"] is None


# -- state_dict / load_state_dict ---------------------------------------------------


def test_state_dict_values_are_detached_tensor_copies_as_in_torch():
    model = make_model(0)
    state = model.state_dict()
    assert all(type(v) is Tensor and not v.requires_grad for v in state.values())
    state["0.weight"].data[...] = 42.0  # a copy: the model is untouched
    assert not (model[0].weight.data == 42.0).any()
    assert state["1.num_batches_tracked"].dtype == np.int64
    own = model.state_dict(keep_vars=True)
    assert own["0.weight"] is model[0].weight
    assert list(model.state_dict(prefix="net."))[0] == "net.0.weight"
    torch = pytest.importorskip("torch")
    reference = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8),
                                    torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                    torch.nn.Linear(8, 3))
    assert list(state) == list(reference.state_dict())
    assert [tuple(v.shape) for v in state.values()] == [
        tuple(v.shape) for v in reference.state_dict().values()]


def test_load_state_dict_takes_tensors_or_arrays():
    source, target = make_model(0), make_model(1)
    mixed = {k: (v if i % 2 else v.numpy()) for i, (k, v) in
             enumerate(source.state_dict().items())}
    mixed["1.num_batches_tracked"] = 5  # a Python number for a 0-d buffer
    target.load_state_dict(mixed)
    for key, value in source.state_dict().items():
        if key != "1.num_batches_tracked":
            np.testing.assert_array_equal(target.state_dict()[key].data, value.data)
    assert target[1].num_batches_tracked.item() == 5


def test_load_state_dict_is_all_or_nothing():
    model = make_model(0)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    good = {k: v.numpy() + 1 for k, v in make_model(1).state_dict().items()}
    last = list(good)[-1]
    bad_values = [
        (np.ones(3, dtype=np.complex64), f"{last}: complex values \\(dtype complex64\\) cannot "
                                         "be loaded into a float32 tensor"),
        (np.array(["1", "2", "3"]), f"{last}: values of dtype <U1 are not numbers"),
        (np.array([None, 1, 2], dtype=object), f"{last}: values of dtype object are not"),
        ([1.0, 2.0, 3.0], f"{last}: expected a Tensor or a NumPy array, got list"),
        ("abc", f"{last}: expected a Tensor or a NumPy array, got str"),
        (np.ones(4, dtype=np.float32), f"shape mismatch for {last}: checkpoint has shape "
                                       "\\(4,\\), the model has \\(3,\\)"),
    ]
    for value, message in bad_values:
        for strict in (True, False):
            with pytest.raises(RuntimeError, match=message):
                model.load_state_dict({**good, last: value}, strict=strict)
            for key, array in model.state_dict().items():  # every earlier key unchanged
                np.testing.assert_array_equal(array.data, before[key], err_msg=key)
    with pytest.raises(RuntimeError, match="1.num_batches_tracked: NaN or infinite values "
                                           "cannot be loaded into a int64 tensor"):
        model.load_state_dict({**good, "1.num_batches_tracked": np.float64("nan")})
    with pytest.raises(RuntimeError, match="keys must be str \\(dotted parameter names\\), "
                                           "got 0 \\(int\\)"):
        model.load_state_dict({**good, 0: np.ones(1)})
    with pytest.raises(TypeError, match="expected a dict of Tensors or arrays, got list"):
        model.load_state_dict(list(good.values()))
    for key, array in model.state_dict().items():
        np.testing.assert_array_equal(array.data, before[key], err_msg=key)
    model.load_state_dict(good)  # the same values load once the bad one is gone
    np.testing.assert_array_equal(model.state_dict()[last].data, good[last])


def test_strict_false_returns_the_incompatible_keys_named_tuple():
    model = nn.Linear(2, 2)
    result = model.load_state_dict({"weight": np.zeros((2, 2)), "extra": np.ones(1)},
                                   strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert result == (["bias"], ["extra"]) and (model.weight.data == 0).all()
