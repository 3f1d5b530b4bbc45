"""Every differentiable primitive. Importing this package registers them all."""

from . import elementwise, linalg, movement, nn_ops, pool, reduce, window  # noqa: F401 (registers)
from .domain import Picker, Sample, binary_domain, reduce_domain, unary_domain

__all__ = ["Picker", "Sample", "binary_domain", "reduce_domain", "unary_domain"]
