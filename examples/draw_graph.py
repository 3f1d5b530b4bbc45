"""Draw computation graphs: a micrograd-style neuron and the MNIST MLP.

    python examples/draw_graph.py                       # neuron.svg, mlp.svg, neuron_backward.html
    python examples/draw_graph.py --format png --out-dir docs/images

Also prints the neuron's backward pass as chain-rule steps. Rendering SVG / PNG and
the HTML animation need Graphviz's `dot` (apt-get install graphviz); --format dot
writes the source only. In Jupyter, `draw_graph(...)` displays itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F  # noqa: N812
from tinygrad_edu.viz import draw_graph, explain, save_backward_animation, save_graph


def neuron() -> tuple[tg.Tensor, dict[str, tg.Tensor]]:
    """o = tanh(x1*w1 + x2*w2 + b), with a name for each tensor we want labelled."""
    x1, x2 = tg.tensor(2.0), tg.tensor(-1.0)
    w1, w2 = tg.tensor(0.5, requires_grad=True), tg.tensor(1.5, requires_grad=True)
    b = tg.tensor(0.25, requires_grad=True)
    x1w1, x2w2 = x1 * w1, x2 * w2
    n = x1w1 + x2w2 + b
    o = n.tanh()
    names = {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "x1w1": x1w1, "x2w2": x2w2,
             "n": n, "o": o}
    return o, names


def mnist_mlp(batch: int = 32) -> tuple[tg.Tensor, nn.Module, tg.Tensor]:
    """The MNIST MLP 784-128-10 on a random batch (the graph does not depend on the data)."""
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    images = tg.rand(batch, 784)
    labels = tg.tensor(np.arange(batch, dtype=np.int64) % 10)
    return F.cross_entropy(model(images), labels), model, images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=".", help="where to write (default: here)")
    parser.add_argument("--format", choices=("svg", "png", "pdf", "dot"), default="svg")
    args = parser.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    o, names = neuron()
    explain(o, names)  # the chain rule in numbers, before backward: explain changes nothing
    o.backward()  # now every leaf has .grad, and the drawing shows it
    print("wrote", save_graph(draw_graph(o, names), out / f"neuron.{args.format}"))

    loss, model, images = mnist_mlp()
    loss.backward()
    # a model names its parameters and groups each layer; a dict names anything else
    graph = draw_graph(loss, [model, {"images": images, "loss": loss}], rankdir="TB")
    print("wrote", save_graph(graph, out / f"mlp.{args.format}"))

    if args.format != "dot":  # the animation is laid out by Graphviz too
        print("wrote", save_backward_animation(o, out / "neuron_backward.html", names))


if __name__ == "__main__":
    main()
