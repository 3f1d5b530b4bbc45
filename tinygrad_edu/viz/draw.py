"""Draw a traced graph with graphviz: tensors as boxes, ops as ovals, modules as
clusters (or single nodes). `draw_graph` returns a `graphviz.Digraph`, which displays
itself in Jupyter; `render.save_graph` writes it to a file.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from .format import format_array, format_shape, op_details, value_cells
from .render import import_graphviz
from .trace import GraphTrace, OpNode, TensorNode, trace_graph

if TYPE_CHECKING:
    import graphviz

    from ..tensor import Tensor

DEFAULT_MAX_NODES = 500

# -- look -----------------------------------------------------------------------
FONT = "Helvetica,Arial,sans-serif"
MONO = "DejaVu Sans Mono,Menlo,Consolas,monospace"
STYLES = {  # kind -> (fill, border, text)
    "param": ("#dbeafe", "#1d4ed8", "#1e3a8a"),
    "constant": ("#f3f4f6", "#9ca3af", "#4b5563"),
    "intermediate": ("#ffffff", "#64748b", "#0f172a"),
    "output": ("#fef3c7", "#d97706", "#78350f"),
    "op": ("#ede9fe", "#7c3aed", "#4c1d95"),
    "module": ("#ecfdf5", "#059669", "#064e3b"),
}
GRAD_COLOR = "#b91c1c"
MUTED = "#64748b"
EDGE_COLOR = "#64748b"
CLUSTER_COLOR = "#94a3b8"


class GraphTooLargeError(ValueError):
    """The graph has more nodes than `max_nodes` allows."""


_VALUE_MODES = ("auto", "summary", "full", True, False)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _font(text: str, color: str, size: float = 10, face: str = FONT, bold: bool = False) -> str:
    body = f"<B>{_esc(text)}</B>" if bold else _esc(text)
    return f'<FONT FACE="{face}" POINT-SIZE="{size}" COLOR="{color}">{body}</FONT>'


def _row(text: str, color: str, size: float = 10, face: str = FONT, bold: bool = False) -> str:
    return f'<TR><TD ALIGN="LEFT">{_font(text, color, size, face, bold)}</TD></TR>'


def _value_row(label: str, cells: list[str], color: str) -> str:
    """`label` then the value cells: one spanning cell, or min / mean / max."""
    head = f'<TD ALIGN="LEFT">{_font(label, color, 9, MONO)}</TD>'
    if len(cells) == 1:
        return (f'<TR>{head}<TD ALIGN="LEFT" COLSPAN="3">'
                f"{_font(_clip(cells[0]), color, 9, MONO)}</TD></TR>")
    body = "".join(f'<TD ALIGN="RIGHT" CELLPADDING="2">{_font(c, color, 9, MONO)}</TD>'
                   for c in cells)
    return f"<TR>{head}{body}</TR>"


def grad_cells(grad: Any, mode: Any) -> list[str]:
    """How a gradient is written in a tensor's box (as its data, values or not)."""
    return value_cells(grad, "auto" if mode is False else mode)


def _tensor_label(node: TensorNode, values: Any, grad: list[str] | None) -> str:
    """Name, shape and dtype, then rows `data` and `grad` in a table of their own (a
    header names the columns when one of them is summarized as min / mean / max)."""
    _, _, text = STYLES["output" if node.is_output else node.kind]
    t = node.tensor
    title = node.name
    if title is None and node.is_output:
        title = "output"
    rows = [] if title is None else [_row(title, text, 11, bold=True)]
    rows.append(_row(format_shape(t.shape, t.dtype), MUTED, 9))
    data = None if values is False else value_cells(t.data, values)
    numbers = []
    if (data and len(data) == 3) or (grad and len(grad) == 3):
        names = "".join(f'<TD ALIGN="RIGHT" CELLPADDING="0">{_font(n, MUTED, 8)}</TD>'
                        for n in ("min", "mean", "max"))
        numbers.append(f"<TR><TD></TD>{names}</TR>")
    if data is not None:
        numbers.append(_value_row("data", data, text))
    if grad is not None:
        numbers.append(_value_row("grad", grad, GRAD_COLOR))
    if numbers:
        rows.append('<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" '
                    f'CELLPADDING="1">{"".join(numbers)}</TABLE></TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            + "".join(rows) + "</TABLE>>")


def _tensor_tooltip(node: TensorNode) -> str:
    t = node.tensor
    kind = {"param": "leaf that requires grad", "constant": "constant (no grad)",
            "intermediate": "intermediate result"}[node.kind]
    parts = [node.name or node.id, format_shape(t.shape, t.dtype), kind,
             "data: " + format_array(t.data)]
    if t.grad is not None:
        parts.append("grad: " + format_array(t.grad.data))
    return "\\n".join(parts)  # dot's escape for a line break, keeps the source one line a node


def _op_label(op: OpNode) -> str:
    _, _, text = STYLES["op"]
    rows = [_row(op.name, text, 11, bold=True)]
    details = op_details(op.ctx)
    if details:
        rows.append(_row(_clip(details, 40), MUTED, 8))
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
            + "".join(rows).replace('ALIGN="LEFT"', 'ALIGN="CENTER"') + "</TABLE>>")


def _legend_label(with_grad: bool, with_modules: bool) -> str:
    """One row of colour swatches saying what each style means."""
    cells = []
    kinds = [("param", "leaf that requires grad"), ("constant", "constant"),
             ("intermediate", "intermediate"), ("output", "output"), ("op", "op")]
    if with_modules:
        kinds.append(("module", "module (collapsed)"))
    for kind, text in kinds:
        fill, border, color = STYLES[kind]
        cells.append(f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1" WIDTH="14" HEIGHT="10">'
                     f'</TD><TD ALIGN="LEFT">{_font(text, color, 9)}</TD>')
    if with_grad:
        meaning = _font("grad = d(output)/d(tensor)", GRAD_COLOR, 9)
        cells.append(f'<TD></TD><TD ALIGN="LEFT">{meaning}</TD>')
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="1"><TR>'
            + "".join(cells) + "</TR></TABLE>>")


def check_options(show_values: Any, rankdir: str, max_nodes: int) -> None:
    if show_values not in _VALUE_MODES:
        raise ValueError(
            f"draw_graph: show_values must be 'auto', 'summary', 'full', True or False, "
            f"got {show_values!r}"
        )
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
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
    show_grads: bool = True,
    rankdir: str = "LR",
    max_nodes: int = DEFAULT_MAX_NODES,
    collapse_modules: bool = False,
    legend: bool = True,
) -> graphviz.Digraph:
    """The computation graph behind `root` as a graphviz Digraph.

    Ops are ovals labelled with the op name (and arguments such as axis); tensors are
    boxes with their name (from `params`: a model's named_parameters(), or a dict
    {name: tensor} that may name any tensor of the graph), shape and dtype, values and,
    after backward, `.grad`. Leaves that require grad are blue, constants grey, the
    output amber. With a model, each module's nodes sit in a cluster;
    `collapse_modules=True` draws each module as a single node instead.

    show_values: 'auto' or True (tensors of up to 8 elements in full, others as
    min / mean / max), 'summary', 'full' or False (shapes only); show_grads likewise
    for `.grad` where backward has set it. `params` may also be a list such as
    [model, {"x": x}]. Graphs of more than `max_nodes` nodes raise GraphTooLargeError.

    The Digraph renders itself in Jupyter; save it with `save_graph(graph, "g.svg")`.
    """
    check_options(show_values, rankdir, max_nodes)
    trace = trace_graph(root, params)
    check_size(trace, collapse_modules, max_nodes)
    grads = None
    if show_grads:
        grads = {}
        for node in trace.tensors.values():
            g = node.tensor.grad
            if g is not None:
                grads[node.id] = grad_cells(g.data, show_values)
    return build_digraph(trace, show_values, grads, rankdir, collapse_modules, legend)


def _module_id(path: str) -> str:
    return "m_" + (re.sub(r"[^A-Za-z0-9_]", "_", path) or "root")


def build_digraph(
    trace: GraphTrace,
    show_values: Any = "auto",
    grads: dict[str, list[str]] | None = None,
    rankdir: str = "LR",
    collapse_modules: bool = False,
    legend: bool = True,
) -> graphviz.Digraph:
    """The Digraph of a trace; `grads` maps tensor ids to the grad cells to show."""
    graphviz = import_graphviz()
    dot = graphviz.Digraph("tinygrad_edu")
    # ordering=in keeps each op's inputs in argument order (x above y in x @ y)
    dot.attr(rankdir=rankdir, bgcolor="white", nodesep="0.25", ranksep="0.35", pad="0.2",
             ordering="in", fontname=FONT)
    dot.attr("node", fontname=FONT, fontsize="10", margin="0.08,0.04")
    dot.attr("edge", color=EDGE_COLOR, arrowsize="0.6", penwidth="1.1")
    grads = grads or {}
    collapsed = set(trace.modules) if collapse_modules else set()

    def place(module: str | None) -> Any:
        return clusters[module] if module in clusters else dot

    clusters: dict[str, Any] = {}
    for path, title in trace.modules.items():
        if path in collapsed:
            continue
        sub = graphviz.Digraph(f"cluster_{_module_id(path)}")
        sub.attr(label=title, style="rounded,dashed", color=CLUSTER_COLOR, bgcolor="#f8fafc",
                 fontcolor="#334155", fontsize="11", labeljust="l")
        clusters[path] = sub

    def visible(node_id: str) -> str:
        node = trace.tensors.get(node_id) or trace.ops[node_id]
        return _module_id(node.module) if node.module in collapsed else node_id

    for node in trace.tensors.values():
        if node.module in collapsed:
            continue
        kind = "output" if node.is_output else node.kind
        fill, border, _ = STYLES[kind]
        style = "rounded,filled" + (",dashed" if kind == "constant" else "")
        place(node.module).node(
            node.id, label=_tensor_label(node, show_values, grads.get(node.id)), id=node.id,
            shape="box", style=style, fillcolor=fill, color=border,
            penwidth="2" if node.is_output else "1.2", tooltip=_tensor_tooltip(node),
        )
    for op in trace.ops.values():
        if op.module in collapsed:
            continue
        fill, border, _ = STYLES["op"]
        place(op.module).node(op.id, label=_op_label(op), id=op.id, shape="ellipse",
                              style="filled", fillcolor=fill, color=border, tooltip=op.rule)
    for sub in clusters.values():
        dot.subgraph(sub)
    for path in trace.modules:  # in trace order: a set's order would change between runs
        if path in collapsed:
            _draw_module_node(dot, trace, path)

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
    if legend:
        label = _legend_label(bool(grads), bool(collapsed))
        dot.node("legend", label=label, shape="plain", id="legend")
    return dot


def _draw_module_node(dot: Any, trace: GraphTrace, path: str) -> None:
    fill, border, text = STYLES["module"]
    rows = [_row(trace.modules[path], text, 11, bold=True)]
    for node in trace.tensors.values():
        if node.module == path and node.kind == "param":
            short = (node.name or node.id).rpartition(".")[2]
            t = node.tensor
            rows.append(_row(f"{short} {format_shape(t.shape, t.dtype)}", MUTED, 9))
    ops = [op.name for op in trace.ops.values() if op.module == path]
    rows.append(_row(_clip(" → ".join(ops), 50), MUTED, 8))
    label = ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
             + "".join(rows) + "</TABLE>>")
    dot.node(_module_id(path), label=label, id=_module_id(path), shape="box3d",
             style="filled", fillcolor=fill, color=border)
