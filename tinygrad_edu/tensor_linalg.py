"""Matrix products with a scaled term added (addmm, addmv, baddbmm, addbmm), the
matrix-vector product mv and the trace, as Tensor methods and torch.* functions.

Each is a composite of matmul, a multiplication by the scales and an addition, so its
gradient is theirs. As in PyTorch, beta = 0 ignores `input` (nan and inf in it do not
reach the result), and alpha and beta of 1 are not multiplied in.

Functions of a Tensor bound as methods in tensor.py; tensor.py imports this file, so
new tensors come from `x.wrap(array)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .backend import array_module

if TYPE_CHECKING:
    from .tensor import Tensor


def _check_rank(op: str, names: tuple[str, ...], tensors: tuple[Tensor, ...],
                ranks: tuple[int, ...]) -> None:
    for name, t, rank in zip(names, tensors, ranks):
        if t.ndim != rank:
            shapes = ", ".join(f"{n} {tuple(u.shape)}" for n, u in zip(names, tensors))
            raise RuntimeError(f"{op}: {name} must have {rank} dims, got shape "
                               f"{tuple(t.shape)} ({shapes})")


def _scaled_sum(op: str, input: Tensor, product: Tensor, beta: Any,  # noqa: A002
                alpha: Any) -> Tensor:
    """beta * input + alpha * product, input broadcast to the product's shape."""
    scaled = product if alpha == 1 else product * alpha
    try:
        widened = input.expand(tuple(product.shape))
    except (ValueError, RuntimeError):
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} cannot be broadcast "
                           f"to the product's shape {tuple(product.shape)}") from None
    if beta == 0:  # input's values left out (nan too); its gradient is 0, as PyTorch's
        return scaled + widened.where(input.wrap(array_module(input.data).zeros(
            (), dtype=bool)), 0.0)
    return scaled + (widened if beta == 1 else widened * beta)


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    """The product of an (n, m) matrix and an (m,) vector: an (n,) vector."""
    _check_rank("mv", ("input", "vec"), (input, vec), (2, 1))
    return input @ vec


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1,  # noqa: A002
          alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) for (n, m) and (m, p) matrices; input
    broadcasts to (n, p)."""
    _check_rank("addmm", ("mat1", "mat2"), (mat1, mat2), (2, 2))
    return _scaled_sum("addmm", input, mat1 @ mat2, beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1,  # noqa: A002
          alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat @ vec) for an (n, m) matrix and an (m,) vector."""
    _check_rank("addmv", ("mat", "vec"), (mat, vec), (2, 1))
    return _scaled_sum("addmv", input, mat @ vec, beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,  # noqa: A002
            alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2) for batches (b, n, m) and (b, m, p)."""
    _check_rank("baddbmm", ("batch1", "batch2"), (batch1, batch2), (3, 3))
    return _scaled_sum("baddbmm", input, batch1.bmm(batch2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,  # noqa: A002
           alpha: Any = 1) -> Tensor:
    """beta * input + alpha * the sum over the batch of batch1[i] @ batch2[i]."""
    _check_rank("addbmm", ("batch1", "batch2"), (batch1, batch2), (3, 3))
    return _scaled_sum("addbmm", input, batch1.bmm(batch2).sum(0), beta, alpha)


def trace(input: Tensor) -> Tensor:  # noqa: A002
    """The sum of a matrix's main diagonal."""
    _check_rank("trace", ("input",), (input,), (2,))
    return input.diagonal().sum()
