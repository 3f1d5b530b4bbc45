"""torch.nn.utils: gradient clipping and flattening parameters into one vector.

Clipping gives each parameter a new `.grad` Tensor rather than scaling in place:
the engine may hand one gradient Tensor to several leaves (the two inputs of an
add), and scaling it in place would scale it once per leaf.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..backend import array_module, like, to_host
from ..tensor import Tensor, cat, from_numpy

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters"]


def _tensors(parameters: Tensor | Iterable[Tensor], where: str) -> list[Tensor]:
    items = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"{where}: expected Tensors, got {type(item).__name__}")
    return items


def _norm_type(norm_type: float | str, where: str) -> float:
    value = float(norm_type)  # accepts 'inf' as PyTorch does
    if math.isnan(value) or value < 0:
        raise ValueError(f"{where}: norm_type must be >= 0 or inf, got {norm_type!r}")
    return value


def _vector_norm(array: np.ndarray, p: float) -> np.ndarray:
    xp = array_module(array)  # computed where the gradients are
    flat = xp.abs(array.reshape(-1))
    if p == math.inf:
        return flat.max() if flat.size else xp.zeros((), dtype=array.dtype)
    if p == 0:
        return xp.asarray(xp.count_nonzero(flat), dtype=array.dtype)
    return (flat**p).sum() ** (1 / p)


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float | str = 2.0,
                   error_if_nonfinite: bool = False) -> Tensor:
    """The norm of all `tensors` together, as if concatenated into one vector."""
    where = "get_total_norm"
    items = _tensors(tensors, where)
    p = _norm_type(norm_type, where)
    if not items:
        return from_numpy(np.asarray(0.0, dtype=np.float32))
    dtype = np.result_type(*(t.dtype for t in items))
    # one number per tensor comes to the host (a few bytes each)
    norms = np.array([to_host(_vector_norm(t.data, p)) for t in items], dtype=dtype)
    total = _vector_norm(norms, p).astype(dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"{where}: the total norm of order {p} of the gradients is "
                           f"{float(total)}, so clipping them cannot work; pass "
                           "error_if_nonfinite=False to clip anyway")
    return Tensor.wrap(like(np.asarray(total), items[0].data))


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor | float) -> None:
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6))."""
    params = _tensors(parameters, "clip_grads_with_norm_")
    coef = min(float(max_norm) / (float(total_norm) + 1e-6), 1.0)
    for p in params:
        if p.grad is not None:
            grad = p.grad.data
            p.grad = Tensor.wrap(grad * grad.dtype.type(coef))


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float | str = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients so that their total norm is at most max_norm; returns the
    total norm before clipping (a 0-d Tensor). Parameters without a gradient are skipped."""
    params = _tensors(parameters, "clip_grad_norm_")
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm!r}")
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if grads:
        clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    params = _tensors(parameters, "clip_grad_value_")
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value!r}")
    for p in params:
        if p.grad is not None:
            grad = p.grad.data
            bound = grad.dtype.type(clip_value)
            p.grad = Tensor.wrap(array_module(grad).clip(grad, -bound, bound))


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (differentiable)."""
    params = _tensors(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D `vec` into the parameters, in order (the
    inverse of parameters_to_vector). Each parameter keeps its dtype and gets its
    own array (PyTorch makes the parameters views of vec instead)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, "
                        f"got {type(vec).__name__}")
    params = _tensors(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: vec of shape {tuple(vec.shape)} for "
                         f"parameters with {total} elements in all; expected shape ({total},)")
    start = 0
    for p in params:
        n = p.numel()
        p.data = vec.data[start:start + n].reshape(p.shape).astype(p.dtype)  # astype copies
        start += n
