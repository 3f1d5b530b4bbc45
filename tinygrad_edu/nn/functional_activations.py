"""More activations (re-exported by nn.functional): elu, selu, celu, softplus, relu6,
hardtanh, prelu, mish, softsign, hardsigmoid, hardswish, logsigmoid, softmin, glu,
hardshrink, softshrink, tanhshrink, threshold; composites of Tensor ops, except the ELU
family, one op (ops/activations.py).

Piecewise functions pick their piece with `where` on the values, and the piece
that is not taken is computed on a safe input (0), so exp never overflows in a
branch that is thrown away (its inf would turn into nan in the gradient). At the
seams the gradient is PyTorch's: hardtanh, relu6, hardsigmoid and hardswish take
the flat side at their corners, elu takes the exponential side at 0.
`inplace=True` writes the result into the input's memory (Tensor.update_), as
PyTorch's; the gradient is the same.
"""

from __future__ import annotations

from typing import Any

from ..ops.activations import Elu
from ..tensor import Tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(x: Tensor, inplace: bool, name: str, fn: Any) -> Tensor:
    return x.update_(name + "_", fn) if inplace else fn(x)


def _elu(x: Tensor, alpha: float, scale: float = 1.0, input_scale: float = 1.0) -> Tensor:
    """scale * (x where x > 0, else alpha * (exp(x * input_scale) - 1)): one op (as a
    composite of 6 ops, forward and backward took 2.2x PyTorch's time on 32 x 32)."""
    return Elu.apply(x, alpha=float(alpha), scale=float(scale), input_scale=float(input_scale))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, alpha (exp(x) - 1) for x <= 0."""
    return _maybe_inplace(input, inplace, "elu", lambda t: _elu(t, alpha))


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * elu(x, alpha) with the self-normalizing constants (alpha ~ 1.6733,
    scale ~ 1.0507)."""
    return _maybe_inplace(input, inplace, "selu", lambda t: _elu(t, SELU_ALPHA, SELU_SCALE))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, alpha (exp(x / alpha) - 1) for x <= 0."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return _maybe_inplace(input, inplace, "celu", lambda t: _elu(t, alpha, 1.0, 1.0 / alpha))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta x)) / beta (log1p: exact where exp(beta x) is tiny), and x
    itself where beta x > threshold (there the two agree to float precision, and exp
    would overflow)."""
    # a composite on purpose: Softplus is tutorial 3's example of an op of your own
    scaled = input.data * beta
    linear = scaled > threshold
    safe = input.where(~linear, 0.0)
    return input.where(linear, (safe * beta).exp().log1p() * (1.0 / beta))


def _inside(x: Tensor, low: float, high: float) -> Tensor:
    """clamp(x, low, high) with gradient 1 strictly between low and high, 0 elsewhere
    (PyTorch's hardtanh; clamp's gradient is 1 at the bounds too)."""
    data = x.data
    strictly = (data > low) & (data < high)
    return x.where(strictly, Tensor.wrap(data.clip(low, high)))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val={min_val} must not exceed max_val={max_val}")
    return _maybe_inplace(input, inplace, "hardtanh", lambda t: _inside(t, min_val, max_val))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6)."""
    return _maybe_inplace(input, inplace, "relu6", lambda t: _inside(t, 0.0, 6.0))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    return _maybe_inplace(input, inplace, "hardsigmoid",
                          lambda t: _inside(t, -3.0, 3.0) * (1.0 / 6.0) + 0.5)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * relu6(x + 3) / 6: 0 below -3, x above 3 (gradient 0 at x = -3, 1 at x = 3,
    as PyTorch)."""
    return _maybe_inplace(input, inplace, "hardswish",
                          lambda t: t * (_inside(t, -3.0, 3.0) * (1.0 / 6.0) + 0.5))


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * tanh(softplus(x))."""
    return _maybe_inplace(input, inplace, "mish", lambda t: t * softplus(t).tanh())


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|)."""
    return input / (input.abs() + 1.0)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x for x > 0, weight * x otherwise; weight holds one slope, or one per channel
    (axis 1 of the input), as PyTorch."""
    slopes = weight.numel()
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be 0-d or 1-d, got shape {tuple(weight.shape)}")
    if slopes != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if slopes != channels:
            raise ValueError(f"prelu: weight has {slopes} slopes but the input of shape "
                             f"{tuple(input.shape)} has {channels} channels (axis 1); "
                             "give one slope, or one per channel")
        weight = weight.reshape((1, slopes) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = weight.reshape(())
    return input.where(input.data > 0, input * weight)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): no overflow, and exact for large
    |x| (where log of a sigmoid rounded to 1 would give 0); d/dx = 1 - sigmoid(x)."""
    return input.minimum(0.0) - (-input.abs()).exp().log1p()


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """softmax(-x) along `dim`: the smallest entries get the largest weights."""
    if dim is None:
        raise TypeError("softmin: give dim (PyTorch's implicit choice of dim is deprecated)")
    x = input if dtype is None else input.to(dtype)
    return (-x).softmax(dim)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """The gated linear unit: a * sigmoid(b), a and b the two halves of `dim`."""
    if input.ndim == 0:
        raise RuntimeError("glu: does not support 0-d (scalar) tensors")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {dim} of "
                           f"shape {tuple(input.shape)} is size {size}")
    first, second = input.chunk(2, dim)
    return first * second.sigmoid()


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x where |x| > lambd, else 0. At nan the value is nan and the gradient passes:
    PyTorch's own gradient there depends on the element's position (0 in its vector
    loop, passed in the scalar tail), so this takes its scalar formula."""
    return input.where(~(abs(input.data) <= lambd), 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x - lambd above lambd, x + lambd below -lambd, 0 between (gradient 0 on
    [-lambd, lambd], bounds included; at nan as hardshrink)."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be >= 0, got {lambd}")
    shifted = input - input.wrap(input.data.clip(-lambd, lambd))
    return shifted.where(~(abs(input.data) <= lambd), 0.0)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x - tanh(x)."""
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """x where x > threshold, else `value` (nan stays nan, as PyTorch)."""
    return _maybe_inplace(input, inplace, "threshold",
                          lambda t: t.where(~(t.data <= threshold), value))
