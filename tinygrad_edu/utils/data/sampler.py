"""Samplers: the order in which a DataLoader visits indices, and how it groups them.

Each sampler can also hand over a whole epoch as one array (`order()`), which
BatchSampler slices instead of collecting indices one by one.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ...rng import Generator, numpy_generator


class Sampler:
    """Base class: iterating a sampler yields dataset indices (or lists of them)."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def order(self) -> np.ndarray:
        return np.arange(len(self.data_source))

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random order each epoch (with `replacement`, `num_samples` draws)."""

    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: int | None = None, generator: Generator | None = None) -> None:
        if num_samples is not None and (isinstance(num_samples, bool) or
                                        not isinstance(num_samples, numbers.Integral) or
                                        num_samples < 1):
            raise ValueError(f"RandomSampler: num_samples must be a positive int, got "
                             f"{num_samples!r}")
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        n = len(self.data_source)
        return n if self._num_samples is None else int(self._num_samples)

    def order(self) -> np.ndarray:
        # The stream is fetched per epoch: manual_seed replaces the framework's.
        rng = numpy_generator(self.generator)
        n = len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples)
        # Without replacement, num_samples beyond n continues with fresh permutations.
        parts = [rng.permutation(n) for _ in range(-(-self.num_samples // max(n, 1)))]
        return np.concatenate(parts or [np.arange(0)])[: self.num_samples]

    def __iter__(self) -> Iterator[int]:
        return iter(self.order().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a fresh random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.generator = generator

    def order(self) -> np.ndarray:
        return self.indices[numpy_generator(self.generator).permutation(len(self.indices))]

    def __iter__(self) -> Iterator[int]:
        return iter(self.order().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size` (the last one shorter
    unless `drop_last`)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"BatchSampler: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"BatchSampler: batch_size must be at least 1, got {batch_size}")
        self.sampler: Iterable[int] = sampler
        self.batch_size: int = int(batch_size)
        self.drop_last: bool = bool(drop_last)

    def index_batches(self) -> Iterator[np.ndarray] | Iterator[list[int]]:
        """The batches of one epoch, as arrays when the sampler can give its order at
        once (what the DataLoader consumes: no Python list per batch)."""
        order = getattr(self.sampler, "order", None)
        return self._slices(order()) if order is not None else self._grouped()

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.index_batches():
            yield batch.tolist() if isinstance(batch, np.ndarray) else batch

    def _slices(self, indices: np.ndarray) -> Iterator[np.ndarray]:
        b = self.batch_size
        stop = len(indices) - len(indices) % b if self.drop_last else len(indices)
        for start in range(0, stop, b):
            yield indices[start : start + b]

    def _grouped(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]  # a sampler without len has none
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
