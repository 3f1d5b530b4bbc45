"""`tinygrad-edu gradcheck`: check registered ops against finite differences, from the shell.

The same check as the generic test (tests/test_ops_gradcheck.py): for each op, draw
inputs from the op's own domain with hypothesis, then run `gradcheck` (and
`gradgradcheck`) in float64 on every element. A failure is shrunk by hypothesis to a
small example and shown with gradcheck's report. hypothesis comes with the `dev` extra;
it is imported only here, when the command runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .engine import Function


@dataclass
class OpResult:
    name: str
    rule: str
    examples: int
    seconds: float
    error: str | None = None  # gradcheck's report (or the exception) when it failed


def registered_ops() -> dict[str, type[Function]]:
    """Every registered primitive by name, with the modules that define them imported."""
    from . import nn  # noqa: F401  (importing nn registers its ops, e.g. the fused Linear)

    return dict(sorted(Function.registry.items()))


def rule(op: type[Function]) -> str:
    """The derivative rule: the first paragraph of the op's docstring, on one line."""
    paragraph = (op.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def check_op(op: type[Function], examples: int = 10, second_order: bool = True) -> OpResult:
    """Gradcheck (and gradgradcheck) `op` on `examples` hypothesis-drawn inputs."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from .gradcheck import gradcheck, gradgradcheck
    from .testing import op_samples, sample_tensors

    count = 0

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data: st.DataObject) -> None:
        nonlocal count
        count += 1
        sample = data.draw(op_samples(op))
        args = sample_tensors(sample)
        gradcheck(sample.call, args)
        if second_order:
            gradgradcheck(sample.call, args)

    start = time.perf_counter()
    error = None
    try:
        check()
    except Exception as failure:  # the report of the shrunk failing example
        error = f"{type(failure).__name__}: {failure}"
    return OpResult(op.__name__, rule(op), count, time.perf_counter() - start, error)


def check_ops(names: Iterable[str] = (), examples: int = 10, second_order: bool = True,
              log: Callable[[str], object] = print) -> list[OpResult]:
    """Check the named ops (all registered ops when `names` is empty), logging a line each."""
    ops = registered_ops()
    wanted = list(names) or list(ops)
    lookup = {name.lower(): name for name in ops}
    unknown = [n for n in wanted if n.lower() not in lookup]
    if unknown:
        raise KeyError(f"gradcheck: no registered op named {', '.join(unknown)}; "
                       f"the ops are: {', '.join(ops)}")
    order = "first and second order" if second_order else "first order"
    log(f"checking {len(wanted)} op(s) against central differences in float64, "
        f"{examples} hypothesis-drawn input(s) each, {order}")
    results = []
    for name in wanted:
        result = check_op(ops[lookup[name.lower()]], examples, second_order)
        status = "ok" if result.error is None else "FAILED"
        log(f"  {result.name:<12} {status:<6} {result.examples:>3} inputs "
            f"{result.seconds:6.2f} s   {result.rule}")
        if result.error is not None:
            log("    " + result.error.replace("\n", "\n    "))
        results.append(result)
    failed = sum(r.error is not None for r in results)
    log(f"{len(results) - failed} passed, {failed} failed")
    return results
