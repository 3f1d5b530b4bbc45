"""torch.autograd's names, and the two consumers of the engine's backward walk that
users call: `grad` (gradients returned) and `backward` (gradients accumulated in `.grad`).

The walk itself is `engine.backward_walk`; viz consumes it too. Code written against
`torch.autograd` finds `Function`, `grad` and `backward` here.
"""

from __future__ import annotations

from typing import Any

from .engine import (
    BackwardStep,
    Function,
    GraphFreedError,
    backward_walk,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    named_scope,
    no_grad,
    set_grad_enabled,
)
from .memory import use_default_memory
from .threads import use_default_threads


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of `outputs` with respect to `inputs`, returned (not accumulated).

    Like torch.autograd.grad: `grad_outputs` seeds each output (needed for
    non-scalar outputs), `create_graph=True` records the backward pass so the
    result can be differentiated again. `only_inputs` is ignored, as in PyTorch,
    which deprecated it; it is here so that allow_unused sits where PyTorch has it.
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
    if retain_graph is None:
        retain_graph = create_graph
    wanted = {id(t): i for i, t in enumerate(inputs)}
    result: list = [None] * len(inputs)
    for step in backward_walk(outputs, grad_outputs, retain_graph, create_graph):
        position = wanted.get(id(step.node))
        if position is not None:
            result[position] = step.upstream
    for i, t in enumerate(inputs):
        if result[i] is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {tuple(t.shape)}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
    return tuple(result)


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate the gradients of `tensors` (one or a sequence) into every leaf's
    `.grad`, and into non-leaves that called `retain_grad()` (Tensor.backward and
    torch.autograd.backward); `grad_tensors` seeds each non-scalar output."""
    roots = _as_tuple(tensors)
    seeds = (None,) * len(roots) if grad_tensors is None else _as_tuple(grad_tensors)
    if len(seeds) != len(roots):
        raise ValueError(f"backward: got {len(seeds)} grad_tensors for {len(roots)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    use_default_threads()  # one BLAS thread unless the user chose (threads.py says why)
    use_default_memory()  # keep freed arrays' memory for the next step (memory.py)
    stored: set[int] = set()
    for step in backward_walk(roots, seeds, retain_graph, create_graph, every_step=False):
        node, grad = step.node, step.upstream
        if node.grad is None:
            # each .grad gets memory of its own (add's backward hands one gradient to
            # both inputs), so that changing one .grad in place leaves the others be
            if id(grad) in stored or grad.data.base is not None:
                with set_grad_enabled(create_graph):
                    grad = grad.clone()
            stored.add(id(grad))
            node.grad = grad
        else:
            with set_grad_enabled(create_graph):
                node.grad = node.grad + grad


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


__all__ = [
    "Function", "grad", "backward", "backward_walk", "BackwardStep", "GraphFreedError",
    "no_grad", "enable_grad", "inference_mode", "named_scope", "set_grad_enabled",
    "is_grad_enabled",
]
