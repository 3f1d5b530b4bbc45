"""Draw a computation graph with graphviz: tensors as boxes, ops as ovals.

`trace_graph` walks the graph behind a tensor once and names every node; `draw_graph`
turns that trace into a `graphviz.Digraph` (which displays itself in Jupyter) and
`save_graph` writes it to SVG / PNG / PDF / .dot. Building a Digraph never needs the
Graphviz `dot` program; only rendering does, and its absence gives a clear error.

graphviz (the Python package) is imported inside the functions that need it, so that
`import tinygrad_edu` stays light.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import toposort
from ..files import write_bytes, write_text

if TYPE_CHECKING:
    import graphviz

    from ..tensor import Tensor

SMALL = 8  # tensors with at most this many elements are shown in full
DEFAULT_MAX_NODES = 500
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

# Ops that only move elements around: a module's result rearranged by one of them
# still belongs to the module (conv2d's final reshape to NCHW).
_REARRANGE = {"reshape", "permute", "expand"}
# Ops that gather a module's input windows (conv2d's im2col).
_GATHER = {"unfold"}

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


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz `dot` program is not installed (the .dot source was written instead)."""


# ---------------------------------------------------------------------------
# Tracing: every tensor and op of the graph, with stable ids and names.
# ---------------------------------------------------------------------------


@dataclass
class TensorNode:
    """One tensor of a traced graph."""

    id: str
    tensor: Any
    name: str | None
    kind: str  # "param" (leaf that requires grad), "constant", "intermediate"
    is_output: bool = False
    module: str | None = None


@dataclass
class OpNode:
    """One recorded op: the Function instance (ctx) that made tensor `output`."""

    id: str
    ctx: Any
    output: str
    inputs: list[str]
    module: str | None = None

    @property
    def name(self) -> str:
        return self.ctx.name

    @property
    def rule(self) -> str:
        return derivative_rule(self.ctx)


@dataclass
class GraphTrace:
    """A graph behind one root tensor: tensors and ops in topological order."""

    root: str
    tensors: dict[str, TensorNode] = field(default_factory=dict)
    ops: dict[str, OpNode] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # module path -> label
    _ids: dict[int, str] = field(default_factory=dict, repr=False)

    def id_of(self, tensor: Any) -> str:
        """The node id of a tensor of this graph."""
        try:
            return self._ids[id(tensor)]
        except KeyError:
            raise KeyError(
                f"tensor of shape {tuple(tensor.shape)} is not part of this graph"
            ) from None

    def op_of(self, tensor_id: str) -> OpNode | None:
        """The op that made tensor `tensor_id` (None for leaves)."""
        return self.ops.get("op" + tensor_id[1:])

    def consumers(self) -> dict[str, list[str]]:
        """Tensor id -> ids of the ops that read it."""
        used: dict[str, list[str]] = {t: [] for t in self.tensors}
        for op in self.ops.values():
            for i in dict.fromkeys(op.inputs):
                used[i].append(op.id)
        return used


def derivative_rule(ctx: Any) -> str:
    """The op's derivative rule (Function.rule reads it from the op's docstring)."""
    return str(type(ctx).rule())


def _is_source(item: Any) -> bool:
    return hasattr(item, "named_parameters") or hasattr(item, "items")


def _sources(params: Any) -> list:
    """params as a list of name sources: a model, a dict, pairs, or a list of those."""
    if params is None:
        return []
    if isinstance(params, (list, tuple)) and params and all(_is_source(p) for p in params):
        return list(params)
    return [params]


def named_tensors(params: Any) -> list[tuple[str, Any]]:
    """(name, tensor) pairs from a model (named_parameters), a dict {name: tensor},
    (name, tensor) pairs, or a list of models and dicts (e.g. [model, {"x": x}])."""
    pairs: list[tuple[str, Any]] = []
    for source in _sources(params):
        if hasattr(source, "named_parameters"):
            pairs.extend(source.named_parameters())
        elif hasattr(source, "items"):
            pairs.extend(source.items())
        else:
            for pair in source:
                if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise TypeError(
                        "params must be a model with named_parameters(), a dict {name: tensor}, "
                        "(name, tensor) pairs or a list of models and dicts, got an item of "
                        f"type {type(pair).__name__}"
                    )
                pairs.append(pair)
    return pairs


def trace_graph(root: Tensor, params: Any = None) -> GraphTrace:
    """Walk the graph behind `root` once: number every tensor and op, attach names.

    Ids follow a topological order: a tensor's inputs always have smaller numbers.
    Tensors are "t0", "t1", ...; the op that made tensor "tK" is "opK".
    """
    names = {id(t): name for name, t in named_tensors(params)}
    trace = GraphTrace(root="")
    # every tensor behind root, constants included, in the order the forward pass made them
    for tensor in toposort([root], every_tensor=True):
        key = id(tensor)
        node_id = f"t{len(trace.tensors)}"
        trace._ids[key] = node_id
        ctx = tensor.grad_fn
        if ctx is not None:
            kind = "intermediate"
            op_id = "op" + node_id[1:]
            trace.ops[op_id] = OpNode(op_id, ctx, node_id, [trace._ids[id(p)] for p in ctx.parents])
        else:
            kind = "param" if tensor.requires_grad else "constant"
        trace.tensors[node_id] = TensorNode(node_id, tensor, names.get(key), kind)
    trace.root = trace.id_of(root)
    trace.tensors[trace.root].is_output = True
    models = [m for m in _sources(params) if hasattr(m, "named_parameters")]
    if models or any("." in name for name in names.values()):
        _assign_modules(trace, models)
    return trace


def _gather_path(trace: GraphTrace, tensor_id: str, taken: dict[str, str],
                 consumers: dict[str, list[str]]) -> list[OpNode]:
    """The im2col (unfold) that made `tensor_id`, with the rearrangements after it,
    when each of them feeds only the next: conv2d's input windows. Else []."""
    path = []
    op = trace.op_of(tensor_id)
    while op is not None and op.id not in taken and len(consumers[op.output]) == 1:
        path.append(op)
        if op.name in _GATHER:
            return path
        if op.name not in _REARRANGE:
            break
        op = trace.op_of(op.inputs[0])
    return []


def _assign_modules(trace: GraphTrace, models: list) -> None:
    """Group nodes by the module that owns them.

    A model's modules remember their latest call (Module.last_call): then each module
    owns exactly the ops between its inputs and its output, innermost module first.
    Graphs drawn from a dict of named parameters (no modules) fall back on
    `_modules_from_parameters`.
    """
    owner: dict[str, str] = {}
    for node in trace.tensors.values():
        if node.kind == "param" and node.name is not None:
            owner[node.id] = node.name.rpartition(".")[0]
    op_module, call_inputs = _modules_from_calls(trace, models)
    inner: dict[str, str] = {}
    if op_module is None:
        if not owner:
            return
        op_module = _modules_from_parameters(trace, owner)
    else:
        inner = _inner_constants(trace, op_module, call_inputs)
    for op in trace.ops.values():
        op.module = op_module.get(op.id)
        trace.tensors[op.output].module = op.module
    for tensor_id, module in [*owner.items(), *inner.items()]:
        trace.tensors[tensor_id].module = module
    kinds = {}
    for model in models:
        if hasattr(model, "named_modules"):
            kinds.update(model.named_modules())
    for module in dict.fromkeys([*owner.values(), *op_module.values()]):
        kind = type(kinds[module]).__name__ if module in kinds else None
        title = module or (kind or "model")
        trace.modules[module] = f"{title} · {kind}" if kind and module else title


def _modules_from_calls(trace: GraphTrace,
                        models: list) -> tuple[dict[str, str] | None, set[str]]:
    """(op id -> module path, ids of the modules' input tensors) from the modules'
    recorded calls; (None, set()) when no module of `models` has a call in this graph.
    The model itself (path "") owns nothing: its ops are the whole graph."""
    calls = []
    for model in models:
        if not hasattr(model, "named_modules"):
            continue
        for path, module in model.named_modules():
            call = module.last_call() if path and hasattr(module, "last_call") else None
            if call is None or id(call[0]) not in trace._ids:
                continue
            inputs = {trace._ids[id(t)] for t in call[1] if id(t) in trace._ids}
            calls.append((path.count("."), path, trace.id_of(call[0]), inputs))
    if not calls:
        return None, set()
    op_module: dict[str, str] = {}
    for _, path, output, inputs in sorted(calls, key=lambda call: -call[0]):  # innermost first
        stack, seen = [output], set()
        while stack:
            tensor_id = stack.pop()
            if tensor_id in inputs or tensor_id in seen:
                continue
            seen.add(tensor_id)
            op = trace.op_of(tensor_id)
            if op is not None:
                op_module.setdefault(op.id, path)
                stack.extend(op.inputs)
    return op_module, set().union(*(inputs for *_, inputs in calls))


def _inner_constants(trace: GraphTrace, op_module: dict[str, str],
                     call_inputs: set[str]) -> dict[str, str]:
    """Unnamed constants that a module made for itself (masks, the im2col of an input
    that needs no grad) and that only its ops read: tensor id -> module path."""
    consumers = trace.consumers()
    found = {}
    for node in trace.tensors.values():
        if node.kind != "constant" or node.name is not None or node.id in call_inputs:
            continue
        readers = {op_module.get(c) for c in consumers[node.id]}
        if len(readers) == 1 and None not in readers:
            found[node.id] = readers.pop()
    return found


def _modules_from_parameters(trace: GraphTrace, owner: dict[str, str]) -> dict[str, str]:
    """op id -> module path, inferred from parameter names alone (no recorded calls):
    the ops reading a module's parameters or tensors computed from them alone
    (weight.T), rearrangements (reshape/permute) of such an op's result, ops sandwiched
    between two of the module's ops and the im2col that feeds only the module."""
    # tensors computed from one module's parameters alone
    pure: dict[str, str] = dict(owner)
    for op in trace.ops.values():
        sources = {pure.get(i) for i in op.inputs}
        if len(sources) == 1 and None not in sources:
            pure[op.output] = sources.pop()
    op_module: dict[str, str] = {}
    for op in trace.ops.values():
        for i in op.inputs:
            if i in pure:
                op_module[op.id] = pure[i]
                break
    consumers = trace.consumers()

    def module_of_tensor(tensor_id: str) -> str | None:
        made_by = "op" + tensor_id[1:]
        return op_module.get(made_by)

    changed = True
    while changed:
        changed = False
        for op in trace.ops.values():
            if op.id in op_module:
                continue
            readers = {op_module.get(c) for c in consumers[op.output]}
            inner = {module_of_tensor(i) for i in op.inputs} - {None}
            module = None
            if len(readers) == 1 and None not in readers and readers <= inner:
                module = readers.pop()  # between two of the module's ops
            if module is None and op.name in _REARRANGE and len(inner) == 1:
                source = op.inputs[0]
                if len(consumers[source]) == 1:
                    module = inner.pop()
            if module is not None:
                op_module[op.id] = module
                changed = True
    for op in list(trace.ops.values()):
        if op.id in op_module:
            for tensor_id in op.inputs:
                for gather in _gather_path(trace, tensor_id, op_module, consumers):
                    op_module[gather.id] = op_module[op.id]
    return op_module


# ---------------------------------------------------------------------------
# Formatting values: 4 significant digits, small tensors in full, large summarized.
# ---------------------------------------------------------------------------


def format_number(x: Any) -> str:
    """One number with 4 significant digits (integers and bools as they are)."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.4g}"


def _nested(array: np.ndarray) -> str:
    if array.ndim == 0:
        return format_number(array.item())
    return "[" + ", ".join(_nested(a) for a in array) + "]"


def format_shape(shape: tuple, dtype: Any) -> str:
    """`(128, 784) float32`, or `scalar float32` for a 0-d tensor."""
    dims = "scalar" if len(shape) == 0 else "(" + ", ".join(str(s) for s in shape) + ")"
    if len(shape) == 1:
        dims = f"({shape[0]},)"
    return f"{dims} {np.dtype(dtype).name}"


def value_cells(array: Any, mode: Any = "auto") -> list[str]:
    """A tensor's values as label cells: one cell with every value when the tensor
    is small (or mode='full'), else three: min, mean, max (mode='summary' always)."""
    array = np.asarray(array)
    if array.size == 0:
        return ["empty"]
    if array.size <= (SMALL if mode in ("auto", True) else 64 if mode == "full" else 0):
        return [_nested(array)]
    if mode == "full":  # NumPy elides the middle of big arrays: a label stays a line
        text = np.array2string(array, precision=4, separator=", ", threshold=64, edgeitems=2)
        return [" ".join(text.split())]
    if array.dtype.kind == "b":
        return [f"{int(array.sum())} of {array.size} true"]
    values = array.astype(np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return ["no finite values"]
    cells = [format_number(finite.min()), format_number(finite.mean()), format_number(finite.max())]
    bad = values.size - finite.size
    if bad:
        cells[2] += f" ({bad} nan/inf)"
    return cells


def format_array(array: Any, mode: Any = "auto") -> str:
    """A tensor's values on one line: in full when small (or mode='full'), else
    min / mean / max (mode='summary' always summarizes)."""
    cells = value_cells(array, mode)
    if len(cells) == 1:
        return cells[0]
    return f"min {cells[0]}  mean {cells[1]}  max {cells[2]}"


def _format_param(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{format_shape(value.shape, value.dtype).split(' ')[0]}"
    if isinstance(value, tuple):
        inner = ", ".join(_format_param(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, slice):
        start, stop = ("" if p is None else str(p) for p in (value.start, value.stop))
        return f"{start}:{stop}" + ("" if value.step is None else f":{value.step}")
    if isinstance(value, type(Ellipsis)):
        return "..."
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def op_details(ctx: Any) -> str:
    """The op's non-tensor arguments (axis, shape, ...), skipping unset ones."""
    items = [
        f"{key}={_format_param(value)}"
        for key, value in ctx.params.items()
        if value is not None and value is not False
    ]
    return ", ".join(items)


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------

_VALUE_MODES = ("auto", "summary", "full", True, False)


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "tinygrad_edu.viz needs the Python package graphviz: pip install graphviz "
            "(and the Graphviz programs to render: e.g. apt-get install graphviz)"
        ) from None
    return graphviz


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


def _check_options(show_values: Any, rankdir: str, max_nodes: int) -> None:
    if show_values not in _VALUE_MODES:
        raise ValueError(
            f"draw_graph: show_values must be 'auto', 'summary', 'full', True or False, "
            f"got {show_values!r}"
        )
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive int, got {max_nodes!r}")


def _check_size(trace: GraphTrace, collapse: bool, max_nodes: int) -> None:
    hidden = 0
    if collapse:
        inside = [n for n in (*trace.tensors.values(), *trace.ops.values()) if n.module is not None]
        hidden = len(inside) - len(trace.modules)
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
    _check_options(show_values, rankdir, max_nodes)
    trace = trace_graph(root, params)
    _check_size(trace, collapse_modules, max_nodes)
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
    graphviz = _import_graphviz()
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
    for path in collapsed:
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


# ---------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------


def missing_dot_message(action: str, dot_path: Path | None) -> str:
    """The error text when Graphviz's `dot` program is not installed."""
    wrote = (f" The graph's source was written to {dot_path}; render it later with "
             f"`dot -Tsvg {dot_path} -o {dot_path.with_suffix('.svg')}`." if dot_path else "")
    return (
        f"{action}: the Graphviz program `dot` was not found on your PATH (the Python "
        "package graphviz only writes the source; rendering needs the Graphviz programs)."
        f"{wrote} Install Graphviz: Debian/Ubuntu `sudo apt-get install graphviz`, macOS "
        "`brew install graphviz`, conda `conda install -c conda-forge graphviz`, Windows "
        "`winget install graphviz`; then check that `dot -V` works."
    )


def render(graph: graphviz.Digraph, fmt: str, action: str = "render",
           dot_path: Path | None = None) -> bytes:
    """The graph rendered by `dot` to bytes in format `fmt` (svg, png, pdf)."""
    graphviz = _import_graphviz()
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        if dot_path is not None:
            write_text(dot_path, graph.source)
        raise GraphvizNotFoundError(missing_dot_message(action, dot_path)) from None


def save_graph(graph: graphviz.Digraph, path: str | Path) -> Path:
    """Write a Digraph to `path`; the format comes from the extension
    (.svg, .png, .pdf, or .dot / .gv for the source, which needs no Graphviz).

    When Graphviz's `dot` is missing, writes the `.dot` source next to `path` and
    raises GraphvizNotFoundError saying how to install Graphviz."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"save_graph: cannot tell the format of {path.name!r} from its extension; "
            f"use one of {', '.join(FORMATS)}"
        )
    if fmt == "dot":
        return write_text(path, graph.source)
    if fmt == "png":  # graphviz's default 72-96 dpi looks blurry on today's screens
        graph = graph.copy()
        graph.graph_attr.setdefault("dpi", "144")
    data = render(graph, fmt, f"save_graph({str(path)!r})", path.with_suffix(".dot"))
    return write_bytes(path, data)
