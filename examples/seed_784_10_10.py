"""The seed network: 784-10-10, ReLU then softmax, full-batch gradient descent, lr 0.10.

The "neural network from scratch in NumPy" blog posts this project grew from train it on
Kaggle's digit-recognizer train.csv (42,000 labeled digits): shuffle the rows, keep the
first 1,000 as dev and train on all the others, weights and biases drawn uniform in
[-0.5, 0.5], pixels scaled to [0, 1], alpha 0.10 for 500 iterations; they report about
85% dev accuracy. Here is the same protocol in tinygrad_edu:

    python examples/seed_784_10_10.py --csv train.csv  # Kaggle's file (or one in its layout)
    python examples/seed_784_10_10.py                  # the 60,000 MNIST training digits

docs/04_seed_network.ipynb writes the backward pass by hand in NumPy beside this one,
and builds a 42,000-row CSV in Kaggle's layout from MNIST.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import optim
from tinygrad_edu.data import MNIST, CSVDigits
from tinygrad_edu.nn import functional as F  # noqa: N812

DEV_ROWS = 1000  # the posts' dev set: the first 1,000 rows after shuffling

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--csv", help="Kaggle digit-recognizer train.csv (label + 784 pixels)")
parser.add_argument("--data", help="MNIST folder, whose training split is used (default: "
                                   "$TINYGRAD_EDU_MNIST_DIR, ../shared/data/mnist, then the "
                                   "usual MNIST search and download)")
parser.add_argument("--steps", type=int, default=500, help="gradient descent steps (500)")
parser.add_argument("--lr", type=float, default=0.10)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

# -- every labeled row, shuffled with a fixed seed: 1,000 dev, the rest train ---------
official_test = None  # Kaggle's CSV comes without labeled test rows
if args.csv:
    digits, source = CSVDigits(args.csv), f"{args.csv} (Kaggle CSV)"
else:
    default = Path(__file__).resolve().parents[2] / "shared/data/mnist"
    root = args.data or os.environ.get("TINYGRAD_EDU_MNIST_DIR") or (
        default if default.is_dir() else None)
    digits = MNIST(root, train=True)
    source = f"the MNIST training set in {digits.folder}"
    official_test = MNIST(digits.folder, train=False)  # never seen in training nor dev
if digits.targets is None:
    raise SystemExit(f"{source} has no label column: the seed network needs labeled digits")
if len(digits) <= DEV_ROWS:
    raise SystemExit(f"need more than {DEV_ROWS:,} labeled digits, {source} has {len(digits):,}")
order = np.random.default_rng(args.seed).permutation(len(digits))
x_all, y_all = digits.get_batch(order)
x_all = x_all.reshape(len(order), 784)  # pixels already in [0, 1]
x_dev, y_dev = tg.from_numpy(x_all[:DEV_ROWS]), tg.from_numpy(y_all[:DEV_ROWS])
x_train, y_train = tg.from_numpy(x_all[DEV_ROWS:]), tg.from_numpy(y_all[DEV_ROWS:])
print(f"data: {len(order):,} digits from {source}, shuffled (seed {args.seed}): "
      f"{len(order) - DEV_ROWS:,} train / {DEV_ROWS:,} dev")

# -- the network: weights uniform in [-0.5, 0.5], as in the posts --------------------
tg.manual_seed(args.seed)
w1, b1 = tg.rand(10, 784) - 0.5, tg.rand(10) - 0.5
w2, b2 = tg.rand(10, 10) - 0.5, tg.rand(10) - 0.5
params = [p.requires_grad_() for p in (w1, b1, w2, b2)]
optimizer = optim.SGD(params, lr=args.lr)  # plain gradient descent


def forward(x: tg.Tensor) -> tg.Tensor:
    """Logits; softmax turns them into class probabilities (cross_entropy applies it)."""
    return (x @ w1.T + b1).relu() @ w2.T + b2


def accuracy(logits: tg.Tensor, y: tg.Tensor) -> float:
    predicted = logits.softmax(-1).argmax(-1)  # the most probable class
    return float((predicted == y).numpy().mean())


def dev_accuracy() -> float:
    with tg.no_grad():
        return accuracy(forward(x_dev), y_dev)


start = time.perf_counter()
for step in range(args.steps):
    logits = forward(x_train)  # the whole training set at once
    loss = F.cross_entropy(logits, y_train)
    if step % max(args.steps // 10, 1) == 0:
        print(f"step {step:5d}  loss {loss.item():.4f}  train {accuracy(logits, y_train):.2%}"
              f"  dev {dev_accuracy():.2%}")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
seconds = time.perf_counter() - start
with tg.no_grad():
    train_accuracy = accuracy(forward(x_train), y_train)
print(f"after {args.steps} steps ({seconds:.1f} s): train {train_accuracy:.2%}, "
      f"dev {dev_accuracy():.2%} (the posts: about 85% dev)")
if official_test is not None:
    x_test, y_test = official_test.get_batch(np.arange(len(official_test)))
    with tg.no_grad():
        test_accuracy = accuracy(forward(tg.from_numpy(x_test.reshape(len(x_test), 784))),
                                 tg.from_numpy(y_test))
    print(f"official test set ({len(x_test):,} digits): {test_accuracy:.2%}")
