"""The autodiff engine: the Function base class, grad mode, and the backward pass.

A graph is made of Tensors; every Tensor produced by a differentiable op carries
`grad_fn`, the Function instance that made it. The ctx remembers its input Tensors
(`ctx.parents`) and whatever its forward saved. `backward()` sorts the graph
once, without recursion, and walks it from the output back to the leaves.

This file never imports tensor.py (that would be a cycle): it builds new
Tensors with `x.wrap(array)`, a static method of the Tensors it is handed,
which always makes a plain Tensor (never a subclass such as nn.Parameter).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

# ---------------------------------------------------------------------------
# Grad mode: the only global state of the engine.
# ---------------------------------------------------------------------------

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True when new ops are being recorded for backward."""
    return _grad_enabled


class _GradMode:
    """Context manager and decorator that sets grad mode, restoring it on exit."""

    mode: ClassVar[bool]

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc_info: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Record nothing inside: results do not require grad. Optimizers step under it."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Record ops again inside a no_grad block."""

    mode = True


class _set_grad_enabled(_GradMode):  # noqa: N801
    def __init__(self, mode: bool) -> None:
        self.mode = mode


# ---------------------------------------------------------------------------
# Function: one differentiable primitive.
# ---------------------------------------------------------------------------


class GraphFreedError(RuntimeError):
    """Raised on a second backward through a graph whose saved arrays were freed."""


class Function:
    """Base of every primitive. Subclasses define, side by side:

    - ``forward(ctx, *arrays, **params) -> ndarray`` on NumPy arrays;
    - ``backward(ctx, grad_output) -> Tensor | tuple[Tensor | None, ...]`` with
      Tensor ops, so the backward pass is itself differentiable;
    - ``domain(pick) -> Sample``: valid test inputs (see ops/domain.py).

    The instance is the ``ctx``: it holds the inputs (``parents``), what forward
    saved, and, while its backward runs, the output Tensor (``output``).
    """

    registry: ClassVar[dict[str, type[Function]]] = {}

    __slots__ = ("parents", "needs_input_grad", "_saved", "output", "params")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("_"):  # a shared base such as _Extremum, not an op
            return
        if cls.__name__ in Function.registry:
            raise TypeError(f"op {cls.__name__} is defined twice")
        Function.registry[cls.__name__] = cls

    # -- saving for backward ------------------------------------------------
    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Keep arrays for backward. An input's or the output's own array comes
        back from `saved_tensors` as that Tensor, still connected to the graph,
        so second derivatives flow through it; anything else is a constant."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            self.check_not_freed()
        output, parents = self.output, self.parents
        tensors = []
        for array in self._saved:
            if array is output.data:
                tensors.append(output)
                continue
            for parent in parents:
                if array is parent.data:
                    tensors.append(parent)
                    break
            else:
                tensors.append(output.wrap(array))
        return tuple(tensors)

    def check_not_freed(self) -> None:
        if self._saved is None:
            raise GraphFreedError(
                f"{self.name}: trying to backward through the graph a second "
                "time, but its saved arrays were freed after the first backward. "
                "Pass retain_graph=True to the first backward() if you need to call it twice."
            )

    # -- the two halves every primitive writes ------------------------------
    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_output: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    @property
    def name(self) -> str:
        """Lower-case op name used in error messages and graph drawings."""
        return type(self).__name__.lower()

    @classmethod
    def rule(cls) -> str:
        """The op's derivative rule: the first paragraph of its docstring, on one line.

        The one place that reads a rule; gradcheck's report, graph drawings,
        `explain` and the animation all show this text.
        """
        paragraph = (cls.__doc__ or "").strip().split("\n\n")[0]
        return " ".join(paragraph.split()) or f"{cls.__name__.lower()} (no rule documented)"

    # -- building the graph -------------------------------------------------
    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run forward on the inputs' arrays and, in grad mode, record the op."""
        ctx = cls.__new__(cls)
        ctx._saved = ()
        ctx.params = params
        try:
            if len(inputs) == 2:  # the common case, without building a list
                out_data = ctx.forward(inputs[0].data, inputs[1].data, **params)
            else:
                out_data = ctx.forward(*[t.data for t in inputs], **params)
        except (ValueError, IndexError) as error:
            raise _shape_error(ctx.name, inputs, error) from None
        if type(out_data) is not np.ndarray:
            # ufuncs turn 0-d arrays into NumPy scalars; keep the saved output's identity
            scalar, out_data = out_data, np.asarray(out_data)
            ctx._saved = tuple(out_data if a is scalar else a for a in ctx._saved)
        if _grad_enabled:
            for t in inputs:
                if t.requires_grad:
                    ctx.parents = inputs
                    ctx.needs_input_grad = tuple([t.requires_grad for t in inputs])
                    ctx.output = None
                    return inputs[0].wrap(out_data, ctx)
        return inputs[0].wrap(out_data)


def _shape_error(op: str, inputs: Sequence[Any], error: Exception) -> Exception:
    """NumPy's error again, with the op's name and its input shapes in front."""
    message = str(error).strip()
    if message.startswith(f"{op}:"):  # the op wrote its own clear message
        return error
    shapes = " and ".join(str(tuple(t.shape)) for t in inputs)
    if "broadcast" in message:
        message = (f"shapes {shapes} cannot be broadcast together (on each axis, counting "
                   "from the right, the sizes must match or one must be 1)")
    else:
        message = f"{message} (input shapes: {shapes})"
    return type(error)(f"{op}: {message}")


# ---------------------------------------------------------------------------
# Backward pass
# ---------------------------------------------------------------------------


def toposort(roots: Iterable[Any], every_tensor: bool = False) -> list:
    """Nodes that require grad (every tensor, constants too, with every_tensor=True),
    every node after all of its inputs and, among an op's inputs, left to right.

    Iterative depth-first search (an explicit stack, no recursion) so a
    100,000-deep chain works, and each node and edge is visited once.
    """
    order: list = []
    visited: set[int] = set()
    stack = [(root, False) for root in roots]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node.grad_fn
        if ctx is not None:
            for parent in reversed(ctx.parents):  # the stack pops the first input first
                if (every_tensor or parent.requires_grad) and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def _check_root(root: Any, gradient: Any) -> Any:
    """The gradient to seed `root` with; validates it against the root."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad and has no grad_fn; "
            "create leaves with requires_grad=True (or call .requires_grad_())"
        )
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: output has shape {tuple(root.shape)}; grad can be implicitly "
                "created only for a scalar (one-element) output. Pass gradient= with the "
                "same shape as the output (e.g. y.backward(ones_like(y))) or reduce it "
                "first (y.sum().backward())."
            )
        return root.wrap(np.ones_like(root.data))
    if not hasattr(gradient, "grad_fn"):  # an array or a number, not a Tensor
        gradient = root.wrap(np.array(gradient, dtype=root.dtype))
    if tuple(gradient.shape) != tuple(root.shape):
        raise RuntimeError(
            f"backward: gradient has shape {tuple(gradient.shape)} but the output "
            f"has shape {tuple(root.shape)}; they must match"
        )
    return gradient


def run_backward(
    roots: Sequence[Any],
    gradients: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Any] | None = None,
) -> dict[int, Any]:
    """Propagate `gradients` from `roots` to every node that requires grad.

    With `capture=None` gradients accumulate into leaf `.grad` (and into
    non-leaves that called `retain_grad()`); otherwise the gradients of the
    `capture` tensors are returned by id and no `.grad` is touched.
    """
    grads: dict[int, Any] = {}
    for root, gradient in zip(roots, gradients):
        key = id(root)
        grads[key] = gradient if key not in grads else grads[key] + gradient
    wanted = None if capture is None else {id(t) for t in capture}
    captured: dict[int, Any] = {}
    with _set_grad_enabled(create_graph):
        for node in reversed(toposort(roots)):
            key = id(node)
            grad = grads.pop(key, None)
            if grad is None:
                continue
            ctx = node.grad_fn
            if wanted is not None:
                if key in wanted:
                    captured[key] = grad
            elif ctx is None or node.retains_grad:
                node.grad = grad if node.grad is None else node.grad + grad
            if ctx is None:
                continue
            if ctx._saved is None:
                ctx.check_not_freed()
            ctx.output = node
            input_grads = ctx.backward(grad)
            ctx.output = None
            if not retain_graph:
                ctx._saved = None
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            for parent, parent_grad in zip(ctx.parents, input_grads):
                if parent_grad is None or not parent.requires_grad:
                    continue
                g, p = parent_grad.data, parent.data
                if g.shape != p.shape or g.dtype != p.dtype:
                    parent_grad = _match_parent(ctx, parent, parent_grad)
                key = id(parent)
                previous = grads.get(key)
                grads[key] = parent_grad if previous is None else previous + parent_grad
    return captured


def _match_parent(ctx: Function, parent: Any, grad: Any) -> Any:
    """A gradient must have its input's shape and dtype; a mismatch is a bug in an op."""
    if grad.data.shape != parent.data.shape:
        raise RuntimeError(
            f"{ctx.name}: backward returned a gradient of shape {tuple(grad.shape)} "
            f"for an input of shape {tuple(parent.shape)} (bug in the op's backward)"
        )
    if grad.data.dtype != parent.data.dtype:
        grad = grad.cast(parent.data.dtype)
    return grad


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of `outputs` with respect to `inputs`, returned (not accumulated).

    Like torch.autograd.grad: `grad_outputs` seeds each output (needed for
    non-scalar outputs), `create_graph=True` records the backward pass so the
    result can be differentiated again.
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
        )
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    seeds = [_check_root(o, g) for o, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    captured = run_backward(outputs, seeds, retain_graph, create_graph, capture=inputs)
    result = []
    for i, t in enumerate(inputs):
        g = captured.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {tuple(t.shape)}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
        result.append(g)
    return tuple(result)


def backward(
    tensor: Any,
    gradient: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's `.grad` (Tensor.backward)."""
    seed = _check_root(tensor, gradient)
    if retain_graph is None:
        retain_graph = create_graph
    run_backward((tensor,), (seed,), retain_graph, create_graph)


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)
