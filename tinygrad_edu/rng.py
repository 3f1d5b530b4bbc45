"""The one random generator behind rand, randn, initialization, dropout and shuffling."""

from __future__ import annotations

import numpy as np

# PyTorch's CPU generator starts from a fixed seed, so an unseeded run is still
# reproducible; we do the same.
_DEFAULT_SEED = 0
_generator = np.random.default_rng(_DEFAULT_SEED)
_seed = _DEFAULT_SEED


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the framework's generator; every later random draw follows from `seed`."""
    global _generator, _seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    return _generator


def initial_seed() -> int:
    """The seed the generator was last set with."""
    return _seed


def generator() -> np.random.Generator:
    """The current generator (fetch it at each use: manual_seed replaces it)."""
    return _generator
