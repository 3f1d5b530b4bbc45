"""DataLoader: iterate over a dataset in (optionally shuffled) mini-batches of Tensors."""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..rng import generator
from ..tensor import Tensor, from_numpy


def _as_array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _collate(samples: list[Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """Stack (x, y) samples: floating x -> float32 (the framework default), integer y -> int64."""
    first = samples[0]  # checking one sample is enough to catch a wrong dataset
    if not (isinstance(first, tuple | list) and len(first) == 2):
        raise TypeError(f"DataLoader: samples must be (x, y) pairs, got {type(first).__name__}")
    x = np.stack([_as_array(s[0]) for s in samples])
    if x.dtype.kind == "f":
        x = x.astype(np.float32, copy=False)
    labels = [s[1] for s in samples]
    if any(label is None for label in labels):
        return x, None  # unlabeled data (e.g. Kaggle's test.csv)
    y = np.stack([_as_array(label) for label in labels])
    y = y.astype(np.float32 if y.dtype.kind == "f" else np.int64, copy=False)
    return x, y


class DataLoader:
    """Yields `(x, y)` Tensor batches; `y` is None for unlabeled datasets.

    Datasets with a `get_batch(indices)` method (MNIST, CSVDigits, Subset of those) are
    gathered in one vectorized step; any other dataset with `__len__` and `__getitem__`
    returning `(x, y)` is read sample by sample and stacked. With `shuffle=True` each
    epoch draws a fresh permutation from the framework generator, so `manual_seed`
    makes the order reproducible.
    """

    def __init__(
        self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False
    ) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            name = type(dataset).__name__
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__, got {name}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor | None]]:
        n = len(self.dataset)
        # Fetch the generator each epoch: manual_seed replaces it.
        order = generator().permutation(n) if self.shuffle else np.arange(n)
        get_batch = getattr(self.dataset, "get_batch", None)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start : start + self.batch_size]
            if get_batch is not None:
                x, y = get_batch(indices)
            else:
                x, y = _collate([self.dataset[int(i)] for i in indices])
            # _wrap: the batch arrays are fresh, so no need for the constructor's copy.
            yield from_numpy(x), None if y is None else from_numpy(y)

    def __repr__(self) -> str:
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
