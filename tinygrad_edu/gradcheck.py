"""Check backward against central finite differences, element by element.

For f with inputs x, the analytic Jacobian comes from backward (one pass per
output element) and the numeric one from

    df_j/dx_k ~ (f_j(x + eps e_k) - f_j(x - eps e_k)) / (2 eps)

for every element k of every input that requires grad. Both must agree to
atol + rtol * |numeric|. Run it in float64: in float32 the rounding error of
f (about 1e-7 * |f|) divided by eps swamps the derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import enable_grad, grad, no_grad


class GradcheckError(AssertionError):
    """Backward disagrees with finite differences; the message says where and by how much."""


@dataclass
class _Mismatch:
    input_index: int
    element: tuple[int, ...]
    output_index: int
    output_element: tuple[int, ...]
    analytic: float
    numeric: float
    left_slope: float
    right_slope: float
    failures: int
    checked: int


def _outputs(fn: Callable, inputs: Sequence[Any]) -> tuple:
    out = fn(*inputs)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for i, o in enumerate(outs):
        if not hasattr(o, "grad_fn"):
            raise TypeError(f"gradcheck: output {i} of fn is a {type(o).__name__}, not a Tensor")
    return outs


def _values(outputs: Sequence[Any]) -> list[np.ndarray]:
    # copies: an output may be a view of an input we are about to perturb
    return [np.array(o.data, dtype=np.float64, copy=True).reshape(-1) for o in outputs]


def _check_inputs(inputs: Sequence[Any]) -> list[int]:
    diff = []
    for i, t in enumerate(inputs):
        if not hasattr(t, "grad_fn"):
            raise TypeError(f"gradcheck: input {i} is a {type(t).__name__}, not a Tensor")
        if t.requires_grad:
            if t.dtype != np.float64:
                raise TypeError(
                    f"gradcheck: input {i} has dtype {t.dtype}; finite differences need float64 "
                    "(in float32, rounding error / eps swamps the derivative). Use "
                    "x.double() or Tensor(..., dtype=float64, requires_grad=True)."
                )
            diff.append(i)
    if not diff:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    return diff


def _analytic(outputs: Sequence[Any], diff_inputs: Sequence[Any]) -> list[list[np.ndarray]]:
    """jac[o][i] has shape (outputs[o].size, diff_inputs[i].size), one backward per row."""
    jac = []
    for out in outputs:
        rows = [np.zeros((out.data.size, t.data.size)) for t in diff_inputs]
        if out.requires_grad:
            for j in range(out.data.size):
                seed = np.zeros(out.data.size, dtype=out.dtype)
                seed[j] = 1.0
                grads = grad(out, diff_inputs, seed.reshape(out.shape), retain_graph=True,
                             allow_unused=True)
                for i, g in enumerate(grads):
                    if g is not None:
                        rows[i][j] = g.data.reshape(-1)
        jac.append(rows)
    return jac


def _numeric(fn: Callable, inputs: Sequence[Any], index: int, eps: float) -> tuple:
    """Central, right and left differences of every output w.r.t. every element of one input."""
    x = inputs[index]
    if not x.data.flags.writeable:
        x.data = x.data.copy()
    with no_grad():
        base = _values(_outputs(fn, inputs))
    central = [np.zeros((b.size, x.data.size)) for b in base]
    right = [np.zeros_like(c) for c in central]
    left = [np.zeros_like(c) for c in central]
    for k in range(x.data.size):
        at = np.unravel_index(k, x.shape)
        original = x.data[at]
        with no_grad():
            x.data[at] = original + eps
            plus = _values(_outputs(fn, inputs))
            x.data[at] = original - eps
            minus = _values(_outputs(fn, inputs))
        x.data[at] = original
        for o, (p, m, b) in enumerate(zip(plus, minus, base)):
            central[o][:, k] = (p - m) / (2 * eps)
            right[o][:, k] = (p - b) / eps
            left[o][:, k] = (b - m) / eps
    return central, right, left


def _find_mismatch(
    fn: Callable, inputs: Sequence[Any], eps: float, atol: float, rtol: float
) -> _Mismatch | None:
    diff = _check_inputs(inputs)
    with enable_grad():
        outputs = _outputs(fn, inputs)
        analytic = _analytic(outputs, [inputs[i] for i in diff])
    worst: _Mismatch | None = None
    failures = checked = 0
    for slot, index in enumerate(diff):
        central, right, left = _numeric(fn, inputs, index, eps)
        for o, out in enumerate(outputs):
            a, n = analytic[o][slot], central[o]
            bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))  # nan counts as bad
            checked += a.size
            failures += int(bad.sum())
            if bad.any() and worst is None:
                j, k = np.argwhere(bad)[0]
                worst = _Mismatch(
                    index, tuple(int(v) for v in np.unravel_index(k, inputs[index].shape)),
                    o, tuple(int(v) for v in np.unravel_index(j, out.shape)),
                    float(a[j, k]), float(n[j, k]), float(left[o][j, k]), float(right[o][j, k]),
                    0, 0,
                )
    if worst is not None:
        worst.failures, worst.checked = failures, checked
    return worst


def _suspect(m: _Mismatch, eps: float) -> str:
    """A likely cause, in words, for a student reading the report."""
    a, n = m.analytic, m.numeric
    if not np.isfinite(n):
        return ("the function is not finite next to this point: the input is outside the op's "
                "domain (log or sqrt of a negative number, division by zero)")
    if not np.isfinite(a):
        return "backward produced nan or inf: a division by zero or overflow in the backward rule"
    slope_gap = abs(m.right_slope - m.left_slope)
    if slope_gap > 1e-2 * max(1.0, abs(m.left_slope), abs(m.right_slope)):
        return (f"a kink: the slope left of the point is {m.left_slope:.6g} and right of it "
                f"{m.right_slope:.6g}, so the function is not differentiable here (relu or abs "
                f"at 0, a tie in max/min, a clip bound). Move the input more than eps={eps:g} "
                "away from the kink")
    if a == 0 and n != 0:
        return ("backward sent no gradient to this element: a missing path (a detach, an op "
                "recorded under no_grad, a constant made from .data, an integer cast)")
    if n != 0 and np.isclose(a, -n, rtol=1e-3):
        return "the sign is flipped: check the sign of the backward rule"
    if n != 0 and (np.isclose(a, 2 * n, rtol=1e-3) or np.isclose(2 * a, n, rtol=1e-3)):
        return ("off by a factor of 2: a gradient counted twice or only half (a shared node "
                "accumulated twice, ties in max/min, a missing factor in d(x**2)/dx = 2x)")
    return ("the backward rule does not match the forward: re-derive it, and check broadcast "
            "axes were summed back (unbroadcast) and saved values are the right ones")


def _report(m: _Mismatch, names: Sequence[str] | None, eps: float, atol: float,
            rtol: float) -> str:
    label = f"input {m.input_index}"
    if names is not None:
        label += f" ({names[m.input_index]!r})"
    abs_err = abs(m.analytic - m.numeric)
    rel_err = abs_err / max(abs(m.numeric), 1e-300)
    return (
        f"gradcheck failed: {m.failures} of {m.checked} Jacobian entries disagree.\n"
        f"First mismatch: d output{m.output_index}{list(m.output_element)} / "
        f"d {label}{list(m.element)}\n"
        f"  analytic (backward):    {m.analytic:.10g}\n"
        f"  numeric (central diff): {m.numeric:.10g}\n"
        f"  abs error {abs_err:.3g}, relative error {rel_err:.3g} "
        f"(allowed: atol={atol:g} + rtol={rtol:g} * |numeric|, eps={eps:g})\n"
        f"  suspect: {_suspect(m, eps)}"
    )


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    names: Sequence[str] | None = None,
) -> bool:
    """True when backward matches central differences for every element of every
    input that requires grad; otherwise raise GradcheckError with a report
    (or return False when raise_exception=False). Inputs must be float64."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    mismatch = _find_mismatch(fn, inputs, eps, atol, rtol)
    if mismatch is None:
        return True
    if raise_exception:
        raise GradcheckError(_report(mismatch, names, eps, atol, rtol))
    return False


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    grad_outputs: Sequence[Any] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Second order: gradcheck the function (x, v) -> grad(fn(x), x, v, create_graph=True).

    `grad_outputs` (v) defaults to fixed random float64 values; the check covers
    both x and v, so the backward must be differentiable in both."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    _check_inputs(inputs)
    with enable_grad():
        outputs = _outputs(fn, inputs)
    tensor = type(inputs[0])
    if grad_outputs is None:
        rng = np.random.default_rng(0)  # local: checking must not move the user's generator
        grad_outputs = [rng.uniform(-1, 1, o.shape) for o in outputs]
    vs = tuple(tensor(v, dtype=np.float64, requires_grad=True) for v in grad_outputs)
    count = len(inputs)

    def first_order(*args: Any) -> tuple:
        xs, seeds = args[:count], args[count:]
        with enable_grad():
            outs = _outputs(fn, xs)
            diff = [x for x in xs if x.requires_grad]
            grads = grad(outs, diff, seeds, create_graph=True, allow_unused=True)
        return tuple(tensor(np.zeros(x.shape)) if g is None else g for g, x in zip(grads, diff))

    return gradcheck(first_order, inputs + vs, eps, atol, rtol, raise_exception)
