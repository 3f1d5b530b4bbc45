"""Special functions NumPy lacks, in NumPy only (no SciPy dependency); the same code
runs on any array module (its input's: numpy, cupy, the stand-in's).

erf is computed in float64 from two expansions, each used where it converges
fast and without cancellation (both checked against 40-digit mpmath values:
relative error below 1e-15 on [-7, 7], about 2 ulp):

- |x| < 2.5: the series erf(x) = 2/sqrt(pi) exp(-x^2) sum_n (2x^2)^n x / (2n+1)!!,
  whose terms are all positive (the alternating Taylor series loses digits);
- |x| >= 2.5: the continued fraction erfc(x) = exp(-x^2)/sqrt(pi) /
  (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from its tail, and
  erf = 1 - erfc (erfc < 5e-4 there, so the subtraction loses nothing).

At most forty terms of either reach float64 accuracy on its interval; the
series takes fewer when every |x| is small. About 2-3x faster than calling
math.erf per element.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import array_module, as_array

_TERMS = 40
_SWITCH = 2.5  # where the series and the continued fraction need the same number of terms


def _series(xp: Any, x: np.ndarray) -> np.ndarray:
    """erf(x) for 0 <= x < _SWITCH: x times a polynomial in x^2 by Horner's rule, with
    only as many terms as the largest x needs (about 10 for x < 0.5)."""
    x2 = x * x
    largest = 2.0 * float(x2.max()) if x2.size else 0.0  # (CuPy's max has no initial=)
    coefficients = [1.0]  # 2^n / (2n+1)!!
    bound = 1.0  # the n-th term at the largest x, relative to the first (the sum is larger)
    while len(coefficients) < _TERMS and bound > 1e-17:
        n = len(coefficients)
        coefficients.append(coefficients[-1] * 2.0 / (2 * n + 1))
        bound *= largest / (2 * n + 1)
    total = xp.full_like(x, coefficients[-1])
    for c in coefficients[-2::-1]:
        total *= x2
        total += c
    total *= x
    xp.negative(x2, out=x2)
    total *= xp.exp(x2, out=x2)
    total *= 2.0 / math.sqrt(math.pi)
    return total


def _erfc_fraction(xp: Any, x: np.ndarray) -> np.ndarray:
    """erfc(x) for x >= _SWITCH (inf gives 0)."""
    # inf / inf at x = inf, and x * x overflowing past 1.3e154: the result is still 0
    with np.errstate(invalid="ignore", over="ignore"):
        tail = x.copy()
        for k in range(_TERMS, 0, -1):
            tail = x + (0.5 * k) / tail
        return xp.nan_to_num(xp.exp(-x * x) / (math.sqrt(math.pi) * tail), nan=0.0)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function 2/sqrt(pi) * integral of exp(-t^2) from 0 to x, elementwise.

    Float inputs keep their dtype (computed in float64); others give float64."""
    x = as_array(x)
    xp = array_module(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    a = xp.abs(x.astype(np.float64).reshape(-1))  # 1-D: 0-d arrays would turn into scalars
    near = a < _SWITCH
    if near.all():  # the usual case for activations: no masked copies
        out = _series(xp, a)
    else:
        out = xp.empty_like(a)
        out[near] = _series(xp, a[near])
        far = ~near & ~xp.isnan(a)
        out[far] = 1.0 - _erfc_fraction(xp, a[far])
        out[xp.isnan(a)] = np.nan
    return xp.asarray(xp.copysign(out.reshape(x.shape), x), dtype=dtype)
