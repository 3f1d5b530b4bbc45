"""Boxes for functional code and titles for constants, on top of trace's module boxes.

Ops recorded under `named_scope("cross_entropy")` remember it (ctx.scope); here they
get a box of their own, titled `cross_entropy()`, drawn (and collapsed) like a
module's. A constant without a name is titled after what made it, so students can
tell a loss's one-hot targets from a Python number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .format import format_number

if TYPE_CHECKING:
    from .trace import GraphTrace, TensorNode

SCOPE_MARK = "()"  # box keys of scopes end with it; module paths never do


def is_scope(key: str | None) -> bool:
    """Whether box `key` is a named_scope's (else a module's)."""
    return key is not None and key.endswith(SCOPE_MARK)


def assign_scopes(trace: GraphTrace) -> None:
    """Box each named_scope's ops (the innermost scope of each op).

    A scope inside one module (or outside every module) becomes a box of its own;
    when it holds all of a module's ops, the module's box is simply titled with it
    too. A scope around several modules' calls leaves their boxes alone and boxes
    only its own ops outside them."""
    by_scope: dict[tuple[str, ...], list] = {}
    for op in trace.ops.values():
        scope = getattr(op.ctx, "scope", ())
        if scope:
            by_scope.setdefault(tuple(scope), []).append(op)
    for scope, ops in by_scope.items():
        modules = {op.module for op in ops}
        if len(modules) > 1:
            ops = [op for op in ops if op.module is None]
            module = None
        else:
            module = modules.pop()
        if not ops:
            continue
        title = scope[-1] + SCOPE_MARK
        if module is not None:
            owned = [op for op in trace.ops.values() if op.module == module]
            if len(owned) == len(ops) and module in trace.modules:
                if title not in trace.modules[module]:
                    trace.modules[module] += f" · {title}"
                continue
        key = "/".join(scope) + SCOPE_MARK
        if module is not None:
            key = f"{module}/{key}"
        trace.modules[key] = title
        for op in ops:
            op.module = key
            trace.tensors[op.output].module = key


def box_constants(trace: GraphTrace, call_inputs: set[str]) -> None:
    """An unnamed constant that only one box's ops read (a loss's one-hot targets)
    goes into that box; modules' inputs stay outside."""
    consumers = trace.consumers()
    for node in trace.tensors.values():
        if (node.kind != "constant" or node.name is not None or node.module is not None
                or node.id in call_inputs or not consumers[node.id]):
            continue
        boxes = {trace.ops[c].module for c in consumers[node.id]}
        box = boxes.pop() if len(boxes) == 1 else None
        if box is not None and is_scope(box):
            node.module = box


def constant_title(trace: GraphTrace, node: TensorNode,
                   consumers: dict[str, list[str]]) -> str | None:
    """A title for a tensor without a name: for constants, what made them (a Python
    number's value, the box it was made in, or the op that reads it); None for others."""
    if node.name is not None or node.kind != "constant":
        return node.name
    if node.module is not None:
        return f"constant from {trace.modules.get(node.module, node.module)}"
    if node.tensor.data.size == 1:
        return f"constant {format_number(node.tensor.data.item())}"
    readers = [trace.ops[c].name for c in consumers.get(node.id, ())]
    if not readers:
        return "constant"
    return "constant, input of " + ", ".join(dict.fromkeys(readers))
