"""Render a Digraph with Graphviz's `dot` and save it: render, save_graph, and the
message that says how to install Graphviz when `dot` is missing.

Building a Digraph never needs `dot`; only rendering does. The Python package
graphviz is imported inside the functions that need it, so that importing
tinygrad_edu stays light.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..files import write_bytes, write_text

if TYPE_CHECKING:
    import graphviz

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz `dot` program is not installed (the .dot source was written instead)."""


def import_graphviz() -> Any:
    """The graphviz package, or an ImportError that says how to install it."""
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "tinygrad_edu.viz needs the Python package graphviz: pip install graphviz "
            "(and the Graphviz programs to render: e.g. apt-get install graphviz)"
        ) from None
    return graphviz


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


@functools.cache
def drawing_class() -> Any:
    """graphviz.Digraph with a notebook display that, when `dot` is missing, shows how
    to install Graphviz instead of graphviz's traceback (made on first use, so that
    graphviz is imported only when drawing)."""
    gv = import_graphviz()

    def _repr_mimebundle_(self: Any, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any]:
        try:
            return gv.Digraph._repr_mimebundle_(self, include, exclude, **kwargs)
        except gv.ExecutableNotFound:
            message = missing_dot_message("draw_graph (displaying in a notebook)", None)
            return {"text/plain": message,
                    "text/html": f'<pre style="white-space: pre-wrap">{html.escape(message)}</pre>'}

    # made with type(): the base class exists only once graphviz is imported
    return type("Drawing", (gv.Digraph,), {
        "_repr_mimebundle_": _repr_mimebundle_,
        "__doc__": "A Digraph that displays itself in Jupyter, or says how to install `dot`.",
    })


def render(graph: graphviz.Digraph, fmt: str, action: str = "render",
           dot_path: Path | None = None) -> bytes:
    """The graph rendered by `dot` to bytes in format `fmt` (svg, png, pdf)."""
    graphviz = import_graphviz()
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
