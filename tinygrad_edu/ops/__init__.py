"""Every differentiable primitive. Importing this package registers them all."""

from . import (  # noqa: F401 (importing registers the ops)
    activations,
    elementwise,
    linalg,
    losses,
    movement,
    nn_ops,
    pool,
    reduce,
    window,
)
from .domain import Picker, Sample, binary_domain, reduce_domain, unary_domain

__all__ = ["Picker", "Sample", "binary_domain", "reduce_domain", "unary_domain"]
