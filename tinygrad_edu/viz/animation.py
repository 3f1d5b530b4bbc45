"""The backward pass as one self-contained HTML page that steps through the drawn graph.

The page holds the graph's SVG (rendered by Graphviz's `dot`), the steps as JSON and
a small script: next / previous / play buttons and the arrow keys move between
frames; the op being processed is highlighted and gradients fill in as they arrive.
Nothing is loaded from the network.

`page.html#frame=3` opens at frame 3. Opening the page with `#selftest` steps through
every frame by itself and writes
`ok frames=N missing=M errors=E` into `<div id="result">` (used by the tests).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..files import write_text
from .draw import DEFAULT_MAX_NODES, build_digraph, check_options, check_size
from .explain import chain_rule
from .format import value_cells
from .labels import Cells, cells
from .page import PAGE
from .render import render


def _frames(text: Any, mode: Any) -> tuple[list[dict], dict[str, Cells]]:
    """One frame for the seed, one per step, one for the end; and each tensor's final
    gradient cells (they size the boxes before the numbers arrive)."""
    trace, steps, names = text.trace, text.steps, text.names
    root = trace.root
    totals: dict[str, np.ndarray] = {}
    scales: dict[str, float] = {}  # sum of |contributions|: what float noise is relative to
    seed = steps[0].upstream if steps else np.ones_like(trace.tensors[root].tensor.data)
    totals[root] = seed
    frames = [{
        "title": f"Start: dL/d{names[root]} = 1",
        "lines": text.intro + ["Press → (or Next) to send the gradient back one op at a time."],
        "active": [root], "targets": [], "edges": [],
        "grads": {root: value_cells(seed, mode)},
    }]
    for step, lines in zip(steps, text.blocks):
        changed = {}
        for flow in step.inputs:
            previous = totals.get(flow.node)
            totals[flow.node] = flow.grad if previous is None else previous + flow.grad
            scales[flow.node] = scales.get(flow.node, 0.0) + float(np.abs(flow.grad).max())
            changed[flow.node] = value_cells(totals[flow.node], mode, scales[flow.node])
        frames.append({
            "title": f"Step {step.index + 1} of {len(steps)}: {step.op}",
            "lines": lines,
            "active": [step.op_node, step.node],
            "targets": [flow.node for flow in step.inputs],
            "edges": [f"e_{step.op_node}_{flow.position}" for flow in step.inputs]
            + [f"e_{step.op_node}_out"],
            "grads": changed,
        })
    frames.append({
        "title": "Done: every leaf that requires grad has its gradient",
        "lines": text.summary or ["No leaf requires grad."],
        "active": [], "targets": [], "edges": [], "grads": {},
    })
    final = {node: cells(total, mode, scales.get(node)) for node, total in totals.items()}
    return frames, final


def backward_animation_html(loss: Any, params: Any = None, gradient: Any = None,
                            show_values: Any = "auto", rankdir: str | None = None,
                            max_nodes: int = DEFAULT_MAX_NODES, title: str | None = None) -> str:
    """The page that `save_backward_animation` writes, as a string."""
    check_options(show_values, rankdir, max_nodes)
    text = chain_rule(loss, params, gradient)
    check_size(text.trace, False, max_nodes)
    mode = "auto" if show_values is False else show_values
    frames, final = _frames(text, mode)
    dot = build_digraph(text.trace, show_values, final, rankdir, legend=True)
    svg = render(dot, "svg", "save_backward_animation").decode("utf-8")
    svg = _inline_svg(svg)
    data = json.dumps({"frames": frames, "gradNodes": sorted(final)}, separators=(",", ":"))
    data = data.replace("</", "<\\/")  # a JSON string must not close the <script>
    heading = title or f"Backward pass of {text.names[text.trace.root]}"
    return (PAGE.replace("__TITLE__", html.escape(heading))
            .replace("__SVG__", svg).replace("__DATA__", data))


def _inline_svg(svg: str) -> str:
    """The SVG element alone: no XML declaration or DOCTYPE (whose DTD address is a
    URL), ready to sit inside HTML."""
    start = svg.index("<svg")
    return re.sub(r"<!--.*?-->\n?", "", svg[start:], flags=re.S)


class Animation:
    """The backward animation of a graph, as returned by `animate`: shows itself in
    Jupyter (in an iframe of its own, so its script and ids stay apart from the
    notebook's), `.html` is the page and `.save(path)` writes it."""

    def __init__(self, page: str, height: int = 760) -> None:
        self.html = page
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width: 100%; height: {self.height}px; border: 1px solid #e2e8f0; '
                'border-radius: 8px" sandbox="allow-scripts"></iframe>')

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` (one self-contained HTML file)."""
        return write_text(path, self.html)


def animate(loss: Any, params: Any = None, gradient: Any = None, show_values: Any = "auto",
            rankdir: str | None = None, max_nodes: int = DEFAULT_MAX_NODES,
            title: str | None = None, height: int = 760) -> Animation:
    """The backward pass of `loss` as an animation that shows itself in a Jupyter
    notebook (`viz.animate(loss)` as a cell's last line); `height` is its height in
    the notebook, in pixels. Same arguments as `save_backward_animation`."""
    return Animation(backward_animation_html(loss, params, gradient, show_values, rankdir,
                                             max_nodes, title), height)


def save_backward_animation(loss: Any, path: str | Path, params: Any = None,
                            gradient: Any = None, show_values: Any = "auto",
                            rankdir: str | None = None, max_nodes: int = DEFAULT_MAX_NODES,
                            title: str | None = None) -> Path:
    """Write one self-contained HTML file that steps through the backward pass of
    `loss` on its drawn graph (next / previous / play, arrow keys), highlighting the
    op being processed and filling in gradients as they arrive.

    Needs Graphviz's `dot` to lay out the graph (GraphvizNotFoundError otherwise).
    Nothing of the graph or of any `.grad` changes."""
    page = backward_animation_html(loss, params, gradient, show_values, rankdir, max_nodes,
                                   title)
    return write_text(path, page)
