"""Image datasets held in memory: MNIST, Fashion-MNIST, Kaggle digit CSVs, and subsets.

Where MNIST-style files are looked for (each file may be gzipped or not); a folder
`DIR` given by one of these is searched as `DIR/<name>/`, `DIR/<TorchName>/raw/`
(torchvision's layout), then `DIR/` itself, so it may hold the files or be a parent:

1. `root=DIR` if given, and then nowhere else: a root must hold the split asked for. Only
   when it holds none of the dataset's files (a fresh folder, as in
   `MNIST("data", download=True)`) are the files taken from the cache, or downloaded.
2. Otherwise `$TINYGRAD_EDU_DATA`, then the cache, `$XDG_CACHE_HOME/tinygrad_edu/<name>/`
   (default `~/.cache/tinygrad_edu/`, where downloads go), then system folders (Debian's
   `dataset-fashion-mnist` installs Fashion-MNIST in `/usr/share/datasets/fashion-mnist/`).

The first folder holding any of the dataset's files is its folder, and must hold both files
of the split (see locate.py). The official files of both datasets are recognised by MD5
(see official.py): MNIST's files refuse to load as Fashion-MNIST and the reverse.

`<name>` is `mnist` or `fashion-mnist`; `<TorchName>` is `MNIST` or `FashionMNIST`.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .csv import read_csv_digits
from .download import DownloadError, download
from .idx import IDXError, decode_idx, decompress, read_idx_shape
from .locate import ENV_VAR as ENV_VAR  # re-exported: where the variable is documented
from .locate import (
    DatasetMismatchError,
    DatasetNotFoundError,
    Found,
    Place,
    cache_dir,
    existing,
    find_folder,
    search_places,
)
from .official import FASHION_MNIST_MD5, MNIST_MD5, OfficialFile, identify

MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
FASHION_MNIST_MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
DIGIT_CLASSES = [
    "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
    "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
]  # fmt: skip
FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip


class ImageDataset:
    """Grayscale images (uint8, N x H x W) with integer labels, served as floats in [0, 1]."""

    classes: list[str] = DIGIT_CLASSES

    def __init__(
        self,
        images: np.ndarray,
        targets: np.ndarray | None,
        transform: Callable[[np.ndarray], Any] | None = None,
    ) -> None:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise ValueError(f"images must be uint8 N x H x W, got {images.dtype} {images.shape}")
        targets = None if targets is None else np.asarray(targets)
        if targets is not None and targets.shape != images.shape[:1]:
            raise ValueError(f"{len(images)} images but targets of shape {targets.shape}")
        self.images = images
        self.classes = list(self.classes)  # a copy: editing it must not change the class
        self.targets = None if targets is None else targets.astype(np.int64, copy=False)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[Any, int | None]:
        """(image float32 (1, H, W) in [0, 1], after `transform` if any; label or None)."""
        if not isinstance(index, numbers.Integral):
            raise TypeError(f"index must be an int, got {type(index).__name__} (see get_batch)")
        image = np.divide(self.images[index][None], 255, dtype=np.float32)
        if self.transform is not None:
            image = self.transform(image)
        return image, None if self.targets is None else int(self.targets[index])

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[Any, np.ndarray | None]:
        """Samples `indices` at once: x float32 (B, 1, H, W) in [0, 1], y int64 (B,) or None."""
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.intp)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError(f"indices must be a 1-D integer sequence, got {idx.dtype} {idx.shape}")
        y = None if self.targets is None else np.take(self.targets, idx)
        if self.transform is not None:
            return np.stack([self[int(i)][0] for i in idx]), y
        # Gather uint8 rows, then scale: for 128 of 60,000 images this measured faster
        # (~65 us) than indexing a float32 copy made up front (~90 us, and 4x the memory).
        # dtype is explicit because NumPy 1.x could pick float16 for uint8 / scalar.
        x = np.divide(np.take(self.images, idx, axis=0), 255, dtype=np.float32)
        return x.reshape(len(idx), 1, *self.images.shape[1:]), y

    def __repr__(self) -> str:
        h, w = self.images.shape[1:]
        return f"{type(self).__name__}({len(self)} images of {h}x{w}, {len(self.classes)} classes)"


class MNIST(ImageDataset):
    """The MNIST digits (60,000 train / 10,000 test), found locally or downloaded once.

    See the module docstring for where files are looked for. Downloads always go to the
    cache and are checked against the official MD5 sums. Local files need not be the
    official ones (subsets like a 5,000-image training set work too), but official files
    of another dataset, or of the other split, are refused.
    """

    name = "mnist"
    torch_name = "MNIST"
    classes = DIGIT_CLASSES
    mirrors: Sequence[str] = MNIST_MIRRORS
    md5: dict[str, str] = MNIST_MD5
    system_dirs: tuple[str, ...] = ()
    timeout = 30.0

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = True,
        transform: Callable[[np.ndarray], Any] | None = None,
        mirrors: Sequence[str] | None = None,
    ) -> None:
        self.train = train
        split, other = ("train", "t10k") if train else ("t10k", "train")
        names = [f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"]
        places = search_places(root, self.name, self.torch_name, self.system_dirs)
        found = find_folder(places, [*names, f"{other}-images-idx3-ubyte",
                                     f"{other}-labels-idx1-ubyte"], names)
        if found is None or not found.complete:
            found = self._download(names, places, found, download, mirrors)
        ipath, lpath = found.paths
        assert ipath is not None and lpath is not None  # complete
        self.folder = found.folder
        images = self._read(ipath, names[0], found.place)
        labels = self._read(lpath, names[1], found.place)
        self._check(images, labels, ipath, lpath)
        self._check_other_split(found, other, images.shape[1:])
        super().__init__(images, labels, transform)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self)} images, from {self.folder})"

    @property
    def _title(self) -> str:
        return f"{type(self).__name__} ({'train' if self.train else 'test'} split)"

    def _read(self, path: Path, name: str, place: Place) -> np.ndarray:
        """Read one IDX file, refusing another dataset's official file (one hash per file)."""
        with open(path, "rb") as f:
            stored = f.read()
        content = decompress(stored, path)
        self._identify(path, name, place, stored, content)
        return decode_idx(content, path)

    def _identify(self, path: Path, name: str, place: Place, stored: bytes, content: bytes) -> None:
        official = identify(stored, content)
        wanted = OfficialFile(self.torch_name, name)
        if official is not None and official != wanted:
            raise DatasetMismatchError(self._title, wanted, official, path, place)

    def _check_other_split(self, found: Found, other: str, size: tuple[int, ...]) -> None:
        """Look at the other split beside these files, cheaply: its labels say which dataset
        it is (a few KB to hash), its header says the image size."""
        labels = existing(found.folder / f"{other}-labels-idx1-ubyte")
        images = existing(found.folder / f"{other}-images-idx3-ubyte")
        try:
            if labels is not None:
                stored = labels.read_bytes()
                self._identify(labels, f"{other}-labels-idx1-ubyte", found.place, stored,
                               decompress(stored, labels))
            other_shape = read_idx_shape(images) if images is not None else None
        except IDXError:
            return  # a broken file of the other split is reported when that split loads
        if other_shape is not None and tuple(other_shape[1:]) != tuple(size):
            ours, theirs = "x".join(map(str, size)), "x".join(map(str, other_shape[1:]))
            raise ValueError(
                f"{self._title}: images are {ours} in {found.paths[0]} but {theirs} in "
                f"{images}: train and test images must have the same size"
            )

    def _check(self, images: np.ndarray, labels: np.ndarray, ipath: Path, lpath: Path) -> None:
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(
                f"{ipath}: expected uint8 N x H x W, got {images.dtype} {images.shape}"
            )
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise ValueError(
                f"{lpath}: expected uint8 labels of shape (N,), got {labels.dtype} {labels.shape}"
            )
        if len(labels) != len(images):
            raise ValueError(
                f"{lpath}: {len(labels)} labels do not match the {len(images)} images in {ipath}"
            )
        if len(labels) and labels.max() >= len(self.classes):
            raise ValueError(
                f"{lpath}: label {labels.max()} is not a class index 0..{len(self.classes) - 1}"
            )

    def _download(
        self,
        names: list[str],
        places: list[Place],
        found: Found | None,
        allowed: bool,
        mirrors: Sequence[str] | None,
    ) -> Found:
        """Complete the cache, the one folder downloads may fill; any other folder that
        holds some of the dataset's files must hold these too."""
        mirrors = self.mirrors if mirrors is None else mirrors
        if isinstance(mirrors, str):
            mirrors = (mirrors,)  # one URL, not a sequence of characters
        target = cache_dir() / self.name
        missing = names if found is None else [n for n, p in zip(names, found.paths) if p is None]
        if found is not None and (found.place.kind != "cache" or not allowed):
            raise DatasetNotFoundError(self._title, self.name, missing, places, allowed,
                                       mirrors, partial=found)
        failures: list[str] = []
        if allowed:
            try:
                for name in names:
                    if not existing(target / name):
                        download(
                            f"{name}.gz", mirrors, target, self.md5.get(f"{name}.gz"), self.timeout
                        )
            except DownloadError as e:
                failures = e.failures
            except OSError as e:  # e.g. the cache folder cannot be created
                failures = [f"{target}: {e}"]
            paths = [existing(target / name) for name in names]
            if all(paths):
                return Found(Place("cache", str(target), (target,)), target, [], paths)
        raise DatasetNotFoundError(self._title, self.name, missing, places, allowed, mirrors,
                                   failures)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 clothing images in 10 classes, same files as MNIST."""

    name = "fashion-mnist"
    torch_name = "FashionMNIST"
    classes = FASHION_CLASSES
    mirrors = FASHION_MNIST_MIRRORS
    md5 = FASHION_MNIST_MD5
    system_dirs = ("/usr/share/datasets/fashion-mnist",)


class CSVDigits(ImageDataset):
    """Digits from a Kaggle-style CSV; `targets` is None for an unlabeled test.csv."""

    def __init__(
        self, path: str | os.PathLike, transform: Callable[[np.ndarray], Any] | None = None
    ) -> None:
        self.path = Path(path)
        images, labels = read_csv_digits(path)
        super().__init__(images, labels, transform)


def _existing(path: Path) -> Path | None:
    """`path` or `path.gz`, whichever is a file (uncompressed first: it loads faster)."""
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.is_file():
            return candidate
    return None

