"""Training runs: checkpoints after every epoch, resume, refusing to overwrite, nan/inf
losses, Ctrl-C, callbacks and argument checking (`fit(run_dir=...)`, `tinygrad-edu train`).

Data are synthetic 'digits' (a bright 6x6 block whose place is the class), written as IDX
files for the command; models are small MLPs. Runtime: about 15 s.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import load, models, save
from tinygrad_edu.cli import main
from tinygrad_edu.data import DataLoader, ImageDataset, write_idx
from tinygrad_edu.nn import functional as F  # noqa: N812
from tinygrad_edu.rng import generator, get_rng_state, manual_seed, set_rng_state
from tinygrad_edu.train import (
    NonFiniteLossError,
    RandomShift,
    TrainingInterrupted,
    fit,
    make_optimizer,
    make_scheduler,
)

REPO = Path(__file__).resolve().parents[1]


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        r, c = 2 + 8 * (k // 4), 2 + 6 * (k % 4)
        images[i, r:r + 6, c:c + 6] = 220
    return images, labels


def write_blobs(folder: Path, n_train: int, n_test: int) -> Path:
    for split, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = blobs(n, seed)
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("TINYGRAD_EDU_DATA", raising=False)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_blobs(tmp_path_factory.mktemp("tiny"), 96, 40)


def train_args(data: Path, out: Path | None, *extra: str) -> list[str]:
    args = ["train", "--data", str(data), "--no-download", "--no-progress", "--no-plots",
            "--hidden", "16", *extra]
    return args + (["--out", str(out)] if out is not None else [])


def weights(path: Path) -> dict[str, np.ndarray]:
    state = load(path)
    return {k: np.asarray(v.data if hasattr(v, "data") else v) for k, v in state.items()}


def loaders(shuffle: bool = True) -> tuple[DataLoader, DataLoader]:
    train = ImageDataset(*blobs(200, 0))
    test = ImageDataset(*blobs(60, 1))
    return DataLoader(train, batch_size=32, shuffle=shuffle), DataLoader(test, batch_size=60)


def new_run(lr: float = 3e-3, epochs_planned: int = 4):
    model = models.mlp(hidden=(16,))
    optimizer = make_optimizer("adam", model.parameters(), lr=lr)
    return model, optimizer, make_scheduler("cosine", optimizer, epochs_planned)


# ---------------------------------------------------------------- 1. nan/inf ----


def test_non_finite_loss_stops_fit_and_keeps_the_last_good_checkpoint(tmp_path):
    manual_seed(0)
    model, optimizer, scheduler = new_run()
    train, test = loaders()
    calls = {"n": 0}

    def loss_fn(logits, targets):  # turns nan in the third epoch's fourth step
        calls["n"] += logits.requires_grad  # training steps only, not evaluation
        loss = F.cross_entropy(logits, targets)
        return loss * math.nan if calls["n"] == 2 * len(train) + 4 else loss

    seen = {}
    record = lambda epoch, m, logs: seen.update({epoch: weights_of(m)})  # noqa: E731
    with pytest.raises(NonFiniteLossError) as info:
        fit(model, optimizer, train, 4, test_loader=test, loss_fn=loss_fn, scheduler=scheduler,
            progress=False, log=None, run_dir=tmp_path, callbacks=[record])
    assert (info.value.epoch, info.value.step) == (3, 4) and math.isnan(info.value.loss)
    message = str(info.value)
    assert "epoch 3" in message and "step 4 of 7" in message
    assert "learning rate is likely too high" in message and "last.npz keeps epoch 2" in message
    state = load(tmp_path / "last.npz")
    assert state["epoch"] == 2
    for name, array in weights(tmp_path / "model.npz").items():
        assert np.isfinite(array).all()
        np.testing.assert_array_equal(array, seen[2][name])
        np.testing.assert_array_equal(state["model"][name].numpy(), seen[2][name])
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["status"] == "diverged" and config["epochs_done"] == 2
    assert len(json.loads((tmp_path / "history.json").read_text())["train_loss"]) == 2


def weights_of(model) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_non_finite_loss_ends_the_command_with_status_1(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    with np.errstate(all="ignore"):
        assert main(train_args(tiny, out, "--lr", "1e30", "--epochs", "3", "--constant-lr")) == 1
    err = capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "diverged" and config["epochs_done"] < 3
    done = config["epochs_done"]
    assert f"fit: epoch {done + 1}, lr 1e+30: the loss became nan" in err
    assert "learning rate is likely too high" in err and "smaller --lr" in err
    state = load(out / "last.npz")  # the last good epoch, nothing written after the nan
    assert state["epoch"] == done
    assert all(np.isfinite(v.numpy()).all() for v in state["model"].values())


BAD_OPTIONS = [
    (["--lr", "0"], "--lr"), (["--lr", "-0.1"], "--lr"), (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"), (["--lr", "1e-400"], "--lr"), (["--lr", "fast"], "--lr"),
    (["--weight-decay", "-1"], "--weight-decay"), (["--weight-decay", "nan"], "--weight-decay"),
    (["--weight-decay", "-inf"], "--weight-decay"),
    (["--out", "x_{y}"], "--out"), (["--out", "{}"], "--out"), (["--out", "a{"], "--out"),
    (["--out", "{model.x}"], "--out"), (["--out", ""], "--out"),
    (["--seed", "-1"], "--seed"), (["--seed", "1.5"], "--seed"),
    (["--epochs", "0"], "--epochs"), (["--epochs", "two"], "--epochs"),
    (["--batch-size", "0"], "--batch-size"), (["--batch-size", "-3"], "--batch-size"),
    (["--hidden", "0"], "--hidden"), (["--hidden", "64,x"], "--hidden"),
    (["--hidden", "100000"], "--hidden"), (["--shift", "-1"], "--shift"),
    (["--shift", "28"], "--shift"), (["--model", "resnet"], "--model"),
    (["--dataset", "cifar"], "--dataset"), (["--optimizer", "lbfgs"], "--optimizer"),
    (["--resume", "/no/such/run"], "--resume"), (["--resume", ".", "--overwrite"], "--overwrite"),
]


@pytest.mark.parametrize("bad, option", BAD_OPTIONS, ids=[" ".join(b) for b, _ in BAD_OPTIONS])
def test_bad_option_values_are_argument_errors(bad, option, tiny, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(train_args(tiny, tmp_path / "o") + bad)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {option}" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------- 2. no overwrite ----


def test_a_second_run_into_the_default_out_is_refused(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(train_args(tiny, None, "--epochs", "1")) == 0
    out = Path("runs/mnist-mlp")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(train_args(tiny, None, "--epochs", "1", "--seed", "3")) == 2
    err = capsys.readouterr().err
    assert "runs/mnist-mlp already holds a finished run (1 epochs)" in err
    assert "--resume runs/mnist-mlp" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # --overwrite starts afresh: the new seed's weights replace the old ones
    assert main(train_args(tiny, None, "--epochs", "1", "--seed", "3", "--overwrite")) == 0
    assert json.loads((out / "config.json").read_text())["seed"] == 3
    assert (out / "model.npz").read_bytes() != before["model.npz"]


def test_a_partial_run_is_refused_too(tmp_path):
    manual_seed(0)
    model, optimizer, scheduler = new_run()
    train, _ = loaders()
    stop_after_one = StopAfter(1)
    with pytest.raises(TrainingInterrupted):
        fit(model, optimizer, train, 3, progress=False, log=None, run_dir=tmp_path,
            callbacks=[stop_after_one])
    with pytest.raises(FileExistsError, match=r"holds a partial run \(1 of 3 epochs done, "
                                              r"interrupted\); pass resume=True"):
        fit(model, optimizer, train, 3, progress=False, log=None, run_dir=tmp_path)
    code = main(["train", "--out", str(tmp_path), "--no-download", "--data", str(tmp_path)])
    assert code == 2


class StopAfter:
    """Raises KeyboardInterrupt at the end of epoch `n`, as a Ctrl-C there would."""

    def __init__(self, n: int) -> None:
        self.n = n

    def on_epoch_end(self, epoch, model, logs):
        if epoch == self.n:
            raise KeyboardInterrupt


def test_an_unwritable_out_is_found_before_anything_else(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # the data folder is empty too: the output folder is checked first
    code = main(train_args(tmp_path / "no-data", blocker / "run", "--epochs", "1"))
    assert code == 2
    err = capsys.readouterr().err
    assert f"tinygrad-edu train: cannot write to {blocker / 'run'}" in err
    assert "Not a directory" in err or "exists" in err


# ------------------------------------------------------ 3. files every epoch ----


def test_history_config_last_and_best_are_written_after_every_epoch(tmp_path):
    manual_seed(1)
    model, optimizer, scheduler = new_run(lr=0.05)  # noisy on purpose: accuracy goes down
    train, test = loaders()
    checks = []

    def check(epoch, m, logs):
        history = json.loads((tmp_path / "history.json").read_text())
        config = json.loads((tmp_path / "config.json").read_text())
        checks.append((epoch, len(history["test_acc"]), config["epochs_done"],
                       logs["val_accuracy"], weights_of(m)))
        assert config["status"] == "running" and config["lr_note"] == "planned"
        assert set(config["files"]) >= {p.name for p in tmp_path.iterdir()}
        assert load(tmp_path / "last.npz")["epoch"] == epoch

    fit(model, optimizer, train, 4, test_loader=test, scheduler=scheduler, progress=False,
        log=None, run_dir=tmp_path, callbacks=[check], config={"lr_note": "planned"})
    assert [c[:3] for c in checks] == [(e, e, e) for e in range(1, 5)]
    accuracies = [c[3] for c in checks]
    best = int(np.argmax(accuracies))  # the first of equal bests, as ">" keeps it
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["status"] == "finished"
    assert config["best"] == {"metric": "test_acc", "epoch": best + 1,
                              "value": accuracies[best]}
    for name, array in weights(tmp_path / "best.npz").items():
        np.testing.assert_array_equal(array, checks[best][4][name])
    for name, array in weights(tmp_path / "model.npz").items():
        np.testing.assert_array_equal(array, checks[-1][4][name])


# ------------------------------------------------------------------ 4. resume ----


def test_rng_state_round_trips_through_a_checkpoint(tmp_path):
    manual_seed(5)
    generator().random(3)
    save({"rng": get_rng_state()}, tmp_path / "rng.npz")
    expected = generator().random(4)
    manual_seed(99)
    set_rng_state(load(tmp_path / "rng.npz")["rng"])
    np.testing.assert_array_equal(generator().random(4), expected)
    with pytest.raises(ValueError, match="set_rng_state: expected a dict from get_rng_state"):
        set_rng_state({"numpy": {"bit_generator": "MT19937"}})


def train_mlp(run_dir: Path, epochs: int, resume: bool = False):
    manual_seed(0)
    model, optimizer, scheduler = new_run(epochs_planned=4)
    train, test = loaders(shuffle=True)
    history = fit(model, optimizer, train, epochs, test_loader=test, scheduler=scheduler,
                  augment=RandomShift(2), progress=False, log=None, run_dir=run_dir,
                  resume=resume)
    return model, optimizer, history


def test_two_epochs_resumed_for_two_more_equal_four(tmp_path):
    """MLP, shuffled batches, random shifts, a cosine schedule planned for 4 epochs."""
    straight, _, straight_history = train_mlp(tmp_path / "straight", 4)
    train_mlp(tmp_path / "split", 2)
    manual_seed(123)  # the resumed run must not depend on the generator's state here
    generator().random(10)
    resumed, optimizer, history = train_mlp(tmp_path / "split", 4, resume=True)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=0, atol=1e-6, err_msg=name)
    assert history.epochs == 4 and history.test_acc == straight_history.test_acc
    assert history.lr == straight_history.lr
    assert optimizer.state_dict()["state"][0]["step"] == 4 * 7


def test_command_resumes_and_extends_a_constant_lr_run(tiny, tmp_path, capsys):
    """--resume with --epochs: 2 + 2 epochs equal 4 (shuffling and random shifts on)."""
    common = ("--constant-lr", "--batch-size", "16", "--seed", "4")
    assert main(train_args(tiny, tmp_path / "four", "--epochs", "4", *common)) == 0
    assert main(train_args(tiny, tmp_path / "two", "--epochs", "2", *common)) == 0
    assert main(train_args(tiny, None, "--resume", str(tmp_path / "two"), "--epochs", "4")) == 0
    out = capsys.readouterr().out
    assert f"resuming {tmp_path / 'two'} after epoch 2" in out and "random shift 2 px" in out
    straight, resumed = weights(tmp_path / "four/model.npz"), weights(tmp_path / "two/model.npz")
    for name in straight:
        np.testing.assert_allclose(resumed[name], straight[name], rtol=0, atol=1e-6)
    history = json.loads((tmp_path / "two/history.json").read_text())
    assert history == {**json.loads((tmp_path / "four/history.json").read_text()),
                       "seconds": history["seconds"]}


def test_resume_refuses_changed_settings_and_a_stretched_cosine(tiny, tmp_path, capsys):
    assert main(train_args(tiny, tmp_path, "--epochs", "1")) == 0
    capsys.readouterr()
    assert main(train_args(tiny, None, "--resume", str(tmp_path), "--lr", "0.1")) == 2
    err = capsys.readouterr().err
    assert "--lr 0.1 differs from its 0.001" in err
    assert main(train_args(tiny, None, "--resume", str(tmp_path), "--epochs", "3")) == 2
    assert "cosine schedule planned for 1 epochs" in capsys.readouterr().err
    assert main(train_args(tiny, None, "--resume", str(tmp_path))) == 0
    assert "nothing to do" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(train_args(tiny, None, "--resume", str(tmp_path / "empty"))) == 2
    assert "no run to resume" in capsys.readouterr().err


# ------------------------------------------------------- one run per folder ----


def test_a_second_run_on_a_folder_in_use_is_refused(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(f"{holder.pid}\n")
        assert main(train_args(tiny, out, "--epochs", "1")) == 2
        message = capsys.readouterr().err
        assert f"is in use by another run (process {holder.pid})" in message
        assert not (out / "config.json").exists()  # nothing written beside the other run
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_dead_process_is_taken_over(tiny, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (out / ".lock").write_text(gone.stdout)  # a kill -9 leaves its lock behind
    assert main(train_args(tiny, out, "--epochs", "1")) == 0
    assert (out / "model.npz").exists() and not (out / ".lock").exists()


def test_a_run_holds_its_folder_while_it_trains_and_frees_it_after(tiny, tmp_path,
                                                                   monkeypatch):
    import tinygrad_edu.train as train_module

    out, seen, real_fit = tmp_path / "run", [], train_module.fit

    class Look:
        def on_epoch_end(self, epoch, model, logs):
            seen.append((out / ".lock").read_text().split()[0])

    def watched_fit(*args, **kwargs):  # the command's own fit, with one more callback
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), Look()]
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(train_module, "fit", watched_fit)
    assert main(train_args(tiny, out, "--epochs", "2")) == 0
    assert seen == [str(os.getpid())] * 2  # this process's id, during both epochs
    assert not (out / ".lock").exists()


# ---------------------------------------------------------------- 5. Ctrl-C ----


def test_ctrl_c_keeps_a_consistent_checkpoint_and_resumes(tmp_path):
    data = write_blobs(tmp_path / "data", 1500, 40)
    out = tmp_path / "run"
    args = train_args(data, out, "--epochs", "1000", "--constant-lr", "--batch-size", "8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO),
                                                       os.environ.get("PYTHONPATH", "")]))
    # a job started with `&` or nohup inherits SIGINT ignored; a terminal's Ctrl-C is the
    # case under test, so the child starts with the default disposition
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_edu", *args], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (out / "history.json").exists():  # the first epoch's files
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.05)  # into the next epoch
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert f"Resume with: tinygrad-edu train --resume {out}" in stderr
    config = json.loads((out / "config.json").read_text())
    done = config["epochs_done"]
    assert config["status"] == "interrupted" and done >= 1
    assert load(out / "last.npz")["epoch"] == done
    assert len(json.loads((out / "history.json").read_text())["train_loss"]) == done
    # resumed for one more epoch, it equals a run of done + 1 epochs without a break
    more = str(done + 1)
    assert main(train_args(data, None, "--resume", str(out), "--epochs", more)) == 0
    straight = tmp_path / "straight"
    assert main(train_args(data, straight, "--epochs", more, "--constant-lr",
                           "--batch-size", "8")) == 0
    a, b = weights(out / "model.npz"), weights(straight / "model.npz")
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=0, atol=1e-6)


@pytest.fixture
def python_sigint_handler():
    """Python's own SIGINT handler for the test, whatever this process inherited (a run
    under nohup or `&` starts with SIGINT ignored, where fit rightly leaves it alone)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_first_ctrl_c_finishes_the_step_and_drops_the_epoch(tmp_path, capsys,
                                                                python_sigint_handler):
    """SIGINT sent to this process during a step: the step completes, the loop stops."""
    manual_seed(0)
    model, optimizer, scheduler = new_run()
    train, _ = loaders()
    steps = []

    class Press:
        def on_step_end(self, step, model, logs):
            steps.append(step)
            if step == len(train) + 3:  # the third step of epoch 2
                signal.raise_signal(signal.SIGINT)

    with pytest.raises(TrainingInterrupted) as info:
        fit(model, optimizer, train, 3, progress=False, log=None, run_dir=tmp_path,
            callbacks=[Press()], scheduler=scheduler)
    assert (info.value.epochs_done, info.value.epoch, info.value.step) == (1, 2, 3)
    assert steps[-1] == len(train) + 3 and isinstance(info.value, KeyboardInterrupt)
    assert "interrupted in epoch 2 after step 3; that epoch is dropped, 1 epochs are " \
        "complete" in str(info.value)
    assert "stopping after this step" in capsys.readouterr().err
    assert load(tmp_path / "last.npz")["epoch"] == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_fit_leaves_an_ignored_sigint_ignored(tmp_path):
    """Under nohup SIGINT is ignored on purpose: training must not start answering it."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        manual_seed(0)
        model, optimizer, scheduler = new_run()
        train, _ = loaders()
        seen = []

        class Look:
            def on_step_end(self, step, model, logs):
                seen.append(signal.getsignal(signal.SIGINT))

        fit(model, optimizer, train, 1, progress=False, log=None, callbacks=[Look()])
        assert seen and all(handler is signal.SIG_IGN for handler in seen)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


# ------------------------------------------------------------- 6. callbacks ----


def test_callbacks_are_called_with_the_documented_arguments(tmp_path):
    manual_seed(0)
    model, optimizer, scheduler = new_run()
    train, test = loaders()
    calls = []

    class Recorder:
        def on_train_begin(self, m, logs):
            calls.append(("begin", m is model, dict(logs)))

        def on_step_end(self, step, m, logs):
            calls.append(("step", step, sorted(logs), logs["epoch"],
                          all(p.grad is not None for p in m.parameters())))

        def on_epoch_end(self, epoch, m, logs):
            calls.append(("epoch", epoch, dict(logs)))

        def on_train_end(self, m, logs):
            calls.append(("end", dict(logs)))

    plain = []
    history = fit(model, optimizer, train, 2, test_loader=test, scheduler=scheduler,
                  progress=False, log=None,
                  callbacks=[Recorder(), lambda epoch, m, logs: plain.append(epoch)])
    assert calls[0] == ("begin", True, {"epochs": 2, "start_epoch": 0})
    steps = [c for c in calls if c[0] == "step"]
    assert [c[1] for c in steps] == list(range(1, 2 * len(train) + 1))
    assert steps[0][2] == ["batch_size", "epoch", "loss", "lr", "step"] and steps[0][4]
    assert [c[3] for c in steps] == [1] * len(train) + [2] * len(train)
    epochs = [c for c in calls if c[0] == "epoch"]
    assert [c[1] for c in epochs] == [1, 2]
    logs = epochs[1][2]
    assert sorted(logs) == ["accuracy", "epoch", "loss", "lr", "seconds", "val_accuracy",
                            "val_loss"]
    assert (logs["loss"], logs["accuracy"], logs["val_accuracy"], logs["lr"]) == (
        history.train_loss[1], history.train_acc[1], history.test_acc[1], history.lr[1])
    assert calls[-1] == ("end", {"epochs": 2, "status": "finished"})
    assert plain == [1, 2]
    with pytest.raises(TypeError, match=r"fit: callbacks\[0\] \(int\) is neither callable"):
        fit(model, optimizer, train, 1, callbacks=[3])


# ---------------------------------------------------------------- 7. tqdm.auto ----


def test_progress_bars_come_from_tqdm_auto(monkeypatch, capsys):
    tqdm_auto = pytest.importorskip("tqdm.auto")
    made = []
    original = tqdm_auto.tqdm

    def recording(*args, **kwargs):
        made.append(kwargs.get("desc"))
        return original(*args, **kwargs)

    monkeypatch.setattr(tqdm_auto, "tqdm", recording)
    manual_seed(0)
    model, optimizer, _ = new_run()
    fit(model, optimizer, loaders()[0], 2, progress=True, log=None)
    assert made == ["epoch 1/2", "epoch 2/2"]
    assert "epoch 2/2" in capsys.readouterr().err


def test_a_damaged_checkpoint_is_refused_when_resuming(tiny, tmp_path, capsys):
    assert main(train_args(tiny, tmp_path, "--epochs", "1", "--constant-lr")) == 0
    (tmp_path / "last.npz").write_bytes(b"PK\x03\x04 truncated")
    capsys.readouterr()
    assert main(train_args(tiny, None, "--resume", str(tmp_path), "--epochs", "2")) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tinygrad-edu train: cannot resume {tmp_path}: load: ")
    assert "truncated or damaged" in err
