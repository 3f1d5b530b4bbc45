"""Elementwise math as Tensor methods (and torch.* functions): log1p, expm1, log2,
log10, exp2, reciprocal, rsqrt, the rounding family, the tests isnan/isinf/isfinite,
clamp_min/clamp_max, the logical ops, isclose, and in-place versions (sqrt_, ...).

Every differentiable one is a composite of the Tensor ops (no new primitive): its
gradient comes from the composite. Where the composite's value would be less
accurate than NumPy's function (log(1 + x) for tiny x), a constant correction
is added: the value is NumPy's, the gradient the composite's (a constant adds
nothing to it). The rounding functions have derivative 0 wherever one exists;
as PyTorch they stay in the graph and give a zero gradient.

Functions of a Tensor bound as methods in tensor.py (the first parameter is
PyTorch's `input`, `self` of the method), and exported as torch.* functions;
tensor.py imports this file, so new tensors come from `x.wrap(array)`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .backend import array_module
from .ops.dtypes import result_type
from .ops.elementwise import LogAddExp

if TYPE_CHECKING:
    from .tensor import Tensor


def _floating(x: Tensor) -> Tensor:
    """Integer and bool tensors become float32 first, as PyTorch's float functions do."""
    return x if x.dtype.kind == "f" else x.cast(np.float32)


def _with_values(approximate: Tensor, exact: Any) -> Tensor:
    """`approximate` (its gradient) with the values `exact`: a constant correction
    added where the two differ and both are finite (exact - approximate is then exact,
    so is the sum). Where they agree, inf and nan included, the approximation stands,
    gradient and all (expm1's at inf is exp(inf) = inf, as PyTorch's); where they differ
    and one is not finite, the value is `exact`'s and the gradient stops there."""
    xp = array_module(exact)
    approx = approximate.data
    same = (exact == approx) | (xp.isnan(exact) & xp.isnan(approx))
    if bool(same.all()):
        return approximate
    finite = xp.isfinite(exact) & xp.isfinite(approx)
    with np.errstate(invalid="ignore"):  # inf - inf where not finite: not used
        correction = xp.where(finite, exact - approx, 0).astype(exact.dtype)
    out = approximate + approximate.wrap(correction)
    replaced = ~(same | finite)
    if not bool(replaced.any()):
        return out
    return out.where(~replaced, approximate.wrap(exact))  # such values exactly NumPy's


def log1p(input: Tensor) -> Tensor:  # noqa: A002 (PyTorch's argument names, throughout)
    """log(1 + x), exact also for tiny x; d/dx = 1 / (1 + x)."""
    x = _floating(input)
    return _with_values((x + 1.0).log(), array_module(x.data).log1p(x.data))


def expm1(input: Tensor) -> Tensor:  # noqa: A002
    """exp(x) - 1, exact also for tiny x; d/dx = exp(x)."""
    x = _floating(input)
    return _with_values(x.exp() - 1.0, array_module(x.data).expm1(x.data))


def log2(input: Tensor) -> Tensor:  # noqa: A002
    """log(x) / log(2); d/dx = 1 / (x log 2)."""
    x = _floating(input)
    return _with_values(x.log() * (1.0 / math.log(2.0)), array_module(x.data).log2(x.data))


def log10(input: Tensor) -> Tensor:  # noqa: A002
    """log(x) / log(10); d/dx = 1 / (x log 10)."""
    x = _floating(input)
    return _with_values(x.log() * (1.0 / math.log(10.0)), array_module(x.data).log10(x.data))


def exp2(input: Tensor) -> Tensor:  # noqa: A002
    """2 ** x = exp(x log 2); d/dx = 2 ** x log 2."""
    x = _floating(input)
    return _with_values((x * math.log(2.0)).exp(), array_module(x.data).exp2(x.data))


def square(input: Tensor) -> Tensor:  # noqa: A002
    """x * x; d/dx = 2x."""
    return input * input


def reciprocal(input: Tensor) -> Tensor:  # noqa: A002
    """1 / x; d/dx = -1 / x^2."""
    return 1.0 / _floating(input)


def rsqrt(input: Tensor) -> Tensor:  # noqa: A002
    """1 / sqrt(x); d/dx = -x^(-3/2) / 2."""
    return 1.0 / _floating(input).sqrt()


def _stepped(x: Tensor, values: Any) -> Tensor:
    """`values` in the graph of x with gradient 0, as PyTorch's rounding functions."""
    if x.dtype.kind != "f" or not x.requires_grad:
        return x.wrap(values)
    return x.sign() * 0.0 + x.wrap(values)  # sign's gradient is 0; sign * 0 is 0 even at inf


def floor(input: Tensor) -> Tensor:  # noqa: A002
    """The largest integer <= x (gradient 0)."""
    return _stepped(input, array_module(input.data).floor(input.data))


def ceil(input: Tensor) -> Tensor:  # noqa: A002
    """The smallest integer >= x (gradient 0)."""
    return _stepped(input, array_module(input.data).ceil(input.data))


def trunc(input: Tensor) -> Tensor:  # noqa: A002
    """x rounded toward zero (gradient 0)."""
    return _stepped(input, array_module(input.data).trunc(input.data))


fix = trunc


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002
    """x rounded to `decimals` places, halves to even (as PyTorch and NumPy; gradient 0)."""
    return _stepped(input, array_module(input.data).round(input.data, decimals))


def frac(input: Tensor) -> Tensor:  # noqa: A002
    """x - trunc(x), the fractional part with x's sign; d/dx = 1."""
    return input - trunc(input)


def isnan(input: Tensor) -> Tensor:  # noqa: A002
    return input.wrap(array_module(input.data).isnan(input.data))


def isinf(input: Tensor) -> Tensor:  # noqa: A002
    return input.wrap(array_module(input.data).isinf(input.data))


def isfinite(input: Tensor) -> Tensor:  # noqa: A002
    return input.wrap(array_module(input.data).isfinite(input.data))


def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise, as a bool tensor."""
    theirs = other.data if hasattr(other, "data") else other
    return input.wrap(array_module(input.data).isclose(input.data, theirs, rtol=rtol,
                                                       atol=atol, equal_nan=equal_nan))


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return input.clamp(min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return input.clamp(max=max)


def _logical(x: Any) -> Any:
    return x.data.astype(bool) if hasattr(x, "data") else np.asarray(x, dtype=bool)


def logical_and(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input.wrap(_logical(input) & _logical(other))


def logical_or(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input.wrap(_logical(input) | _logical(other))


def logical_xor(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input.wrap(_logical(input) ^ _logical(other))


def logical_not(input: Tensor) -> Tensor:  # noqa: A002
    return input.wrap(~_logical(input))


# -- of two inputs ---------------------------------------------------------------


def lerp(input: Tensor, end: Any, weight: Any) -> Tensor:  # noqa: A002
    """input + weight * (end - input), as PyTorch computes it: from the nearer end, so
    weight 1 gives `end` exactly; d/d input = 1 - weight, d/d end = weight,
    d/d weight = end - input. weight is a number or a tensor (broadcast)."""
    gap = end - input
    if not hasattr(weight, "data"):  # a number: one formula, chosen here
        return input + gap * weight if abs(weight) < 0.5 else end - gap * (1.0 - weight)
    near_start = weight.wrap(array_module(weight.data).abs(weight.data) < 0.5)
    return (input + gap * weight).where(near_start, end - gap * (1.0 - weight))


def logaddexp(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """log(exp(x) + exp(y)), without overflow (one op: ops/elementwise.py LogAddExp)."""
    return LogAddExp.apply(*_float_pair(input, other))


def logaddexp2(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """log2(2**x + 2**y) = logaddexp(x ln 2, y ln 2) / ln 2, with NumPy's logaddexp2
    values (exact where that formula would round)."""
    x, y = _float_pair(input, other)
    ln2 = math.log(2.0)
    approximate = LogAddExp.apply(x * ln2, y * ln2) * (1.0 / ln2)
    with np.errstate(invalid="ignore"):  # NumPy warns at a nan input; nan comes out
        exact = array_module(x.data).logaddexp2(x.data, y.data)
    return _with_values(approximate, exact)


def _float_pair(input: Tensor, other: Any) -> tuple[Tensor, Tensor]:  # noqa: A002
    """(input, other) as floating tensors of one dtype (ints become float32)."""
    dtype = result_type(input, other)
    if dtype.kind != "f":
        dtype = np.dtype(np.float32)
    x = input if input.dtype == dtype else input.cast(dtype)
    y = other if hasattr(other, "data") else input.wrap(array_module(input.data).full(
        (), other, dtype=dtype))
    return x, (y if y.dtype == dtype else y.cast(dtype))


def fmod(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """The remainder of x / y with the sign of x (C's fmod; remainder takes y's sign):
    x - trunc(x / y) * y, d/dx = 1, d/dy = -trunc(x / y); the values are NumPy's
    fmod, exact where the formula would round."""
    theirs = other.data if hasattr(other, "data") else other
    exact = array_module(input.data).fmod(input.data, theirs)
    if exact.dtype.kind != "f":  # integers: no gradient to carry
        return input.wrap(exact)
    with np.errstate(divide="ignore", invalid="ignore"):  # y = 0 gives nan, as fmod
        approximate = input - trunc(input / other) * other
    return _with_values(approximate, exact)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,  # noqa: A002
               neginf: float | None = None) -> Tensor:
    """nan, +inf and -inf replaced by `nan`, `posinf` and `neginf` (by default 0 and the
    dtype's largest and lowest finite values); the gradient passes at finite values
    and is 0 at the replaced ones (as PyTorch)."""
    x = input.data
    if x.dtype.kind != "f":
        return input.wrap(x.copy())
    replaced = array_module(x).nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    finite = input.wrap(array_module(x).isfinite(x))
    return input.where(finite, input.wrap(replaced))


def logit(input: Tensor, eps: float | None = None) -> Tensor:  # noqa: A002
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given (the
    gradient is then 0 outside); d/dp = 1 / (p (1 - p))."""
    p = _floating(input)
    if eps is not None:
        p = p.clamp(eps, 1.0 - eps)
    return (p / (1.0 - p)).log()


# -- in place: the result written into the tensor's memory, gradients as the built-in
# in-place ops (Tensor.update_)


def lerp_(self: Tensor, end: Tensor, weight: Any) -> Tensor:
    if hasattr(weight, "data"):
        return self.update_("lerp_", lambda t, e, w: lerp(t, e, w), end, weight)
    return self.update_("lerp_", lambda t, e: lerp(t, e, weight), end)


def clamp_min_(self: Tensor, min: Any) -> Tensor:  # noqa: A002
    return self.update_("clamp_min_", lambda t: t.clamp(min=min))


def clamp_max_(self: Tensor, max: Any) -> Tensor:  # noqa: A002
    return self.update_("clamp_max_", lambda t: t.clamp(max=max))


def sqrt_(self: Tensor) -> Tensor:
    return self.update_("sqrt_", lambda t: t.sqrt())


def abs_(self: Tensor) -> Tensor:
    return self.update_("abs_", lambda t: t.abs())


def exp_(self: Tensor) -> Tensor:
    return self.update_("exp_", lambda t: t.exp())


def log_(self: Tensor) -> Tensor:
    return self.update_("log_", lambda t: t.log())


def square_(self: Tensor) -> Tensor:
    return self.update_("square_", lambda t: t * t)


def reciprocal_(self: Tensor) -> Tensor:
    return self.update_("reciprocal_", reciprocal)


def floor_(self: Tensor) -> Tensor:
    return self.update_("floor_", floor)


def ceil_(self: Tensor) -> Tensor:
    return self.update_("ceil_", ceil)


def round_(self: Tensor, *, decimals: int = 0) -> Tensor:
    return self.update_("round_", lambda t: round(t, decimals=decimals))


def trunc_(self: Tensor) -> Tensor:
    return self.update_("trunc_", trunc)
