"""Datasets: IDX/CSV readers, MNIST and Fashion-MNIST.

DataLoader, Subset and random_split live in `tinygrad_edu.utils.data` (the one loader)
and are re-exported here for older code.
"""

from ..utils.data import DataLoader, Subset, random_split
from .csv import CSVFormatError, read_csv_digits
from .datasets import (
    MNIST,
    CSVDigits,
    DatasetMismatchError,
    DatasetNotFoundError,
    FashionMNIST,
    ImageDataset,
)
from .idx import IDXError, read_idx, write_idx

__all__ = [
    "MNIST",
    "CSVDigits",
    "CSVFormatError",
    "DataLoader",
    "DatasetMismatchError",
    "DatasetNotFoundError",
    "FashionMNIST",
    "IDXError",
    "ImageDataset",
    "Subset",
    "random_split",
    "read_csv_digits",
    "read_idx",
    "write_idx",
]
