"""nn.save / nn.load: the old home of tinygrad_edu.save / load (same functions)."""

from ..serialization import MANIFEST, CheckpointError, load, save

__all__ = ["save", "load", "CheckpointError", "MANIFEST"]
