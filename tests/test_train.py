"""Tests for the training loop (tinygrad_edu.train), the model zoo and the plots.

Reference numbers come from NumPy written here by hand (forward pass, log-softmax,
shifts), never from the code under test. One test trains on the real 5,000-image MNIST
subset (skipped when absent), and the examples run briefly. Runtime: about 15 s.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from mnist_5k import MNIST_5K, needs_5k

from tinygrad_edu import models, nn, optim
from tinygrad_edu.data import MNIST, DataLoader, ImageDataset, Subset
from tinygrad_edu.rng import manual_seed
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.train import (
    History,
    RandomShift,
    evaluate,
    fit,
    make_optimizer,
    make_scheduler,
    predict,
    train_epoch,
)

REPO = Path(__file__).resolve().parents[1]


def blob_dataset(n: int = 256, seed: int = 0) -> ImageDataset:
    """Easy synthetic 'digits': class k lights up a 6x6 block at a class-specific place."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        r, c = 2 + 8 * (k // 4), 2 + 6 * (k % 4)
        images[i, r:r + 6, c:c + 6] = 220
    return ImageDataset(images, labels)


def numpy_logits(state: dict, x: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """models.mlp's forward pass by hand from its state_dict (Sequential indices)."""
    h = x.reshape(len(x), -1).astype(dtype)
    linear_keys = sorted({k.split(".")[0] for k in state}, key=int)
    for i, key in enumerate(linear_keys):
        weight, bias = np.asarray(state[f"{key}.weight"]), np.asarray(state[f"{key}.bias"])
        h = h @ weight.T.astype(dtype) + bias.astype(dtype)
        if i < len(linear_keys) - 1:
            h = np.maximum(h, 0)
    return h


def numpy_loss_and_accuracy(state: dict, dataset: ImageDataset) -> tuple[float, float]:
    x, y = dataset.get_batch(np.arange(len(dataset)))
    z = numpy_logits(state, x)
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean()), float((z.argmax(axis=1) == y).mean())


# ---------------------------------------------------------------- models ----


def test_mlp_shapes_and_parameter_count():
    manual_seed(0)
    model = models.mlp()
    out = model(Tensor(np.zeros((3, 1, 28, 28), dtype=np.float32)))
    assert out.shape == (3, 10)
    expected = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert sum(p.numel() for p in model.parameters()) == expected
    # no hidden layer: multinomial logistic regression
    assert sum(p.numel() for p in models.mlp(hidden=()).parameters()) == 784 * 10 + 10


def test_mlp_rejects_bad_widths():
    with pytest.raises(ValueError, match="mlp: layer widths must be positive"):
        models.mlp(hidden=(0,))
    with pytest.raises(ValueError, match="dropout"):
        models.mlp(dropout=1.0)
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        models.build_model("resnet")


def test_mlp_dropout_only_in_training():
    manual_seed(0)
    model = models.mlp(hidden=(32,), dropout=0.5)
    x = Tensor(np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32))
    model.eval()
    np.testing.assert_array_equal(model(x).data, model(x).data)
    model.train()
    assert not np.array_equal(model(x).data, model(x).data)


# parameters counted layer by layer: conv weight + bias, batch norm weight + bias, linear
CNN_PARAMS = (32 * 1 * 9 + 32) + 2 * 32 + (64 * 32 * 9 + 64) + 2 * 64 \
    + (64 * 7 * 7 * 128 + 128) + (128 * 10 + 10)
SMALL_CNN_PARAMS = (8 * 1 * 9 + 8) + (16 * 8 * 9 + 16) + (16 * 7 * 7 * 10 + 10)


@pytest.mark.parametrize("build, params", [(models.cnn, CNN_PARAMS),
                                           (models.small_cnn, SMALL_CNN_PARAMS)])
def test_cnns_give_class_logits(build, params):
    manual_seed(0)
    model = build()
    assert sum(p.numel() for p in model.parameters()) == params
    out = model(Tensor(np.zeros((2, 1, 28, 28), dtype=np.float32)))
    assert out.shape == (2, 10)


# ------------------------------------------------------------- RandomShift ----


def shifted_by_hand(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """image moved down by dy and right by dx, zeros coming in."""
    h, w = image.shape
    out = np.zeros_like(image)
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def test_random_shift_moves_each_image_within_range():
    manual_seed(3)
    x = np.random.default_rng(1).random((40, 1, 9, 9), dtype=np.float32) + 0.1  # no zeros
    out = RandomShift(2)(Tensor(x)).data
    assert out.shape == x.shape and out.dtype == np.float32
    seen = set()
    for i in range(len(x)):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.array_equal(out[i, 0], shifted_by_hand(x[i, 0], dy, dx))]
        assert len(matches) == 1, f"image {i} is not a shift of its input"
        seen.add(matches[0])
    assert len(seen) > 5  # shifts differ between images


def test_random_flip_mirrors_about_half_and_leaves_the_input_alone():
    manual_seed(0)
    x = np.random.default_rng(2).random((200, 1, 4, 6), dtype=np.float32)
    before = x.copy()
    out = RandomShift(0, flip=True)(Tensor(x)).data
    np.testing.assert_array_equal(x, before)  # the caller's batch is not written to
    mirrored = [np.array_equal(o, i[:, :, ::-1]) for o, i in zip(out, x)]
    unchanged = [np.array_equal(o, i) for o, i in zip(out, x)]
    assert all(m != u for m, u in zip(mirrored, unchanged))  # each image one or the other
    assert 70 < sum(mirrored) < 130


def test_random_shift_zero_is_identity_and_checks_shape():
    x = np.random.default_rng(0).random((2, 1, 5, 5), dtype=np.float32)
    np.testing.assert_array_equal(RandomShift(0)(Tensor(x)).data, x)
    with pytest.raises(ValueError, match=r"RandomShift: expected an \(N, C, H, W\) batch"):
        RandomShift(1)(Tensor(x[0]))
    with pytest.raises(ValueError, match="max_shift"):
        RandomShift(-1)


# ------------------------------------------------------------- the loop ----


def test_train_epoch_reports_loss_and_accuracy_of_the_batches():
    """With lr = 0 the weights never change, so the epoch's numbers must equal a
    NumPy evaluation of the same weights on the same samples."""
    manual_seed(0)
    data = blob_dataset(100)
    model = models.mlp(hidden=(16,))
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    optimizer = optim.SGD(model.parameters(), lr=0.0)
    loss, accuracy = train_epoch(model, DataLoader(data, batch_size=32, shuffle=True),
                                 optimizer, progress=False)
    ref_loss, ref_accuracy = numpy_loss_and_accuracy(state, data)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    assert accuracy == pytest.approx(ref_accuracy)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[key])


def test_evaluate_and_predict_match_numpy():
    manual_seed(1)
    data = blob_dataset(70, seed=2)
    model = models.mlp(hidden=(12, 8))
    loader = DataLoader(data, batch_size=32)
    loss, accuracy = evaluate(model, loader)
    ref_loss, ref_accuracy = numpy_loss_and_accuracy(model.state_dict(), data)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    assert accuracy == pytest.approx(ref_accuracy)
    preds, targets = predict(model, loader)
    x, y = data.get_batch(np.arange(len(data)))
    np.testing.assert_array_equal(targets, y)
    np.testing.assert_array_equal(preds, numpy_logits(model.state_dict(), x).argmax(axis=1))
    assert model.training  # both restore the mode they found


def test_fit_learns_logs_checkpoints_and_schedules(tmp_path, capsys):
    manual_seed(0)
    model = models.mlp(hidden=(32,))
    optimizer = make_optimizer("adam", model.parameters(), lr=3e-3)
    scheduler = make_scheduler("cosine", optimizer, epochs=4)
    train, test = blob_dataset(300, seed=1), blob_dataset(100, seed=2)
    history = fit(model, optimizer, DataLoader(train, batch_size=32, shuffle=True), 4,
                  test_loader=DataLoader(test, batch_size=50), scheduler=scheduler,
                  checkpoint=tmp_path / "ck.npz", progress=True)
    captured = capsys.readouterr()
    assert history.epochs == 4 and len(history.test_acc) == 4
    assert history.test_acc[-1] >= 0.95  # the blobs are easy
    # the cosine schedule: lr_t = lr0 * (1 + cos(pi t / T)) / 2 at the start of epoch t
    expected = [3e-3 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)]
    assert history.lr == pytest.approx(expected)
    assert captured.out.count("test loss") == 4 and "epoch 4/4" in captured.out
    assert "loss" in captured.err and "acc" in captured.err  # the progress bars
    saved = nn.load(tmp_path / "ck.npz")
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(saved[key], value)
    assert history.test_acc[-1] == pytest.approx(
        numpy_loss_and_accuracy(saved, test)[1])


def test_history_round_trip(tmp_path):
    history = History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.75], test_loss=[1.1, 0.6],
                      test_acc=[0.4, 0.7], lr=[0.1, 0.05], seconds=[1.0, 1.1])
    history.save(tmp_path / "h.json")
    assert json.loads((tmp_path / "h.json").read_text())["test_acc"] == [0.4, 0.7]
    assert History.load(tmp_path / "h.json") == history


def test_make_optimizer_choices_and_errors():
    params = list(models.mlp(hidden=(4,)).parameters())
    assert isinstance(make_optimizer("adam", params), optim.Adam)
    sgd = make_optimizer("SGD", params, momentum=0.8)
    assert isinstance(sgd, optim.SGD) and sgd.param_groups[0]["momentum"] == 0.8
    assert isinstance(make_optimizer("rmsprop", params, lr=0.01), optim.RMSprop)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        make_optimizer("lbfgs", params)
    with pytest.raises(ValueError, match="unknown schedule"):
        make_scheduler("linear", make_optimizer("sgd", params), 3)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        fit(models.mlp(hidden=(4,)), make_optimizer("sgd", params), [], 0)


@needs_5k
def test_short_training_on_mnist_5k_beats_85_percent():
    """Two epochs on the 5,000-image subset, tested on the official 10,000 (~2 s)."""
    manual_seed(0)
    train = MNIST(MNIST_5K, train=True, download=False)
    test = MNIST(MNIST_5K, train=False, download=False)
    model = models.mlp()
    optimizer = make_optimizer("adam", model.parameters())
    history = fit(model, optimizer, DataLoader(train, batch_size=64, shuffle=True), 2,
                  progress=False, log=None)
    assert history.train_loss[1] < history.train_loss[0]
    # accuracy on the official test set, from the weights by hand
    x, y = test.get_batch(np.arange(len(test)))
    predicted = numpy_logits(model.state_dict(), x, np.float32).argmax(axis=1)
    accuracy = (predicted == y).mean()
    assert accuracy > 0.85, f"test accuracy {accuracy:.2%}"
    subset = np.arange(0, len(test), 5)
    assert evaluate(model, DataLoader(Subset(test, subset), 1000))[1] == \
        pytest.approx((predicted[subset] == y[subset]).mean(), abs=2e-3)


# ------------------------------------------------------------------ plots ----


def test_confusion_matrix_counts():
    from tinygrad_edu.plots import confusion_matrix

    preds = np.array([0, 1, 1, 2, 2, 2, 0])
    targets = np.array([0, 1, 2, 2, 2, 0, 0])
    counts = confusion_matrix(preds, targets, 3)
    by_hand = np.zeros((3, 3), dtype=int)
    for t, p in zip(targets, preds):
        by_hand[t, p] += 1
    np.testing.assert_array_equal(counts, by_hand)
    with pytest.raises(ValueError, match="predictions for"):
        confusion_matrix(preds[:3], targets, 3)


def test_plots_write_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    history = History([1.0, 0.5], [0.5, 0.8], [1.1, 0.6], [0.4, 0.7], [0.1, 0.1], [1, 1])
    data = blob_dataset(30)
    preds = np.array(data.targets)
    preds[:4] = (preds[:4] + 1) % 10
    paths = [
        plots.plot_history(history, tmp_path / "curves.png"),
        plots.plot_confusion(preds, data.targets, data.classes, tmp_path / "c.png"),
        plots.plot_misclassified(data.images, preds, data.targets, data.classes,
                                 tmp_path / "sub/m.png"),
        plots.plot_misclassified(data.images, data.targets, data.targets, data.classes,
                                 tmp_path / "none.png"),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------- examples ----


def run_example(name: str, *args: str) -> str:
    import os
    import subprocess
    import sys

    # the checkout's package, whether or not it is installed
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    done = subprocess.run([sys.executable, str(REPO / "examples" / name), *args],
                          capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@needs_5k
def test_mnist_mlp_example_runs(tmp_path):
    out = run_example("mnist_mlp.py", "--data", str(MNIST_5K), "--epochs", "1",
                      "--out", str(tmp_path))
    assert "test accuracy: " in out
    assert (tmp_path / "model.npz").is_file()
