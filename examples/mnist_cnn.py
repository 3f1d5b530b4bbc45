"""Train a small convolutional network on MNIST or Fashion-MNIST with tinygrad_edu.

    python examples/mnist_cnn.py --data ../shared/data/mnist-5k   # 5,000 digits
    python examples/mnist_cnn.py --dataset fashion                # full Fashion-MNIST

The model (tinygrad_edu.models.cnn, also `tinygrad-edu train --model cnn`) is two
convolution blocks and a small classifier:

    conv(1->32, 3x3, pad 1)-BatchNorm-ReLU-maxpool 2      28x28 -> 14x14
    conv(32->64, 3x3, pad 1)-BatchNorm-ReLU-maxpool 2     14x14 -> 7x7
    flatten (3136) -> Dropout(0.3) -> Linear(3136->128)-ReLU -> Linear(128->10)

421,834 parameters, ~8.5 MFLOP per image forward. It is trained for 20 epochs
with SGD (momentum 0.9, Nesterov, weight decay 1e-4), a cosine learning-rate
schedule and random shifts (2 pixels for digits; 1 pixel plus left-right flips for
clothes). Measured on a 2-core machine shared with other work (seed 0):

    MNIST, 5,000 training images (mnist-5k), official 10,000 test images: 98.7%
        (~5 s per epoch, ~1.5 min of training)
    Fashion-MNIST, 60,000 / 10,000: 93.0% (~60 s per epoch, ~20 min of training)

--blas-threads (default 1) caps the BLAS threads before NumPy loads: on a machine whose
cores are busy with other work, multithreaded OpenBLAS spins on them and made this
network several times slower; 0 keeps the library's default.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dataset", choices=("mnist", "fashion"), default="mnist")
parser.add_argument("--data", default=None,
                    help="folder with the IDX files (default: search, then download)")
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--lr", type=float, default=0.05)
parser.add_argument("--blas-threads", type=int, default=1, help="0: the BLAS default")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", default="runs/example-cnn")
args = parser.parse_args()
if args.blas_threads > 0:  # must be set before NumPy loads OpenBLAS
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)

import numpy as np  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import models, optim  # noqa: E402
from tinygrad_edu.data import MNIST, FashionMNIST  # noqa: E402
from tinygrad_edu.train import RandomShift, fit  # noqa: E402
from tinygrad_edu.utils.data import DataLoader  # noqa: E402


def main() -> None:
    tg.manual_seed(args.seed)
    dataset = MNIST if args.dataset == "mnist" else FashionMNIST
    train_set, test_set = dataset(args.data, train=True), dataset(args.data, train=False)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    epochs = args.epochs

    model = models.cnn()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                          weight_decay=1e-4)
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=epochs)
    augment = RandomShift(2) if args.dataset == "mnist" else RandomShift(1, flip=True)
    print(f"{args.dataset}: {len(train_set)} training images, {len(test_set)} test images; "
          f"{sum(p.numel() for p in model.parameters())} parameters; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(default)')}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    history = fit(model, optimizer, train_loader, epochs, test_loader=test_loader,
                  scheduler=scheduler, augment=augment, checkpoint=out / "model.npz",
                  progress=False)
    wall = time.perf_counter() - start
    loss, accuracy = history.test_loss[-1], history.test_acc[-1]  # fit's last evaluation
    history.save(out / "history.json")
    print(f"test accuracy: {accuracy:.2%} (loss {loss:.4f}) after {epochs} epochs; "
          f"{sum(history.seconds):.0f} s of training, {wall:.0f} s with evaluation; "
          f"best epoch {int(np.argmax(history.test_acc)) + 1} "
          f"({max(history.test_acc):.2%})")


if __name__ == "__main__":
    main()
