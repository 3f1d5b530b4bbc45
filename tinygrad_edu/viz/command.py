"""`tinygrad-edu graph`: draw the graph of an example model (neuron, MNIST MLP or CNN).

cli.py wires the subcommand to `add_graph_arguments` and `run_graph`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .draw import DEFAULT_MAX_NODES, GraphTooLargeError
from .render import FORMATS, GraphvizNotFoundError

MODELS = ("neuron", "mlp", "cnn")


def neuron() -> tuple[Any, dict[str, Any]]:
    """The neuron of Karpathy's micrograd lecture, o = tanh(x1*w1 + x2*w2 + b) with
    x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432 (every leaf requires grad, as in
    the lecture), after backward. Returns the output and a name for every tensor."""
    from ..creation import tensor

    x1, x2 = tensor(2.0, requires_grad=True), tensor(0.0, requires_grad=True)
    w1, w2 = tensor(-3.0, requires_grad=True), tensor(1.0, requires_grad=True)
    b = tensor(6.8813735870195432, requires_grad=True)
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    o.backward()
    names = {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "x1w1": x1w1, "x2w2": x2w2,
             "x1w1 + x2w2": x1w1x2w2, "n": n, "o": o}
    return o, names


def _mnist_batch(batch: int, image: bool) -> tuple[Any, Any]:
    """A seeded random batch shaped like MNIST (the graph's shape is what matters)."""
    from ..creation import rand, tensor
    from ..rng import manual_seed

    manual_seed(0)
    shape = (batch, 1, 28, 28) if image else (batch, 784)
    return rand(*shape), tensor(np.arange(batch, dtype=np.int64) % 10)


def mlp(batch: int = 32) -> tuple[Any, list]:
    """The MNIST MLP 784-128-10 with cross-entropy, after backward."""
    from .. import nn
    from ..nn import functional as F  # noqa: N812

    x, y = _mnist_batch(batch, image=False)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss, [model, {"images": x, "loss": loss}]


def cnn(batch: int = 8) -> tuple[Any, list]:
    """The small MNIST CNN of the benchmark (models.small_cnn: two conv-relu-maxpool
    blocks, then a linear layer) with cross-entropy, after backward."""
    from .. import models
    from ..nn import functional as F  # noqa: N812

    x, y = _mnist_batch(batch, image=True)
    model = models.small_cnn()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss, [model, {"images": x, "loss": loss}]


def example(name: str) -> tuple[Any, Any]:
    """(output, names) of an example graph: 'neuron', 'mlp' or 'cnn'."""
    builders: dict[str, Callable[[], tuple[Any, Any]]] = {"neuron": neuron, "mlp": mlp,
                                                          "cnn": cnn}
    if name not in builders:
        raise ValueError(f"unknown example model {name!r}; choose one of {', '.join(MODELS)}")
    return builders[name]()


def add_graph_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `tinygrad-edu graph`."""
    parser.add_argument("--model", choices=MODELS, default="neuron",
                        help="which example graph to draw (default: neuron)")
    parser.add_argument("--out", default="graph.svg", metavar="FILE",
                        help="where to write; the extension picks the format: "
                             ".svg, .png, .pdf, .dot, or .html for an animation of the "
                             "backward pass (default: graph.svg)")
    parser.add_argument("--no-values", action="store_true",
                        help="show shapes only, no values or gradients")
    parser.add_argument("--rankdir", choices=("LR", "TB", "RL", "BT"), default=None,
                        help="layout direction (default: left to right for shallow graphs, "
                             "top to bottom for deep ones)")
    parser.add_argument("--slide", action="store_true",
                        help="a 16:9 picture with large text, modules collapsed")
    parser.add_argument("--collapse-modules", action="store_true",
                        help="draw each module (layer) as one node")
    parser.add_argument("--max-nodes", type=int, default=DEFAULT_MAX_NODES,
                        help=f"refuse larger graphs (default: {DEFAULT_MAX_NODES})")


def run_graph(args: argparse.Namespace) -> int:
    """Draw the chosen example to args.out; 0 on success, 1 on a drawing error, 2 when
    the example is unavailable or the output format unknown."""
    from .animation import save_backward_animation
    from .draw import draw_graph
    from .render import save_graph

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS and suffix != ".html":
        print(f"tinygrad-edu graph: cannot tell the format of {str(out)!r} from its extension; "
              f"use one of {', '.join([*FORMATS, '.html'])}", file=sys.stderr)
        return 2
    root, names = example(args.model)
    rankdir = args.rankdir
    values = not args.no_values and "auto"
    try:
        if suffix == ".html":
            save_backward_animation(root, out, names, show_values=values, rankdir=rankdir,
                                    max_nodes=args.max_nodes)
        else:
            graph = draw_graph(root, names, show_values=values,
                               show_grads="auto" if values else False, rankdir=rankdir,
                               max_nodes=args.max_nodes,
                               collapse_modules=args.collapse_modules or None,
                               preset="slide" if args.slide else None)
            save_graph(graph, out)
    except (GraphvizNotFoundError, GraphTooLargeError) as error:
        print(f"tinygrad-edu graph: {error}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0
