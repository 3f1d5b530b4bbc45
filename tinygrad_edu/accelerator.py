"""`tinygrad_edu.accelerator`, PyTorch's torch.accelerator: which accelerator to use.

CUDA (through CuPy) when a GPU is usable, else none, so scripts written as
`device = torch.accelerator.current_accelerator() or "cpu"` pick the GPU or the CPU.
The test device "standin" is never an accelerator.
"""

from __future__ import annotations

from .devices import KNOWN_TYPES, available, device


def current_accelerator() -> device | None:
    """The first available non-CPU device type, or None."""
    for name in KNOWN_TYPES:
        if name not in ("cpu", "meta", "standin") and available(device(name, 0)):
            return device(name)
    return None


def is_available() -> bool:
    return current_accelerator() is not None


def device_count() -> int:
    return 0 if current_accelerator() is None else 1
