"""PNG pictures of a training run: curves, confusion matrix, misclassified images.

Needs matplotlib (`pip install tinygrad_edu[plot]`), imported only when a plot is
drawn. Figures are built with `matplotlib.figure.Figure`, not pyplot, so nothing
here touches global state or needs a display.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .files import atomic_open


def have_matplotlib() -> bool:
    """True when matplotlib can be imported (the `plot` extra is installed)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plots need matplotlib: pip install 'tinygrad_edu[plot]' (or pip install matplotlib)"
        ) from None
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _epochs_axis(ax: Any, count: int) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no "epoch 2.5"
    ax.set_xlabel("epoch")
    ax.set_xlim(0.5, count + 0.5)
    ax.grid(alpha=0.3)


def plot_history(history: Any, path: str | os.PathLike, title: str = "") -> Path:
    """Loss and accuracy per epoch, train and test side by side, saved as a PNG."""
    h = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    epochs = np.arange(1, len(h["train_loss"]) + 1)
    if len(epochs) == 0:
        raise ValueError("plot_history: the history has no epochs")
    fig = _figure(10, 4)
    loss_ax, acc_ax = fig.subplots(1, 2)
    for ax, key, label in ((loss_ax, "loss", "cross-entropy loss"), (acc_ax, "acc", "accuracy")):
        for split, style in (("train", "o-"), ("test", "s-")):
            values = np.asarray(h.get(f"{split}_{key}", []), dtype=float)
            if len(values) and not np.isnan(values).all():
                if key == "acc":
                    values = 100 * values
                ax.plot(epochs, values, style, markersize=3, label=split)
        ax.set_ylabel(label + (" (%)" if key == "acc" else ""))
        _epochs_axis(ax, len(epochs))
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def confusion_matrix(preds: np.ndarray, targets: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[t, p] = how many samples of true class t were predicted as class p."""
    preds, targets = np.asarray(preds, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    if preds.shape != targets.shape:
        raise ValueError(f"confusion_matrix: {preds.shape} predictions for {targets.shape} targets")
    flat = targets * num_classes + preds
    return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def plot_confusion(
    preds: np.ndarray, targets: np.ndarray, classes: Sequence[str], path: str | os.PathLike,
    title: str = "",
) -> Path:
    """A heat map of the confusion matrix with the count in every cell, saved as a PNG."""
    k = len(classes)
    counts = confusion_matrix(preds, targets, k)
    fig = _figure(7.5, 6.5)
    ax = fig.subplots()
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(range(k), [str(c) for c in classes], rotation=45, ha="right")
    ax.set_yticks(range(k), [str(c) for c in classes])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = counts.max() / 2 if counts.size else 0
    for t in range(k):
        for p in range(k):
            ax.text(p, t, str(counts[t, p]), ha="center", va="center", fontsize=7,
                    color="white" if counts[t, p] > threshold else "black")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title((title + "  " if title else "") + f"accuracy {accuracy:.2%}")
    return _save(fig, path)


def plot_misclassified(
    images: np.ndarray, preds: np.ndarray, targets: np.ndarray, classes: Sequence[str],
    path: str | os.PathLike, count: int = 25, title: str = "",
) -> Path:
    """A grid of the first `count` test images whose prediction is wrong, each titled
    with its true and predicted label, saved as a PNG."""
    images = np.asarray(images)
    if images.ndim == 4:  # (N, 1, H, W) -> (N, H, W)
        images = images[:, 0]
    wrong = np.flatnonzero(np.asarray(preds) != np.asarray(targets))[:count]
    cols = max(1, min(5, len(wrong)))
    rows = max(1, -(-len(wrong) // cols))
    fig = _figure(2.0 * cols, 2.2 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols)).reshape(-1)
    for ax in axes:
        ax.set_axis_off()
    for ax, i in zip(axes, wrong):
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(f"true: {_short(classes[targets[i]])}\npred: {_short(classes[preds[i]])}",
                     fontsize=8, color="firebrick")
    if len(wrong) == 0:
        axes[0].text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    fig.suptitle(title or f"{len(wrong)} misclassified test images")
    return _save(fig, path)


def _short(name: str) -> str:
    """'3 - three' -> '3': MNIST's class names are long for a small title."""
    return str(name).split(" - ")[0]


def _save(fig: Any, path: str | os.PathLike) -> Path:
    path = Path(path)
    with atomic_open(path, "wb") as file:  # the format follows the extension
        fig.savefig(file, format=path.suffix.lstrip(".").lower() or "png")
    return path
