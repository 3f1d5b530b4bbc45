"""Train a 784-256-128-10 MLP on MNIST or Fashion-MNIST with tinygrad_edu.

    python examples/mnist_mlp.py --data ../shared/data/mnist-5k   # 5,000 digits: ~95.5%
    python examples/mnist_mlp.py --dataset fashion                # full Fashion-MNIST: ~89.7%

This is the `tinygrad-edu train` command written out: data, model, optimizer, the
loop (tinygrad_edu.train.fit), a checkpoint and, with matplotlib installed, plots.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import tinygrad_edu as tg
from tinygrad_edu import models, nn, optim, plots
from tinygrad_edu.data import MNIST, FashionMNIST
from tinygrad_edu.train import RandomShift, evaluate, fit, predict
from tinygrad_edu.utils.data import DataLoader

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dataset", choices=("mnist", "fashion"), default="mnist")
parser.add_argument("--data", default=None, help="folder with the IDX files (default: search, "
                                                 "then download)")
parser.add_argument("--epochs", type=int, default=None, help="default: 30 mnist, 20 fashion")
parser.add_argument("--out", default="runs/example-mlp")
args = parser.parse_args()

tg.manual_seed(0)
Dataset = MNIST if args.dataset == "mnist" else FashionMNIST
train_set, test_set = Dataset(args.data, train=True), Dataset(args.data, train=False)
train_loader = DataLoader(train_set, batch_size=128, shuffle=True)
test_loader = DataLoader(test_set, batch_size=1000)
epochs = args.epochs or (30 if args.dataset == "mnist" else 20)

model = models.mlp(hidden=(256, 128))
optimizer = optim.Adam(model.parameters(), lr=1e-3)
scheduler = optim.CosineAnnealingLR(optimizer, T_max=epochs)
# Random 2-pixel shifts stretch 5,000 digits a long way; they do not help clothes.
augment = RandomShift(2) if args.dataset == "mnist" else None

out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
history = fit(model, optimizer, train_loader, epochs, test_loader=test_loader,
              scheduler=scheduler, augment=augment, checkpoint=out / "model.npz")

# the checkpoint holds the final weights: load them and measure, as a user of the file would
model.load_state_dict(nn.load(out / "model.npz"))
loss, accuracy = evaluate(model, test_loader)
print(f"test accuracy: {accuracy:.2%} (loss {loss:.4f}), {sum(history.seconds):.1f} s of training")
if plots.have_matplotlib():
    preds, targets = predict(model, test_loader)
    plots.plot_history(history, out / "curves.png", title=f"MLP on {args.dataset}")
    plots.plot_confusion(preds, targets, test_set.classes, out / "confusion.png")
    plots.plot_misclassified(test_set.images, preds, targets, test_set.classes,
                             out / "misclassified.png")
    print(f"plots in {out}/")
