"""The lessons of the exercise kit: which library modules each one is made from.

A lesson holds every op that its modules define, so an op added to one of those
files joins the lesson by itself; a new file of ops needs a line here (a test
checks that every registered op is in some lesson).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..engine import Function

PACKAGE = "lessons"  # the kit's Python package: DIR/lessons/<lesson>.py
PREFIX = "My"  # the kit's MyTanh re-implements Tanh; op names are unique in the registry


@dataclass(frozen=True)
class Lesson:
    name: str
    number: int
    modules: tuple[str, ...]  # the library modules it is generated from
    summary: str

    @property
    def module(self) -> str:
        """The kit module the student edits, e.g. lessons.elementwise."""
        return f"{PACKAGE}.{self.name}"

    @property
    def path(self) -> str:
        return f"{PACKAGE}/{self.name}.py"

    def library_ops(self) -> list[type[Function]]:
        """The library's ops of this lesson, in the order their files define them."""
        ops = []
        for module_name in self.modules:
            module = importlib.import_module(module_name)
            ops += [value for value in vars(module).values()
                    if isinstance(value, type) and issubclass(value, Function)
                    and value.__module__ == module_name
                    and Function.registry.get(value.__name__) is value]
        return ops

    def kit_names(self) -> list[str]:
        """The names of the kit's classes for this lesson, e.g. MyAdd, MyMul, ..."""
        return [kit_name(op.__name__) for op in self.library_ops()]


LESSONS: dict[str, Lesson] = {lesson.name: lesson for lesson in (
    Lesson("elementwise", 1, ("tinygrad_edu.ops.elementwise", "tinygrad_edu.ops.activations"),
           "arithmetic, exp and log, activations (GELU, SiLU, ELU and leaky ReLU too), where, "
           "clip: the chain rule and broadcast inputs"),
    Lesson("reductions", 2, ("tinygrad_edu.ops.reduce",),
           "sum, max, min, cumsum: a gradient copied back over the reduced axes"),
    Lesson("movement", 3, ("tinygrad_edu.ops.movement",),
           "reshape, permute, expand, indexing, pad, cat: each backward is another movement"),
    Lesson("matmul", 4, ("tinygrad_edu.ops.linalg", "tinygrad_edu.ops.nn_ops",
                         "tinygrad_edu.ops.losses"),
           "matrix products, batched and broadcast, and the fused layers and losses (linear, "
           "softmax, log-softmax, logsumexp, batch norm, layer norm, var, std, the 2-norm; "
           "cross-entropy, nll, mse, binary cross-entropy)"),
    Lesson("im2col", 5, ("tinygrad_edu.ops.window", "tinygrad_edu.ops.pool"),
           "unfold (im2col) and fold (col2im), each the other's adjoint, and max and average "
           "pooling (their gradients folded back to the chosen elements, or to every "
           "element of each window)"),
)}


def kit_name(library_name: str) -> str:
    """The kit's class name for a library op: Tanh -> MyTanh."""
    return PREFIX + library_name


def library_name(name: str) -> str:
    """The library op a kit class re-implements: MyTanh -> Tanh (mytanh -> tanh: on the
    command line any case will do); other names are returned unchanged."""
    mine = name[:len(PREFIX)].lower() == PREFIX.lower() and len(name) > len(PREFIX)
    return name[len(PREFIX):] if mine else name


def lesson_of_op(name: str) -> Lesson | None:
    """The lesson holding the op named `name` (library or kit name, any case)."""
    wanted = library_name(name).lower()
    for lesson in LESSONS.values():
        if any(op.__name__.lower() == wanted for op in lesson.library_ops()):
            return lesson
    return None


def ops_in_no_lesson() -> list[str]:
    """Registered library ops that no lesson teaches (should be none)."""
    covered = {op for lesson in LESSONS.values() for op in lesson.library_ops()}
    return sorted(name for name, op in Function.registry.items()
                  if op.__module__.startswith("tinygrad_edu.") and op not in covered)
