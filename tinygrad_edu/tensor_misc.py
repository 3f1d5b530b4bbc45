"""Small Tensor methods (and torch.* functions) PyTorch scripts use: outer, dot,
std_mean, var_mean, any/all along a dim, type_as, and facts about the storage
(element_size, nbytes, ndimension, stride), and detach_.

Functions of a Tensor bound as methods in tensor.py; tensor.py imports this file,
so new tensors come from `x.wrap(array)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .tensor_shape import check_dim

if TYPE_CHECKING:
    from .tensor import Tensor


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """The outer product of two 1-d tensors: out[i, j] = input[i] * vec2[j]."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(f"outer: expected two 1-d tensors, got shapes {tuple(input.shape)} "
                         f"and {tuple(vec2.shape)}")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def dot(input: Tensor, tensor: Tensor) -> Tensor:  # noqa: A002
    """The inner product of two 1-d tensors of the same length."""
    if input.ndim != 1 or tensor.ndim != 1 or input.shape != tensor.shape:
        raise ValueError(f"dot: expected two 1-d tensors of the same length, got shapes "
                         f"{tuple(input.shape)} and {tuple(tensor.shape)}")
    return (input * tensor).sum()


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
             keepdim: bool = False, *, correction: int | None = None
             ) -> tuple[Tensor, Tensor]:
    """(var, mean) over `dim`, as two calls would give them."""
    return (input.var(dim, unbiased, keepdim, correction=correction),
            input.mean(dim if type(dim) is not bool else None, keepdim))


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
             keepdim: bool = False, *, correction: int | None = None
             ) -> tuple[Tensor, Tensor]:
    """(std, mean) over `dim`."""
    return (input.std(dim, unbiased, keepdim, correction=correction),
            input.mean(dim if type(dim) is not bool else None, keepdim))


def _truth(name: str, input: Tensor, dim: Any, keepdim: bool) -> Any:  # noqa: A002
    if dim is None:
        return None
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(check_dim(name, d, input.shape) for d in dims)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """True where every element (along `dim`, or of the whole tensor) is non-zero."""
    axes = _truth("all", input, dim, keepdim)
    return input.wrap(input.data.astype(bool).all(axis=axes, keepdims=keepdim))


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """True where some element (along `dim`, or of the whole tensor) is non-zero."""
    axes = _truth("any", input, dim, keepdim)
    return input.wrap(input.data.astype(bool).any(axis=axes, keepdims=keepdim))


def type_as(self: Tensor, tensor: Tensor) -> Tensor:
    """This tensor in `tensor`'s dtype (differentiable between float dtypes)."""
    return self.cast(tensor.dtype)


def element_size(self: Tensor) -> int:
    """Bytes per element (4 for float32)."""
    return int(self.dtype.itemsize)


def nbytes(self: Tensor) -> int:
    """Bytes of all elements: numel() * element_size()."""
    return int(self.numel() * self.dtype.itemsize)


def ndimension(self: Tensor) -> int:
    return self.ndim


def stride(self: Tensor, dim: int | None = None) -> Any:
    """Elements to skip to step once along each axis (0 along an expanded axis), as
    a tuple, or for one `dim`."""
    steps = tuple(int(s) // self.dtype.itemsize for s in self.data.strides)
    if dim is None:
        return steps
    return steps[check_dim("stride", dim, self.shape)]


def detach_(self: Tensor) -> Tensor:
    """Cut this tensor from the graph in place: it becomes a leaf that requires no grad
    (ops recorded from it before keep their graph)."""
    self.grad_fn = None
    self.requires_grad = False
    return self
