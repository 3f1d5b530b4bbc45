"""Draw a traced graph with graphviz: tensors as boxes, ops as ovals, modules as
clusters (or single nodes). `draw_graph` returns a `graphviz.Digraph`, which displays
itself in Jupyter; `render.save_graph` writes it to a file.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .format import format_shape
from .grads import graph_gradients
from .groups import constant_title, is_scope
from .labels import (
    CLUSTER_COLOR,
    EDGE_COLOR,
    FONT,
    MUTED,
    STYLES,
    Cells,
    cells,
    clip,
    legend_label,
    op_label,
    row,
    tensor_label,
    tensor_tooltip,
)
from .render import drawing_class
from .trace import GraphTrace, trace_graph

if TYPE_CHECKING:
    import graphviz

    from ..tensor import Tensor

DEFAULT_MAX_NODES = 500
PRESETS = (None, "slide")
DEEP = 9  # drawings with more nodes on their longest path are drawn top to bottom


class GraphTooLargeError(ValueError):
    """The graph has more nodes than `max_nodes` allows."""


_VALUE_MODES = ("auto", "summary", "full", True, False)


def check_options(show_values: Any, rankdir: str | None, max_nodes: int,
                  preset: str | None = None) -> None:
    if show_values not in _VALUE_MODES:
        raise ValueError(
            f"draw_graph: show_values must be 'auto', 'summary', 'full', True or False, "
            f"got {show_values!r}"
        )
    if rankdir not in (None, "LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB', 'BT' or None (pick "
                         f"by the graph's depth), got {rankdir!r}")
    if preset not in PRESETS:
        raise ValueError(f"draw_graph: preset must be None or 'slide', got {preset!r}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive int, got {max_nodes!r}")


def check_size(trace: GraphTrace, collapse: bool, max_nodes: int) -> None:
    hidden = 0
    if collapse:
        inside = (sum(n.module is not None for n in trace.tensors.values())
                  + sum(op.module is not None for op in trace.ops.values()))
        hidden = inside - len(trace.modules)
    count = len(trace.tensors) + len(trace.ops) - hidden
    if count <= max_nodes:
        return
    advice = f"pass max_nodes={count} (or more) to draw it anyway"
    if trace.modules and not collapse:
        advice += ", or collapse_modules=True to draw each module as one node"
    elif not trace.modules:
        advice += (", or pass the model as params= with collapse_modules=True to draw each "
                   "module as one node")
    raise GraphTooLargeError(
        f"draw_graph: the graph has {count} nodes ({len(trace.tensors)} tensors, "
        f"{len(trace.ops)} ops), more than max_nodes={max_nodes}; {advice}. "
        "Large drawings are slow to lay out and hard to read: a smaller model shows the "
        "same structure."
    )


def draw_graph(
    root: Tensor,
    params: Any = None,
    show_values: Any = "auto",
    show_grads: Any = "auto",
    rankdir: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    collapse_modules: bool | None = None,
    legend: bool = True,
    preset: str | None = None,
) -> graphviz.Digraph:
    """The computation graph behind `root` as a graphviz Digraph.

    Ops are ovals labelled with the op name (and arguments such as axis); tensors are
    boxes with their name (from `params`: a model's named_parameters(), or a dict
    {name: tensor} that may name any tensor of the graph), shape and dtype, values and
    gradients. Leaves that require grad are blue, constants grey (titled by what made
    them), the output amber. With a model, each module's nodes sit in a box, and so do
    the ops of each `named_scope` (the loss functions open one: `cross_entropy()`) and
    of loss modules called on the model's output; `collapse_modules=True` draws each
    box as a single node.

    show_values: 'auto' or True (tensors of up to 16 elements in full, a matrix row by
    row, others as min / mean / max), 'summary', 'full' or False (shapes only).
    show_grads: 'auto' (the default) shows dL/d(tensor) on every tensor that requires
    grad, intermediates too, once a backward pass has run (some leaf has `.grad`),
    none before; True shows them even before backward; False never. They are
    computed when drawing (the engine keeps only leaves' `.grad`), without changing
    the graph or any `.grad`.
    rankdir: None picks left-to-right for shallow graphs and top-to-bottom for deep
    ones (they fit a notebook's width). preset='slide': a 16:9 picture with larger
    text and modules collapsed (unless collapse_modules=False).
    `params` may also be a list such as [model, {"x": x}]. Graphs of more than
    `max_nodes` nodes raise GraphTooLargeError.

    The Digraph renders itself in Jupyter (or says how to install Graphviz's `dot`);
    save it with `save_graph(graph, "g.svg")`.
    """
    check_options(show_values, rankdir, max_nodes, preset)
    trace = trace_graph(root, params)
    collapse = preset == "slide" if collapse_modules is None else bool(collapse_modules)
    check_size(trace, collapse, max_nodes)
    mode = "auto" if show_values is False else show_values
    grads = {key: cells(g, mode) for key, g in graph_gradients(trace, show_grads).items()}
    return build_digraph(trace, show_values, grads, rankdir, collapse, legend, preset)


def depth(trace: GraphTrace, collapsed: set[str] | None = None) -> int:
    """The number of nodes on the drawing's longest path (a collapsed box is one)."""
    collapsed = collapsed or set()

    def key(node: Any) -> str:
        return f"box {node.module}" if node.module in collapsed else node.id

    level: dict[str, int] = {}
    for op in trace.ops.values():  # in topological order
        start = max((level.get(key(trace.tensors[i]), 1) for i in op.inputs), default=1)
        for node in (op, trace.tensors[op.output]):
            k = key(node)
            # ops inside one collapsed box add no level: the box is one node
            step = 0 if k in level and k.startswith("box ") and level[k] >= start else 1
            level[k] = max(level.get(k, 0), start + step)
            start = level[k]
    return max(level.values(), default=1)


def _module_id(path: str) -> str:
    return "m_" + (re.sub(r"[^A-Za-z0-9_]", "_", path) or "root")


def build_digraph(
    trace: GraphTrace,
    show_values: Any = "auto",
    grads: dict[str, Cells] | None = None,
    rankdir: str | None = None,
    collapse_modules: bool = False,
    legend: bool = True,
    preset: str | None = None,
) -> graphviz.Digraph:
    """The Digraph of a trace; `grads` maps tensor ids to the grad cells to show."""
    dot = drawing_class()("tinygrad_edu")
    zoom = 1.4 if preset == "slide" else 1.0
    collapsed = set(trace.modules) if collapse_modules else set()
    if rankdir is None:
        rankdir = "LR" if depth(trace, collapsed) <= DEEP else "TB"
    # ordering=in keeps each op's inputs in argument order (x above y in x @ y)
    dot.attr(rankdir=rankdir, bgcolor="white", nodesep="0.25", ranksep="0.35", pad="0.2",
             ordering="in", fontname=FONT)
    if preset == "slide":  # 13.33 x 7.5 in: a 16:9 slide; "!" scales small graphs up
        dot.attr(size="13.33,7.5!", ratio="fill", pad="0", nodesep="0.35",
                 ranksep="0.5")
    dot.attr("node", fontname=FONT, fontsize=f"{10 * zoom:g}", margin="0.08,0.04")
    dot.attr("edge", color=EDGE_COLOR, arrowsize="0.6", penwidth="1.1")
    grads = grads or {}
    consumers = trace.consumers()

    def place(module: str | None) -> Any:
        return clusters[module] if module in clusters else dot

    clusters: dict[str, Any] = {}
    for path, title in trace.modules.items():
        if path in collapsed:
            continue
        sub = dot.__class__(f"cluster_{_module_id(path)}")
        sub.attr(label=title, style="rounded,dashed", color=CLUSTER_COLOR, bgcolor="#f8fafc",
                 fontcolor="#334155", fontsize=f"{11 * zoom:g}", labeljust="l")
        clusters[path] = sub

    def visible(node_id: str) -> str:
        node = trace.tensors.get(node_id) or trace.ops[node_id]
        if node.module not in collapsed or node_id == trace.root:  # the output stays
            return node_id
        return _module_id(node.module)

    for node in [*trace.inputs.values(), *trace.tensors.values()]:
        if node.module in collapsed and node.id != trace.root:
            continue
        kind = "output" if node.is_output else node.kind
        fill, border, _ = STYLES[kind]
        style = "rounded,filled" + (",dashed" if kind == "constant" else "")
        heading = _title(trace, node.id, consumers)
        grad = grads.get(node.id)
        place(None if node.module in collapsed else node.module).node(
            node.id, label=tensor_label(node, heading, show_values, grad, zoom), id=node.id,
            shape="box", style=style, fillcolor=fill, color=border,
            penwidth="2" if node.is_output else "1.2",
            tooltip=tensor_tooltip(node, heading, grad),
        )
    for op in trace.ops.values():
        if op.module in collapsed:
            continue
        fill, border, _ = STYLES["op"]
        place(op.module).node(op.id, label=op_label(op, zoom), id=op.id, shape="ellipse",
                              style="filled", fillcolor=fill, color=border, tooltip=op.rule)
    for sub in clusters.values():
        dot.subgraph(sub)
    for path in trace.modules:  # in trace order: a set's order would change between runs
        if path in collapsed:
            _draw_module_node(dot, trace, path, zoom)

    drawn: set[tuple[str, str]] = set()
    for op in trace.ops.values():
        head = visible(op.id)
        for position, input_id in enumerate(op.inputs):
            tail = visible(input_id)
            merged = tail.startswith("m_") or head.startswith("m_")
            if tail == head or (merged and (tail, head) in drawn):  # one edge per module link
                continue
            drawn.add((tail, head))
            dot.edge(tail, head, id=f"e_{op.id}_{position}")
        tail, out = head, visible(op.output)
        if tail != out:
            dot.edge(tail, out, id=f"e_{op.id}_out")
    for source, target in trace.feeds:  # made from the input without recording: dotted
        head = visible(target)
        if (source, head) not in drawn:
            drawn.add((source, head))
            dot.edge(source, head, id=f"e_{source}_{target}", style="dashed",
                     tooltip="used without recording (needs no grad)")
    if legend and preset == "slide":
        # graphviz (2.42) leaves a graph label out of ratio=fill, so a slide with one
        # came out 5:3; a node in a box of its own is laid out and filled with the rest
        with dot.subgraph(name="cluster_legend") as box:
            box.attr(style="invis", label="")
            box.node("legend", label=legend_label(bool(grads), bool(collapsed), zoom),
                     shape="plaintext", margin="0")
    elif legend:  # the graph's label, not a node: a node would widen the first rank
        dot.attr(label=legend_label(bool(grads), bool(collapsed), zoom), labelloc="t",
                 labeljust="l")
    return dot


def _title(trace: GraphTrace, node_id: str, consumers: dict[str, list[str]]) -> str | None:
    """A tensor's title: its name, what made a constant, or which module read an input."""
    if node_id in trace.inputs:
        node = trace.inputs[node_id]
        if node.name is not None:
            return node.name
        readers = {trace.tensors[t].module for s, t in trace.feeds if s == node_id}
        boxes = ", ".join(trace.modules.get(m, "") for m in readers if m is not None)
        return f"input of {boxes}" if boxes else "input"
    return constant_title(trace, trace.tensors[node_id], consumers)


def _draw_module_node(dot: Any, trace: GraphTrace, path: str, zoom: float = 1.0) -> None:
    fill, border, text = STYLES["module"]
    rows = [row(trace.modules[path], text, 11, bold=True, zoom=zoom)]
    for node in trace.tensors.values():
        if node.module == path and node.kind == "param":
            short = (node.name or node.id).rpartition(".")[2]
            t = node.tensor
            rows.append(row(f"{short} {format_shape(t.shape, t.dtype)}", MUTED, 9, zoom=zoom))
    ops = [op.name for op in trace.ops.values() if op.module == path]
    if zoom == 1.0:  # a slide leaves the list of ops out: it would make the text small
        rows.append(row(clip(" → ".join(ops), 50), MUTED, 8, zoom=zoom))
    label = ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
             + "".join(rows) + "</TABLE>>")
    shape = "component" if is_scope(path) else "box3d"
    dot.node(_module_id(path), label=label, id=_module_id(path), shape=shape,
             style="filled", fillcolor=fill, color=border)
