"""`tinygrad-edu gradcheck`: check ops against finite differences, from the shell.

The same check as the generic test (tests/test_ops_gradcheck.py), `testing.check_op`:
for each op, draw inputs from the op's own domain with hypothesis, then run
`gradcheck` (and `gradgradcheck`) in float64 on every element. A failure is shrunk
by hypothesis to a small example and reported with the input and the likely bug.
`--import MODULE` checks the ops a student's own module defines. hypothesis comes
with the `dev` extra; it is imported only here, when the command runs.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .engine import Function


@dataclass
class OpResult:
    name: str
    rule: str
    examples: int
    seconds: float
    error: str | None = None  # check_op's report (or the exception) when it failed


class OpImportError(Exception):
    """`--import MODULE` found no module, or no ops in it; the message says which."""


def registered_ops() -> dict[str, type[Function]]:
    """Every registered primitive by name, with the modules that define them imported."""
    from . import nn  # noqa: F401  (importing nn registers its ops, e.g. the fused Linear)

    return dict(sorted(Function.registry.items()))


def module_ops(module_name: str) -> dict[str, type[Function]]:
    """The ops (registered Function subclasses) that `module_name` defines, importing it
    with the current directory on sys.path, as `python -c "import module"` would."""
    name = module_name[:-3] if module_name.endswith(".py") else module_name
    name = name.replace("/", ".").strip(".")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(name)
    except Exception as error:  # a syntax error or a failing top-level line counts too
        raise OpImportError(
            f"gradcheck: cannot import {name!r} (looked in {cwd} and on sys.path; run the "
            f"command from the folder that holds {name.split('.')[0]}.py): "
            f"{type(error).__name__}: {error}"
        ) from error
    ops = {op.__name__: op for op in Function.registry.values()
           if op.__module__ == module.__name__}
    if not ops:
        raise OpImportError(
            f"gradcheck: module {name!r} ({getattr(module, '__file__', '?')}) defines no ops; "
            "an op is a class that subclasses tinygrad_edu.Function"
        )
    return dict(sorted(ops.items()))


def check_one(op: type[Function], examples: int = 10, second_order: bool = True) -> OpResult:
    """`testing.check_op` on one op, timed, its report kept instead of raised."""
    from .testing import check_op

    start = time.perf_counter()
    count, error = 0, None
    try:
        count = check_op(op, examples, order=2 if second_order else 1)
    except AssertionError as failure:  # the report of the shrunk failing example
        error = str(failure)
    except Exception as failure:  # a broken op must not stop the other checks
        error = f"{type(failure).__name__}: {failure}"
    return OpResult(op.__name__, op.rule(), count, time.perf_counter() - start, error)


def select(ops: dict[str, type[Function]], names: Sequence[str]) -> list[type[Function]]:
    """The named ops (case-insensitive), or all of them when no names are given."""
    lookup = {name.lower(): name for name in ops}
    unknown = [n for n in names if n.lower() not in lookup]
    if unknown:
        raise KeyError(f"gradcheck: no registered op named {', '.join(unknown)}; "
                       f"the ops are: {', '.join(ops)}")
    return [ops[lookup[n.lower()]] for n in names] or list(ops.values())


def check_ops(names: Iterable[str] = (), examples: int = 10, second_order: bool = True,
              log: Callable[[str], object] = print,
              ops: dict[str, type[Function]] | None = None) -> list[OpResult]:
    """Check the named ops of `ops` (default: every registered op; all of them when
    `names` is empty), logging a line each."""
    chosen = select(registered_ops() if ops is None else ops, list(names))
    order = "first and second order" if second_order else "first order"
    log(f"checking {len(chosen)} op(s) against central differences in float64, "
        f"{examples} hypothesis-drawn input(s) each, {order}")
    results = []
    for op in chosen:
        result = check_one(op, examples, second_order)
        passed = result.error is None
        # a failure's count would include hypothesis's shrinking runs: not shown
        tried = f"{result.examples:>3} inputs" if passed else " " * 10
        log(f"  {result.name:<12} {'ok' if passed else 'FAILED':<6} {tried} "
            f"{result.seconds:6.2f} s   {result.rule}")
        if result.error is not None:
            log("    " + result.error.replace("\n", "\n    "))
        results.append(result)
    failed = sum(r.error is not None for r in results)
    log(f"{len(results) - failed} passed, {failed} failed")
    return results
