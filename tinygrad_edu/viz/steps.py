"""The backward pass, one op at a time, for teaching: `backward_steps` (explain.py
puts it in words).

It reads the engine's own backward walk (`engine.backward_walk`, the one that
`backward()` runs) in its replay mode: no `.grad` is written and the graph's saved
arrays are neither used nor freed (each op's forward runs again on a fresh ctx), so
this works even after `loss.backward()` has freed the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine import backward_walk, inputs_of, no_grad
from .trace import GraphTrace, trace_graph


@dataclass(frozen=True)
class GradFlow:
    """The gradient one op sends to one of its inputs."""

    node: str  # id of the input tensor in trace_graph's numbering
    tensor: Any  # the input tensor itself
    position: int  # which input of the op
    grad: np.ndarray  # dL/d(input) along this path: upstream pushed through the op
    local: np.ndarray | None  # d(output)/d(input) when the output is a scalar, else None


@dataclass(frozen=True)
class BackwardStep:
    """One op processed by the backward pass."""

    index: int  # 0, 1, ...: the order in which backward processes the ops
    node: str  # id of the op's output tensor, whose gradient is now complete
    op_node: str  # id of the op
    op: str  # the op's name, e.g. "mul"
    rule: str  # the op's derivative rule (its docstring)
    output: Any  # the output tensor
    upstream: np.ndarray  # dL/d(output), summed over all its uses
    inputs: tuple[GradFlow, ...]  # one per input that requires grad


def walk_steps(root: Any, gradient: Any, trace: GraphTrace) -> list[BackwardStep]:
    """The engine's backward walk, replayed (nothing of the user's graph is read or
    freed), with trace ids and, for scalar outputs, each local derivative."""
    steps: list[BackwardStep] = []
    for step in backward_walk([root], [gradient], replay=True):
        ctx, node = step.op, step.node
        if ctx is None:
            continue
        local = None
        if node.data.size == 1:  # d(output)/d(input) is then a plain array
            with no_grad():
                local = ctx.input_grads(node.wrap(np.ones_like(node.data)), node)
        flows = []
        for position, (parent, parent_grad) in enumerate(zip(inputs_of(ctx), step.input_grads)):
            if parent_grad is None:
                continue
            local_grad = None if local is None else local[position].data
            flows.append(GradFlow(
                node=trace.id_of(parent), tensor=parent, position=position,
                grad=parent_grad.data, local=local_grad,
            ))
        node_id = trace.id_of(node)
        steps.append(BackwardStep(
            index=len(steps), node=node_id, op_node="op" + node_id[1:], op=ctx.name,
            rule=step.rule, output=node, upstream=step.upstream.data, inputs=tuple(flows),
        ))
    return steps


def backward_steps(loss: Any, gradient: Any = None) -> list[BackwardStep]:
    """The backward pass of `loss` as an ordered list of steps, without running it.

    Step k processes one op: its output's complete upstream gradient dL/d(output),
    the op's derivative rule and, for each input that requires grad, the gradient it
    sends there. Gradients from several uses of a tensor add up before its step.
    Node ids match `trace_graph(loss)` and `draw_graph(loss)`. `gradient` seeds a
    non-scalar output, as in `loss.backward(gradient)`. Nothing of the graph or of
    any `.grad` is changed.
    """
    return walk_steps(loss, gradient, trace_graph(loss))
