"""Recognise the official MNIST and Fashion-MNIST files by their MD5 sums.

Both datasets ship four files with the same names and the same shapes, so nothing but
the bytes tells them apart: a Fashion-MNIST folder passed as MNIST would train without
a word and label sandals as digits. Each file is hashed once, as it lies on disk; a gzip
file that is not the published one is hashed once more, uncompressed, because
repackagers (Debian's dataset-fashion-mnist, for one) recompress the same content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# MD5 of the gzipped files as published (downloads are checked against these too).
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
# MD5 of the same files uncompressed.
MNIST_RAW_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
FASHION_MNIST_RAW_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}

# Display names, keyed by the dataset classes' `torch_name`.
TITLES = {"MNIST": "MNIST", "FashionMNIST": "Fashion-MNIST"}


def title(dataset: str) -> str:
    """'FashionMNIST' -> 'Fashion-MNIST'; a subclass's own name stays as it is."""
    return TITLES.get(dataset, dataset)


@dataclass(frozen=True)
class OfficialFile:
    """One official file: which dataset (`MNIST` or `FashionMNIST`) and its name (no .gz)."""

    dataset: str
    name: str

    def __str__(self) -> str:
        return f"{title(self.dataset)}'s official {self.name}"


def _table() -> dict[str, OfficialFile]:
    table = {}
    for dataset, gz, raw in (
        ("MNIST", MNIST_MD5, MNIST_RAW_MD5),
        ("FashionMNIST", FASHION_MNIST_MD5, FASHION_MNIST_RAW_MD5),
    ):
        for name, digest in gz.items():
            table[digest] = OfficialFile(dataset, name.removesuffix(".gz"))
        for name, digest in raw.items():
            table[digest] = OfficialFile(dataset, name)
    return table


OFFICIAL_FILES: dict[str, OfficialFile] = _table()


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def identify(stored: bytes, content: bytes) -> OfficialFile | None:
    """Which official file these bytes are, or None for any other file (subsets, custom data).

    `stored` is the file as it lies on disk, `content` the same uncompressed (the same
    object when the file is not gzipped).
    """
    found = OFFICIAL_FILES.get(_md5(stored))
    if found is None and content is not stored:
        found = OFFICIAL_FILES.get(_md5(content))
    return found
