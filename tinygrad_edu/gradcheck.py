"""Check backward against central finite differences, element by element.

For f with inputs x, the analytic Jacobian comes from backward (one pass per
output element) and the numeric one from

    df_j/dx_k ~ (f_j(x + eps e_k) - f_j(x - eps e_k)) / (2 eps)

for every element k of every input that requires grad. Both must agree to
atol + rtol * |numeric|. One more backward, with the outputs weighted by a
random vector v, must give v^T J: one-hot seeds alone let through a backward
that ignores its upstream gradient (a forgotten ``grad *``) when the output is
a scalar. Run it in float64: in float32 the rounding error of f (about
1e-7 * |f|) divided by eps swamps the derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .autograd import grad
from .engine import enable_grad, no_grad

FIRST_ORDER = "first order"
SECOND_ORDER = "second order (gradgradcheck)"
SMALL = 6  # Jacobian blocks up to SMALL x SMALL are printed whole


class GradcheckError(AssertionError):
    """Backward disagrees with finite differences; the message says where and by how much."""


@dataclass
class _Block:
    """d output / d input for one output (or the v-weighted sum of all) and one input:
    rows are output elements, columns input elements."""

    out_label: str
    in_label: str
    out_shape: tuple[int, ...]
    in_shape: tuple[int, ...]
    slot: int  # position among the inputs that require grad
    analytic: np.ndarray
    numeric: np.ndarray
    left: np.ndarray  # one-sided differences, to tell a kink
    right: np.ndarray

    def bad(self, atol: float, rtol: float) -> np.ndarray:
        a, n = self.analytic, self.numeric
        return ~(np.abs(a - n) <= atol + rtol * np.abs(n))  # nan counts as bad

    def entry(self, j: int, k: int) -> str:
        out = list(np.unravel_index(j, self.out_shape)) if self.out_shape else []
        at = list(np.unravel_index(k, self.in_shape)) if self.in_shape else []
        return (f"d {self.out_label}{[int(v) for v in out] if out else ''} / "
                f"d {self.in_label}{[int(v) for v in at] if at else ''}")


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


def _weights(outputs: Sequence[Any], seed: int) -> list[np.ndarray]:
    """Random upstream gradients, |v| in [1.25, 2] (never near 1, which a backward that
    ignores its grad would pass) with random signs; a local generator, so checking never
    moves the user's."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(1.25, 2.0, o.shape) * rng.choice((-1.0, 1.0), o.shape) for o in outputs]


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


class _Run:
    """One check of fn at inputs: the outputs, both Jacobians, and the weighted check."""

    def __init__(self, fn: Callable, inputs: Sequence[Any], eps: float,
                 in_labels: Sequence[str], out_labels: Sequence[str] | None) -> None:
        self.diff = _check_inputs(inputs)
        self.tensors = [inputs[i] for i in self.diff]
        with enable_grad():
            self.outputs = _outputs(fn, inputs)
        self.in_labels = in_labels
        self.out_labels = out_labels or [f"output{o}" for o in range(len(self.outputs))]
        self.numeric = [_numeric(fn, inputs, i, eps) for i in self.diff]

    def _backward(self, seeds: Sequence[np.ndarray | None]) -> list[np.ndarray]:
        """Gradients (flattened; zeros where none arrives) for these output seeds
        (None: leave that output out)."""
        pairs = [(o, s) for o, s in zip(self.outputs, seeds)
                 if o.requires_grad and s is not None]
        found: tuple = (None,) * len(self.tensors)
        if pairs:
            with enable_grad():
                found = grad([o for o, _ in pairs], self.tensors, [s for _, s in pairs],
                             retain_graph=True, allow_unused=True)
        return [np.zeros(t.data.size) if g is None else np.array(g.data, np.float64).reshape(-1)
                for g, t in zip(found, self.tensors)]

    def blocks(self) -> list[_Block]:
        """One block per (output, input), rows from one-hot backward seeds."""
        rows = []
        for index, out in enumerate(self.outputs):
            per_row = []
            for j in range(out.data.size):
                seed = np.zeros(out.data.size)
                seed[j] = 1.0
                # by position: fn may return one tensor twice (add's two gradients)
                seeds = [seed.reshape(out.shape) if o == index else None
                         for o in range(len(self.outputs))]
                per_row.append(self._backward(seeds))
            rows.append(per_row)
        blocks = []
        for o, out in enumerate(self.outputs):
            for slot, t in enumerate(self.tensors):
                central, right, left = self.numeric[slot]
                analytic = np.array([r[slot] for r in rows[o]])
                analytic = analytic.reshape(out.data.size, t.data.size)
                blocks.append(_Block(self.out_labels[o], self.in_labels[self.diff[slot]],
                                     tuple(out.shape), tuple(t.shape), slot, analytic,
                                     central[o], left[o], right[o]))
        return blocks

    def expected(self, weights: Sequence[np.ndarray], slot: int, part: int = 0) -> np.ndarray:
        """v^T J from finite differences (part 0: central, 1: right, 2: left)."""
        jac = self.numeric[slot][part]
        return sum((w.reshape(-1) @ j for w, j in zip(weights, jac)),
                   np.zeros(self.tensors[slot].data.size))

    def weighted_blocks(self) -> list[_Block]:
        """One row per input: the gradient for a random upstream weighting v of the outputs."""
        weights = _weights(self.outputs, 1)
        got = self._backward(weights)
        return [_Block("(v . output)", self.in_labels[self.diff[slot]], (), tuple(t.shape),
                       slot, got[slot][None], self.expected(weights, slot)[None],
                       self.expected(weights, slot, 2)[None],
                       self.expected(weights, slot, 1)[None])
                for slot, t in enumerate(self.tensors)]

    def ignores_upstream(self, slot: int, atol: float, rtol: float) -> bool:
        """Two different upstream weightings give the same gradient, though they should not:
        backward never multiplied by its grad argument."""
        w1, w2 = _weights(self.outputs, 1), _weights(self.outputs, 2)
        g1, g2 = self._backward(w1)[slot], self._backward(w2)[slot]
        e1, e2 = self.expected(w1, slot), self.expected(w2, slot)
        return (bool(np.any(np.abs(g1) > atol)) and np.allclose(g1, g2, rtol=1e-9, atol=1e-12)
                and not np.allclose(e1, e2, rtol=rtol, atol=atol))


# ---------------------------------------------------------------------------
# The likely cause, in words, for a student reading the report.
# ---------------------------------------------------------------------------


def _common_ratio(block: _Block, atol: float) -> tuple[float, int] | None:
    """(c, entries compared) when analytic = c * numeric in every entry of the block."""
    a, n = block.analytic, block.numeric
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(n))):
        return None
    big = np.abs(n) > max(atol, 1e-8)
    if not big.any():
        return None
    c = float(np.median(a[big] / n[big]))
    close = np.abs(a - c * n) <= atol + 1e-3 * np.abs(c * n)
    return (c, int(big.sum())) if bool(close.all()) else None


def _ratio_suspect(c: float, block: _Block, compared: int) -> str:
    sizes = (int(np.prod(block.in_shape)), int(np.prod(block.out_shape)))
    many, few = max(sizes), max(min(sizes), 1)
    k = many // few if many % few == 0 else 1
    if abs(c) < 1e-6:
        return ("no gradient: backward sent zero where the function does change: a missing "
                "path (a detach, an op recorded under no_grad, a constant made from .data)")
    if np.isclose(c, -1.0, rtol=1e-3):
        return ("flipped sign: the sign is flipped (analytic = -numeric everywhere); "
                "check the sign of the backward rule")
    if k > 1 and np.isclose(c, 1.0 / k, rtol=1e-3):
        return (f"mean instead of sum: every analytic entry is 1/{k} of the numeric one, and "
                f"{k} elements meet in each output element (a reduction, or broadcasting); "
                "their gradients must be added (sum, unbroadcast), not averaged (mean)")
    if k > 1 and np.isclose(c, float(k), rtol=1e-3):
        return (f"sum instead of mean: every analytic entry is {k} times the numeric one, and "
                f"{k} elements meet in each output element; a mean's backward divides by {k}")
    if np.isclose(c, 2.0, rtol=1e-3) or np.isclose(c, 0.5, rtol=1e-3):
        return (f"constant factor: analytic = {c:.4g} * numeric everywhere, off by a factor "
                "of 2 (a gradient counted twice or only half: a shared node accumulated twice, "
                "ties in max/min, a missing 2 in d(x**2)/dx = 2x)")
    if compared == 1:  # one number is always some multiple of another: no pattern to read
        return (f"constant factor or a wrong rule: analytic = {c:.4g} * numeric at the one "
                "entry compared; one number is always a multiple of another, so a wrong "
                "constant and a wrong rule look alike here: re-derive the rule")
    return (f"constant factor: analytic = {c:.4g} * numeric everywhere; the rule's shape "
            "is right but a constant in it is wrong (re-derive the factor)")


def _suspect(run: _Run, block: _Block, bad: np.ndarray, eps: float, atol: float,
             rtol: float) -> str:
    j, k = (int(v) for v in np.argwhere(bad)[0])
    a, n = block.analytic[j, k], block.numeric[j, k]
    if not np.isfinite(n):
        return ("not finite: the function is not finite next to this point; the input is "
                "outside the op's domain (log or sqrt of a negative number, division by zero)")
    if not np.isfinite(a):
        return "backward produced nan or inf: a division by zero or overflow in the backward rule"
    for j2, k2 in np.argwhere(bad):
        lo, hi = block.left[j2, k2], block.right[j2, k2]
        if abs(hi - lo) > 1e-2 * max(1.0, abs(lo), abs(hi)):
            return (f"a kink: for {block.entry(j2, k2)} the slope left of the point is {lo:.6g} "
                    f"and right of it {hi:.6g}, so the function is not differentiable here "
                    "(relu or abs at 0, a tie in max/min, a clip bound). The input must stay "
                    f"more than eps={eps:g} away from the kink: declare it in the domain "
                    "(unary_domain(..., avoid=(0.0,)))")
    if run.ignores_upstream(block.slot, atol, rtol):
        return ("missing chain-rule factor: backward returns the same gradient whatever the "
                "upstream gradient is (tried two random weightings of the outputs); multiply "
                "the local derivative by backward's grad argument (grad * ...)")
    ratio = _common_ratio(block, atol)
    if ratio is not None:
        return _ratio_suspect(ratio[0], block, ratio[1])
    if a == 0 and n != 0:
        return ("no gradient: backward sent no gradient to this element: a missing path "
                "(a detach, an op recorded under no_grad, a constant made from .data)")
    if np.isclose(a, -n, rtol=1e-3):
        return "flipped sign: the sign is flipped at this entry; check the backward rule"
    return ("the backward rule does not match the forward: re-derive it, and check broadcast "
            "axes were summed back (unbroadcast) and saved values are the right ones")


def _engine_suspect(error: RuntimeError) -> str | None:
    """The engine rejects a gradient of the wrong shape or count; say what that means."""
    message = str(error)
    if "backward returned a gradient of shape" in message:
        return ("missing unbroadcast: backward returned a gradient of the output's shape for "
                "an input that was broadcast (or of some other wrong shape); sum it back with "
                "unbroadcast(grad, input_shape) (tinygrad_edu.ops.reduce) before returning it")
    if "gradient(s) for" in message:
        return ("wrong number of gradients: backward must return one per input of forward "
                "(None for an input that needs none)")
    return None


# ---------------------------------------------------------------------------
# The report.
# ---------------------------------------------------------------------------


def _relative(abs_err: float, numeric: float) -> str:
    if abs(numeric) < 1e-12:
        return "relative error undefined (numeric is 0)"
    rel = abs_err / abs(numeric)
    return "relative error > 1e+06" if rel > 1e6 else f"relative error {rel:.3g}"


def _matrix(values: np.ndarray) -> str:
    text = np.array2string(values, precision=4, suppress_small=True, max_line_width=100)
    return "    " + text.replace("\n", "\n    ")


def _report(block: _Block, bad: np.ndarray, failures: int, checked: int, order: str,
            suspect: str, eps: float, atol: float, rtol: float, weighted: bool) -> str:
    j, k = (int(v) for v in np.argwhere(bad)[0])
    a, n = float(block.analytic[j, k]), float(block.numeric[j, k])
    abs_err = abs(a - n)
    if weighted:
        head = (f"gradcheck failed, {order}: the Jacobian matches for one-hot upstream "
                "gradients, but not for a random upstream weighting v of the outputs "
                f"({failures} of {checked} entries of v^T J disagree).")
    else:
        head = (f"gradcheck failed, {order}: {failures} of {checked} Jacobian entries "
                "disagree.")
    lines = [
        head,
        f"First mismatch: {block.entry(j, k)}",
        f"  analytic (backward):    {a:.10g}",
        f"  numeric (central diff): {n:.10g}",
        f"  abs error {abs_err:.3g}, {_relative(abs_err, n)} "
        f"(allowed: atol={atol:g} + rtol={rtol:g} * |numeric|, eps={eps:g})",
    ]
    name = f"  d {block.out_label} / d {block.in_label}"
    if max(block.analytic.shape) <= SMALL:
        lines += [f"{name}, analytic (rows: output elements, columns: input elements):",
                  _matrix(block.analytic), f"{name}, numeric:", _matrix(block.numeric)]
    else:
        lines.append(f"{name}, mismatching entries (analytic vs numeric):")
        for j2, k2 in np.argwhere(bad)[:SMALL]:
            lines.append(f"    {block.entry(j2, k2)}: {block.analytic[j2, k2]:.6g} vs "
                         f"{block.numeric[j2, k2]:.6g}")
        if int(bad.sum()) > SMALL:
            lines.append(f"    (and {int(bad.sum()) - SMALL} more)")
    lines.append(f"  suspect: {suspect}")
    return "\n".join(lines)


def _failure(fn: Callable, inputs: Sequence[Any], eps: float, atol: float, rtol: float,
             order: str, in_labels: Sequence[str],
             out_labels: Sequence[str] | None) -> str | None:
    """gradcheck's report for fn at inputs, or None when backward is right."""
    try:
        run = _Run(fn, inputs, eps, in_labels, out_labels)
        for weighted, blocks in ((False, run.blocks), (True, run.weighted_blocks)):
            found = blocks()
            flags = [b.bad(atol, rtol) for b in found]
            failures = sum(int(f.sum()) for f in flags)
            if failures:
                checked = sum(f.size for f in flags)
                block, bad = next((b, f) for b, f in zip(found, flags) if f.any())
                suspect = _suspect(run, block, bad, eps, atol, rtol)
                return _report(block, bad, failures, checked, order, suspect, eps, atol,
                               rtol, weighted)
    except RuntimeError as error:
        reason = _engine_suspect(error)
        if reason is None:
            raise
        return (f"gradcheck failed, {order}: backward returned gradients the engine "
                f"rejects.\n  {type(error).__name__}: {error}\n  suspect: {reason}")
    return None


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
    input that requires grad (and for a random weighting of the outputs); otherwise
    raise GradcheckError with a report (or return False when raise_exception=False).
    Inputs must be float64; `names` label them in the report."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    in_labels = [f"input {i}" + ("" if names is None else f" ({names[i]!r})")
                 for i in range(len(inputs))]
    return _verdict(fn, inputs, eps, atol, rtol, raise_exception, FIRST_ORDER, in_labels,
                    None)


def _verdict(fn: Callable, inputs: tuple, eps: float, atol: float, rtol: float,
             raise_exception: bool, order: str, in_labels: Sequence[str],
             out_labels: Sequence[str] | None) -> bool:
    report = _failure(fn, inputs, eps, atol, rtol, order, in_labels, out_labels)
    if report is None:
        return True
    if raise_exception:
        raise GradcheckError(report)
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
    diff = _check_inputs(inputs)
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
            wrt = [x for x in xs if x.requires_grad]
            grads = grad(outs, wrt, seeds, create_graph=True, allow_unused=True)
        return tuple(tensor(np.zeros(x.shape)) if g is None else g for g, x in zip(grads, wrt))

    in_labels = [f"input {i}" for i in range(count)]
    in_labels += [f"grad_output {o} (v)" for o in range(len(vs))]
    out_labels = [f"(grad of input {i})" for i in diff]
    return _verdict(first_order, inputs + vs, eps, atol, rtol, raise_exception, SECOND_ORDER,
                    in_labels, out_labels)
