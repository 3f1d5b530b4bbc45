"""The seed network: 784-10-10, ReLU then softmax, full-batch gradient descent, lr 0.1.

The "neural network from scratch in NumPy" blog posts this project grew from train
it on Kaggle's digit-recognizer train.csv split into 8,000 training and 2,000 dev
digits, with weights drawn uniform in [-0.5, 0.5] and pixels scaled to [0, 1], and
report about 84% train and 85.5% dev accuracy. Here it is in tinygrad_edu:

    python examples/seed_784_10_10.py                  # 10,000 MNIST test-set digits
    python examples/seed_784_10_10.py --csv train.csv  # Kaggle's file, if you have it
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

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--csv", help="Kaggle digit-recognizer train.csv (label + 784 pixels)")
parser.add_argument("--data", help="MNIST folder; its 10,000-image test set is used "
                                   "(default: $TINYGRAD_EDU_MNIST_5K, ../shared/data/mnist-5k, "
                                   "then the usual MNIST search and download)")
parser.add_argument("--steps", type=int, default=1000, help="gradient descent steps")
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

# -- 10,000 digits, shuffled with a fixed seed, split 8,000 / 2,000 ------------------
if args.csv:
    digits, source = CSVDigits(args.csv), f"{args.csv} (Kaggle CSV)"
else:
    default = Path(__file__).resolve().parents[2] / "shared/data/mnist-5k"
    root = args.data or os.environ.get("TINYGRAD_EDU_MNIST_5K") or (
        default if default.is_dir() else None)
    digits = MNIST(root, train=False)
    source = f"the MNIST test set in {digits.folder}"
order = np.random.default_rng(args.seed).permutation(len(digits))[:10_000]
if len(order) < 10_000:
    raise SystemExit(f"need 10,000 labeled digits, {source} has {len(digits)}")
x_all, y_all = digits.get_batch(order)
x_all = x_all.reshape(len(order), 784)  # pixels already in [0, 1]
x_train, y_train = tg.Tensor(x_all[:8000]), tg.Tensor(y_all[:8000])
x_dev, y_dev = tg.Tensor(x_all[8000:]), tg.Tensor(y_all[8000:])
print(f"data: 10,000 digits from {source}, shuffled (seed {args.seed}): "
      "8,000 train / 2,000 dev")

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
      f"dev {dev_accuracy():.2%} (the posts: about 84% train, 85.5% dev)")
