"""Check an op you wrote, and hypothesis strategies for your own tests.

Needs the `dev` extra (hypothesis). A student's whole test file::

    from tinygrad_edu.testing import check_op
    from myops import Sin

    def test_sin():
        check_op(Sin)

`check_op` draws inputs from the op's `domain` (built with `unary_domain`,
`binary_domain`, `reduce_domain`, or by hand from a `Picker` and a `Sample`),
gradchecks first and second order, and on a failure reports the smallest input
hypothesis finds and the likely bug. `HypothesisPicker` implements the `Picker`
vocabulary on top of hypothesis, so `op_samples(op)` draws valid inputs for any op.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .engine import Function, toposort
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops.domain import Picker, Sample, Shape, binary_domain, reduce_domain, unary_domain
from .tensor import Tensor, from_numpy

__all__ = [
    "check_op", "Picker", "Sample", "unary_domain", "binary_domain", "reduce_domain",
    "HypothesisPicker", "op_samples", "sample_tensors", "shapes", "broadcastable_to",
    "broadcastable_pairs", "arrays", "tensors", "assert_close",
]


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


# ---------------------------------------------------------------------------
# check_op: the generic check, for built-in ops and for yours.
# ---------------------------------------------------------------------------


def _graph_ops(out: Any) -> set[type]:
    """The op classes recorded in the graph behind `out` (a tensor or a tuple of them)."""
    stack = list(out) if isinstance(out, (tuple, list)) else [out]
    seen: set[int] = set()
    found: set[type] = set()
    while stack:
        t = stack.pop()
        if id(t) in seen or getattr(t, "grad_fn", None) is None:
            continue
        seen.add(id(t))
        found.add(type(t.grad_fn))
        stack.extend(t.grad_fn.parents)
    return found


def _show_inputs(sample: Sample) -> str:
    lines = []
    for i, a in enumerate(sample.inputs):
        a = np.asarray(a)
        lines.append(f"  input {i}, shape {a.shape}: {np.array_repr(a, precision=8)}")
    for i, c in enumerate(sample.constants):
        lines.append(f"  constant {i}: {c!r}")
    return "\n".join(lines)


def _rerouted(call: Any, args: Sequence[Tensor], old: type[Function],
              new: type[Function]) -> Any:
    """`call`, replayed from the graph it records on `args` with every `old` node applied
    as `new` (same inputs, same params): how a domain written with Tensor methods
    (`x * y` reaches the built-in Mul) checks an op that re-implements Mul."""
    out = call(*args)
    outputs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    nodes = [t for t in toposort(outputs) if t.grad_fn is not None]

    def replay(*inputs: Tensor) -> Any:
        # the graph's tensors by id: the originals stay alive in `args` and `nodes`
        made = {id(a): b for a, b in zip(args, inputs)}
        for node in nodes:
            ctx = node.grad_fn
            cls = new if type(ctx) is old else type(ctx)
            parents = [made.get(id(p), p) for p in ctx.parents]
            made[id(node)] = cls.apply(*parents, **ctx.params)
        results = tuple(made.get(id(o), o) for o in outputs)
        return results if isinstance(out, (tuple, list)) else results[0]

    return replay


def on_device(call: Any, device: str) -> Any:
    """`call` run on `device`: its tensor arguments are copied there, its outputs copied
    back. The finite differences of gradcheck then run on host tensors, explicitly,
    while the op's forward and backward run on the device (the copies are the
    differentiable Tensor.to, so first and second derivatives pass through them)."""

    def moved(*args: Tensor) -> Any:
        out = call(*[a.to(device) for a in args])
        outputs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        for i, o in enumerate(outputs):
            if o.device != device and o.device.type != device:
                raise GradcheckError(f"output {i} is on device {o.device}, not on {device}: "
                                     "the op left the device")
        back = tuple(o.to("cpu") for o in outputs)
        return back if isinstance(out, (tuple, list)) else back[0]

    return moved


def _check_sample(op: type[Function], sample: Sample, order: int,
                  replaces: type[Function] | None = None, device: str | None = None) -> None:
    """Gradcheck (order 1) or gradgradcheck (order 2) one sample, on `device` when given;
    any failure becomes a GradcheckError that shows the input."""
    stage = "first order (gradcheck)" if order == 1 else "second order (gradgradcheck)"
    try:
        args = sample_tensors(sample)
        call = sample.call if replaces is None else _rerouted(sample.call, args, replaces, op)
        if device is not None:
            call = on_device(call, device)
        if order == 1 and op not in _graph_ops(call(*args)):
            routed = "" if replaces is None else f" (nor {replaces.__name__})"
            raise GradcheckError(
                f"the domain's call does not use {op.__name__}{routed}, so checking it would "
                f"check something else: make it call the op, e.g. Sample(inputs, lambda x: "
                f"{op.__name__}.apply(x))"
            )
        (gradcheck if order == 1 else gradgradcheck)(call, args)
    except Exception as error:  # whatever goes wrong with the op belongs in the report
        report = str(error) if isinstance(error, GradcheckError) else (
            f"{type(error).__name__}: {error}")
        raise GradcheckError(
            f"check_op({op.__name__}) failed at {stage} on this input (the smallest "
            f"hypothesis found):\n{_show_inputs(sample)}\n{report}"
        ) from None


def check_op(op: type[Function], examples: int = 100, order: int = 2,
             seed: int | None = None, *, replaces: type[Function] | None = None,
             device: str | None = None) -> int:
    """Gradcheck `op` (and with order=2 gradgradcheck it) on `examples` inputs drawn from
    its `domain`; returns how many inputs were checked. With `device` ("standin",
    "cuda") the op runs there (see `on_device`).

    On a failure, hypothesis shrinks the input and an AssertionError (GradcheckError)
    reports the op, the order that failed, the input, the mismatching Jacobian
    entries and the likely bug. seed=None draws the same inputs on every run; pass
    an int to draw others.

    `replaces=Mul` checks an op written to do what the built-in Mul does: in each
    sample's graph every Mul is applied as `op` instead, so a domain that calls Tensor
    methods (`x * y`) reaches `op`; without a domain of its own, `op` uses Mul's."""
    if not (isinstance(op, type) and issubclass(op, Function)):
        raise TypeError(f"check_op: expected an op (a Function subclass), got {op!r}")
    if order not in (1, 2):
        raise ValueError(f"check_op: order must be 1 (gradcheck) or 2 (and gradgradcheck), "
                         f"got {order!r}")
    if examples < 1:
        raise ValueError(f"check_op: examples must be at least 1, got {examples}")
    if replaces is not None and not (isinstance(replaces, type) and issubclass(replaces, Function)):
        raise TypeError(f"check_op: replaces must be an op (a Function subclass), "
                        f"got {replaces!r}")
    domain_of = op if replaces is None or callable(getattr(op, "domain", None)) else replaces
    if not callable(getattr(domain_of, "domain", None)):
        raise GradcheckError(
            f"check_op({op.__name__}): the op declares no domain, so there is nothing to "
            f"draw inputs from; add one to the class, e.g. "
            f"domain = unary_domain(lambda x: {op.__name__}.apply(x))"
        )
    count = 0
    # one pass per order: hypothesis shrinks towards the simplest failing input, and a
    # first-order bug must not hide behind a second-order failure at a simpler input
    for stage in range(1, order + 1):
        try:
            tried = _search(op, examples, seed, stage, replaces, domain_of, device)
        except GradcheckError as failure:  # hypothesis re-raises the shrunk example's error
            raise GradcheckError(str(failure)) from None
        count = count or tried
    return count


def _search(op: type[Function], examples: int, seed: int | None, order: int,
            replaces: type[Function] | None = None,
            domain_of: type[Function] | None = None, device: str | None = None) -> int:
    """Run one order's check on hypothesis-drawn samples; how many were tried."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    count = 0

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
              phases=[p for p in Phase if p is not Phase.explain], print_blob=False)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        nonlocal count
        count += 1
        sample = data.draw(op_samples(domain_of or op))
        _check_sample(op, sample, order, replaces, device)

    if seed is not None:
        check = hypothesis_seed(seed)(check)
    check()
    return count
