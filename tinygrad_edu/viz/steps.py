"""The backward pass, one op at a time, for teaching: `backward_steps` and `explain`.

Both read the engine's own backward walk (`engine.backward_walk`, the one that
`backward()` runs) in its replay mode: no `.grad` is written and the graph's saved
arrays are neither used nor freed (each op's forward runs again on a fresh ctx), so
this works even after `loss.backward()` has freed the graph.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from ..engine import backward_walk, no_grad
from .format import format_array, format_number
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


def _walk(root: Any, gradient: Any, trace: GraphTrace) -> list[BackwardStep]:
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
        for position, (parent, parent_grad) in enumerate(zip(ctx.parents, step.input_grads)):
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
    return _walk(loss, gradient, trace_graph(loss))


# ---------------------------------------------------------------------------
# explain: the chain rule in words and numbers
# ---------------------------------------------------------------------------


def _names(trace: GraphTrace) -> dict[str, str]:
    """A short name for every tensor: the given one, else by op ("mul1") or kind."""
    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    for node in trace.tensors.values():
        if node.name is not None:
            names[node.id] = node.name
            continue
        if node.is_output:
            names[node.id] = "L"
            continue
        op = trace.op_of(node.id)
        stem = op.name if op is not None else ("x" if node.kind == "param" else "c")
        counts[stem] = counts.get(stem, 0) + 1
        names[node.id] = f"{stem}{counts[stem]}"
    return names


def _value(array: Any) -> str:
    array = np.asarray(array)
    return format_number(array.item()) if array.size == 1 else format_array(array)


def _factor(array: Any) -> str:
    """A number inside a product: negative ones in parentheses, 0.5 · (-1)."""
    text = _value(array)
    return f"({text})" if text.startswith("-") else text


def _operand(trace: GraphTrace, names: dict[str, str], node_id: str) -> str:
    node = trace.tensors[node_id]
    if node.name is None and node.kind == "constant" and node.tensor.data.size == 1:
        return format_number(node.tensor.data.item())
    return names[node_id]


@dataclass
class Explanation:
    """The chain rule of a graph in words: an intro, one block of lines per step,
    and the leaves' totals (what explain prints and the animation shows)."""

    trace: GraphTrace
    steps: list[BackwardStep]
    names: dict[str, str]  # tensor id -> the name used in the text
    intro: list[str]
    blocks: list[list[str]]
    summary: list[str]


def chain_rule(loss: Any, params: Any = None, gradient: Any = None) -> Explanation:
    """The backward pass of `loss` as chain-rule lines (see `explain`)."""
    trace = trace_graph(loss, params)
    steps = _walk(loss, gradient, trace)
    names = _names(trace)
    top = names[trace.root]
    contributions: dict[str, list[np.ndarray]] = {}

    def d(node_id: str) -> str:
        return f"d{top}/d{names[node_id]}"

    seed = steps[0].upstream if steps else np.ones_like(loss.data)
    intro = [f"Backward pass of {top}: {len(steps)} op(s), from the output back to the leaves.",
             f"{d(trace.root)} = {_value(seed)}  (the seed)"]
    blocks = []
    for step in steps:
        op = trace.ops[step.op_node]
        args = ", ".join(_operand(trace, names, i) for i in op.inputs)
        lines = [f"step {step.index + 1}: {names[step.node]} = {step.op}({args})",
                 f"  rule: {step.rule}"]
        parts = contributions.get(step.node, [])
        if len(parts) > 1:
            terms = " + ".join(_value(p) for p in parts)
            lines.append(f"  {d(step.node)} = {terms} = {_value(step.upstream)}  "
                         f"(summed over its {len(parts)} uses)")
        for flow in step.inputs:
            contributions.setdefault(flow.node, []).append(flow.grad)
            via = f"d{names[step.node]}/d{names[flow.node]}"
            if flow.local is not None and np.asarray(flow.local).size == 1:
                numbers = (f"{_factor(step.upstream)} · {_factor(flow.local)} = "
                           f"{_value(flow.grad)}")
                lines.append(f"  {d(flow.node)} = {d(step.node)} · {via} = {numbers}")
            else:
                lines.append(f"  {d(flow.node)} = {d(step.node)} pushed back through {step.op} "
                             f"= {_value(flow.grad)}  (shape {tuple(np.shape(flow.grad))})")
        blocks.append(lines)
    summary = []
    for node in trace.tensors.values():
        if node.kind != "param" or node.id not in contributions:
            continue
        parts = contributions[node.id]
        total = _value(np.sum(parts, axis=0))
        text = " + ".join(_value(p) for p in parts) + f" = {total}" if len(parts) > 1 else total
        summary.append(f"  {d(node.id)} = {text}")
    if summary:
        summary.insert(0, "Gradients of the leaves (what backward() puts in .grad):")
    return Explanation(trace, steps, names, intro, blocks, summary)


def explain(loss: Any, params: Any = None, gradient: Any = None,
            file: TextIO | None = None) -> None:
    """Print the backward pass of a small graph as chain-rule steps with numbers, e.g.
    ``dL/dw1 = dL/dz · dz/dw1 = 0.25 · 3 = 0.75``.

    `params` names tensors (a model, or a dict {name: tensor} for any tensor of the
    graph); unnamed ones are called after their op (mul1, add1, ...), the output L.
    Tensors with more than one element are shown in full when small, else summarized.
    Nothing of the graph or of any `.grad` changes.
    """
    out = file if file is not None else sys.stdout
    text = chain_rule(loss, params, gradient)
    print("\n".join(text.intro), file=out)
    for lines in text.blocks:
        print("\n" + "\n".join(lines), file=out)
    if text.summary:
        print("\n" + "\n".join(text.summary), file=out)
