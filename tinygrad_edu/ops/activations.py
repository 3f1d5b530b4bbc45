"""Activations that are one primitive each rather than composites: GELU (exact and
tanh-approximated), SiLU, the ELU family (ELU, SELU, CELU) and leaky ReLU. (Softplus
stays a composite: it is tutorial 3's example of an op of your own, and a built-in op of
that name would refuse the student's class.)

As composites, F.gelu recorded 5 ops (two scales, erf, an add and a product), its tanh
form 9 and F.silu 2, each with its own backward and every gradient summed back into x;
as one op each, forward and backward are one pass of array arithmetic, with the
formulas and rounding order of PyTorch's kernels. Forward and .sum().backward() on 32 x 32
float32 (one thread, min of repeats; PyTorch 2.13 in brackets): gelu 187 -> 157 us (83),
tanh form 75 -> 42 us (32), silu 38 -> 31 us (29). The exact GELU's time is still mostly
erf's (ops/special.py, in float64: about 119 of a 126 us forward, PyTorch 7 us).
The ELU family and leaky ReLU (6 and 3 ops as composites) pick their sides without
np.where where they can, which branches per element and took milliseconds on mixed
signs: forward and backward on 128 x 1024 float32, elu 3.1-3.6 -> 0.51-0.68 ms, leaky
ReLU 1.8-2.1 -> 0.21-0.25 ms (PyTorch 0.38, 0.11); on 32 x 32, elu 73-79 -> 39-59 us,
leaky ReLU 77-78 -> 43 us (PyTorch 51, 48).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import array_module
from ..engine import Function, is_grad_enabled
from .domain import Picker, Sample, unary_domain
from .elementwise import kept_where, stable_sigmoid
from .special import erf

_SQRT1_2 = math.sqrt(0.5)  # correctly rounded (1 / sqrt(2) is an ulp low)
_PDF_SCALE = 1.0 / math.sqrt(2.0 * math.pi)  # the standard normal density at 0
_TANH_SCALE = math.sqrt(2.0 / math.pi)
_KAPPA = 0.044715
# x is clipped to these before it is squared or cubed, so that nothing overflows: past
# them the result is already exact (exp(-x*x/2) is 0 from |x| = 38.6, and tanh of the
# tanh form's argument is +-1 from |x| = 7.2, in float64 and narrower floats alike)
_PDF_CLIP = 40.0
_TANH_CLIP = 10.0


def _approximation(ctx: Function) -> str:
    return ctx.params.get("approximate", "none")


class Gelu(Function):
    """d gelu(x)/dx = Phi(x) + x phi(x) (Phi, phi: the standard normal CDF and density);
    with approximate='tanh', (1 + t) / 2 + x (1 - t**2) sqrt(2/pi) (1 + 3 k x**2) / 2 where
    t = tanh(sqrt(2/pi) (x + k x**3)), k = 0.044715.

    gelu(x) = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, or, approximated,
    x (1 + t) / 2, as PyTorch's F.gelu.
    """

    def forward(ctx, x: np.ndarray, approximate: str = "none") -> np.ndarray:
        xp = array_module(x)
        if approximate == "tanh":
            c = xp.clip(x, -_TANH_CLIP, _TANH_CLIP)
            t = xp.tanh((c + c * c * c * _KAPPA) * _TANH_SCALE)
            ctx.save_for_backward(x, t)  # t for the backward on arrays
            with np.errstate(invalid="ignore"):  # -inf * 0: nan, as PyTorch, which is silent
                return x * 0.5 * (1.0 + t)
        if approximate != "none":
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        cdf = erf(x * _SQRT1_2)
        cdf += 1.0
        cdf *= 0.5  # exact: x * cdf rounds as PyTorch's x * 0.5 * (1 + erf)
        ctx.save_for_backward(x, cdf)  # cdf: the backward on arrays need not redo erf
        with np.errstate(invalid="ignore"):  # -inf * 0: nan, as PyTorch, which is silent
            return x * cdf

    def backward(ctx, grad: Any) -> Any:
        if not is_grad_enabled():  # not recorded: the same numbers without 12-20 Tensor ops
            return ctx.backward_arrays(grad)
        x = ctx.parents[0]
        if _approximation(ctx) == "tanh":
            c = x.clip(-_TANH_CLIP, _TANH_CLIP)
            t = ((c + c * c * c * _KAPPA) * _TANH_SCALE).tanh()
            slope = (1.0 - t * t) * _TANH_SCALE * (c * c * (3.0 * _KAPPA) + 1.0)
            return grad * ((t + 1.0) * 0.5 + x * 0.5 * slope)
        # the CDF again from x (not the saved array), so that second derivatives flow
        cdf = ((x * _SQRT1_2).erf() + 1.0) * 0.5
        c = x.clip(-_PDF_CLIP, _PDF_CLIP)
        return grad * (cdf + x * ((c * c * -0.5).exp() * _PDF_SCALE))

    def backward_arrays(ctx, grad: Any) -> Any:
        """backward's rule on the arrays forward saved, in PyTorch's rounding order."""
        x, saved = ctx.saved_arrays
        xp, g = array_module(x), grad.data
        if _approximation(ctx) == "tanh":
            t = saved
            c = xp.clip(x, -_TANH_CLIP, _TANH_CLIP)
            with np.errstate(invalid="ignore"):  # inf * 0 at x = +-inf: nan, as PyTorch
                slope = x * 0.5 * (1.0 - t * t) * (_TANH_SCALE * (1.0 + 3.0 * _KAPPA * (c * c)))
            return grad.wrap(g * (0.5 * (1.0 + t) + slope))
        c = xp.clip(x, -_PDF_CLIP, _PDF_CLIP)
        pdf = xp.exp(-0.5 * c * c) * _PDF_SCALE
        with np.errstate(invalid="ignore"):  # inf * 0 at x = +-inf: nan, as PyTorch
            return grad.wrap(g * (saved + x * pdf))

    @staticmethod
    def domain(pick: Picker) -> Sample:
        approximate = pick.choice(("none", "tanh"))
        return Sample((pick.values(pick.shape(), -4.0, 4.0),),
                      lambda x: Gelu.apply(x, approximate=approximate))


class Silu(Function):
    """d silu(x)/dx = s (1 + x (1 - s)) with s = sigmoid(x).

    silu(x) = x sigmoid(x), also called swish.
    """

    def forward(ctx, x: np.ndarray) -> np.ndarray:
        s = stable_sigmoid(array_module(x), x)
        ctx.save_for_backward(x, s)  # s for the backward on arrays
        with np.errstate(invalid="ignore"):  # -inf * 0: nan, as PyTorch, which is silent
            return x * s

    def backward(ctx, grad: Any) -> Any:
        if not is_grad_enabled():  # not recorded: the same numbers without 6 Tensor ops
            x, s = ctx.saved_arrays
            with np.errstate(invalid="ignore"):  # 0 * -inf at x = -inf: nan, as PyTorch
                return grad.wrap(grad.data * s * (1.0 + x * (1.0 - s)))
        x = ctx.parents[0]
        s = x.sigmoid()  # from x, not the saved array, so that second derivatives flow
        return grad * s * (x * (1.0 - s) + 1.0)

    domain = unary_domain(lambda x: Silu.apply(x), low=-4.0, high=4.0)


class Elu(Function):
    """d elu(x)/dx = scale where x > 0, else scale * alpha * input_scale *
    exp(input_scale * x) (the exponential side at 0, as PyTorch).

    elu(x) = scale * (x where x > 0, else alpha * (exp(input_scale * x) - 1)): ELU
    (scale = input_scale = 1), SELU (its two constants) and CELU (input_scale = 1 / alpha).
    """

    def forward(ctx, x: np.ndarray, alpha: float = 1.0, scale: float = 1.0,
                input_scale: float = 1.0) -> np.ndarray:
        # both sides without a branch: max(x, 0) plus the exponential side of min(x, 0),
        # which is 0 for x > 0 (np.where picks per element: slow on mixed signs); expm1,
        # exact near 0; exp only of values <= 0, so nothing overflows. The operand order
        # matters at x = +-0, where minimum and maximum return their second operand: -0.0
        # stays -0.0 (as PyTorch's expm1 gives) and the added side is then -0.0
        xp = array_module(x)
        out = xp.expm1(xp.minimum(0.0, x) * input_scale)
        out *= alpha
        out += xp.maximum(x, -0.0)
        if scale != 1.0:
            out *= scale
        return out

    def backward(ctx, grad: Any) -> Any:
        x, p = ctx.parents[0], ctx.params
        alpha, scale, input_scale = (p.get("alpha", 1.0), p.get("scale", 1.0),
                                     p.get("input_scale", 1.0))
        negative = x.data <= 0  # not x < 0 or ~(x > 0): a nan takes the linear side
        if not is_grad_enabled() and type(grad.data) is np.ndarray and \
                grad.data.dtype.itemsize in (2, 4, 8):  # not recorded: on the arrays
            slope = np.exp(np.minimum(x.data, 0) * input_scale)
            slope *= scale * alpha * input_scale
            # the exponential side where x <= 0 (kept_where: no branch), scale elsewhere
            slope = kept_where(slope.astype(grad.data.dtype, copy=False), negative)
            slope += ~negative * grad.data.dtype.type(scale)
            return grad.wrap(grad.data * slope)
        # recorded: the exponential side from x, so that second derivatives flow; exp only
        # of values <= 0 (a thrown-away inf would turn into nan in the gradient)
        mask = grad.wrap(negative)
        safe = x.where(mask, 0.0)
        slope = (safe * input_scale).exp() * (scale * alpha * input_scale)
        return grad * slope.where(mask, scale)

    @staticmethod
    def domain(pick: Picker) -> Sample:
        alpha, scale, input_scale = pick.choice(((1.0, 1.0, 1.0), (0.5, 1.0, 2.0),
                                                 (1.6732632423543772, 1.0507009873554805, 1.0)))
        return Sample((pick.values(pick.shape(), -3.0, 3.0, avoid=(0.0,)),),
                      lambda x: Elu.apply(x, alpha=alpha, scale=scale, input_scale=input_scale))


class LeakyRelu(Function):
    """d leaky_relu(x)/dx = 1 where x > 0, else negative_slope.

    leaky_relu(x) = x where x > 0, else negative_slope * x, as PyTorch.
    """

    def forward(ctx, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
        xp, slope = array_module(x), negative_slope
        if 0 < slope <= 1:  # x or slope * x, whichever is larger: no branch per element
            return xp.maximum(x, x * slope)
        if 1 < slope < math.inf:  # the smaller one
            return xp.minimum(x, x * slope)
        # slope 0 (where inf * 0 is nan, as PyTorch, which is silent), negative or nan
        with np.errstate(invalid="ignore"):
            return xp.where(x > 0, x, x * slope)

    def backward(ctx, grad: Any) -> Any:
        x, slope = ctx.parents[0], ctx.params.get("negative_slope", 0.01)
        positive = x.data > 0
        if not is_grad_enabled():  # not recorded: 1 or the slope, exactly (one term is 0)
            factor = positive.astype(grad.data.dtype)
            factor += ~positive * grad.data.dtype.type(slope)
            return grad.wrap(grad.data * factor)
        return grad.where(grad.wrap(positive), grad * slope)

    @staticmethod
    def domain(pick: Picker) -> Sample:
        slope = pick.choice((0.01, 0.2, 1.5, -0.5, 0.0))
        return Sample((pick.values(pick.shape(), avoid=(0.0,)),),
                      lambda x: x.leaky_relu(slope))
