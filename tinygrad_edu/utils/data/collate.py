"""PyTorch's default collate: a list of samples becomes one batch of the same structure.

Tensors and NumPy arrays are stacked into a Tensor (dtype kept); Python ints become
int64, Python floats float64 and bools bool tensors; strings stay lists; tuples, lists,
dicts and namedtuples are collated field by field (tuples come back as lists, as
PyTorch). One extension: a field that is None in every sample (an unlabeled dataset's
label) stays None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...tensor import Tensor, from_numpy, stack

_TYPE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
               "lists; found {} at {}")


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch (see the module docstring)."""
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    return _collate(batch, "sample")


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _string_array(array: np.ndarray) -> bool:
    return array.dtype.kind in "SUOV"


def _collate(batch: Sequence[Any], where: str) -> Any:
    elem = batch[0]
    if isinstance(elem, Tensor | np.ndarray):
        return _stack(batch, where)
    if isinstance(elem, np.generic) and not _string_array(np.asarray(elem)):
        return from_numpy(np.asarray(batch))  # NumPy scalars keep their dtype
    if isinstance(elem, bool | int | float):
        for i, b in enumerate(batch):
            if not isinstance(b, bool | int | float):
                raise TypeError(f"default_collate: {where} 0 is a {type(elem).__name__} but "
                                f"{where} {i} is a {type(b).__name__}")
        return from_numpy(_numbers(batch))
    if isinstance(elem, str | bytes):
        return batch  # as given: a field of tuple samples comes back a tuple, as PyTorch
    if elem is None:
        if any(b is not None for b in batch):
            raise TypeError(f"default_collate: {where} is None in some samples but not in "
                            "others")
        return None
    if isinstance(elem, Mapping):
        keys = list(elem)
        for i, b in enumerate(batch):
            if not isinstance(b, Mapping) or set(b) != set(keys):
                got = sorted(b) if isinstance(b, Mapping) else type(b).__name__
                raise TypeError(f"default_collate: {where} of sample 0 has keys {sorted(keys)} "
                                f"but sample {i} has {got}")
        out = {k: _collate([b[k] for b in batch], f"{where}[{k!r}]") for k in keys}
        try:
            return type(elem)(out)  # type: ignore[call-arg]  # dict subclasses take a dict
        except TypeError:  # a Mapping type that cannot be built from a dict
            return out
    if isinstance(elem, tuple | list):
        for i, b in enumerate(batch):
            if not isinstance(b, tuple | list) or len(b) != len(elem):
                got = f"{len(b)} fields" if isinstance(b, tuple | list) else type(b).__name__
                raise RuntimeError(f"default_collate: each sample must have the same number of "
                                   f"fields: {where} 0 has {len(elem)}, {where} {i} has {got}")
        fields = [_collate(col, f"{where}[{j}]") for j, col in enumerate(zip(*batch))]
        return type(elem)(*fields) if _is_namedtuple(elem) else fields
    raise TypeError(_TYPE_ERROR.format(type(elem).__name__, where))


def _numbers(batch: Sequence[Any]) -> np.ndarray:
    """As torch.tensor(batch): bools stay bool, ints int64; a float among ints makes the
    batch float32 (PyTorch's default dtype), but Python floats first give float64."""
    array = np.asarray(batch)
    if isinstance(batch[0], float):
        return array.astype(np.float64, copy=False)
    return array.astype({"b": np.bool_, "i": np.int64}.get(array.dtype.kind, np.float32),
                        copy=False)


def _stack(batch: Sequence[Any], where: str) -> Tensor:
    arrays = []
    for i, b in enumerate(batch):
        if not isinstance(b, Tensor | np.ndarray):
            raise TypeError(f"default_collate: {where} 0 is a {type(batch[0]).__name__} but "
                            f"{where} {i} is a {type(b).__name__}")
        arrays.append(b.data if isinstance(b, Tensor) else b)
    shapes = [a.shape for a in arrays]
    if any(s != shapes[0] for s in shapes):
        bad = next(i for i, s in enumerate(shapes) if s != shapes[0])
        raise RuntimeError(
            f"default_collate: cannot stack {where}: position 0 has shape {shapes[0]} but "
            f"position {bad} has shape {shapes[bad]} (all shapes: {shapes}); make the "
            "samples the same size (e.g. a Resize transform) or pass a collate_fn"
        )
    if _string_array(arrays[0]):
        raise TypeError(_TYPE_ERROR.format(f"an array of dtype {arrays[0].dtype}", where))
    if any(isinstance(b, Tensor) and b.requires_grad for b in batch):
        return stack([b if isinstance(b, Tensor) else from_numpy(b) for b in batch])
    return from_numpy(np.stack(arrays))


def default_convert(data: Any) -> Any:
    """Arrays to Tensors, recursively, without batching (batch_size=None, and the
    results of a dataset's get_batch)."""
    if isinstance(data, np.ndarray | np.generic) and not _string_array(np.asarray(data)):
        return from_numpy(np.asarray(data))
    if isinstance(data, Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(out)  # type: ignore[call-arg]
        except TypeError:
            return out
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple | list):
        return [default_convert(d) for d in data]
    return data
