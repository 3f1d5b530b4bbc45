"""Draw computation graphs: a micrograd-style neuron and the MNIST MLP.

    python examples/draw_graph.py                       # neuron.svg, mlp.svg, neuron_backward.html
    python examples/draw_graph.py --format png --out-dir docs/images

Also writes cnn_collapsed and neuron_slide (the 16:9 slide preset).

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
from tinygrad_edu.models import small_cnn
from tinygrad_edu.nn import functional as F  # noqa: N812
from tinygrad_edu.viz import draw_graph, explain, save_backward_animation, save_graph


def neuron() -> tuple[tg.Tensor, dict[str, tg.Tensor]]:
    """The neuron of Karpathy's micrograd lecture: o = tanh(x1*w1 + x2*w2 + b), with a
    name for each tensor we want labelled (every leaf requires grad, as in the lecture)."""
    x1, x2 = tg.tensor(2.0, requires_grad=True), tg.tensor(0.0, requires_grad=True)
    w1, w2 = tg.tensor(-3.0, requires_grad=True), tg.tensor(1.0, requires_grad=True)
    b = tg.tensor(6.8813735870195432, requires_grad=True)
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


def cnn_example() -> tuple[tg.Tensor, list]:
    """The small MNIST CNN on a random batch, after backward, with its input named."""
    tg.manual_seed(0)
    model = small_cnn()
    images = tg.rand(8, 1, 28, 28)
    loss = F.cross_entropy(model(images), tg.tensor(np.arange(8) % 10))
    loss.backward()
    return loss, [model, {"images": images, "loss": loss}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=".", help="where to write (default: here)")
    parser.add_argument("--format", choices=("svg", "png", "pdf", "dot"), default="svg")
    args = parser.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    o, names = neuron()
    explain(o, names)  # the chain rule in numbers, before backward: explain changes nothing
    o.backward()  # now the drawing shows every node's gradient (no retain_grad needed)
    print("wrote", save_graph(draw_graph(o, names), out / f"neuron.{args.format}"))
    slide = draw_graph(o, names, preset="slide")  # 16:9, large text
    print("wrote", save_graph(slide, out / f"neuron_slide.{args.format}"))

    loss, model, images = mnist_mlp()
    loss.backward()
    # a model names its parameters and groups each layer; a dict names anything else
    graph = draw_graph(loss, [model, {"images": images, "loss": loss}])
    print("wrote", save_graph(graph, out / f"mlp.{args.format}"))

    # the CNN, each layer (and the loss function, a named_scope) drawn as one node
    cnn_loss, names_cnn = cnn_example()
    graph = draw_graph(cnn_loss, names_cnn, collapse_modules=True)
    print("wrote", save_graph(graph, out / f"cnn_collapsed.{args.format}"))

    if args.format != "dot":  # the animation is laid out by Graphviz too
        print("wrote", save_backward_animation(o, out / "neuron_backward.html", names))


if __name__ == "__main__":
    main()
