"""The one random generator behind rand, randn, initialization, dropout and shuffling,
and one per other device type (drawing arrays there), all seeded by `manual_seed`."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import backend

# PyTorch's CPU generator starts from a fixed seed, so an unseeded run is still
# reproducible; we do the same.
_DEFAULT_SEED = 0
_generator = np.random.default_rng(_DEFAULT_SEED)
_seed = _DEFAULT_SEED
# the other devices' streams, made on first use from the seed current then
_device_generators: dict[str, Any] = {}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the framework's generator; every later random draw follows from `seed`."""
    global _generator, _seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    _device_generators.clear()  # as PyTorch: manual_seed seeds every device
    return _generator


def seed_device(name: str, seed: int) -> None:
    """Reseed only the generator of the device type `name` (torch.cuda.manual_seed)."""
    found = backend.backend_named(name)
    if found is not None:
        _device_generators[name] = found.make_generator(int(seed))


def device_generator(name: str) -> Any:
    """The random stream of device type `name`: the framework's generator for "cpu",
    else that device's own (numpy.random.Generator's method names, arrays on the device)."""
    if name == "cpu":
        return _generator
    stream = _device_generators.get(name)
    if stream is None:
        found = backend.backend_named(name)
        if found is None:
            raise RuntimeError(f"random numbers on device '{name}': it is not available")
        stream = _device_generators[name] = found.make_generator(_seed)
    return stream


def initial_seed() -> int:
    """The seed the generator was last set with."""
    return _seed


def get_rng_state() -> dict[str, Any]:
    """A copy of the framework generator's state (plain ints and strings, so
    `tinygrad_edu.save` can store it); `set_rng_state` puts it back."""
    return {"seed": _seed, "numpy": copy.deepcopy(_generator.bit_generator.state)}


def set_rng_state(new_state: dict[str, Any]) -> None:  # PyTorch's parameter name
    """Restore a state from `get_rng_state`: later draws repeat those that followed it."""
    global _seed
    inner = new_state.get("numpy") if isinstance(new_state, dict) else None
    kind = type(_generator.bit_generator).__name__
    if not isinstance(inner, dict) or inner.get("bit_generator") != kind:
        raise ValueError(f"set_rng_state: expected a dict from get_rng_state() holding a "
                         f"{kind} state, got {_describe(new_state)}")
    try:
        _generator.bit_generator.state = copy.deepcopy(inner)
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"set_rng_state: malformed {kind} state ({error})") from None
    _seed = int(new_state.get("seed", _seed))


def _describe(state: Any) -> str:
    if isinstance(state, dict):
        return f"a dict with keys {sorted(map(str, state))}"
    return type(state).__name__


def generator() -> np.random.Generator:
    """The current generator (fetch it at each use: manual_seed replaces it)."""
    return _generator


class Generator:
    """A private random stream, as torch.Generator: `Generator().manual_seed(0)`.

    Pass one as `generator=` (random_split, DataLoader, RandomSampler) to make that one
    use reproducible without reseeding, or disturbing, the framework's generator.
    """

    def __init__(self, device: str = "cpu") -> None:
        if str(device) != "cpu":
            raise ValueError(f"Generator: only the 'cpu' device exists, got {device!r}")
        self.device = "cpu"
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed`; returns self so it chains, as PyTorch."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            name = type(seed).__name__
            raise TypeError(f"Generator.manual_seed: seed must be an int, got {name}")
        self._seed = int(seed)
        self.numpy = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed})"


def numpy_generator(gen: Generator | np.random.Generator | None) -> np.random.Generator:
    """The NumPy stream behind `gen`; None means the framework's (fetched now)."""
    if gen is None:
        return _generator
    if isinstance(gen, Generator):
        return gen.numpy
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(f"generator must be a tinygrad_edu Generator or None, got {type(gen).__name__}")
