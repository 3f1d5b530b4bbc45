"""`tinygrad_edu.cuda`, PyTorch's torch.cuda as far as scripts ask it questions.

CUDA means CuPy here (backend.py): available when CuPy is installed
(`pip install -e ".[cuda]"`) and sees a GPU, so scripts that check
`torch.cuda.is_available()` pick the GPU or the CPU, unchanged.
"""

from __future__ import annotations

from . import rng
from .devices import available, device


def is_available() -> bool:
    return available(device("cuda", 0))


def device_count() -> int:
    """1 when a GPU is usable (one device is supported: cuda:0), else 0."""
    return 1 if is_available() else 0


def manual_seed(seed: int) -> None:
    """Seed the CUDA generator (nothing to do without a GPU, as PyTorch)."""
    rng.seed_device("cuda", seed)


def manual_seed_all(seed: int) -> None:
    """Seed every CUDA generator (there is one)."""
    rng.seed_device("cuda", seed)


def synchronize() -> None:
    """Wait for the GPU to finish its queued work (for timing); nothing without one."""
    if is_available():
        import cupy

        cupy.cuda.Device(0).synchronize()
