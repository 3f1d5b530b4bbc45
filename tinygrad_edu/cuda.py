"""`tinygrad_edu.cuda`, PyTorch's torch.cuda as far as scripts ask it questions.

No CUDA device exists (see devices.py), so scripts that check
`torch.cuda.is_available()` pick the CPU, and seeding calls are harmless.
"""

from __future__ import annotations

from .devices import available, device


def is_available() -> bool:
    return available(device("cuda", 0))


def device_count() -> int:
    return 1 if is_available() else 0


def manual_seed(seed: int) -> None:
    """Seed the CUDA generators: there are none, so nothing to do (as PyTorch without GPUs)."""


def manual_seed_all(seed: int) -> None:
    """Seed every CUDA generator: there are none, so nothing to do."""
