"""DataLoader: the one loader, with PyTorch's arguments and default collate.

Fast path: when the dataset has `get_batch(indices)` (TensorDataset, the in-memory
image datasets, Subsets of those) and the collate is the default one, each batch is
one fancy index into the arrays rather than `batch_size` calls to `__getitem__`.

`num_workers > 0` starts that many threads (not processes) which load the next
`num_workers * prefetch_factor` batches ahead, in order, while the training step runs:
NumPy copies and Pillow decoding release the GIL, so this overlaps loading with
compute. The shuffle order is drawn in the main thread and stays reproducible, but
random transforms then draw from the shared generator in whatever order the threads
run, so augmentations only repeat exactly with num_workers=0. `pin_memory` is
accepted and does nothing: there is only CPU memory.
"""

from __future__ import annotations

import itertools
import numbers
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ...rng import Generator
from .collate import default_collate, default_convert
from .sampler import BatchSampler, RandomSampler, SequentialSampler

# Changing these after construction would silently disagree with the samplers built
# from them, so (as PyTorch) it is refused.
_FROZEN = ("dataset", "batch_size", "drop_last", "sampler", "batch_sampler")


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"DataLoader: {name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"DataLoader: {name} must be at least {low}, got {value}")
    return int(value)


class DataLoader:
    """Iterate over `dataset` in batches (see the module docstring for workers)."""

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Iterable[Any] | None = None,
        batch_sampler: Iterable[Any] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,  # PyTorch's; workers here are threads
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__ (a map-style "
                            f"dataset), got {type(dataset).__name__}")
        num_workers = _check_int("num_workers", num_workers, 0)
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout must be non-negative, got {timeout}")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
            raise ValueError("DataLoader: prefetch_factor and persistent_workers need "
                             "num_workers > 0")
        if batch_size is not None:
            batch_size = _check_int("batch_size", batch_size, 1)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler is mutually exclusive with "
                                 "batch_size, shuffle, sampler and drop_last")
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None turns batching off, so drop_last "
                             "cannot be set")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.shuffle = bool(shuffle)
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = bool(pin_memory)  # nothing to pin on a CPU-only framework
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = (prefetch_factor or 2) if num_workers else None
        self.persistent_workers = bool(persistent_workers)
        self._ready = True

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FROZEN and getattr(self, "_ready", False):
            raise ValueError(f"DataLoader: {name} cannot be changed after the loader is made; "
                             "make a new DataLoader")
        super().__setattr__(name, value)

    def __len__(self) -> int:
        counted = self.batch_sampler if self.batch_sampler is not None else self.sampler
        return len(counted)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        fetch = self._fetcher()
        if self.batch_sampler is None:
            keys: Iterable[Any] = self.sampler
        elif isinstance(self.batch_sampler, BatchSampler):
            keys = self.batch_sampler.index_batches()
        else:
            keys = self.batch_sampler
        if self.num_workers == 0:
            return map(fetch, keys)
        return self._prefetched(fetch, iter(keys))

    def _fetcher(self) -> Callable[[Any], Any]:
        """What turns one key (an index, or a batch of them) into what the loader yields."""
        data = self.dataset
        if self.batch_sampler is None:  # batch_size=None: single samples, not batched
            convert = self.collate_fn or default_convert
            return lambda index: convert(data[index])
        get_batch = getattr(data, "get_batch", None)
        if get_batch is not None and self.collate_fn in (None, default_collate):
            return lambda indices: default_convert(get_batch(np.asarray(indices, dtype=np.intp)))
        collate = self.collate_fn or default_collate
        return lambda indices: collate([data[int(i)] for i in indices])

    def _prefetched(self, fetch: Callable[[Any], Any], keys: Iterator[Any]) -> Iterator[Any]:
        assert self.prefetch_factor is not None
        ids = itertools.count()
        init = self.worker_init_fn
        pool = ThreadPoolExecutor(
            self.num_workers, thread_name_prefix="DataLoader",
            initializer=None if init is None else lambda: init(next(ids)),
        )
        pending: deque[Future[Any]] = deque()
        try:
            for key in itertools.islice(keys, self.num_workers * self.prefetch_factor):
                pending.append(pool.submit(fetch, key))
            while pending:
                batch = pending.popleft().result(timeout=self.timeout or None)
                for key in itertools.islice(keys, 1):
                    pending.append(pool.submit(fetch, key))
                yield batch
        finally:  # also when the consumer stops early: drop the batches not yet started
            pool.shutdown(wait=False, cancel_futures=True)

    def __repr__(self) -> str:
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, "
                f"num_workers={self.num_workers})")
