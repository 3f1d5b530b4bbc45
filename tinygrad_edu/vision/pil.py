"""Pillow, imported only when an image is read or made (it is an optional extra)."""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

INSTALL_HINT = "pip install 'tinygrad_edu[vision]' (or: pip install pillow)"


def require_pil(who: str) -> ModuleType:
    """The PIL.Image module, or an ImportError saying how to install it."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(f"{who} needs Pillow to read and make images; {INSTALL_HINT}") from e
    return Image


def have_pil() -> bool:
    try:
        require_pil("")
    except ImportError:
        return False
    return True


def is_pil_image(value: Any) -> bool:
    """True for a PIL image; never imports Pillow (no image exists unless it is loaded)."""
    image_module = sys.modules.get("PIL.Image")
    return image_module is not None and isinstance(value, image_module.Image)
