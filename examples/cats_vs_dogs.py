"""Train a small CNN on a folder of images, one sub-folder per class (cats vs dogs, say).

    python examples/cats_vs_dogs.py DATA_DIR [--epochs 5] [--size 64] [--workers 2]

DATA_DIR holds train/<class>/*.jpg and optionally val/<class>/*.jpg; without val/, a
fifth of train/ is held out (a seeded random_split). Any number of classes works. The
script is written as a PyTorch user would write it: torchvision's ImageFolder and
transforms, a DataLoader, an optimizer and the usual loop. Images of any size and mode
(L, RGBA, palette) are read as RGB and resized to --size x --size. Reading images needs
Pillow: pip install 'tinygrad_edu[vision]'.

Kaggle's "Dogs vs. Cats" images sorted into train/cat and train/dog work; at 64 x 64
expect a slow epoch per few thousand images on a laptop CPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import tinygrad_edu as torch
from tinygrad_edu import nn, optim
from tinygrad_edu.nn import functional as F  # noqa: N812 (PyTorch's convention)
from tinygrad_edu.rng import Generator
from tinygrad_edu.utils.data import DataLoader, Subset, random_split
from tinygrad_edu.vision import datasets, transforms


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", help="folder with train/ (and optionally val/)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--size", type=int, default=64, help="images are resized to size x size")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--workers", type=int, default=0, help="loader threads (0: none)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def small_cnn(num_classes: int, size: int) -> nn.Module:
    """Two conv-ReLU-maxpool blocks (size -> size / 4) and a linear classifier."""
    side = size // 4
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * side * side, num_classes),
    )  # fmt: skip


def make_datasets(root: str, size: int, seed: int) -> tuple[Any, Any, list[str]]:
    normalize = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    plain = transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor(), normalize])
    augmented = transforms.Compose([
        transforms.Resize((size, size)), transforms.RandomHorizontalFlip(),
        transforms.ToTensor(), normalize,
    ])
    train_dir, val_dir = os.path.join(root, "train"), os.path.join(root, "val")
    train = datasets.ImageFolder(train_dir, transform=augmented)
    if os.path.isdir(val_dir):
        val = datasets.ImageFolder(val_dir, transform=plain)
        if val.classes != train.classes:
            raise SystemExit(f"val/ has classes {val.classes} but train/ has {train.classes}")
        return train, val, train.classes
    # Split the indices once, then view the folder twice: the held-out part must not
    # get the training augmentation.
    train_part, val_part = random_split(range(len(train)), [0.8, 0.2],
                                        generator=Generator().manual_seed(seed))
    held_out = datasets.ImageFolder(train_dir, transform=plain)
    return Subset(train, train_part.indices), Subset(held_out, val_part.indices), train.classes


def run_epoch(model: nn.Module, loader: DataLoader, optimizer: Any = None) -> tuple[float, float]:
    """(mean loss, accuracy) over `loader`, training when an optimizer is given."""
    model.train(optimizer is not None)
    total_loss, correct, seen = 0.0, 0, 0
    with torch.enable_grad() if optimizer is not None else torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * len(labels)
            correct += int((logits.argmax(dim=1) == labels).sum().item())
            seen += len(labels)
    return total_loss / max(seen, 1), correct / max(seen, 1)


def main(argv: Sequence[str] | None = None) -> list[dict[str, float]]:
    """Train and return one dict of numbers per epoch; a bad image ends with its name."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    train_set, val_set, classes = make_datasets(args.data_dir, args.size, args.seed)
    print(f"{len(train_set)} training and {len(val_set)} validation images, classes {classes}")
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              num_workers=args.workers)
    val_loader = DataLoader(val_set, batch_size=args.batch_size, num_workers=args.workers)
    model = small_cnn(len(classes), args.size)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    history = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        try:
            train_loss, train_acc = run_epoch(model, train_loader, optimizer)
            val_loss, val_acc = run_epoch(model, val_loader)
        except OSError as e:  # an unreadable image: say which, not a traceback
            raise SystemExit(f"cats_vs_dogs: {e}") from e
        history.append({"train_loss": train_loss, "train_acc": train_acc,
                        "val_loss": val_loss, "val_acc": val_acc})
        print(f"epoch {epoch}/{args.epochs}  train loss {train_loss:.4f}  acc {train_acc:.2%}"
              f"  |  val loss {val_loss:.4f}  acc {val_acc:.2%}"
              f"  ({time.perf_counter() - start:.1f} s)")
    return history


if __name__ == "__main__":
    main(sys.argv[1:])
