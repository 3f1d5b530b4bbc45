"""torchvision.datasets' names: ImageFolder (one folder per class) and MNIST-style sets.

Items are `(image, class index)` with the image a PIL image (RGB for ImageFolder,
mode L for MNIST), ready for `transforms.ToTensor()`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import data as sources
from ..tensor import from_numpy
from ..utils.data import Dataset
from .pil import have_pil, require_pil

# The extensions torchvision's ImageFolder accepts (compared lowercase).
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")

Transform = Callable[[Any], Any] | None


def pil_loader(path: str) -> Any:
    """The image at `path` as RGB (L, RGBA, P, CMYK, ... converted); errors name the file."""
    image_module = require_pil("ImageFolder")
    try:
        with open(path, "rb") as f:
            return image_module.open(f).convert("RGB")  # convert reads the pixels now
    except (OSError, ValueError, SyntaxError) as e:
        # UnidentifiedImageError and truncated files are OSErrors; some plugins raise
        # ValueError or SyntaxError on damaged headers.
        raise OSError(f"cannot read image file {path}: {e}") from e


def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
    """The sub-folders of `directory`, sorted, and their class indices."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"ImageFolder: {directory} is not a folder")
    classes = sorted(str(entry.name) for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"ImageFolder: found no class folders in {directory}; expected "
                                "one sub-folder of images per class (root/cat/x.png, ...)")
    return classes, {name: i for i, name in enumerate(classes)}


def has_image_extension(path: str) -> bool:
    return path.lower().endswith(IMG_EXTENSIONS)


class ImageFolder(Dataset):
    """Images in `root/<class>/**/<file>`; classes are the sorted folder names.

    Attributes as torchvision: `classes`, `class_to_idx`, `samples` (and its alias
    `imgs`): (path, class index) pairs, sorted by class then path; `targets`.
    Files are only opened in `__getitem__`: a corrupt one is reported, by name, then.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        transform: Transform = None,
        target_transform: Transform = None,
        loader: Callable[[str], Any] = pil_loader,
        is_valid_file: Callable[[str], bool] | None = None,
        allow_empty: bool = False,
    ) -> None:
        self.root = os.fspath(Path(root).expanduser())
        self.classes, self.class_to_idx = find_classes(self.root)
        valid = has_image_extension if is_valid_file is None else is_valid_file
        self.samples = self._scan(valid, allow_empty)
        self.imgs = self.samples
        self.targets = [target for _, target in self.samples]
        self.loader = loader
        self.transform = transform
        self.target_transform = target_transform

    def _scan(self, valid: Callable[[str], bool], allow_empty: bool) -> list[tuple[str, int]]:
        samples, empty = [], []
        for name in self.classes:
            found = [
                path
                for folder, _, files in sorted(os.walk(os.path.join(self.root, name),
                                                       followlinks=True))
                for path in (os.path.join(folder, f) for f in sorted(files))
                if valid(path)
            ]
            if not found:
                empty.append(name)
            samples += [(path, self.class_to_idx[name]) for path in found]
        if empty and not allow_empty:
            raise FileNotFoundError(
                f"ImageFolder: no image files in the class folder(s) {', '.join(empty)} under "
                f"{self.root}; accepted extensions: {', '.join(IMG_EXTENSIONS)}"
            )
        return samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        image = self.loader(path)
        if self.transform is not None:
            image = self.transform(image)
        return image, target if self.target_transform is None else self.target_transform(target)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({len(self)} images in {len(self.classes)} classes "
                f"from {self.root})")


class MNIST(Dataset):
    """MNIST as torchvision serves it: `(PIL image of mode L, int label)` items.

    The files are found (and, with download=True, fetched) by `tinygrad_edu.data.MNIST`:
    `root`, then $TINYGRAD_EDU_DATA, then the cache; see that module. `data` (uint8
    N x 28 x 28) and `targets` (int64) are Tensors. Without Pillow the image is the
    uint8 28 x 28 array, which ToTensor takes too.
    """

    source: type[sources.MNIST] = sources.MNIST

    def __init__(
        self,
        root: str | os.PathLike | None,
        train: bool = True,
        transform: Transform = None,
        target_transform: Transform = None,
        download: bool = False,
    ) -> None:
        found = self.source(root, train=train, download=download)
        self.root = root
        self.train = train
        self.data = from_numpy(found.images)
        self.targets = from_numpy(np.asarray(found.targets))
        self.classes = list(found.classes)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        self.transform = transform
        self.target_transform = target_transform
        self._as_pil = have_pil()

    def __len__(self) -> int:
        return len(self.data.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = self.data.data[index]
        target: Any = int(self.targets.data[index])
        if self._as_pil:
            image = require_pil(type(self).__name__).fromarray(image)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self)} images)"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST, served like MNIST."""

    source = sources.FashionMNIST
