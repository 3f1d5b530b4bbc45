"""The kit's other files: README.md, lessons/__init__.py and one test file per lesson."""

from __future__ import annotations

import textwrap

from ..version import __version__
from .lessons import LESSONS, PACKAGE, PREFIX, Lesson

DEFAULT_EXAMPLES = 25  # inputs per op and order; `--examples` changes it

README = """\
# Exercise kit: the backward passes of tinygrad_edu

Every primitive of tinygrad_edu is here with its forward pass, its domain (the inputs
it is checked on) and its derivative rule; the backward passes are yours to write.
Each `backward` now raises `NotImplementedError("write me: <the rule>")`.

## The loop

1. Open a lesson file, e.g. `{package}/elementwise.py`, and pick an op.
2. Write its `backward`.
3. From this folder, run `tinygrad-edu exercise check . elementwise` for a lesson
   (`check . {prefix}Tanh` for one op, `check .` for everything).
4. Read the table (each op: passed, failed or not implemented yet) and the report
   of each failure.
5. Fix and run again. The command exits with status 0 once every op it checked passes.

`exercise check` draws {examples} inputs per op and order, the same ones on every run;
`--examples N` draws more, `--seed N` others. `python -m pytest` in this folder runs
the same check, one test per op (`test_<lesson>.py`).

## Lessons

{lessons}

## How backward works

- `backward(ctx, grad)` receives `grad`, the gradient of the loss with respect to the
  op's output (a Tensor of the output's shape). It returns one gradient per input, a
  tuple when there are several: the local derivative **times `grad`** (the chain
  rule), of that input's shape, or `None` for an input that needs none
  (`ctx.needs_input_grad[i]` tells).
- Write it with Tensor operations (`grad * y`, `.exp()`, `.sum(axis=...)`,
  `.reshape(...)`, other ops' `.apply(...)`), never with NumPy on `.data`: the checker
  also differentiates your backward (second order), as `create_graph=True` would.
- `ctx.saved_tensors` gives back what forward saved with `ctx.save_for_backward`
  (an input's or the output's array comes back as that Tensor, still in the graph);
  `ctx.parents` are the inputs, `ctx.params` the keyword arguments (`axis`, `shape`).
- A broadcast input's gradient must be summed back to its shape:
  `unbroadcast(grad, shape)` does it (imported at the top of the lesson files).
  Helpers such as `_grad_for` are the library's own; use them or not.

## Reading a report

`check_op` (from `tinygrad_edu.testing`) draws inputs from the op's domain and compares
your backward with central finite differences in float64: first order, then second.
On a failure it shrinks the input to the smallest one that still fails and shows it,
the Jacobian entries that disagree, and the likely bug (a missing `grad *`, a flipped
sign, a constant factor, a missing unbroadcast, a kink).

## Names

The classes are the library's ops with `{prefix}` in front (`{prefix}Mul` does what `Mul`
does): op names are unique, so yours cannot take the library's. A domain that calls
Tensor methods (`x * y` reaches the library's `Mul`) is checked with your class in the
library op's place; a domain that calls `{prefix}Unfold.apply` uses yours directly.

## Stuck?

The library's own ops are the reference solution, in `tinygrad_edu/ops/`. Try first.

Made by `tinygrad-edu exercise new` (tinygrad_edu {version}).
"""

TEST_FILE = '''\
"""{title}: one test per op, the same check as
`tinygrad-edu exercise check . {lesson}`."""

import pytest

from tinygrad_edu.exercise import assert_passes

OPS = [
{ops}
]


@pytest.mark.parametrize("op", OPS)
def test_backward(op):
    assert_passes(__file__, op)
'''

INIT = '''\
"""Your ops, one file per lesson: see ../README.md. Made by `tinygrad-edu exercise new`
(tinygrad_edu {version})."""
'''


def readme() -> str:
    rows = ["| # | lesson | file | ops |", "| - | ------ | ---- | --- |"]
    for lesson in LESSONS.values():
        ops = ", ".join(lesson.kit_names())
        rows.append(f"| {lesson.number} | {lesson.name}: {lesson.summary} | "
                    f"`{lesson.path}` | {ops} |")
    return README.format(package=PACKAGE, prefix=PREFIX, examples=DEFAULT_EXAMPLES,
                         lessons="\n".join(rows), version=__version__)


def lesson_test_file(lesson: Lesson) -> str:
    names = ", ".join(f'"{name}"' for name in lesson.kit_names()) + ","
    ops = textwrap.indent(textwrap.fill(names, 84), "    ")
    return TEST_FILE.format(title=f"Lesson {lesson.number}, {lesson.name}",
                            lesson=lesson.name, ops=ops)


def package_init() -> str:
    return INIT.format(version=__version__)
