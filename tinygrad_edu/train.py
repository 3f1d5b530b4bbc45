"""The training loop shared by `tinygrad-edu train` and the examples.

`fit` runs epochs of `train_epoch` (a tqdm bar per epoch showing the running loss and
accuracy), evaluates after each epoch, can save a checkpoint with `nn.save`, and
returns a `History` of the per-epoch numbers. `evaluate` and `predict` work on any
DataLoader; `RandomShift` is the one data augmentation the examples use.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import nn
from .engine import no_grad
from .files import write_text
from .nn import functional as F  # noqa: N812 (PyTorch's convention)
from .rng import generator
from .tensor import Tensor, from_numpy

LossFn = Callable[[Tensor, Tensor], Tensor]
OPTIMIZERS = ("adam", "sgd", "rmsprop")


@dataclass
class History:
    """Per-epoch numbers of a `fit` run (accuracies are fractions in [0, 1])."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, list[float]]:
        return asdict(self)

    def save(self, path: str | os.PathLike) -> None:
        """Write the history as JSON (readable by `History.load` and by people)."""
        write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        return cls(**json.loads(Path(path).read_text()))


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


def _length(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:  # a generator: the bar counts without a total
        return None


def _postfix(total_loss: float, correct: int, seen: int) -> str:
    return f"loss {total_loss / seen:.4f}, acc {correct / seen:.2%}"


def _count_correct(logits: Tensor, targets: Tensor) -> int:
    return int(np.count_nonzero(logits.data.argmax(axis=-1) == targets.data))


def train_epoch(
    model: nn.Module,
    loader: Any,
    optimizer: Any,
    loss_fn: LossFn = F.cross_entropy,
    augment: Callable[[Tensor], Tensor] | None = None,
    progress: bool = True,
    desc: str = "train",
) -> tuple[float, float]:
    """One pass over `loader`, one optimizer step per batch; returns (mean loss, accuracy)
    over the samples seen, measured on the fly with the weights of each step."""
    from tqdm import tqdm  # lazily: `import tinygrad_edu` stays light

    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    # Updated by hand rather than wrapping the loader: a wrapped iterator closes the bar
    # when the loader runs out, before the epoch's final numbers could be shown.
    bar = tqdm(total=_length(loader), desc=desc, unit="batch", leave=True,
               disable=not progress, file=sys.stderr, dynamic_ncols=True)
    # Formatting the postfix costs time: refresh it a few times a second, not every step.
    refresh_every, last_refresh = 0.25, -math.inf
    try:
        for x, y in loader:
            if augment is not None:
                x = augment(x)
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = len(y)
            total_loss += loss.item() * n
            correct += _count_correct(logits, y)
            seen += n
            bar.update(1)
            if progress and time.perf_counter() - last_refresh > refresh_every:
                bar.set_postfix_str(_postfix(total_loss, correct, seen), refresh=False)
                last_refresh = time.perf_counter()
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
    with _evaluating(model):
        for x, y in loader:
            preds.append(model(x).data.argmax(axis=-1))
            targets.append(y.data)
    if not preds:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(preds).astype(np.int64), np.concatenate(targets).astype(np.int64)


def evaluate(
    model: nn.Module, loader: Any, loss_fn: LossFn = F.cross_entropy
) -> tuple[float, float]:
    """(mean loss, accuracy) of `model` on `loader`, in eval mode and without a graph."""
    total_loss, correct, seen = 0.0, 0, 0
    with _evaluating(model):
        for x, y in loader:
            logits = model(x)
            n = len(y)
            total_loss += loss_fn(logits, y).item() * n
            correct += _count_correct(logits, y)
            seen += n
    if seen == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return total_loss / seen, correct / seen


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
) -> History:
    """Train for `epochs` epochs; after each, step `scheduler`, evaluate on `test_loader`
    (if given), log one line and save `model.state_dict()` to `checkpoint` (if given)."""
    if epochs < 1:
        raise ValueError(f"fit: epochs must be at least 1, got {epochs}")
    history = History()
    width = len(str(epochs))
    for epoch in range(1, epochs + 1):
        lr = current_lr(optimizer)
        start = time.perf_counter()
        train_loss, train_acc = train_epoch(
            model, train_loader, optimizer, loss_fn, augment, progress,
            desc=f"epoch {epoch:{width}d}/{epochs}",
        )
        seconds = time.perf_counter() - start
        if scheduler is not None:
            scheduler.step()
        test_loss, test_acc = math.nan, math.nan
        if test_loader is not None:
            test_loss, test_acc = evaluate(model, test_loader, loss_fn)
        for key, value in (("train_loss", train_loss), ("train_acc", train_acc),
                           ("test_loss", test_loss), ("test_acc", test_acc),
                           ("lr", lr), ("seconds", seconds)):
            getattr(history, key).append(float(value))
        if checkpoint is not None:
            nn.save(model.state_dict(), checkpoint)
        if log is not None:
            line = (f"epoch {epoch:{width}d}/{epochs}  train loss {train_loss:.4f}  "
                    f"acc {train_acc:.2%}")
            if test_loader is not None:
                line += f"  |  test loss {test_loss:.4f}  acc {test_acc:.2%}"
            log(line + f"  ({seconds:.1f} s)")
    return history
