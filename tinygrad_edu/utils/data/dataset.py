"""Map-style datasets: anything with `__len__` and `__getitem__`, plus the usual wrappers.

A dataset may also offer `get_batch(indices)`, returning what the default collate would
make of `[dataset[i] for i in indices]` (NumPy arrays may stand in for Tensors). The
DataLoader then gathers a whole batch with one fancy index instead of item by item;
TensorDataset, the in-memory image datasets of `tinygrad_edu.data` and Subsets of them
do this.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from ...rng import Generator, numpy_generator
from ...tensor import Tensor, from_numpy


class SizedDataset(Protocol):
    """The map-style protocol: any object with these two methods is a dataset."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


class Dataset:
    """Base class for map-style datasets (optional: the protocol is duck-typed)."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Any) -> ConcatDataset:
        return ConcatDataset([self, other])


def _check_index(name: str, index: Any, length: int) -> int:
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"{name}: index must be an int, got {type(index).__name__}")
    index = int(index)
    if not -length <= index < length:
        raise IndexError(f"{name}: index {index} is out of range for {length} samples")
    return index % length


def _index_array(indices: Any) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.size == 0:
        idx = idx.astype(np.intp)
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        raise TypeError(f"get_batch: indices must be a 1-D integer sequence, got {idx.dtype} "
                        f"of shape {idx.shape}")
    return idx


class TensorDataset(Dataset):
    """Sample i is `tuple(t[i] for t in tensors)`; all tensors share their first size."""

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        wrapped = []
        for i, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = from_numpy(t)
            if not isinstance(t, Tensor) or t.ndim == 0:
                what = f"0-d {type(t).__name__}" if isinstance(t, Tensor) else type(t).__name__
                raise TypeError(f"TensorDataset: argument {i} must be a Tensor (or ndarray) with "
                                f"at least one dimension, got {what}")
            wrapped.append(t)
        sizes = [t.shape[0] for t in wrapped]
        if len(set(sizes)) != 1:
            shapes = ", ".join(f"{tuple(t.shape)}" for t in wrapped)
            raise ValueError(f"TensorDataset: the tensors' first dimensions must match, got "
                             f"shapes {shapes}")
        self.tensors = tuple(wrapped)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[Tensor, ...]:
        """One fancy index per tensor: the same batch as stacking the samples."""
        idx = _index_array(indices)
        # Indexing a tensor that requires grad must record the op, as PyTorch's stack would.
        return tuple(t[idx] if t.requires_grad else from_numpy(np.take(t.data, idx, axis=0))
                     for t in self.tensors)

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        # Offer the batched fast path only when the wrapped dataset has it, so
        # hasattr(subset, "get_batch") tells the DataLoader the truth.
        if hasattr(dataset, "get_batch"):
            self.get_batch = self._get_batch

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[_check_index("Subset", index, len(self))])]

    def _get_batch(self, indices: Sequence[int] | np.ndarray) -> Any:
        return self.dataset.get_batch(self.indices[_index_array(indices)])

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"


class ConcatDataset(Dataset):
    """Several datasets one after another, indexed as one."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        for i, d in enumerate(self.datasets):
            if not (hasattr(d, "__len__") and hasattr(d, "__getitem__")):
                raise TypeError(f"ConcatDataset: dataset {i} ({type(d).__name__}) has no "
                                "__len__ and __getitem__")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        index = _check_index("ConcatDataset", index, len(self))
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]

    def __repr__(self) -> str:
        return f"ConcatDataset({', '.join(repr(d) for d in self.datasets)})"


def _split_sizes(n: int, lengths: list[Any]) -> list[int]:
    """Integer lengths summing to n, or fractions summing to 1 (floored, then the
    leftover samples dealt one each to the first subsets, as PyTorch)."""
    if any(isinstance(x, bool) or not isinstance(x, numbers.Real) or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative numbers, got {lengths}")
    total = sum(lengths)
    if all(isinstance(x, numbers.Integral) for x in lengths) and total == n:
        return [int(x) for x in lengths]
    if math.isclose(total, 1.0) and total <= 1:
        if any(x > 1 for x in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        sizes = [math.floor(n * x) for x in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: split {i} is empty", stacklevel=3)
        return sizes
    if all(isinstance(x, numbers.Integral) for x in lengths):
        raise ValueError(f"random_split: lengths sum to {total}, dataset has {n}")
    raise ValueError(f"random_split: fractions must sum to 1, got {total}")


def random_split(
    dataset: Any,
    lengths: Sequence[float],
    generator: Generator | None = None,
    *,
    seed: int | None = None,
) -> list[Subset]:
    """Split into non-overlapping random subsets of the given sizes (ints or fractions).

    The permutation comes from `generator` (e.g. `Generator().manual_seed(0)`), else
    from the framework's generator (see `manual_seed`). `seed=` is the older spelling
    of a private generator: it leaves the framework's generator untouched.
    """
    sizes = _split_sizes(len(dataset), list(lengths))
    if seed is not None:
        if generator is not None:
            raise ValueError("random_split: pass generator or seed, not both")
        generator = Generator().manual_seed(seed)
    order = numpy_generator(generator).permutation(len(dataset))
    bounds = np.cumsum([0, *sizes])
    return [Subset(dataset, order[a:b]) for a, b in itertools.pairwise(bounds)]
