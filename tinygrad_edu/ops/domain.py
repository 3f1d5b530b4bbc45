"""How an op declares valid test inputs (its domain), without importing hypothesis.

Every primitive has a static method ``domain(pick) -> Sample``. ``pick`` is a
`Picker`: a small vocabulary of random choices (shapes, values kept away from
kinks, axes, ...). tinygrad_edu.testing implements it on top of hypothesis, so
the generic tests can shrink failures, while the ops themselves stay free of
test dependencies.

Most ops need no hand-written domain: `unary_domain`, `binary_domain` and
`reduce_domain` build the usual ones (tinygrad_edu.testing re-exports them)::

    class Softplus(Function):
        ...
        domain = unary_domain(lambda x: Softplus.apply(x))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

Shape = tuple[int, ...]


class Picker(Protocol):
    """The random choices an op's domain may make."""

    def shape(self, min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> Shape:
        """A shape; sides from 1 to max_side."""
        ...

    def broadcastable(self, shape: Shape) -> Shape:
        """A shape that broadcasts with `shape` (fewer dims, size-1 axes, or scalar)."""
        ...

    def values(
        self,
        shape: Shape,
        low: float = -2.0,
        high: float = 2.0,
        avoid: Sequence[float] = (),
        gap: float = 0.05,
    ) -> np.ndarray:
        """float64 values in [low, high], at least `gap` away from each point in `avoid`."""
        ...

    def distinct(self, shape: Shape, low: float = -2.0, high: float = 2.0) -> np.ndarray:
        """float64 values whose pairwise differences are large (no ties for max/min)."""
        ...

    def grid(self, shape: Shape, offset: float = 0.0, step: float = 0.5) -> np.ndarray:
        """float64 values on the lattice offset + k * step in about [-2, 2]; two grids
        with different offsets never produce equal values."""
        ...

    def integer(self, low: int, high: int) -> int:
        """An int in [low, high]."""
        ...

    def boolean(self) -> bool: ...

    def choice(self, options: Sequence[Any]) -> Any: ...

    def permutation(self, n: int) -> tuple[int, ...]: ...

    def axes(self, ndim: int) -> int | tuple[int, ...] | None:
        """A valid `axis` for `ndim` dims: None, an int or a tuple, maybe negative."""
        ...

    def mask(self, shape: Shape) -> np.ndarray:
        """A random boolean array."""
        ...


@dataclass
class Sample:
    """Inputs for one gradcheck: `call(*tensors)` must reach the op through its Tensor binding.

    `inputs` become float64 tensors that require grad; `constants` are passed
    after them unchanged (index arrays, masks, ...).
    """

    inputs: tuple[np.ndarray, ...]
    call: Callable[..., Any]
    constants: tuple[Any, ...] = field(default_factory=tuple)


# -- ready-made domains ------------------------------------------------------
# Each returns a staticmethod, so that `domain = unary_domain(...)` in a class body
# gives the class a `domain(pick)` that takes no self.


def unary_domain(
    call: Callable[[Any], Any], low: float = -2.0, high: float = 2.0,
    avoid: Sequence[float] = (), gap: float = 0.05,
) -> Any:
    """One tensor of any shape, values in [low, high] kept `gap` away from each point
    in `avoid` (the op's kinks: 0 for relu and abs)."""

    def domain(pick: Picker) -> Sample:
        return Sample((pick.values(pick.shape(), low, high, avoid, gap),), call)

    return staticmethod(domain)


def binary_domain(
    call: Callable[[Any, Any], Any],
    scalar_calls: Sequence[Callable[[Any], Any]] = (),
    low: float = -2.0,
    high: float = 2.0,
) -> Any:
    """Two tensors whose shapes broadcast together (either may be the smaller), or,
    with `scalar_calls`, sometimes one tensor combined with a Python number."""

    def domain(pick: Picker) -> Sample:
        if scalar_calls and pick.integer(0, 3) == 0:
            return Sample((pick.values(pick.shape(), low, high),), pick.choice(scalar_calls))
        a = pick.shape()
        b = pick.broadcastable(a)
        if pick.boolean():
            a, b = b, a
        return Sample((pick.values(a, low, high), pick.values(b, low, high)), call)

    return staticmethod(domain)


def reduce_domain(call: Callable[..., Any], distinct: bool = False) -> Any:
    """One tensor and a reduction's arguments: `call(x, axis, keepdims)` with axis None,
    an int or a tuple (maybe negative). `distinct=True` draws values without ties, for
    max and min, which are not differentiable where two elements tie."""

    def domain(pick: Picker) -> Sample:
        shape = pick.shape(min_dims=0, max_dims=3)
        axis = pick.axes(len(shape))
        keepdims = pick.boolean()
        values = pick.distinct(shape) if distinct else pick.values(shape)
        return Sample((values,), lambda x: call(x, axis, keepdims))

    return staticmethod(domain)
