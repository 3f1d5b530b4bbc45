"""The look of a drawing: colours, and the HTML-like labels Graphviz draws in boxes.

`zoom` scales every font (the slide preset draws larger text).
"""

from __future__ import annotations

import html
from typing import Any

from .format import format_array, format_shape, in_full, op_details, value_cells
from .trace import OpNode, TensorNode

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

Cells = tuple[list[str], bool]  # the texts of a tensor's values, and whether in full


def cells(array: Any, mode: Any, scale: float | None = None) -> Cells:
    """A tensor's values as label cells (see format.value_cells)."""
    return value_cells(array, mode, scale), in_full(array, mode)


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def font(text: str, color: str, size: float = 10, face: str = FONT, bold: bool = False,
         zoom: float = 1.0) -> str:
    body = f"<B>{esc(text)}</B>" if bold else esc(text)
    return (f'<FONT FACE="{face}" POINT-SIZE="{size * zoom:g}" COLOR="{color}">'
            f"{body}</FONT>")


def row(text: str, color: str, size: float = 10, face: str = FONT, bold: bool = False,
        zoom: float = 1.0) -> str:
    return f'<TR><TD ALIGN="LEFT">{font(text, color, size, face, bold, zoom)}</TD></TR>'


def _value_rows(label: str, values: Cells, color: str, zoom: float) -> str:
    """`label` then the values: one spanning cell a line (a matrix's rows), or the
    three cells min / mean / max."""
    texts, full = values
    if full:
        rows = []
        for k, text in enumerate(texts):
            head = font(label, color, 9, MONO, zoom=zoom) if k == 0 else ""
            rows.append(f'<TR><TD ALIGN="LEFT">{head}</TD><TD ALIGN="LEFT" COLSPAN="3">'
                        f"{font(clip(text, 90), color, 9, MONO, zoom=zoom)}</TD></TR>")
        return "".join(rows)
    body = "".join(f'<TD ALIGN="RIGHT" CELLPADDING="2">{font(c, color, 9, MONO, zoom=zoom)}</TD>'
                   for c in texts)
    return f'<TR><TD ALIGN="LEFT">{font(label, color, 9, MONO, zoom=zoom)}</TD>{body}</TR>'


def tensor_label(node: TensorNode, title: str | None, values: Any, grad: Cells | None,
                 zoom: float = 1.0) -> str:
    """Title, shape and dtype, then rows `data` and `grad` in a table of their own (a
    header names the columns when one of them is summarized as min / mean / max)."""
    _, _, text = STYLES["output" if node.is_output else node.kind]
    t = node.tensor
    if title is None and node.is_output:
        title = "output"
    rows = [] if title is None else [row(title, text, 11, bold=True, zoom=zoom)]
    rows.append(row(format_shape(t.shape, t.dtype), MUTED, 9, zoom=zoom))
    data = None if values is False else cells(t.data, values)
    numbers = []
    if (data and not data[1]) or (grad and not grad[1]):
        names = "".join(f'<TD ALIGN="RIGHT" CELLPADDING="2">{font(n, MUTED, 8, zoom=zoom)}</TD>'
                        for n in ("min", "mean", "max"))
        numbers.append(f"<TR><TD></TD>{names}</TR>")
    if data is not None:
        numbers.append(_value_rows("data", data, text, zoom))
    if grad is not None:
        numbers.append(_value_rows("grad", grad, GRAD_COLOR, zoom))
    if numbers:
        rows.append('<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" '
                    f'CELLPADDING="1">{"".join(numbers)}</TABLE></TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            + "".join(rows) + "</TABLE>>")


def tensor_tooltip(node: TensorNode, title: str | None, grad: Cells | None = None) -> str:
    t = node.tensor
    kind = {"param": "leaf that requires grad", "constant": "constant (no grad)",
            "intermediate": "intermediate result"}[node.kind]
    parts = [title or node.id, format_shape(t.shape, t.dtype), kind,
             "data: " + format_array(t.data)]
    if grad is not None:
        texts, full = grad
        parts.append("grad: " + ("".join(texts) if full else
                                 f"min {texts[0]}  mean {texts[1]}  max {texts[2]}"))
    return "\\n".join(parts)  # dot's escape for a line break, keeps the source one line a node


def op_label(op: OpNode, zoom: float = 1.0) -> str:
    _, _, text = STYLES["op"]
    rows = [row(op.name, text, 11, bold=True, zoom=zoom)]
    details = op_details(op.ctx)
    if details:
        rows.append(row(clip(details, 40), MUTED, 8, zoom=zoom))
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
            + "".join(rows).replace('ALIGN="LEFT"', 'ALIGN="CENTER"') + "</TABLE>>")


def legend_label(with_grad: bool, with_modules: bool, zoom: float = 1.0) -> str:
    """One row of colour swatches saying what each style means."""
    swatches = []
    kinds = [("param", "leaf that requires grad"), ("constant", "constant"),
             ("intermediate", "intermediate"), ("output", "output"), ("op", "op")]
    if with_modules:
        kinds.append(("module", "module or function (collapsed)"))
    for kind, text in kinds:
        fill, border, color = STYLES[kind]
        swatches.append(f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1" WIDTH="14" '
                        f'HEIGHT="10"></TD><TD ALIGN="LEFT">{font(text, color, 9, zoom=zoom)}</TD>')
    if with_grad:
        meaning = font("grad = d(output)/d(tensor)", GRAD_COLOR, 9, zoom=zoom)
        swatches.append(f'<TD></TD><TD ALIGN="LEFT">{meaning}</TD>')
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="1"><TR>'
            + "".join(swatches) + "</TR></TABLE>>")
