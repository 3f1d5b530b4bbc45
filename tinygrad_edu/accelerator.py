"""`tinygrad_edu.accelerator`, PyTorch's torch.accelerator: which accelerator to use.

None is available today (see devices.py), so scripts written as
`device = torch.accelerator.current_accelerator() or "cpu"` run on the CPU.
"""

from __future__ import annotations

from .devices import KNOWN_TYPES, available, device


def current_accelerator() -> device | None:
    """The first available non-CPU device type, or None."""
    for name in KNOWN_TYPES:
        if name not in ("cpu", "meta") and available(device(name, 0)):
            return device(name)
    return None


def is_available() -> bool:
    return current_accelerator() is not None


def device_count() -> int:
    return 0 if current_accelerator() is None else 1
