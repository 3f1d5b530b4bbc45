"""The backward pass, one op at a time, for teaching: `backward_steps` and `explain`.

The walk mirrors engine.run_backward (same topological order, same gradient
accumulation) but touches nothing of the user's: no `.grad` is written and the
graph's saved arrays are neither used nor freed. Each op's forward is replayed on a
fresh ctx to get the arrays its backward needs, so this works even after
`loss.backward()` has freed the graph.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from ..engine import _check_root, _match_parent, no_grad, toposort
from .format import format_array, format_number
from .trace import GraphTrace, derivative_rule, trace_graph


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


def _replay(ctx: Any, output: Any) -> Any:
    """A fresh ctx of the same op with what its forward saves, so that backward can
    run without reading (or freeing) the user's saved arrays."""
    shadow = type(ctx).__new__(type(ctx))
    shadow._saved = ()
    shadow.params = ctx.params
    out = shadow.forward(*[p.data for p in ctx.parents], **ctx.params)
    # saved copies of the output are the output tensor itself (as Function.apply does)
    shadow._saved = tuple(output.data if a is out else a for a in shadow._saved)
    shadow.parents = ctx.parents
    shadow.needs_input_grad = ctx.needs_input_grad
    shadow.output = output
    return shadow


def _input_grads(shadow: Any, grad: Any) -> tuple:
    grads = shadow.backward(grad)
    return grads if type(grads) is tuple else (grads,)


def _walk(root: Any, gradient: Any, trace: GraphTrace) -> list[BackwardStep]:
    seed = _check_root(root, gradient)
    grads: dict[int, Any] = {id(root): seed}
    steps: list[BackwardStep] = []
    with no_grad():
        for node in reversed(toposort([root])):
            grad = grads.pop(id(node), None)
            ctx = node.grad_fn
            if grad is None or ctx is None:
                continue
            shadow = _replay(ctx, node)
            sent = _input_grads(shadow, grad)
            local = None
            if node.data.size == 1:  # d(output)/d(input) is then a plain array
                local = _input_grads(shadow, node.wrap(np.ones_like(node.data)))
            flows = []
            for position, (parent, parent_grad) in enumerate(zip(ctx.parents, sent)):
                if parent_grad is None or not parent.requires_grad:
                    continue
                parent_grad = _match_parent(ctx, parent, parent_grad)
                previous = grads.get(id(parent))
                grads[id(parent)] = parent_grad if previous is None else previous + parent_grad
                if local is not None:
                    local_grad = _match_parent(ctx, parent, local[position]).data
                flows.append(GradFlow(
                    node=trace.id_of(parent), tensor=parent, position=position,
                    grad=parent_grad.data, local=None if local is None else local_grad,
                ))
            node_id = trace.id_of(node)
            steps.append(BackwardStep(
                index=len(steps), node=node_id, op_node="op" + node_id[1:], op=ctx.name,
                rule=derivative_rule(ctx), output=node, upstream=grad.data, inputs=tuple(flows),
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
