"""Elementwise primitives: arithmetic, exp/log family, activations, where, clip, cast, erf.

Binary ops broadcast like NumPy; their backward hands each gradient to
`unbroadcast`, the one place broadcast gradients are summed back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ..backend import array_module, widest_float
from ..engine import Function, is_grad_enabled
from .domain import Picker, Sample, binary_domain, unary_domain
from .reduce import unbroadcast
from .special import erf


def _grad_for(ctx: Function, i: int, grad: Any) -> Any:
    """`grad` reduced to input i's shape and cast to its dtype (a float32 input of a
    float64 product gets float32), or None when input i needs no gradient."""
    if not ctx.needs_input_grad[i]:
        return None
    data, got = ctx.parents[i].data, grad.data
    if got.shape != data.shape:
        grad = unbroadcast(grad, data.shape)
    if got.dtype is not data.dtype and got.dtype != data.dtype:
        grad = grad.cast(data.dtype)
    return grad


# -- arithmetic --------------------------------------------------------------


class Add(Function):
    """d(x + y)/dx = 1, d(x + y)/dy = 1."""
    grads_fit_inputs = True  # each gradient comes through _grad_for: the engine need not check

    reads_inputs = False  # backward needs only the inputs' shapes
    # for viz.explain: d(out)/d(input) per input, (in symbols, in numbers), where {x},
    # {y} and {out} stand for the inputs and the output; ops without one show rule()
    local_formula = (("1", "1"), ("1", "1"))

    def forward(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x + y

    def backward(ctx, grad: Any) -> tuple:
        return _grad_for(ctx, 0, grad), _grad_for(ctx, 1, grad)

    domain = binary_domain(lambda x, y: x + y, (lambda x: x + 1.5, lambda x: 1.5 + x))


class Sub(Function):
    """d(x - y)/dx = 1, d(x - y)/dy = -1."""
    grads_fit_inputs = True  # each gradient comes through _grad_for: the engine need not check

    reads_inputs = False  # backward needs only the inputs' shapes
    local_formula = (("1", "1"), ("−1", "−1"))

    def forward(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x - y

    def backward(ctx, grad: Any) -> tuple:
        if not ctx.needs_input_grad[1]:
            return _grad_for(ctx, 0, grad), None
        # not recorded: negate the array, without a Neg op around it
        minus = grad.wrap(-grad.data) if not is_grad_enabled() else -grad
        return _grad_for(ctx, 0, grad), _grad_for(ctx, 1, minus)

    domain = binary_domain(lambda x, y: x - y, (lambda x: x - 1.5, lambda x: 1.5 - x))


class Mul(Function):
    """d(x * y)/dx = y, d(x * y)/dy = x."""
    grads_fit_inputs = True  # each gradient comes through _grad_for: the engine need not check
    reads_for = ((1,), (0,))  # dx reads y, dy reads x
    local_formula = (("{y}", "{y}"), ("{x}", "{x}"))

    def forward(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x, y)
        return x * y

    def backward(ctx, grad: Any) -> tuple:
        needs = ctx.needs_input_grad
        if not is_grad_enabled():  # not recorded: the products on the arrays, no Mul ops
            xd, yd = ctx.saved_arrays
            g, wrap = grad.data, grad.wrap
            return (_grad_for(ctx, 0, wrap(g * yd)) if needs[0] else None,
                    _grad_for(ctx, 1, wrap(g * xd)) if needs[1] else None)
        x, y = ctx.saved_tensors
        gx = _grad_for(ctx, 0, grad * y) if needs[0] else None
        gy = _grad_for(ctx, 1, grad * x) if needs[1] else None
        return gx, gy

    domain = binary_domain(lambda x, y: x * y, (lambda x: x * 1.5, lambda x: -1.5 * x))


class Div(Function):
    """d(x / y)/dx = 1 / y, d(x / y)/dy = -x / y**2 (computed as -(x / y) / y, as
    PyTorch: y * y overflows float32 from |y| = 1.8e19, where x / y**2 is still fine)."""
    grads_fit_inputs = True  # each gradient comes through _grad_for: the engine need not check
    reads_for = ((1,), (0, 1))
    local_formula = (("1 / {y}", "1 / {y}"), ("−{x} / {y}²", "−{x} / {y}²"))

    def forward(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x, y)
        return x / y

    def backward(ctx, grad: Any) -> tuple:
        needs = ctx.needs_input_grad
        if not is_grad_enabled():  # not recorded: the same formulas on the arrays
            xd, yd = ctx.saved_arrays
            g, wrap = grad.data, grad.wrap
            return (_grad_for(ctx, 0, wrap(g / yd)) if needs[0] else None,
                    _grad_for(ctx, 1, wrap(-g * (xd / yd / yd))) if needs[1] else None)
        x, y = ctx.saved_tensors
        gx = _grad_for(ctx, 0, grad / y) if needs[0] else None
        gy = _grad_for(ctx, 1, -grad * (x / y / y)) if needs[1] else None
        return gx, gy

    @staticmethod
    def domain(pick: Picker) -> Sample:
        if pick.integer(0, 3) == 0:
            # 1.5 / x needs x away from zero too
            x = pick.values(pick.shape(), -2.0, 2.0, avoid=(0.0,), gap=0.5)
            return Sample((x,), pick.choice((lambda x: 1.5 / x, lambda x: x / 1.5)))
        a = pick.shape()
        b = pick.broadcastable(a)
        if pick.boolean():
            a, b = b, a
        return Sample(
            (pick.values(a), pick.values(b, -2.0, 2.0, avoid=(0.0,), gap=0.5)),
            lambda x, y: x / y,
        )


class Neg(Function):
    """d(-x)/dx = -1."""
    reads_inputs = False  # backward needs no input values
    local_formula = (("−1", "−1"),)

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(ctx, grad: Any) -> Any:
        return -grad

    domain = unary_domain(lambda x: -x)


def power(x: Any, y: Any) -> Any:
    """x ** y; by a multiply where y is a NumPy scalar 2 of x's dtype (x ** 2 in a loss,
    and its gradient's x ** 1): the same numbers, since both round the exact product
    once, 5x faster than NumPy's power (128 x 128 float32: 9.5 -> 1.9 us)."""
    if type(y) is np.ndarray and y.ndim == 0 and y.dtype == x.dtype and type(x) is np.ndarray:
        if y == 2:
            return x * x
        if y == 1:
            return x.copy()
    return array_module(x).power(x, y)


class Pow(Function):
    """d(x ** y)/dx = y * x ** (y - 1), d(x ** y)/dy = x ** y * log(x); where these are
    0 * inf, PyTorch's values: dx 0 at x == y == 0, dy 0 at x == 0 with y >= 0."""
    local_formula = (("{y} · {x}^({y} − 1)", "{y} · {x}^({y} − 1)"),
                     ("{x}^{y} · log({x})", "{out} · log({x})"))

    def forward(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = power(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    def backward(ctx, grad: Any) -> tuple:
        if not is_grad_enabled():  # not recorded: the same rule on the arrays
            return ctx.backward_arrays(grad)
        x, y, out = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            # x ** 0 is constant 1: a base of 1 there makes y * x ** (y - 1) exactly 0
            # (and its own derivatives finite) instead of 0 * inf at x == 0
            flat = (y.data == 0) & (x.data == 0)
            base = x.where(~flat, 1.0) if flat.any() else x
            gx = _grad_for(ctx, 0, grad * y * base ** (y - 1))
        if ctx.needs_input_grad[1]:
            # 0 ** y is 0 (or 1) for all y >= 0 nearby: log(1) = 0 in place of log(0)
            flat = (x.data == 0) & (y.data >= 0)
            base = x.where(~flat, 1.0) if flat.any() else x
            gy = _grad_for(ctx, 1, grad * out * base.log())
        return gx, gy

    def backward_arrays(ctx, grad: Any) -> tuple:
        """backward's arithmetic, in its order, on the arrays: x ** 2 in a hand-written
        loss is common, and its recorded rule is five Tensor ops."""
        x, y, out = ctx.saved_arrays
        xp, g, wrap = array_module(x), grad.data, grad.wrap
        gx = gy = None
        if ctx.needs_input_grad[0]:
            flat = (y == 0) & (x == 0)
            base = xp.where(flat, x.dtype.type(1), x) if flat.any() else x
            gx = _grad_for(ctx, 0, wrap(g * y * power(base, y - 1)))
        if ctx.needs_input_grad[1]:
            flat = (x == 0) & (y >= 0)
            base = xp.where(flat, x.dtype.type(1), x) if flat.any() else x
            gy = _grad_for(ctx, 1, wrap(g * out * xp.log(base)))
        return gx, gy

    @staticmethod
    def domain(pick: Picker) -> Sample:
        kind = pick.integer(0, 3)
        shape = pick.shape()
        if kind == 0:  # x ** integer: any sign of x
            exponent = pick.choice((2, 3, -1))
            avoid = (0.0,) if exponent < 0 else ()
            x = pick.values(shape, -2.0, 2.0, avoid=avoid, gap=0.3)
            return Sample((x,), lambda x: x ** exponent)
        if kind == 1:  # 2 ** x
            return Sample((pick.values(shape),), lambda x: 2.0 ** x)
        other = pick.broadcastable(shape)
        if pick.boolean():
            shape, other = other, shape
        base = pick.values(shape, 0.5, 2.0)  # x ** y with tensor y needs x > 0 (log x)
        return Sample((base, pick.values(other, -2.0, 2.0)), lambda x, y: x ** y)


# -- exp / log family ----------------------------------------------------------


class Exp(Function):
    """d(exp x)/dx = exp x."""
    reads_inputs = False  # backward reads the output it saved, not the input
    local_formula = (("exp({x})", "{out}"),)

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        out = array_module(x).exp(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad * out

    domain = unary_domain(lambda x: x.exp())


class Log(Function):
    """d(log x)/dx = 1 / x. Like NumPy, log of a negative number is nan, not an error."""
    local_formula = (("1 / {x}", "1 / {x}"),)

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return array_module(x).log(x)

    def backward(ctx, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad / x

    domain = unary_domain(lambda x: x.log(), low=0.2, high=4.0)


class Sqrt(Function):
    """d(sqrt x)/dx = 1 / (2 sqrt x)."""
    reads_inputs = False  # backward reads the output it saved, not the input
    local_formula = (("1 / (2 · sqrt({x}))", "1 / (2 · {out})"),)

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            out = array_module(x).sqrt(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad / (out * 2.0)

    domain = unary_domain(lambda x: x.sqrt(), low=0.2, high=4.0)


# -- piecewise and activations -----------------------------------------------


class Sign(Function):
    """d sign(x)/dx = 0 (a step: flat everywhere except at 0, where PyTorch also uses 0)."""
    local_formula = (("0", "0"),)

    reads_inputs = False

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        xp = array_module(x)
        out = xp.sign(x)
        if out.dtype.kind == "f":  # sign(nan) is 0 in PyTorch, nan in NumPy
            unordered = xp.isnan(out)
            if unordered.any():  # (where, not item assignment: 0-d results are scalars)
                out = xp.where(unordered, out.dtype.type(0), out)
        return out

    def backward(ctx, grad: Any) -> Any:
        return grad.wrap(array_module(grad.data).zeros_like(grad.data))

    domain = unary_domain(lambda x: x.sign(), avoid=(0.0,))


class Remainder(Function):
    """d(x % y)/dx = 1, d(x % y)/dy = -floor(x / y) (Python's and PyTorch's remainder:
    the sign of y)."""
    local_formula = (("1", "1"), ("−floor({x} / {y})", "−floor({x} / {y})"))

    def forward(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return array_module(x).mod(x, y)

    def backward(ctx, grad: Any) -> tuple:
        gx = _grad_for(ctx, 0, grad) if ctx.needs_input_grad[0] else None
        gy = None
        if ctx.needs_input_grad[1]:  # the quotient from the inputs, only when it is needed
            x, y = ctx.parents[0].data, ctx.parents[1].data
            gy = _grad_for(ctx, 1, -grad * grad.wrap(array_module(x).floor(x / y)))
        return gx, gy

    @staticmethod
    def domain(pick: Picker) -> Sample:
        # x / y kept away from whole numbers, where x % y jumps
        shape = pick.shape()
        y = pick.values(shape, 0.7, 1.5) * (1 if pick.boolean() else -1)
        x = y * (pick.integer(-2, 2) + pick.values(shape, 0.2, 0.8))
        return Sample((x, y), lambda a, b: a % b)


class Abs(Function):
    """d|x|/dx = sign(x) (0 at x = 0 and at nan, as PyTorch)."""
    local_formula = (("sign({x})", "sign({x})"),)

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        return array_module(x).abs(x)

    def backward(ctx, grad: Any) -> Any:
        # the sign from the input, here rather than in every forward (as PyTorch; abs of
        # 128 x 10 float32 outside the graph: 3.8 -> 1.3 us)
        x = ctx.parents[0].data
        xp = array_module(x)
        sign = xp.sign(x)
        if sign.dtype.kind == "f" and xp.isnan(sign).any():
            sign = xp.where(xp.isnan(sign), 0, sign)
        return grad * grad.wrap(sign)

    domain = unary_domain(lambda x: x.abs(), avoid=(0.0,))


def kept_where(g: np.ndarray, passes: np.ndarray) -> np.ndarray:
    """np.where(passes, g, 0) for a float g of 2, 4 or 8 bytes, on the bits: an AND with a
    mask of all ones where `passes`, all zeros elsewhere. np.where branches per element
    (17 us on a 128x128 float32 array, 2.5 ms on 128x8x28x28); a multiply by the mask is
    branch-free but turns inf * 0 into nan, so it needed a finiteness check first (8.6 us
    and 318 us with the check, 6.7 us and 272 us this way). NumPy arrays only."""
    bits = np.dtype(f"i{g.itemsize}")
    mask = np.array(passes, dtype=bits)  # 1 or 0, in the layout of `passes` (0-d too)
    np.negative(mask, out=mask)  # -1 (every bit set) or 0
    mask &= g.view(bits)
    return mask.view(g.dtype)


class Relu(Function):
    """d relu(x)/dx = 0 where x <= 0, else 1 (1 at nan too, as PyTorch)."""

    reads_inputs = False  # backward reads the output it saved, not the input
    local_formula = (("1 if {x} > 0 else 0", "1 if {x} > 0 else 0"),)

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        # maximum keeps nan (as PyTorch's relu) and sends -inf to 0; np.where branched per
        # element, 2-5x slower on a 128x128 activation
        out = array_module(x).maximum(x, 0)
        # the output tells where the gradient passes: out != 0 exactly where not x <= 0
        # (nan included), so forward computes no mask (as PyTorch, which saves the result)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad: Any) -> Any:
        (out,) = ctx.saved_arrays
        passes = out != 0
        g = grad.data
        if not is_grad_enabled() and type(g) is np.ndarray and g.dtype.itemsize in (2, 4, 8):
            return grad.wrap(kept_where(g, passes))  # not recorded: the same numbers, faster
        return grad.where(grad.wrap(passes), 0.0)  # not a multiply: inf * 0 would be nan

    domain = unary_domain(lambda x: x.relu(), avoid=(0.0,))


def stable_sigmoid(xp: Any, x: Any) -> Any:
    """1 / (1 + exp(-x)) from exp of a non-positive number only, so that large |x| cannot
    overflow: 1 / (1 + e) where x >= 0 and e / (1 + e) elsewhere, e = exp(-|x|). The
    numerator, 1 or e, is max(e, x >= 0): exact, nan kept, and branch-free (np.where of
    the two quotients took 570 us on 128 x 1024 float32 of mixed signs, this 54 us)."""
    e = xp.exp(-xp.abs(x))
    s = xp.maximum(e, x >= 0)
    s /= 1.0 + e
    return s


class Sigmoid(Function):
    """d sigmoid(x)/dx = s * (1 - s) with s = sigmoid(x)."""
    reads_inputs = False  # backward reads the output it saved, not the input
    local_formula = (("σ({x}) · (1 − σ({x}))", "{out} · (1 − {out})"),)

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        out = stable_sigmoid(array_module(x), x).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad: Any) -> Any:
        if not is_grad_enabled():  # not recorded: the same numbers without 4 Tensor ops
            (sd,) = ctx.saved_arrays
            return grad.wrap(grad.data * sd * (1.0 - sd))
        (s,) = ctx.saved_tensors
        return grad * s * (1.0 - s)

    domain = unary_domain(lambda x: x.sigmoid(), low=-4.0, high=4.0)


class Tanh(Function):
    """d tanh(x)/dx = 1 - tanh(x)**2."""
    reads_inputs = False  # backward reads the output it saved, not the input
    local_formula = (("1 − tanh({x})²", "1 − {out}²"),)

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        out = array_module(x).tanh(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, grad: Any) -> Any:
        if not is_grad_enabled():  # not recorded: the same numbers without 3 Tensor ops
            (td,) = ctx.saved_arrays
            return grad.wrap(grad.data * (1.0 - td * td))
        (t,) = ctx.saved_tensors
        return grad * (1.0 - t * t)

    domain = unary_domain(lambda x: x.tanh())


class _Pick(Function):
    """Shared by Maximum and Minimum: the gradient goes to the chosen input;
    on a tie each input gets half (as torch.maximum)."""

    # names in the inputs' array module (numpy, cupy, ...)
    chooses_x: ClassVar[str] = "greater"
    select: ClassVar[str] = "maximum"

    def forward(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return getattr(array_module(x), ctx.select)(x, y)

    def backward(ctx, grad: Any) -> tuple:
        # x's share of the gradient (1, 0 or a half on a tie) from the inputs, here rather
        # than in every forward (as PyTorch; maximum of two 128 x 10 float32 arrays outside
        # the graph: 6.1 -> 1.4 us)
        x, y = ctx.parents[0].data, ctx.parents[1].data
        xp = array_module(x)
        share = getattr(xp, ctx.chooses_x)(x, y) + 0.5 * (x == y)
        share = share.astype(ctx.output.data.dtype, copy=False)
        share_y = 1.0 - share
        if share.dtype.kind == "f":
            # where x or y is nan (so is the output) both get the whole gradient, as in
            # PyTorch: neither was chosen over the other
            unordered = xp.isnan(ctx.output.data)
            if unordered.any():  # (where: 0-d shares are NumPy scalars)
                whole = share.dtype.type(1)
                share = xp.where(unordered, whole, share)
                share_y = xp.where(unordered, whole, share_y)
        # the unchosen side gets 0 even from an inf gradient (inf * 0 would be nan)
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = _grad_for(ctx, 0, grad.where(share != 0, 0.0) * grad.wrap(share))
        if ctx.needs_input_grad[1]:
            gy = _grad_for(ctx, 1, grad.where(share_y != 0, 0.0) * grad.wrap(share_y))
        return gx, gy

    @staticmethod
    def _pair(pick: Picker, call: Callable) -> Sample:
        a = pick.shape()
        b = pick.broadcastable(a)
        if pick.boolean():
            a, b = b, a
        # two interleaved grids: x and y are never closer than 0.25, so never tied
        return Sample((pick.grid(a, offset=0.0), pick.grid(b, offset=0.25)), call)


class Maximum(_Pick):
    """d max(x, y)/dx = 1 where x > y, 1/2 where x == y, else 0."""

    chooses_x = "greater"

    @staticmethod
    def domain(pick: Picker) -> Sample:
        return _Pick._pair(pick, lambda x, y: x.maximum(y))


class Minimum(_Pick):
    """d min(x, y)/dx = 1 where x < y, 1/2 where x == y, else 0."""

    chooses_x = "less"
    select = "minimum"

    @staticmethod
    def domain(pick: Picker) -> Sample:
        return _Pick._pair(pick, lambda x, y: x.minimum(y))


class LogAddExp(Function):
    """d log(e^x + e^y)/dx = sigmoid(x - y), d/dy = sigmoid(y - x) (nan at equal
    infinities, as PyTorch)."""
    grads_fit_inputs = True  # each gradient comes through _grad_for: the engine need not check

    def forward(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):  # NumPy warns at a nan input; nan comes out
            return array_module(x).logaddexp(x, y)  # NumPy's: no overflow, exact

    def backward(ctx, grad: Any) -> tuple:
        x, y = ctx.parents
        with np.errstate(invalid="ignore"):  # inf - inf: nan, the gradient there
            gap = x - y
        gx = _grad_for(ctx, 0, grad * gap.sigmoid()) if ctx.needs_input_grad[0] else None
        gy = _grad_for(ctx, 1, grad * (-gap).sigmoid()) if ctx.needs_input_grad[1] else None
        return gx, gy

    domain = binary_domain(lambda x, y: x.logaddexp(y), low=-3.0, high=3.0)


class Where(Function):
    """where(c, x, y): the gradient flows to x where c is true, to y elsewhere."""

    def forward(ctx, condition: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return array_module(x).where(condition, x, y)

    def backward(ctx, grad: Any) -> tuple:
        condition = ctx.parents[0]
        # where, not a multiply by the mask: an inf gradient must not become nan
        gx = _grad_for(ctx, 1, grad.where(condition, 0.0)) if ctx.needs_input_grad[1] else None
        gy = _grad_for(ctx, 2, grad.where(~condition, 0.0)) if ctx.needs_input_grad[2] else None
        return None, gx, gy

    @staticmethod
    def domain(pick: Picker) -> Sample:
        a = pick.shape()
        b = pick.broadcastable(a)
        mask = pick.mask(pick.broadcastable(a))
        return Sample(
            (pick.values(a), pick.values(b)),
            lambda x, y, condition: x.where(condition, y),
            constants=(mask,),
        )


class Clip(Function):
    """d clip(x, lo, hi)/dx = 1 where lo <= x <= hi, else 0 (as torch.clamp)."""

    def forward(
        ctx, x: np.ndarray, low: float | None = None, high: float | None = None
    ) -> np.ndarray:
        # where the gradient passes is found by backward, from x (as PyTorch): a clip that
        # is never differentiated makes no mask (128 x 10 float32: 6.6 -> 3.2 us)
        return array_module(x).clip(x, low, high)

    def backward(ctx, grad: Any) -> Any:
        x = ctx.parents[0].data
        low, high = ctx.params.get("low"), ctx.params.get("high")
        if low is None:
            inside = x <= high
        else:
            inside = x >= low
            if high is not None:
                inside &= x <= high
        return grad.where(grad.wrap(inside), 0.0)  # not a multiply: inf * 0 would be nan

    @staticmethod
    def domain(pick: Picker) -> Sample:
        low, high = pick.choice(((-1.0, 1.0), (None, 0.5), (-0.5, None)))
        bounds = tuple(b for b in (low, high) if b is not None)
        x = pick.values(pick.shape(), -2.0, 2.0, avoid=bounds)
        return Sample((x,), lambda x: x.clip(low, high))


class Cast(Function):
    """d cast(x)/dx = 1, in the input's dtype."""

    def forward(ctx, x: np.ndarray, dtype: Any = None) -> np.ndarray:
        return x.astype(dtype)

    def backward(ctx, grad: Any) -> Any:
        return grad.cast(ctx.parents[0].dtype)

    # a round trip through extended precision keeps gradcheck's float64 accuracy; a
    # device without it (CuPy) casts float64 to float64, which still runs the op there
    domain = unary_domain(lambda x: Cast.apply(Cast.apply(x, dtype=widest_float(x.data)),
                                               dtype=np.dtype(np.float64)))


class Erf(Function):
    """d erf(x)/dx = 2 / sqrt(pi) * exp(-x**2)."""

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return erf(x)

    def backward(ctx, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * ((x * x).neg().exp() * (2.0 / math.sqrt(math.pi)))

    domain = unary_domain(lambda x: x.erf(), low=-3.0, high=3.0)
