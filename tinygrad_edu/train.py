"""The training loop shared by `tinygrad-edu train` and the examples.

`fit` runs epochs of `train_epoch` (a tqdm.auto bar per epoch: a widget in Jupyter),
evaluates after each epoch and returns a `History`. `evaluate` and `predict` work on any
DataLoader; `RandomShift` is the one data augmentation the examples use.

Callbacks: `fit(..., callbacks=[...])` takes callables `cb(epoch, model, logs)`, called
after every epoch, or objects with any of these methods (all optional):

    on_train_begin(model, logs)      logs: epochs, start_epoch (epochs already done)
    on_step_end(step, model, logs)   after each optimizer step; step counts from 1 over
                                     the whole run; the parameters' .grad still hold the
                                     step's gradients; logs: epoch, loss, batch_size, lr
    on_epoch_end(epoch, model, logs) logs: epoch, loss, accuracy, val_loss, val_accuracy
                                     (when a test_loader is given), lr, seconds
    on_train_end(model, logs)        logs: epochs (done), status ("finished",
                                     "interrupted" or "diverged")

Epochs count from 1; losses are means per sample, accuracies fractions in [0, 1].
on_epoch_end runs after the epoch's checkpoint is written; callbacks that draw from the
framework generator make a resumed run differ from an uninterrupted one.

Runs: `fit(..., run_dir=DIR)` keeps a resumable run in DIR, written atomically after
every epoch: config.json (the settings, the status, which file is what),
history.json, last.npz (model, optimizer, scheduler, epoch, history, best metric and
generator state: `resume=True` continues from it), model.npz (the weights of the last
epoch) and best.npz (the weights of the epoch with the best test accuracy, or train
accuracy without a test_loader). A nan/inf loss raises NonFiniteLossError before the
step is taken, so no checkpoint ever holds non-finite weights; Ctrl-C finishes the
current step and raises TrainingInterrupted (the unfinished epoch is dropped: resuming
repeats it from the last checkpoint, so a resumed run equals an uninterrupted one).
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import nn
from .backend import array_module, to_host
from .engine import no_grad
from .nn import functional as F  # noqa: N812 (PyTorch's convention)
from .rng import generator
from .runs import History, RunDirectory
from .serialization import save
from .tensor import Tensor, from_numpy

LossFn = Callable[[Tensor, Tensor], Tensor]
OPTIMIZERS = ("adam", "sgd", "rmsprop")


def make_optimizer(name: str, parameters: Iterable[Any], lr: float | None = None,
                   momentum: float = 0.9, weight_decay: float = 0.0,
                   nesterov: bool = False) -> Any:
    """optim.Adam / optim.SGD (with momentum) / optim.RMSprop by name; lr=None picks
    a usual default (1e-3 for Adam and RMSprop, 0.05 for SGD)."""
    from . import optim  # here, not at the top: importing train must not need optim

    name = name.lower()
    params = list(parameters)
    if name == "adam":
        return optim.Adam(params, lr=1e-3 if lr is None else lr, weight_decay=weight_decay)
    if name == "sgd":
        return optim.SGD(params, lr=0.05 if lr is None else lr, momentum=momentum,
                         weight_decay=weight_decay, nesterov=nesterov)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=1e-3 if lr is None else lr, weight_decay=weight_decay)
    raise ValueError(f"make_optimizer: unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


def make_scheduler(name: str, optimizer: Any, epochs: int) -> Any:
    """A scheduler stepped once per epoch: 'cosine' anneals the learning rate to 0 over
    `epochs` epochs (CosineAnnealingLR), 'constant' returns None."""
    from . import optim

    if name == "constant":
        return None
    if name == "cosine":
        return optim.CosineAnnealingLR(optimizer, T_max=epochs)
    raise ValueError(f"make_scheduler: unknown schedule {name!r}; choose 'cosine' or 'constant'")


def current_lr(optimizer: Any) -> float:
    """The learning rate of the optimizer's first parameter group."""
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        return float(groups[0]["lr"])
    return float(getattr(optimizer, "lr", math.nan))


class RandomShift:
    """Data augmentation: translate each image of an (N, C, H, W) batch by a random
    whole number of pixels in [-max_shift, max_shift] along each axis, filling with 0;
    with flip=True also mirror a random half of the images left to right (fine for
    clothes, wrong for digits).

    Random numbers come from the framework generator, so `manual_seed` reproduces them.
    """

    def __init__(self, max_shift: int = 2, flip: bool = False) -> None:
        if max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be >= 0, got {max_shift}")
        self.max_shift, self.flip = int(max_shift), bool(flip)

    def __call__(self, x: Tensor) -> Tensor:
        array = x.data if isinstance(x, Tensor) else np.asarray(x)
        if array.ndim != 4:
            raise ValueError(
                f"RandomShift: expected an (N, C, H, W) batch, got shape {tuple(array.shape)}"
            )
        p, rng = self.max_shift, generator()
        n, _, h, w = array.shape
        if p:
            padded = np.pad(array, ((0, 0), (0, 0), (p, p), (p, p)))
            # windows[i, c, dy, dx] is image i, channel c, shifted by (dy - p, dx - p)
            windows = sliding_window_view(padded, (h, w), axis=(2, 3))
            dy, dx = rng.integers(0, 2 * p + 1, n), rng.integers(0, 2 * p + 1, n)
            array = np.ascontiguousarray(windows[np.arange(n), :, dy, dx])
        if self.flip:
            mirrored = rng.random(n) < 0.5
            array = array.copy() if not p else array  # never write into the caller's batch
            array[mirrored] = array[mirrored, :, :, ::-1]
        return from_numpy(array)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, flip={self.flip})"


# -- errors and Ctrl-C ------------------------------------------------------------


class NonFiniteLossError(FloatingPointError):
    """The loss became nan or inf; `epoch` and `step` (from 1) say where."""

    def __init__(self, message: str, epoch: int | None = None, step: int | None = None,
                 loss: float = math.nan) -> None:
        super().__init__(message)
        self.epoch, self.step, self.loss = epoch, step, loss


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped `fit` between two steps; `epochs_done` epochs are complete (and
    checkpointed, with a run_dir); the partial epoch `epoch` is dropped (None if none)."""

    def __init__(self, message: str, epochs_done: int = 0, epoch: int | None = None,
                 step: int | None = None) -> None:
        super().__init__(message)
        self.epochs_done, self.epoch, self.step = epochs_done, epoch, step


class _StopRequest:
    """While active, a first Ctrl-C asks the loop to stop after the current step; a
    second one raises KeyboardInterrupt at once (for a step that hangs). Only where the
    default handler is installed, in the main thread: a caller's own handler wins."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: Any = None

    def __enter__(self) -> _StopRequest:
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: stopping after this step (press again to stop at once)",
              file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


# -- callbacks ----------------------------------------------------------------------

CALLBACK_METHODS = ("on_train_begin", "on_step_end", "on_epoch_end", "on_train_end")


class _Callbacks:
    """Dispatches fit's events to each callback that handles them (see the docstring)."""

    def __init__(self, callbacks: Sequence[Any] | None) -> None:
        self.items = list(callbacks or ())
        for i, cb in enumerate(self.items):
            if not callable(cb) and not any(hasattr(cb, m) for m in CALLBACK_METHODS):
                raise TypeError(f"fit: callbacks[{i}] ({type(cb).__name__}) is neither "
                                f"callable nor has any of {', '.join(CALLBACK_METHODS)}")

    def _method(self, cb: Any, name: str) -> Callable[..., Any] | None:
        method = getattr(cb, name, None)
        if method is None and name == "on_epoch_end" and callable(cb) and not any(
                hasattr(cb, m) for m in CALLBACK_METHODS):
            return cb  # a plain function is an epoch-end callback
        return method

    def wants(self, name: str) -> bool:
        return any(self._method(cb, name) is not None for cb in self.items)

    def __call__(self, name: str, *args: Any) -> None:
        for cb in self.items:
            method = self._method(cb, name)
            if method is not None:
                method(*args)


# -- one epoch, evaluation ------------------------------------------------------------


def _length(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:  # a generator: the bar counts without a total
        return None


def _postfix(total_loss: float, correct: int, seen: int) -> str:
    return f"loss {total_loss / seen:.4f}, acc {correct / seen:.2%}"


def _count_correct(logits: Tensor, targets: Tensor) -> int:
    hits = logits.data.argmax(axis=-1) == targets.data
    return int(array_module(hits).count_nonzero(hits))


def _model_device(model: nn.Module) -> Any:
    """The device of the model's first parameter (None for a model without any)."""
    for p in model.parameters():
        return p.device
    return None


def _to(batch: Any, device: Any) -> Any:
    """A batch tensor on the model's device: the loops below copy each batch there, as
    a PyTorch training loop does by hand with x.to(device)."""
    if device is None or not isinstance(batch, Tensor) or batch.device == device:
        return batch
    return batch.to(device)


def _non_finite_loss(value: float, step: int, steps: int | None, x: Tensor) -> NonFiniteLossError:
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    bad_input = data.dtype.kind == "f" and not array_module(data).isfinite(data).all()
    cause = ("the batch itself holds nan or inf values: check the data" if bad_input else
             "the learning rate is likely too high (try a 10x smaller one); also possible: "
             "exploding gradients (clip them with nn.utils.clip_grad_norm_) or a loss "
             "that takes the log of 0")
    where = f"step {step}" + ("" if steps is None else f" of {steps}")
    return NonFiniteLossError(f"the loss became {value} at {where}; {cause}", step=step,
                              loss=value)


def train_epoch(
    model: nn.Module,
    loader: Any,
    optimizer: Any,
    loss_fn: LossFn = F.cross_entropy,
    augment: Callable[[Tensor], Tensor] | None = None,
    progress: bool = True,
    desc: str = "train",
    on_step: Callable[[int, float, int], Any] | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[float, float]:
    """One pass over `loader`, one optimizer step per batch; returns (mean loss, accuracy)
    over the samples seen, measured on the fly with the weights of each step.

    Each batch is copied to the model's device (after `augment`, which runs where the
    loader made the batch). A nan/inf loss raises NonFiniteLossError before its step
    changes any weight.
    `on_step(step, loss, batch_size)` runs after each step; when `stop()` turns true
    after a step, TrainingInterrupted is raised."""
    from tqdm.auto import tqdm  # lazily: `import tinygrad_edu` stays light

    model.train()
    device = _model_device(model)
    total_loss, correct, seen, steps = 0.0, 0, 0, _length(loader)
    # Updated by hand rather than wrapping the loader: a wrapped iterator closes the bar
    # when the loader runs out, before the epoch's final numbers could be shown.
    bar = tqdm(total=steps, desc=desc, unit="batch", leave=True,
               disable=not progress, file=sys.stderr, dynamic_ncols=True)
    # Formatting the postfix costs time: refresh it a few times a second, not every step.
    refresh_every, last_refresh = 0.25, -math.inf
    try:
        for step, (x, y) in enumerate(loader, start=1):
            if augment is not None:
                x = augment(x)
            x, y = _to(x, device), _to(y, device)
            logits = model(x)
            loss = loss_fn(logits, y)
            value = loss.item()
            if not math.isfinite(value):
                raise _non_finite_loss(value, step, steps, x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = len(y)
            total_loss += value * n
            correct += _count_correct(logits, y)
            seen += n
            bar.update(1)
            if progress and time.perf_counter() - last_refresh > refresh_every:
                bar.set_postfix_str(_postfix(total_loss, correct, seen), refresh=False)
                last_refresh = time.perf_counter()
            if on_step is not None:
                on_step(step, value, n)
            if stop is not None and stop():
                raise TrainingInterrupted(f"interrupted after step {step}", step=step)
        if seen == 0:
            raise ValueError("train_epoch: the loader yielded no batches")
        bar.set_postfix_str(_postfix(total_loss, correct, seen), refresh=False)
    finally:
        bar.close()
    return total_loss / seen, correct / seen


@contextmanager
def _evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode and no graph for the block; the model's mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        model.train(was_training)


def predict(model: nn.Module, loader: Any) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, true class) for every sample of `loader`, in loader order."""
    preds, targets = [], []
    device = _model_device(model)
    with _evaluating(model):
        for x, y in loader:
            preds.append(to_host(model(_to(x, device)).data.argmax(axis=-1)))
            targets.append(y.numpy())
    if not preds:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(preds).astype(np.int64), np.concatenate(targets).astype(np.int64)


def evaluate(
    model: nn.Module, loader: Any, loss_fn: LossFn = F.cross_entropy
) -> tuple[float, float]:
    """(mean loss, accuracy) of `model` on `loader`, in eval mode and without a graph."""
    total_loss, correct, seen = 0.0, 0, 0
    device = _model_device(model)
    with _evaluating(model):
        for x, y in loader:
            x, y = _to(x, device), _to(y, device)
            logits = model(x)
            n = len(y)
            total_loss += loss_fn(logits, y).item() * n
            correct += _count_correct(logits, y)
            seen += n
    if seen == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return total_loss / seen, correct / seen


# -- fit -------------------------------------------------------------------------------


def _all_finite(model: nn.Module) -> bool:
    return all(array_module(p.data).isfinite(p.data).all() for p in model.parameters())


def fit(
    model: nn.Module,
    optimizer: Any,
    train_loader: Any,
    epochs: int,
    test_loader: Any = None,
    loss_fn: LossFn = F.cross_entropy,
    scheduler: Any = None,
    augment: Callable[[Tensor], Tensor] | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    log: Callable[[str], Any] | None = print,
    callbacks: Sequence[Any] | None = None,
    run_dir: str | os.PathLike | None = None,
    resume: bool = False,
    config: dict[str, Any] | None = None,
) -> History:
    """Train until `epochs` epochs are done; after each, step `scheduler`, evaluate on
    `test_loader` (if given), log one line, save `model.state_dict()` to `checkpoint`
    (if given) and call the callbacks (see the module docstring).

    run_dir keeps a resumable run there (refused if it already holds one, unless
    resume=True, which continues from its last.npz); `config` (JSON-able) goes into its
    config.json. Raises NonFiniteLossError on a nan/inf loss, TrainingInterrupted on
    Ctrl-C; the last checkpoint written stays the last good one."""
    if epochs < 1:
        raise ValueError(f"fit: epochs must be at least 1, got {epochs}")
    events = _Callbacks(callbacks)
    run = None if run_dir is None else RunDirectory(run_dir)
    if resume and run is None:
        raise ValueError("fit: resume=True needs the run_dir to resume from")
    metric_name = "test_acc" if test_loader is not None else "train_acc"
    history, done = History(), 0
    best: dict[str, Any] = {"metric": metric_name, "epoch": None, "value": None}
    settings = dict(config or {}, epochs=epochs)
    if run is not None:
        if resume:
            state = run.load_state(model, optimizer, scheduler)
            history, best, done = History(**state["history"]), state["best"], state["epoch"]
            if done > epochs:
                raise ValueError(f"fit: {run.path} already holds {done} epochs, more than "
                                 f"epochs={epochs}")
        elif run.existing():
            raise FileExistsError(f"fit: {run.path} already holds {run.describe()}; pass "
                                  "resume=True to continue it, or choose another run_dir")
        run.write_config(dict(settings, status="running", epochs_done=done, best=best))
        if not resume:  # epoch 0: a run stopped during its first epoch resumes too
            run.save_state(model, optimizer, scheduler, 0, history.to_dict(), best)
    steps_per_epoch = _length(train_loader)
    global_step = done * steps_per_epoch if steps_per_epoch else 0
    width = len(str(epochs))
    events("on_train_begin", model, {"epochs": epochs, "start_epoch": done})

    def finish(new_status: str) -> None:
        if run is not None:
            run.write_config(dict(settings, status=new_status, epochs_done=done, best=best))
        events("on_train_end", model, {"epochs": done, "status": new_status})

    def on_step(step: int, loss: float, n: int) -> None:
        nonlocal global_step
        global_step += 1
        events("on_step_end", global_step, model,
               {"epoch": epoch, "step": step, "loss": loss, "batch_size": n, "lr": lr})

    epoch, lr = done, current_lr(optimizer)
    with _StopRequest() as stop:
        try:
            for epoch in range(done + 1, epochs + 1):
                lr = current_lr(optimizer)
                start = time.perf_counter()
                train_loss, train_acc = train_epoch(
                    model, train_loader, optimizer, loss_fn, augment, progress,
                    desc=f"epoch {epoch:{width}d}/{epochs}",
                    on_step=on_step if events.wants("on_step_end") else None,
                    stop=lambda: stop.requested)
                seconds = time.perf_counter() - start
                if not _all_finite(model):
                    raise NonFiniteLossError(
                        "the weights became nan/inf although every loss was finite: "
                        "exploding gradients; lower the learning rate or clip the "
                        "gradients (nn.utils.clip_grad_norm_)")
                if scheduler is not None:
                    scheduler.step()
                logs: dict[str, Any] = {"epoch": epoch, "loss": train_loss,
                                        "accuracy": train_acc}
                test_loss, test_acc = math.nan, math.nan
                if test_loader is not None:
                    test_loss, test_acc = evaluate(model, test_loader, loss_fn)
                    logs.update(val_loss=test_loss, val_accuracy=test_acc)
                logs.update(lr=lr, seconds=seconds)
                for key, value in (("train_loss", train_loss), ("train_acc", train_acc),
                                   ("test_loss", test_loss), ("test_acc", test_acc),
                                   ("lr", lr), ("seconds", seconds)):
                    getattr(history, key).append(float(value))
                metric = test_acc if test_loader is not None else train_acc
                improved = best["value"] is None or metric > best["value"]
                if improved:
                    best = dict(best, epoch=epoch, value=float(metric))
                if checkpoint is not None:
                    save(model.state_dict(), checkpoint)
                if run is not None:
                    run.save_epoch(model, optimizer, scheduler, history.to_dict(), best,
                                   improved, dict(settings, status="running",
                                                  epochs_done=epoch, best=best))
                done = epoch
                if log is not None:
                    line = (f"epoch {epoch:{width}d}/{epochs}  train loss {train_loss:.4f}  "
                            f"acc {train_acc:.2%}")
                    if test_loader is not None:
                        line += f"  |  test loss {test_loss:.4f}  acc {test_acc:.2%}"
                    log(line + f"  ({seconds:.1f} s)")
                events("on_epoch_end", epoch, model, logs)
                if stop.requested and epoch < epochs:
                    raise TrainingInterrupted("stopped between epochs")
        except NonFiniteLossError as error:
            finish("diverged")
            kept = "" if run is None else (
                f"; {run.path / 'last.npz'} keeps " + (f"epoch {done}" if done else
                                                        "the initial weights"))
            raise NonFiniteLossError(f"fit: epoch {epoch}, lr {lr:g}: {error}{kept}",
                                     epoch, error.step, error.loss) from None
        except KeyboardInterrupt as error:
            finish("interrupted")
            step = getattr(error, "step", None)
            where = (f"after epoch {done}" if done == epoch else f"in epoch {epoch}"
                     + (f" after step {step}" if step else "") + "; that epoch is dropped")
            raise TrainingInterrupted(f"fit: interrupted {where}, {done} epochs are complete",
                                      done, None if done == epoch else epoch, step) from None
    finish("finished")
    return history
