"""state_dict / load_state_dict and nn.save / nn.load (.npz, no pickle, atomic).

Runtime: about 1 s.
"""

import os
import zipfile

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
    # a plain state_dict is a plain .npz: NumPy reads it under the same names
    with np.load(path, allow_pickle=False) as raw:
        assert np.array_equal(raw["0.weight"], model[0].weight.data)


def test_load_state_dict_keeps_the_models_dtype():
    model = nn.Linear(2, 2)
    state = {k: v.astype(np.float64) + 1 for k, v in model.state_dict().items()}
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
    for piece in ("missing keys: 0.bias, 1.weight", "unexpected keys: extra.weight",
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
        assert np.array_equal(loaded["model"][key], value)
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
    with pytest.raises(ValueError, match="'payload'.*pickled object array; refusing"):
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
    with pytest.raises(ValueError, match="not an .npz checkpoint"):
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
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [serialization.MANIFEST + ".npy",
                                              "model/fc.weight.npy"]
    with np.load(path, allow_pickle=False) as raw:  # every entry reads without pickle
        assert raw[serialization.MANIFEST].dtype.kind == "U"
        assert raw["model/fc.weight"].shape == (2, 2)
