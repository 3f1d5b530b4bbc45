"""Tests for the `tinygrad-edu` command line: --version, train, graph.

`train` runs in-process on a tiny MNIST-style data set written here (no network,
no real data needed). Runtime: about 8 s.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mnist_5k import MNIST_5K, needs_5k

import tinygrad_edu
from tinygrad_edu import models, nn
from tinygrad_edu.cli import main
from tinygrad_edu.data import MNIST, write_idx
from tinygrad_edu.train import History

REPO = Path(__file__).resolve().parents[1]
ACCURACY_LINE = re.compile(r"^test accuracy: ([0-9.]+)% \((\d+)/(\d+)\)", re.MULTILINE)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Never read or write the real cache, never honour a data dir from outside."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("TINYGRAD_EDU_DATA", raising=False)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory) -> Path:
    """96 train / 40 test 'digits': class k is a bright 6x6 block at its own place."""
    folder = tmp_path_factory.mktemp("tiny-mnist")
    rng = np.random.default_rng(0)
    for split, n in (("train", 96), ("t10k", 40)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 30, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            r, c = 2 + 8 * (k // 4), 2 + 6 * (k % 4)
            images[i, r:r + 6, c:c + 6] = 230
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder


def train(tiny: Path, out: Path, *extra: str) -> list[str]:
    """Arguments for one quick epoch on the tiny data (a 16-unit MLP unless a cnn is asked)."""
    small = [] if "cnn" in extra else ["--hidden", "16"]
    return ["train", "--data", str(tiny), "--no-download", "--epochs", "1", "--out", str(out),
            "--no-progress", *small, *extra]


def test_version_from_the_entry_point():
    done = subprocess.run([sys.executable, "-m", "tinygrad_edu", "--version"],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"tinygrad-edu {tinygrad_edu.__version__}"


def test_train_prints_accuracy_and_writes_a_loadable_checkpoint(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train(tiny_mnist, out, "--no-plots")) == 0
    stdout = capsys.readouterr().out
    match = ACCURACY_LINE.search(stdout)
    assert match, stdout
    correct, total = int(match.group(2)), int(match.group(3))
    assert total == 40
    assert float(match.group(1)) == pytest.approx(100 * correct / total, abs=0.005)
    # the checkpoint loads into a fresh model, whose test predictions (by hand, in
    # NumPy) give the printed count
    model = models.mlp(hidden=(16,))
    model.load_state_dict(nn.load(out / "model.npz"))
    state = model.state_dict()
    test = MNIST(tiny_mnist, train=False, download=False)
    x, y = test.get_batch(np.arange(len(test)))
    h = np.maximum(x.reshape(len(x), -1) @ state["1.weight"].T + state["1.bias"], 0)
    logits = h @ state["3.weight"].T + state["3.bias"]
    assert int((logits.argmax(axis=1) == y).sum()) == correct
    assert {p.name for p in out.iterdir()} == {"model.npz", "best.npz", "last.npz",
                                               "history.json", "config.json"}


def test_train_draws_plots_with_matplotlib(tiny_mnist, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    assert main(train(tiny_mnist, out, "--optimizer", "sgd")) == 0
    for name in ("curves.png", "confusion.png", "misclassified.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
    assert "plots: " in capsys.readouterr().out


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_every_optimizer_choice_trains(optimizer, tiny_mnist, tmp_path, capsys):
    assert main(train(tiny_mnist, tmp_path, "--optimizer", optimizer, "--no-plots",
                      "--epochs", "3", "--lr", "0.01")) == 0
    stdout = capsys.readouterr().out
    assert f"{optimizer} lr 0.01" in stdout
    history = History.load(tmp_path / "history.json")
    assert history.epochs == 3 and history.train_loss[-1] < history.train_loss[0]


def test_unknown_optimizer_is_rejected(tiny_mnist, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(train(tiny_mnist, tmp_path, "--optimizer", "lbfgs"))
    assert exit_info.value.code == 2
    assert "invalid choice: 'lbfgs'" in capsys.readouterr().err


def test_bad_hidden_widths_are_rejected(tiny_mnist, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(train(tiny_mnist, tmp_path) + ["--hidden", "64,x"])
    assert "comma-separated layer widths" in capsys.readouterr().err


def test_missing_data_without_download_is_a_clear_error(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["train", "--data", str(empty), "--no-download", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    # the first line names the folder as it was typed, in the command's own words
    assert err.splitlines()[0] == (
        "tinygrad-edu train: MNIST (train split): missing files train-images-idx3-ubyte[.gz], "
        f"train-labels-idx1-ubyte[.gz] in --data {empty}."
    )
    assert "Downloading is off (--no-download)" in err and "drop --no-download" in err
    assert "root=" not in err and "download=False" not in err
    assert not (tmp_path / "o").exists()


def test_data_folder_with_only_the_training_files_is_refused(tiny_mnist, tmp_path, capsys):
    cache = tmp_path / "xdg-cache" / "tinygrad_edu" / "mnist"
    cache.mkdir(parents=True)
    partial = tmp_path / "partial"
    partial.mkdir()
    for path in tiny_mnist.iterdir():  # the cache holds everything, --data only train
        (cache / path.name).write_bytes(path.read_bytes())
        if path.name.startswith("train"):
            (partial / path.name).write_bytes(path.read_bytes())
    code = main(train(partial, tmp_path / "o"))
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "o").exists()
    assert err.startswith(f"tinygrad-edu train: MNIST (test split): --data {partial} holds "
                          "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz but not "
                          "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz].")
    assert "point --data at a folder that holds them" in err


def test_images_the_models_cannot_take_are_refused(tmp_path, capsys):
    for split, n in (("train", 8), ("t10k", 4)):
        write_idx(tmp_path / f"{split}-images-idx3-ubyte.gz", np.zeros((n, 32, 32), np.uint8))
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", np.zeros(n, np.uint8))
    assert main(train(tmp_path, tmp_path / "o")) == 2
    assert "the mlp and cnn take 28x28 images" in capsys.readouterr().err


@needs_5k
def test_mnist_folder_is_refused_as_fashion(tmp_path, capsys):
    code = main(train(MNIST_5K, tmp_path / "o", "--dataset", "fashion"))
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "o").exists()
    assert err.startswith(f"tinygrad-edu train: FashionMNIST (train split): --data {MNIST_5K} "
                          "holds MNIST, not Fashion-MNIST")
    assert "run with --dataset mnist" in err and "point --data at Fashion-MNIST's files" in err


def test_env_var_may_hold_the_files_directly(tiny_mnist, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(tiny_mnist))
    args = [a for a in train(tiny_mnist, tmp_path, "--no-plots") if a != str(tiny_mnist)]
    args.remove("--data")
    assert main(args) == 0
    assert f"from {tiny_mnist}" in capsys.readouterr().out


def test_fashion_missing_data_names_fashion(tmp_path, capsys, monkeypatch):
    from tinygrad_edu.data import FashionMNIST

    monkeypatch.setattr(FashionMNIST, "system_dirs", ())  # hide Debian's copy
    code = main(["train", "--dataset", "fashion", "--data", str(tmp_path), "--no-download"])
    assert code == 2 and "FashionMNIST (train split)" in capsys.readouterr().err


def test_hidden_widths_are_refused_for_the_cnn(tiny_mnist, tmp_path, capsys):
    assert main(train(tiny_mnist, tmp_path, "--hidden", "64", "--model", "cnn")) == 2
    assert "--hidden sets the mlp's layer widths" in capsys.readouterr().err


def test_cnn_trains_with_its_own_defaults(tiny_mnist, tmp_path, capsys):
    code = main(train(tiny_mnist, tmp_path, "--model", "cnn", "--no-plots", "--epochs", "1"))
    captured = capsys.readouterr()
    assert code == 0 and ACCURACY_LINE.search(captured.out)
    assert "sgd lr 0.05" in captured.out and "weight decay 0.0001" in captured.out
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["optimizer"] == "sgd" and config["shift"] == 2 and config["flip"] is False


@pytest.mark.parametrize("args", [["gradcheck", "--list"], ["--help"], ["demo", "--steps", "20"]])
def test_closed_stdout_ends_quietly(args):
    """`tinygrad-edu gradcheck --list | head`: no BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_edu", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) in (0, 141)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


def test_graph_command_is_wired(tmp_path):
    out = tmp_path / "neuron.dot"
    assert main(["graph", "--model", "neuron", "--out", str(out)]) == 0
    assert out.read_text().lstrip().startswith("digraph")


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "train" in out and "graph" in out and "demo" in out


# ------------------------------------------------------------------ gradcheck ----


def test_gradcheck_command_checks_named_ops(capsys):
    assert main(["gradcheck", "Mul", "unfold", "--examples", "3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Mul\s+ok\s+3 inputs", out) and re.search(r"Unfold\s+ok\s+3 inputs", out)
    assert "first and second order" in out and "2 passed, 0 failed" in out


def test_gradcheck_command_reports_a_wrong_backward(monkeypatch, capsys):
    from tinygrad_edu import check_ops
    from tinygrad_edu.engine import Function
    from tinygrad_edu.ops.domain import Sample

    class _WrongSquare(Function):  # underscore: kept out of the registry
        """d(x^2)/dx = 2x, but backward forgets the 2."""

        def forward(ctx, x):
            return x * x

        def backward(ctx, grad):
            return grad * ctx.parents[0]

        @staticmethod
        def domain(pick):
            return Sample((pick.values((2,), 0.5, 2.0),), lambda t: _WrongSquare.apply(t))

    monkeypatch.setattr(check_ops, "registered_ops", lambda: {"Square": _WrongSquare})
    assert main(["gradcheck", "--examples", "2", "--first-order"]) == 1
    out = capsys.readouterr().out
    assert "Square" in out and "FAILED" in out and "forgets the 2" in out
    assert "analytic (backward)" in out and "0 passed, 1 failed" in out


def test_gradcheck_command_lists_ops_and_refuses_unknown_names(capsys):
    from tinygrad_edu.engine import Function

    assert main(["gradcheck", "--list"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert listed == set(Function.registry)
    assert main(["gradcheck", "Mull"]) == 2
    assert "no registered op named Mull" in capsys.readouterr().err


def test_train_on_the_standin_device_matches_the_cpu(tiny_mnist, tmp_path, capsys):
    """--device runs the whole recipe (shift augmentation, cnn, checkpoints, plots) through
    the device code paths; the stand-in device computes with NumPy, so the run is the
    CPU's to rounding."""
    lines = []
    for device in ("cpu", "standin"):
        out = tmp_path / device
        assert main(train(tiny_mnist, out, "--model", "cnn", "--device", device)) == 0
        match = ACCURACY_LINE.search(capsys.readouterr().out)
        assert match
        lines.append(match.group(2))
        weights = nn.load(out / "model.npz")
        assert all(t.device == "cpu" for t in weights.values())
    assert lines[0] == lines[1]


def test_train_diagnostics_on_the_standin_device_match_the_cpu(tiny_mnist, tmp_path, capsys):
    """--diagnostics reads weights, gradients and activations on a device through the
    explicit way off it (the stand-in refuses any other), and reports the CPU's numbers."""
    reports = []
    for device in ("cpu", "standin"):
        out = tmp_path / device
        assert main(train(tiny_mnist, out, "--diagnostics", "--no-plots", "--device",
                          device)) == 0
        capsys.readouterr()
        reports.append(json.loads((out / "diagnostics" / "diagnostics_epoch001.json")
                                  .read_text()))
    cpu, standin = reports
    assert cpu["gradient_source"] == standin["gradient_source"] == "last training step"
    for kind in ("gradients", "weights", "activations"):
        assert [layer["name"] for layer in cpu[kind]] == [layer["name"] for layer in standin[kind]]
        assert cpu[kind]  # something was measured
    for a, b in zip(cpu["gradients"], standin["gradients"]):
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-5)
    for a, b in zip(cpu["activations"], standin["activations"]):
        assert b["mean"] == pytest.approx(a["mean"], rel=1e-5, abs=1e-7)


def test_train_on_cuda_without_a_gpu_is_refused(tiny_mnist, tmp_path, capsys):
    if tinygrad_edu.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(train(tiny_mnist, tmp_path / "o", "--device", "cuda")) == 2
    err = capsys.readouterr().err
    assert "CUDA is not available: train --device asked for device 'cuda'" in err
    assert "CuPy" in err
