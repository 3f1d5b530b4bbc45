"""How many threads NumPy's BLAS uses for matrix products: PyTorch's
`set_num_threads` / `get_num_threads`, through threadpoolctl.

The products of the models this library trains are small (a 128x784 batch times a
784x128 weight, a few hundred thousand multiply-adds per image in a small CNN): a
second BLAS thread saves little on a quiet machine and costs a lot on a busy one,
where its threads spin waiting for a core (an MLP epoch took 3x its quiet time with
one core busy elsewhere, 13x with both). So the default is one thread, applied by
`use_default_threads()`, which `backward()` calls: at the first backward pass, once,
and only if nothing was chosen before, neither with `set_num_threads` nor with one of
the environment variables in `THREAD_VARIABLES`. Importing the package changes nothing,
and an explicit choice, made before or after, always wins.
"""

from __future__ import annotations

import os
from typing import Any

DEFAULT_THREADS = 1
# BLAS libraries read these when they load; a user who set one has chosen
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS")

_chosen = False  # True once the user or the default set a count
_controller: Any = None  # threadpoolctl's view of the loaded BLAS libraries, made once


def _blas() -> Any:
    global _controller
    if _controller is None:
        # imported here, not at the top: most programs never ask, and NumPy (whose
        # BLAS the controller must see) is loaded by the time anything calls this
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def set_num_threads(n: int) -> None:
    """Use `n` threads for NumPy's matrix products from now on (torch.set_num_threads)."""
    global _chosen
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _blas().limit(limits=n)
    _chosen = True


def get_num_threads() -> int:
    """The threads NumPy's matrix products use now (torch.get_num_threads); 1 when
    NumPy has no BLAS that threadpoolctl knows."""
    counts = [lib.num_threads for lib in _blas().lib_controllers]
    return max(counts, default=1)


def use_default_threads() -> None:
    """Apply the library's default (one thread) unless a count was chosen already,
    by set_num_threads or by an environment variable; does anything only once."""
    global _chosen
    if _chosen:
        return
    _chosen = True
    if any(os.environ.get(name) for name in THREAD_VARIABLES):
        return
    _blas().limit(limits=DEFAULT_THREADS)
