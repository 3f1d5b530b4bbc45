"""A small model zoo for 28x28 grayscale images: `mlp(...)`, `cnn()` and `small_cnn()`.

Both take (N, 1, 28, 28) batches (what DataLoader yields for MNIST-style data) and
return (N, num_classes) logits, ready for `nn.functional.cross_entropy`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import nn

DEFAULT_HIDDEN: tuple[int, ...] = (256, 128)


def mlp(
    in_features: int = 784,
    hidden: Sequence[int] = DEFAULT_HIDDEN,
    num_classes: int = 10,
    dropout: float = 0.0,
) -> nn.Module:
    """Flatten, then Linear-ReLU blocks of widths `hidden`, then a Linear to the classes.

    mlp(hidden=(128,)) is the 784-128-10 network of benchmarks/bench_mlp.py; the default
    784-256-128-10 reaches about 89.5% on Fashion-MNIST (see examples/mnist_mlp.py).
    """
    widths = [int(in_features), *(int(h) for h in hidden)]
    if any(w < 1 for w in widths) or num_classes < 1:
        raise ValueError(
            f"mlp: layer widths must be positive, got in_features={in_features}, "
            f"hidden={tuple(hidden)}, num_classes={num_classes}"
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"mlp: dropout must be in [0, 1), got {dropout}")
    layers: list[nn.Module] = [nn.Flatten()]
    for fan_in, fan_out in zip(widths, widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(widths[-1], int(num_classes)))
    return nn.Sequential(*layers)


def cnn(num_classes: int = 10, dropout: float = 0.3) -> nn.Module:
    """Two conv-BatchNorm-ReLU-maxpool blocks and a small classifier (421,834 parameters):

        conv(1->32, 3x3, pad 1)-BatchNorm-ReLU-maxpool 2      28x28 -> 14x14
        conv(32->64, 3x3, pad 1)-BatchNorm-ReLU-maxpool 2     14x14 -> 7x7
        flatten (3136) -> Dropout -> Linear(3136->128)-ReLU -> Linear(128->num_classes)

    The network of `tinygrad-edu train --model cnn` and examples/mnist_cnn.py (98.7% on
    MNIST from 5,000 training digits, 93.0% on Fashion-MNIST; numbers in the README)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(dropout),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, int(num_classes)),
    )  # fmt: skip


def small_cnn(num_classes: int = 10) -> nn.Module:
    """conv(1->8, 3x3, pad 1)-ReLU-maxpool 2 -> conv(8->16, 3x3, pad 1)-ReLU-maxpool 2
    -> flatten -> Linear(16*7*7 = 784 -> num_classes): the network of
    benchmarks/bench_cnn.py, small enough to draw (`tinygrad-edu graph --model cnn`)."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, int(num_classes)),
    )  # fmt: skip


MODELS: dict[str, Callable[..., nn.Module]] = {"mlp": mlp, "cnn": cnn, "small_cnn": small_cnn}


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """The model called `name` in MODELS, built with `kwargs`."""
    if name not in MODELS:
        raise ValueError(f"build_model: unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](**kwargs)
