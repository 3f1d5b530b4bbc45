"""Hypothesis strategies and assertion helpers, for our tests and for yours.

Needs the `dev` extra (hypothesis). The central piece is `HypothesisPicker`,
which implements the `Picker` vocabulary the ops use to declare their domains,
so `op_samples(op)` draws valid inputs for any registered op.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .engine import Function
from .ops.domain import Sample, Shape
from .tensor import Tensor, from_numpy


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    """Shapes with sides from 1 to max_side (a scalar shape () when min_dims=0)."""
    return st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def broadcastable_to(draw: Any, shape: Shape) -> Shape:
    """A shape that broadcasts with `shape`: a suffix of it, with some axes set to 1."""
    keep = draw(st.integers(0, len(shape)))
    suffix = shape[len(shape) - keep:]
    return tuple(1 if draw(st.booleans()) else side for side in suffix)


def broadcastable_pairs(max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    """Pairs of shapes that broadcast together, in either order."""

    @st.composite
    def pair(draw: Any) -> tuple[Shape, Shape]:
        a = draw(shapes(0, max_dims, max_side))
        b = draw(broadcastable_to(a))
        return (b, a) if draw(st.booleans()) else (a, b)

    return pair()


@st.composite
def arrays(draw: Any, shape: Shape, low: float = -2.0, high: float = 2.0,
           avoid: Sequence[float] = (), gap: float = 0.05) -> np.ndarray:
    """float64 arrays in [low, high] whose entries stay `gap` away from each point in `avoid`."""
    size = int(np.prod(shape, dtype=np.int64))
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if avoid:
        elements = elements.filter(lambda v: all(abs(v - a) >= gap for a in avoid))
    values = draw(st.lists(elements, min_size=size, max_size=size))
    return np.array(values, dtype=np.float64).reshape(shape)


def tensors(shape: Shape, low: float = -2.0, high: float = 2.0, requires_grad: bool = True,
            dtype: Any = np.float64) -> st.SearchStrategy:
    """Tensors of `shape` with values in [low, high]."""
    return arrays(shape, low, high).map(
        lambda a: Tensor(a, dtype=dtype, requires_grad=requires_grad)
    )


class HypothesisPicker:
    """The Picker protocol of ops/domain.py, drawing every choice from hypothesis."""

    def __init__(self, draw: Any) -> None:
        self._draw = draw

    def shape(self, min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> Shape:
        return self._draw(shapes(min_dims, max_dims, max_side))

    def broadcastable(self, shape: Shape) -> Shape:
        return self._draw(broadcastable_to(shape))

    def values(self, shape: Shape, low: float = -2.0, high: float = 2.0,
               avoid: Sequence[float] = (), gap: float = 0.05) -> np.ndarray:
        return self._draw(arrays(shape, low, high, avoid, gap))

    def distinct(self, shape: Shape, low: float = -2.0, high: float = 2.0) -> np.ndarray:
        size = int(np.prod(shape, dtype=np.int64))
        order = np.array(self._draw(st.permutations(range(size))), dtype=np.float64)
        return (low + (high - low) * (order + 0.5) / max(size, 1)).reshape(shape)

    def grid(self, shape: Shape, offset: float = 0.0, step: float = 0.5) -> np.ndarray:
        size = int(np.prod(shape, dtype=np.int64))
        ks = self._draw(st.lists(st.integers(-4, 4), min_size=size, max_size=size))
        return (np.array(ks, dtype=np.float64) * step + offset).reshape(shape)

    def integer(self, low: int, high: int) -> int:
        return self._draw(st.integers(low, high))

    def boolean(self) -> bool:
        return self._draw(st.booleans())

    def choice(self, options: Sequence[Any]) -> Any:
        return self._draw(st.sampled_from(list(options)))

    def permutation(self, n: int) -> tuple[int, ...]:
        return tuple(self._draw(st.permutations(range(n))))

    def axes(self, ndim: int) -> int | tuple[int, ...] | None:
        if ndim == 0:
            return None
        kind = self.choice(("none", "int", "tuple"))
        if kind == "none":
            return None
        if kind == "int":
            return self.integer(-ndim, ndim - 1)
        chosen = self._draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim))
        return tuple(sorted(chosen))

    def mask(self, shape: Shape) -> np.ndarray:
        size = int(np.prod(shape, dtype=np.int64))
        bits = self._draw(st.lists(st.booleans(), min_size=size, max_size=size))
        return np.array(bits, dtype=bool).reshape(shape)


def op_samples(op: type[Function]) -> st.SearchStrategy:
    """Samples (inputs and the call that reaches `op`) drawn from the op's domain."""

    @st.composite
    def sample(draw: Any) -> Sample:
        return op.domain(HypothesisPicker(draw))

    return sample()


def sample_tensors(sample: Sample) -> tuple[Tensor, ...]:
    """A sample's inputs as float64 leaves that require grad, followed by its constants."""
    leaves = tuple(Tensor(a, dtype=np.float64, requires_grad=True) for a in sample.inputs)
    return leaves + tuple(from_numpy(np.asarray(c)) for c in sample.constants)


def assert_close(actual: Any, expected: Any, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Tensors, arrays or numbers agree elementwise (shapes included)."""
    a = actual.data if isinstance(actual, Tensor) else np.asarray(actual)
    e = expected.data if isinstance(expected, Tensor) else np.asarray(expected)
    if a.shape != e.shape:
        raise AssertionError(f"shapes differ: {a.shape} vs expected {e.shape}")
    np.testing.assert_allclose(a, e, atol=atol, rtol=rtol)
