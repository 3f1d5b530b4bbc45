"""The parts of the graph and of the backward pass that hold no state: the order in
which backward visits the nodes, the seed gradient, gradient hooks, the record of one
step, and the error that names an op's input shapes. engine.py runs the walk itself.

Nodes are Tensors (duck-typed: this file imports nothing of the package's above it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .backend import array_module

if TYPE_CHECKING:
    from .engine import Function


def shape_error(op: str, inputs: Sequence[Any], error: Exception) -> Exception:
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


def toposort(roots: Iterable[Any], every_tensor: bool = False,
             inputs_of: Callable[[Any], Sequence[Any]] | None = None) -> list:
    """Nodes that require grad (every tensor, constants too, with every_tensor=True),
    every node after all of its inputs and, among an op's inputs, left to right.
    `inputs_of(ctx)` gives an op's input nodes (default: ctx.parents; the engine
    passes its own once an in-place change has moved a tensor to a new node).

    Iterative depth-first search (an explicit stack, no recursion) so a
    100,000-deep chain works, and each node and edge is visited once.
    """
    order: list = []
    visited: set[int] = set()
    stack = [(root, False) for root in roots]
    push, pop = stack.append, stack.pop
    while stack:
        node, inputs_done = pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        ctx = node.grad_fn
        if ctx is None:  # a leaf: nothing to wait for
            order.append(node)
            continue
        push((node, True))
        parents = ctx.parents if inputs_of is None else inputs_of(ctx)
        for parent in reversed(parents):  # the stack pops the first input first
            if (every_tensor or parent.requires_grad) and id(parent) not in visited:
                push((parent, False))
    return order


def seed_gradient(root: Any, gradient: Any) -> Any:
    """The gradient that starts the backward pass at `root`, checked against it."""
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
        data = root.data  # ones, not ones_like: 1.6 against 2.2 us, once per backward
        return root.wrap(array_module(data).ones(data.shape, dtype=data.dtype))
    if not hasattr(gradient, "grad_fn"):  # an array or a number, not a Tensor
        gradient = root.wrap(array_module(root.data).array(gradient, dtype=root.dtype))
    if tuple(gradient.shape) != tuple(root.shape):
        raise RuntimeError(
            f"backward: gradient has shape {tuple(gradient.shape)} but the output "
            f"has shape {tuple(root.shape)}; they must match"
        )
    return gradient


class BackwardStep:
    """One node of the backward pass, as `backward_walk` yields it.

    - ``node``: the tensor whose gradient is now complete (summed over all its uses);
    - ``op``: the Function that made it (None for a leaf); its ``parents`` are the
      op's inputs;
    - ``upstream``: dL/d(node), after the node's gradient hooks;
    - ``input_grads``: one entry per op input, the gradient the op sends it
      (upstream pushed through the op's backward, already of the input's shape and
      dtype), or None where the input needs none; empty for a leaf;
    - ``rule``: the op's derivative rule (its docstring's first paragraph).
    """

    __slots__ = ("node", "op", "upstream", "input_grads")

    def __init__(self, node: Any, op: Function | None, upstream: Any,
                 input_grads: tuple) -> None:
        self.node = node
        self.op = op
        self.upstream = upstream
        self.input_grads = input_grads

    @property
    def rule(self) -> str:
        return "" if self.op is None else self.op.rule()

    def __repr__(self) -> str:
        op = "leaf" if self.op is None else self.op.name
        return f"BackwardStep({op}, shape={tuple(self.node.shape)})"


def run_grad_hooks(node: Any, grad: Any) -> Any:
    """Tensor.register_hook: each hook sees the gradient and may return a new one."""
    for hook in tuple(node.grad_hooks.values()):
        result = hook(grad)
        if result is not None:
            if not hasattr(result, "grad_fn"):
                raise TypeError(f"gradient hook {hook!r} returned a {type(result).__name__}; "
                                "expected a Tensor or None")
            if tuple(result.shape) != tuple(grad.shape):
                raise RuntimeError(
                    f"gradient hook {hook!r} returned a gradient of shape "
                    f"{tuple(result.shape)} for a tensor of shape {tuple(grad.shape)}"
                )
            grad = result
    return grad
