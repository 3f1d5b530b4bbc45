"""Datasets and batching: IDX/CSV readers, MNIST and Fashion-MNIST, splits, DataLoader."""

from .csv import CSVFormatError, read_csv_digits
from .datasets import (
    MNIST,
    CSVDigits,
    DatasetMismatchError,
    DatasetNotFoundError,
    FashionMNIST,
    ImageDataset,
    Subset,
    random_split,
)
from .idx import IDXError, read_idx, write_idx
from .loader import DataLoader

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
