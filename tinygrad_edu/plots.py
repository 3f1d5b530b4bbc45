"""PNG pictures of a training run: curves, confusion matrix, misclassified images, and
the training diagnostics (gradient flow, activation and weight histograms per layer,
from the numbers of diagnostics.py).

Needs matplotlib (`pip install tinygrad_edu[plot]`), imported only when a plot is
drawn. Figures are built with `matplotlib.figure.Figure`, not pyplot, so nothing
here touches global state or needs a display.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .files import atomic_open

if TYPE_CHECKING:
    from .diagnostics import ActivationRecord, ActivationStats, LayerGradStats, WeightStats
    from .nn import Module


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


# -- training diagnostics ------------------------------------------------------------------

GRADIENT_CAPTION = (
    "Layers run from the input (left) to the output (right); the y axes are logarithmic.\n"
    "Top: if |grad| falls by orders of magnitude towards the input, the gradient vanishes "
    "and the early layers barely learn.\n"
    "Bottom: ||grad|| / ||w|| times the learning rate is the relative size of a plain SGD "
    "step; around 1e-3 is a common rule of thumb.")
ACTIVATION_CAPTION = (
    "How one batch's outputs spread, per layer from input to output. Sigmoid/tanh units "
    "pressed against their limits\nare saturated (almost no gradient gets through); "
    "a ReLU unit that is 0 for every sample is dead (it gets no gradient at all).\n"
    "slope: the activation's mean derivative, the factor by which the layer scales the "
    "gradient on its way back (sigmoid: at most 0.25).")
WEIGHT_CAPTION = (
    "Values of each weight (input layer first). scale = std x sqrt(fan_in): about 1 keeps "
    "a layer's output as spread as its input\n(Xavier/LeCun, for sigmoid/tanh), sqrt(2) "
    "= 1.41 after a ReLU (He); PyTorch's default init gives 1/sqrt(3) = 0.58.\n"
    "During training, watch for weights that pile up at 0 or keep spreading out.")


def _layer_labels(names: Sequence[str], kinds: Sequence[str]) -> list[str]:
    return [name if name == kind else f"{name}\n{kind}" for name, kind in zip(names, kinds)]


def plot_gradient_flow(model: Module | Sequence[LayerGradStats], path: str | os.PathLike,
                       title: str = "") -> Path:
    """Mean and max |grad| and ||grad|| / ||w|| per parameterised layer, input on the
    left, log scale, saved as a PNG. `model` is a Module whose parameters have .grad
    (after backward) or a `diagnostics.gradient_stats` list."""
    from .diagnostics import gradient_stats
    from .nn import Module

    stats = gradient_stats(model) if isinstance(model, Module) else list(model)
    if not stats:
        raise ValueError("plot_gradient_flow: the model has no parameters")
    x = np.arange(len(stats))
    mean = np.array([s.grad_mean_abs for s in stats], dtype=float)
    peak = np.array([s.grad_max_abs for s in stats], dtype=float)
    ratio = np.array([s.grad_to_weight for s in stats], dtype=float)
    fig = _figure(max(8.0, 0.75 * len(stats) + 3), 7.5)
    grad_ax, ratio_ax = fig.subplots(2, 1, sharex=True)
    grad_ax.bar(x, np.where(mean > 0, mean, np.nan), color="tab:blue", alpha=0.75,
                label="mean |grad|")
    grad_ax.plot(x, np.where(peak > 0, peak, np.nan), "o-", color="tab:orange",
                 label="max |grad|")
    grad_ax.set_ylabel("|gradient| (log scale)")
    grad_ax.legend(loc="upper left")
    ratio_ax.plot(x, np.where(ratio > 0, ratio, np.nan), "s-", color="tab:green",
                  label="||grad|| / ||w||")
    ratio_ax.set_ylabel("||grad|| / ||w|| (log scale)")
    ratio_ax.legend(loc="upper left")
    for ax, values in ((grad_ax, np.concatenate([mean, peak])), (ratio_ax, ratio)):
        if np.any(np.isfinite(values) & (values > 0)):  # a log axis needs a positive value
            ax.set_yscale("log")
        ax.grid(alpha=0.3, axis="y")
    for i, s in enumerate(stats):
        if not np.isfinite(s.grad_mean_abs):
            grad_ax.annotate("no grad", (i, 0.5), xycoords=("data", "axes fraction"),
                             ha="center", rotation=90, color="gray")
    ratio_ax.set_xticks(x, _layer_labels([s.name for s in stats], [s.kind for s in stats]))
    ratio_ax.set_xlabel("layer, named as in model.named_modules() (input → output)")
    first, last = mean[0], mean[-1]
    headline = ""
    if first > 0 and last > 0 and np.isfinite(first) and np.isfinite(last):
        headline = f"\nthe first layer's mean |grad| is {first / last:.1e} x the last layer's"
    fig.suptitle((title or "Gradient flow") + headline)
    fig.supxlabel(GRADIENT_CAPTION, fontsize=8, ha="center")
    return _save(fig, path)


def _grid(count: int, cols: int = 4) -> tuple[Any, np.ndarray]:
    cols = max(1, min(cols, count))
    rows = max(1, -(-count // cols))
    fig = _figure(3.2 * cols, 2.5 * rows + 1.2)
    axes = np.atleast_1d(fig.subplots(rows, cols)).reshape(-1)
    for ax in axes[count:]:
        ax.set_axis_off()
    return fig, axes


def _draw_histogram(ax: Any, counts: Sequence[int], edges: Sequence[float], color: str) -> None:
    ax.stairs(counts, edges, fill=True, color=color, alpha=0.8)
    ax.set_ylim(bottom=0)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


def plot_activation_histograms(stats: ActivationRecord | Sequence[ActivationStats],
                               path: str | os.PathLike, title: str = "") -> Path:
    """A histogram of every activation function's output (every layer's output when
    the model has no activation modules), with the saturated or dead fraction, saved
    as a PNG. `stats` comes from `record_activations` or `activation_stats`."""
    from .diagnostics import ActivationRecord, informative

    items = stats.stats() if isinstance(stats, ActivationRecord) else list(stats)
    shown = informative(items)
    if not shown:
        raise ValueError("plot_activation_histograms: no layer outputs were recorded; run a "
                         "forward pass inside `with record_activations(model):`")
    fig, axes = _grid(len(shown))
    for ax, s in zip(axes, shown):
        _draw_histogram(ax, s.histogram.counts, s.histogram.edges, "tab:purple")
        notes = [f"mean {s.mean:.2f}, std {s.std:.2f}"]
        if np.isfinite(s.mean_slope):
            notes.append(f"slope {s.mean_slope:.2f}")
        if np.isfinite(s.saturated):
            notes.append(f"saturated {s.saturated:.0%}")
        if np.isfinite(s.dead):
            notes.append(f"dead {s.dead:.0%}")
        bad = (np.isfinite(s.saturated) and s.saturated > 0.5) or (
            np.isfinite(s.dead) and s.dead > 0.5)
        ax.set_title(f"layer {s.name} ({s.kind})\n" + ", ".join(notes), fontsize=8,
                     color="firebrick" if bad else "black")
        ax.set_xlabel("output value", fontsize=8)
        ax.set_ylabel("count", fontsize=8)
    fig.suptitle(title or "Activations per layer")
    fig.supxlabel(ACTIVATION_CAPTION, fontsize=8)
    return _save(fig, path)


def plot_weight_histograms(model: Module | Sequence[WeightStats], path: str | os.PathLike,
                           title: str = "", include_bias: bool = False) -> Path:
    """A histogram of every weight matrix (and bias with include_bias=True) with its
    mean and std, saved as a PNG; `model` is a Module or a `weight_stats` list."""
    from .diagnostics import weight_stats
    from .nn import Module

    if isinstance(model, Module):
        items = weight_stats(model, include_bias=include_bias)
        if not items:  # a model of biases and norms only: show what there is
            items = weight_stats(model)
    else:
        items = list(model)
    if not items:
        raise ValueError("plot_weight_histograms: the model has no parameters")
    fig, axes = _grid(len(items))
    for ax, s in zip(axes, items):
        _draw_histogram(ax, s.histogram.counts, s.histogram.edges, "tab:blue")
        note = f"mean {s.mean:.3f}, std {s.std:.3f}"
        if np.isfinite(s.scale):
            note += f", scale {s.scale:.2f}"
        ax.set_title(f"{s.name} ({'x'.join(map(str, s.shape))})\n{note}", fontsize=8)
        ax.set_xlabel("weight value", fontsize=8)
        ax.set_ylabel("count", fontsize=8)
    fig.suptitle(title or "Weights per layer")
    fig.supxlabel(WEIGHT_CAPTION, fontsize=8)
    return _save(fig, path)
