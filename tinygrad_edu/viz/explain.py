"""The chain rule of a graph in words and numbers: `explain` prints it, the animation
shows it a step a frame.

Notation: L is the output; dL/dv is the gradient of L with respect to v (what
backward() puts in v.grad); ∂o/∂v is the local derivative of one op's output o with
respect to its input v. A tensor used several times receives one contribution per
use; its total dL/dv is stated once, when the last contribution has arrived.
The local derivative's formula comes from the op (`local_formula`, a class attribute
of the ops in ops/ that have one); other ops show their rule (`Function.rule`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from .format import format_shape, format_value
from .steps import BackwardStep, GradFlow, walk_steps
from .trace import GraphTrace, trace_graph

PLACEHOLDERS = ("x", "y")  # local_formula's names of an op's first and second input
NAMED_OPS = {"add": " + ", "sub": " − ", "mul": "·", "div": " / "}  # for derived names


def _names(trace: GraphTrace) -> dict[str, str]:
    """A short name for every tensor: the given one; the output L; a binary op of two
    named tensors written out ("x1w1 + x2w2"), else by op ("mul1") or kind ("c1")."""
    names: dict[str, str] = {}
    given: set[str] = set()
    counts: dict[str, int] = {}
    for node in trace.tensors.values():
        if node.name is not None:
            names[node.id] = node.name
            given.add(node.id)
            continue
        if node.is_output:
            names[node.id] = "L"
            continue
        op = trace.op_of(node.id)
        if op is not None and op.name in NAMED_OPS and all(i in given for i in op.inputs):
            parts = [names[i] for i in op.inputs]
            if all(" " not in p for p in parts) and len(op.inputs) == 2:
                glue = NAMED_OPS[op.name]
                if op.name == "mul" and all(p.isalnum() for p in parts):
                    glue = ""  # x1·w1 written x1w1, as in the micrograd lecture
                names[node.id] = glue.join(parts)
                given.add(node.id)
                continue
        stem = op.name if op is not None else ("x" if node.kind == "param" else "c")
        counts[stem] = counts.get(stem, 0) + 1
        names[node.id] = f"{stem}{counts[stem]}"
    return names


def _wrap(name: str) -> str:
    """A name inside a formula: compound ones in parentheses."""
    return f"({name})" if " " in name else name


def _number(array: Any) -> str:
    """A value inside a formula: negative ones in parentheses, 0.5 · (-1)."""
    text = format_value(array)
    return f"({text})" if text.startswith("-") else text


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


class _Writer:
    """Writes the blocks; keeps count of each tensor's contributions."""

    def __init__(self, trace: GraphTrace, steps: list[BackwardStep], names: dict[str, str]):
        self.trace, self.names = trace, names
        self.uses: dict[str, int] = {}
        for step in steps:
            for flow in step.inputs:
                self.uses[flow.node] = self.uses.get(flow.node, 0) + 1
        self.parts: dict[str, list[np.ndarray]] = {}

    def d(self, node_id: str) -> str:
        return f"dL/d{_wrap(self.names[node_id])}"

    def operand(self, node_id: str) -> str:
        """An op's argument: its name, or the value of an unnamed one-element constant."""
        node = self.trace.tensors[node_id]
        if node.name is None and node.kind == "constant" and node.tensor.data.size == 1:
            return format_value(node.tensor.data)
        return self.names[node_id]

    def forward_lines(self, step: BackwardStep) -> list[str]:
        op = self.trace.ops[step.op_node]
        args = [self.operand(i) for i in op.inputs]
        out = self.names[step.node]
        lines = [f"step {step.index + 1}: {out} = {step.op}({', '.join(args)})"]
        value = np.asarray(step.output.data)
        inputs = [self.trace.tensors[i].tensor.data for i in op.inputs]
        if value.size == 1 and all(np.size(a) == 1 for a in inputs):
            numbers = ", ".join(format_value(a) for a in inputs)
            lines.append(f"  forward: {out} = {step.op}({numbers}) = {format_value(value)}")
        else:
            shape = format_shape(value.shape, value.dtype)
            lines.append(f"  forward: {out} is {shape} = {format_value(value)}")
        for i in dict.fromkeys(op.inputs):
            node = self.trace.tensors[i]
            if node.kind == "constant" and node.tensor.data.size > 1:
                shape = format_shape(node.tensor.shape, node.tensor.dtype)
                lines.append(f"  {self.names[i]} is a constant {shape} = "
                             f"{format_value(node.tensor.data)}")
        return lines

    def local(self, step: BackwardStep, flow: GradFlow) -> str | None:
        """`∂o/∂v = formula = formula in numbers = value`, for one-element tensors with
        an op that has a local_formula; None otherwise."""
        op = self.trace.ops[step.op_node]
        formulas = getattr(type(op.ctx), "local_formula", None)
        if flow.local is None or np.size(flow.local) != 1 or formulas is None:
            return None
        if any(self.trace.tensors[i].tensor.data.size != 1 for i in op.inputs):
            return None
        symbols, numbers = formulas[flow.position]
        by_name = {"out": self.names[step.node]}
        by_value = {"out": step.output.data}
        for key, node_id in zip(PLACEHOLDERS, op.inputs):
            by_name[key] = self.operand(node_id)
            by_value[key] = self.trace.tensors[node_id].tensor.data
        for key in by_name:
            if symbols == f"{{{key}}}":  # the formula is one of the op's tensors
                symbols = by_name[key]
            symbols = symbols.replace(f"({{{key}}})", f"({by_name[key]})")
            symbols = symbols.replace(f"{{{key}}}", _wrap(by_name[key]))
            if numbers == f"{{{key}}}":
                numbers = format_value(by_value[key])
            numbers = numbers.replace(f"{{{key}}}", _number(by_value[key]))
        result = format_value(flow.local)
        text = f"{symbols} = {numbers} = {result}"
        if numbers == result or numbers == symbols:
            text = f"{symbols} = {result}" if symbols != result else result
        where = f"∂{_wrap(self.names[step.node])}/∂{_wrap(self.names[flow.node])}"
        return f"  local: {where} = {text}"

    def flow_lines(self, step: BackwardStep, flow: GradFlow) -> list[str]:
        op, out = step.op, self.names[step.node]
        target, count = flow.node, self.uses[flow.node]
        if flow.local is not None:
            where = f"∂{_wrap(out)}/∂{_wrap(self.names[target])}"
            how = (f"{self.d(step.node)} · {where} = "
                   f"{_number(step.upstream)} · {_number(flow.local)} = {format_value(flow.grad)}")
        else:
            how = f"{self.d(step.node)} pushed back through {op} = {format_value(flow.grad)}"
            shape = tuple(np.shape(flow.grad))
            summed = broadcast_axes(shape, tuple(np.shape(step.upstream)))
            if summed:
                axes = ", ".join(map(str, summed))
                how += (f"  (shape {shape}: {self.names[target]} was broadcast to "
                        f"{tuple(np.shape(step.upstream))}, so unbroadcast summed "
                        f"axis {axes})")
            else:
                how += f"  (shape {shape})"
        parts = self.parts.setdefault(target, [])
        parts.append(flow.grad)
        if count == 1:
            return [f"  {self.d(target)} = {how}"]
        lines = [f"  contribution {len(parts)} of {count} to {self.d(target)} "
                 f"(via input {flow.position + 1} of {op}): {how}"]
        if len(parts) == count:
            scale = float(sum(np.abs(p).sum() for p in parts))
            total = format_value(np.sum(parts, axis=0), scale)
            terms = " + ".join([format_value(parts[0]), *(_number(p) for p in parts[1:])])
            lines.append(f"  {self.d(target)} = {terms} = {total}  "
                         f"(total: all {count} contributions in)")
        return lines

    def block(self, step: BackwardStep) -> list[str]:
        lines = self.forward_lines(step)
        lines.append(f"  rule: {step.rule}")
        if step.upstream.size != 1:
            lines.append(f"  {self.d(step.node)} is {tuple(step.upstream.shape)} = "
                         f"{format_value(step.upstream)}")
        for flow in step.inputs:
            local = self.local(step, flow)
            if local is not None:
                lines.append(local)
            lines.extend(self.flow_lines(step, flow))
        return lines


def broadcast_axes(shape: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of `out` that broadcasting `shape` to `out` repeated (so the gradient
    was summed over them); () when `shape` does not broadcast to `out` that way."""
    if shape == out or len(shape) > len(out):
        return ()
    padded = (1,) * (len(out) - len(shape)) + shape
    if any(s not in (1, o) for s, o in zip(padded, out)):
        return ()
    return tuple(k for k, (s, o) in enumerate(zip(padded, out)) if s == 1 and o > 1)


def chain_rule(loss: Any, params: Any = None, gradient: Any = None) -> Explanation:
    """The backward pass of `loss` as chain-rule lines (see `explain`)."""
    trace = trace_graph(loss, params)
    steps = walk_steps(loss, gradient, trace)
    names = _names(trace)
    writer = _Writer(trace, steps, names)
    root = names[trace.root]
    seed = steps[0].upstream if steps else np.ones_like(loss.data)
    intro = [f"Backward pass of {root}: {len(steps)} op(s), from the output back to the leaves."]
    what = "the output" if root == "L" else f"the output {root}"
    intro.append(f"L is {what}; dL/dv is the gradient of L with respect to v (what backward() "
                 "puts in v.grad); ∂o/∂v is one op's local derivative.")
    intro.append(f"{writer.d(trace.root)} = {format_value(seed)}  (the seed)")
    blocks = [writer.block(step) for step in steps]
    summary = []
    for node in trace.tensors.values():
        if node.kind != "param" or node.id not in writer.parts:
            continue
        parts = writer.parts[node.id]
        scale = float(sum(np.abs(p).sum() for p in parts))
        total = format_value(np.sum(parts, axis=0), scale)
        summary.append(f"  {writer.d(node.id)} = {total}")
    if summary:
        summary.insert(0, "Gradients of the leaves (what backward() puts in .grad):")
    return Explanation(trace, steps, names, intro, blocks, summary)


def explain(loss: Any, params: Any = None, gradient: Any = None,
            file: TextIO | None = None, max_steps: int | None = None) -> None:
    """Print the backward pass of a small graph as chain-rule steps with numbers: each
    op's forward value, its local derivative as a formula and evaluated
    (``∂o/∂n = 1 − tanh(n)² = 1 − 0.7071² = 0.5``), and the product
    ``dL/dn = dL/do · ∂o/∂n = 1 · 0.5 = 0.5``.

    `params` names tensors (a model, or a dict {name: tensor} for any tensor of the
    graph); unnamed ones are called after their op (mul1, add1, ...), the output L.
    Tensors with more than 16 elements are summarized as min / mean / max.
    `max_steps` prints only the first steps (and says how many were left out).
    Nothing of the graph or of any `.grad` changes.
    """
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 0):
        raise ValueError(f"explain: max_steps must be None or an int >= 0, got {max_steps!r}")
    out = file if file is not None else sys.stdout
    text = chain_rule(loss, params, gradient)
    print("\n".join(text.intro), file=out)
    shown = text.blocks if max_steps is None else text.blocks[:max_steps]
    for lines in shown:
        print("\n" + "\n".join(lines), file=out)
    left = len(text.blocks) - len(shown)
    if left:
        print(f"\n... {left} more step(s) left out (max_steps={max_steps}); the totals "
              "below include them.", file=out)
    if text.summary:
        print("\n" + "\n".join(text.summary), file=out)
