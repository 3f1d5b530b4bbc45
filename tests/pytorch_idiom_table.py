"""The machinery of the idiom tables (test_pytorch_idioms*.py): each idiom is a function
of the library module (`tg` is tinygrad_edu or torch) returning plain values (tensors,
numbers, lists, tuples of them); `check` runs it on both libraries and compares value,
shape and dtype. Without torch, an idiom only has to run on tinygrad_edu."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu

HAVE_TORCH = importlib.util.find_spec("torch") is not None

A = np.arange(12, dtype=np.float32).reshape(3, 4) / 4 - 1  # values in [-1, 1.75]
B = np.array([[0.5, -2.0, 3.0], [1.5, 0.25, -1.0]], dtype=np.float32)
LABELS = np.array([2, 0, 1, 2], dtype=np.int64)

Idiom = Callable[[Any], Any]


def registry() -> tuple[dict[str, Idiom], Callable[[Idiom], Idiom]]:
    """A table of idioms and the decorator that adds a function to it by name."""
    idioms: dict[str, Idiom] = {}

    def idiom(fn: Idiom) -> Idiom:
        idioms[fn.__name__] = fn
        return fn

    return idioms, idiom


def t(tg: Any, array: np.ndarray, **kwargs: Any) -> Any:
    return tg.tensor(array.copy(), **kwargs)


def cases(idioms: dict[str, Idiom], gaps: dict[str, str]) -> list[Any]:
    """Parameters for the table; known gaps are strict expected failures, so the marker
    must go when the gap is filled."""
    return [pytest.param(name, marks=pytest.mark.xfail(reason=gaps[name], strict=True,
                                                        raises=(AttributeError, TypeError)))
            if name in gaps else name for name in sorted(idioms)]


def check(fn: Idiom) -> None:
    ours = plain(fn(tinygrad_edu))
    assert ours is not None
    if HAVE_TORCH:
        import torch

        assert_same(ours, plain(fn(torch)))


def plain(value: Any) -> Any:
    """Library values as NumPy/Python ones: tensors to arrays, devices and shapes to text."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    if type(value).__name__ == "Size":
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value) if not hasattr(value, "_fields") \
            else tuple(plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def assert_same(ours: Any, theirs: Any, where: str = "result") -> None:
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)), f"{where}: {type(ours)} vs a sequence"
        assert len(ours) == len(theirs), f"{where}: {len(ours)} items vs {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{where}: {type(ours).__name__} vs an array"
        assert ours.shape == theirs.shape, f"{where}: shape {ours.shape} vs {theirs.shape}"
        assert ours.dtype == theirs.dtype, f"{where}: dtype {ours.dtype} vs {theirs.dtype}"
        np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64),
                                   rtol=1e-5, atol=1e-6, err_msg=where)
    elif isinstance(theirs, float):
        assert isinstance(ours, float), f"{where}: {type(ours).__name__} vs float"
        assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-6), where
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{where}: {ours!r} vs {theirs!r}"
