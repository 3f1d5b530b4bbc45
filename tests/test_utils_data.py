"""Tests for tinygrad_edu.utils.data: datasets, random_split, samplers, default collate
and the one DataLoader (compared with torch.utils.data where torch is installed)."""

from __future__ import annotations

import threading
from collections import namedtuple

import numpy as np
import pytest
from mnist_5k import MNIST_5K, needs_5k

import tinygrad_edu
from tinygrad_edu.rng import Generator
from tinygrad_edu.tensor import Tensor, from_numpy
from tinygrad_edu.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)

Point = namedtuple("Point", "x y")


class Squares(Dataset):
    """A plain map-style dataset: item i is (i as float32 vector, i * i)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return np.full(2, i, np.float32), i * i


def xy(n: int = 10) -> TensorDataset:
    return TensorDataset(from_numpy(np.arange(n * 3, dtype=np.float32).reshape(n, 3)),
                         from_numpy(np.arange(n)))


def labels(loader) -> list[int]:
    return [int(v) for _, y in loader for v in y.data]


# --------------------------------------------------------------- datasets ----


def test_tensor_dataset_items_and_errors():
    ds = xy(4)
    x, y = ds[2]
    assert isinstance(x, Tensor) and x.data.tolist() == [6, 7, 8] and y.item() == 2
    assert len(ds) == 4 and len(TensorDataset(np.zeros((5, 2)))) == 5  # arrays accepted
    with pytest.raises(ValueError, match=r"dimensions must match, got shapes \(4, 3\), \(5,\)"):
        TensorDataset(np.zeros((4, 3)), np.zeros(5))
    with pytest.raises(TypeError, match="argument 1 must be a Tensor"):
        TensorDataset(np.zeros(3), [1, 2, 3])
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_subset_concat_and_add():
    sub = Subset(Squares(10), [7, 2])
    assert len(sub) == 2 and sub[0][1] == 49 and sub[-1][1] == 4
    with pytest.raises(IndexError, match="index 2 is out of range for 2 samples"):
        sub[2]
    both = Squares(3) + Squares(2)
    assert isinstance(both, ConcatDataset) and len(both) == 5
    assert [both[i][1] for i in range(5)] == [0, 1, 4, 0, 1] and both[-1][1] == 1
    assert both.cumulative_sizes == [3, 5]
    with pytest.raises(TypeError, match="dataset 1"):
        ConcatDataset([Squares(1), 5])


def test_random_split_sizes_match_pytorch():
    torch = pytest.importorskip("torch")
    for n, lengths in [(10, [0.3, 0.7]), (101, [0.7, 0.2, 0.1]), (7, [0.5, 0.5]), (5, [2, 3])]:
        ours = [len(s) for s in random_split(range(n), lengths)]
        theirs = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
        assert ours == theirs, (n, lengths)


def test_random_split_generator_is_reproducible_and_private():
    tinygrad_edu.manual_seed(5)
    before = tinygrad_edu.rng.generator().bit_generator.state
    a = random_split(range(20), [5, 15], generator=Generator().manual_seed(0))
    b = random_split(range(20), [5, 15], generator=Generator().manual_seed(0))
    c = random_split(range(20), [5, 15], generator=Generator().manual_seed(1))
    assert tinygrad_edu.rng.generator().bit_generator.state == before
    assert a[0].indices.tolist() == b[0].indices.tolist() != c[0].indices.tolist()
    assert sorted(np.concatenate([a[0].indices, a[1].indices]).tolist()) == list(range(20))
    np.testing.assert_array_equal(random_split(range(20), [5, 15], seed=0)[1].indices,
                                  a[1].indices)
    with pytest.raises(ValueError, match="generator or seed, not both"):
        random_split(range(4), [2, 2], Generator(), seed=1)
    with pytest.raises(TypeError, match="seed must be an int"):
        Generator().manual_seed(1.5)
    with pytest.warns(UserWarning, match="split 1 is empty"):
        random_split(range(2), [0.95, 0.05])


# ---------------------------------------------------------------- collate ----


def test_default_collate_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    samples = [
        (np.full((2, 2), i, np.float64), i, 0.5 * i, i % 2 == 0, f"s{i}",
         {"a": np.float32(i), "b": [i, i + 1]}, Point(i, np.int32(i)))
        for i in range(3)
    ]
    ours, theirs = default_collate(samples), torch_collate(samples)

    def same(a, b):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, Tensor), (a, b)
            assert a.dtype == np.dtype(str(b.dtype).removeprefix("torch.")), (a.dtype, b.dtype)
            np.testing.assert_array_equal(a.data, b.numpy())
        elif isinstance(b, dict):
            assert type(a) is type(b) and a.keys() == b.keys()
            for k in b:
                same(a[k], b[k])
        elif isinstance(b, list | tuple):
            assert type(a) is type(b) and len(a) == len(b)
            for u, v in zip(a, b):
                same(u, v)
        else:
            assert a == b

    same(ours, theirs)
    assert type(ours) is list and type(ours[-1]) is Point


def test_default_collate_errors_name_positions_and_shapes():
    with pytest.raises(RuntimeError, match=r"cannot stack sample\[0\]: position 0 has shape "
                                           r"\(2,\) but position 2 has shape \(3,\)"):
        default_collate([(np.zeros(2), 0), (np.zeros(2), 1), (np.zeros(3), 2)])
    with pytest.raises(RuntimeError, match="same number of fields"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match=r"sample\['k'\] 0 is a int but sample\['k'\] 1 is a str"):
        default_collate([{"k": 1}, {"k": "x"}])
    with pytest.raises(TypeError, match="found object at sample"):
        default_collate([object()])
    assert default_collate([(np.zeros(1), None)] * 2)[1] is None  # unlabeled data
    stacked = default_collate([Tensor([1.0], requires_grad=True), Tensor([2.0])])
    assert stacked.requires_grad and stacked.shape == (2, 1)  # the graph is kept


# ------------------------------------------------------------- DataLoader ----


def test_loader_len_drop_last_and_attributes():
    loader = DataLoader(Squares(10), batch_size=4)
    assert len(loader) == 3 and [len(y) for _, y in loader] == [4, 4, 2]
    assert loader.batch_size == 4 and isinstance(loader.dataset, Squares)
    dropping = DataLoader(Squares(10), batch_size=4, drop_last=True)
    assert len(dropping) == 2 and [len(y) for _, y in dropping] == [4, 4]
    x, y = next(iter(loader))
    assert x.dtype == np.float32 and y.dtype == np.int64 and y.data.tolist() == [0, 1, 4, 9]
    with pytest.raises(ValueError, match="cannot be changed"):
        loader.batch_size = 8
    assert DataLoader(Squares(3), pin_memory=True).pin_memory  # accepted: no-op on CPU


def test_fast_path_equals_item_by_item():
    ds = xy(11)
    tinygrad_edu.manual_seed(7)
    fast = list(DataLoader(ds, batch_size=4, shuffle=True))
    tinygrad_edu.manual_seed(7)
    slow = list(DataLoader(ds, batch_size=4, shuffle=True, collate_fn=lambda b: default_collate(b)))
    assert len(fast) == len(slow) == 3
    for f, s in zip(fast, slow):
        assert type(f) is type(s) is list
        for a, b in zip(f, s):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a.data, b.data)


def test_shuffle_seeded_by_manual_seed_or_generator():
    loader = DataLoader(xy(30), batch_size=7, shuffle=True)
    tinygrad_edu.manual_seed(1)
    first, second = labels(loader), labels(loader)
    tinygrad_edu.manual_seed(1)
    assert labels(loader) == first and first != second and sorted(first) == list(range(30))
    own = DataLoader(xy(30), batch_size=7, shuffle=True, generator=Generator().manual_seed(3))
    again = DataLoader(xy(30), batch_size=7, shuffle=True, generator=Generator().manual_seed(3))
    assert labels(own) == labels(again)


def test_samplers_and_batch_size_none():
    assert list(BatchSampler(SequentialSampler(range(5)), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(iter(range(5)), 2, True)) == [[0, 1], [2, 3]]
    picked = DataLoader(Squares(10), batch_size=2, sampler=SubsetRandomSampler([1, 3, 5]))
    assert sorted(labels(picked)) == [1, 9, 25] and len(picked) == 2
    by_batches = DataLoader(Squares(10), batch_sampler=[[3, 1], [0]])
    assert [y.data.tolist() for _, y in by_batches] == [[9, 1], [0]] and len(by_batches) == 2
    singles = list(DataLoader(Squares(3), batch_size=None))
    assert isinstance(singles[0][0], Tensor) and singles[0][0].shape == (2,)
    assert singles[2][1] == 4  # numbers are not batched, as PyTorch's default_convert
    draws = RandomSampler(range(4), replacement=True, num_samples=50,
                          generator=Generator().manual_seed(0))
    assert len(list(draws)) == 50 and set(draws) <= {0, 1, 2, 3}


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an int"),
        ({"sampler": [0, 1], "shuffle": True}, ValueError, "mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler is mutually"),
        ({"batch_size": None, "drop_last": True}, ValueError, "drop_last cannot be set"),
        ({"num_workers": -1}, ValueError, "num_workers must be at least 0"),
        ({"prefetch_factor": 4}, ValueError, "need num_workers > 0"),
    ],
)
def test_loader_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(Squares(4), **kwargs)


class Slow(Dataset):
    """Records which threads read it, to show workers load ahead."""

    def __init__(self, n: int) -> None:
        self.n, self.threads = n, set()

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        self.threads.add(threading.current_thread().name)
        return np.full(1, i), i


def test_worker_threads_keep_order_and_stop_cleanly():
    ds = Slow(50)
    seen = []
    loader = DataLoader(ds, batch_size=4, num_workers=3, worker_init_fn=seen.append)
    assert labels(loader) == list(range(50))
    assert all(name.startswith("DataLoader") for name in ds.threads)
    assert sorted(seen) == list(range(len(seen))) and 1 <= len(seen) <= 3
    it = iter(loader)
    next(it)
    it.close()  # stopping early shuts the pool down
    broken = DataLoader(Squares(8), batch_size=2, num_workers=2,
                        collate_fn=lambda b: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        next(iter(broken))


@needs_5k
def test_mnist_batches_are_as_before():
    from tinygrad_edu.data import MNIST

    ds = MNIST(MNIST_5K, train=False, download=False)
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert x.shape == (5, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x.data, np.stack([ds[i][0] for i in range(5)]))
    assert y.data.tolist() == [ds[i][1] for i in range(5)]
    sub = random_split(ds, [0.5, 0.5], generator=Generator().manual_seed(0))[0]
    xs, ys = next(iter(DataLoader(sub, batch_size=3)))
    assert ys.data.tolist() == [ds[int(i)][1] for i in sub.indices[:3]]
