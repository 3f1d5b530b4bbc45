"""`exercise check`: load a student's kit afresh and grade each op with `check_op`.

The lesson files are compiled from disk on every run (no bytecode cache, no module
kept from an earlier run), so the check always sees the file as it is now. A file
that does not compile or import is reported with its line, and its ops are marked;
the other lessons are still graded. While grading, the kit's ops are registered
(defining a Function subclass does that); they are unregistered afterwards, so the
library's own `gradcheck` never sees a half-written op.
"""

from __future__ import annotations

import ast
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..engine import Function
from .lessons import LESSONS, PACKAGE, Lesson, lesson_of_op, library_name
from .templates import DEFAULT_EXAMPLES

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "not implemented yet"
NOT_IMPORTED = "cannot import"


@dataclass
class OpGrade:
    name: str  # the kit's class, e.g. MyTanh
    lesson: str
    status: str  # PASSED, FAILED, NOT_IMPLEMENTED or NOT_IMPORTED
    seconds: float = 0.0
    report: str | None = None  # check_op's report, or why the lesson file cannot import
    rule: str = ""


class KitError(Exception):
    """Not a kit, or a name that is neither a lesson nor an op; the message says which."""


class LessonImportError(Exception):
    """A lesson file that does not compile or run; the message names file and line."""


@contextmanager
def kit_sandbox(folder: Path) -> Iterator[None]:
    """The kit's folder on sys.path and its modules fresh; afterwards sys.path,
    sys.modules and the op registry as they were."""
    registered = dict(Function.registry)
    before = _forget_kit_modules()
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        if str(folder) in sys.path:
            sys.path.remove(str(folder))
        _forget_kit_modules()
        sys.modules.update(before)
        for name, op in list(Function.registry.items()):
            if op.__module__ == PACKAGE or op.__module__.startswith(PACKAGE + "."):
                if name in registered:
                    Function.registry[name] = registered[name]
                else:
                    del Function.registry[name]


def _forget_kit_modules() -> dict[str, ModuleType]:
    """Drop the kit package's modules from sys.modules; returns what was dropped."""
    names = [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]
    return {name: sys.modules.pop(name) for name in names}


def load_lesson(folder: Path, lesson: Lesson) -> ModuleType:
    """Compile and run lessons/<name>.py from disk as module lessons.<name>."""
    path = folder / lesson.path
    shown = f"{PACKAGE}/{path.name}"
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as error:
        raise LessonImportError(f"{shown}: cannot read it ({error.strerror or error}); "
                                "`tinygrad-edu exercise new` writes a fresh kit") from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as error:
        raise LessonImportError(_syntax_message(shown, error)) from None
    module = ModuleType(lesson.module)
    module.__file__ = str(path)
    sys.modules[lesson.module] = module
    try:
        exec(code, module.__dict__)  # import's own step, minus its caches
    except Exception as error:
        del sys.modules[lesson.module]
        line = next((frame.lineno for frame in reversed(traceback.extract_tb(error.__traceback__))
                     if Path(frame.filename) == path), None)
        where = f"{shown}, line {line}" if line else shown
        raise LessonImportError(f"{where}: {type(error).__name__}: {error}") from None
    return module


def _syntax_message(shown: str, error: SyntaxError) -> str:
    message = f"{shown}, line {error.lineno}: {type(error).__name__}: {error.msg}"
    if error.text:
        text = error.text.rstrip("\n")
        stripped = text.lstrip()
        caret = max((error.offset or 1) - 1 - (len(text) - len(stripped)), 0)
        message += f"\n    {stripped}\n    {' ' * caret}^"
    return message


def kit_ops(module: ModuleType) -> list[type[Function]]:
    """The ops a lesson module defines, in file order."""
    return [value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Function)
            and value.__module__ == module.__name__ and not value.__name__.startswith("_")]


def backward_is_stub(op: type[Function]) -> bool:
    """True while the op's backward is only `raise NotImplementedError(...)` (or the
    op has none of its own): not implemented yet, nothing to check."""
    owner = next((k for k in op.__mro__ if "backward" in vars(k)), Function)
    if owner is Function:
        return True
    file = getattr(sys.modules.get(owner.__module__), "__file__", None)
    if not file:
        return False
    tree = ast.parse(Path(file).read_text(encoding="utf-8"))
    cls = next((node for node in tree.body if isinstance(node, ast.ClassDef)
                and node.name == owner.__name__), None)
    methods = [node for node in (cls.body if cls else ())
               if isinstance(node, ast.FunctionDef) and node.name == "backward"]
    if not methods:
        return False
    body = [stmt for stmt in methods[-1].body  # the last def is the one Python keeps
            if not isinstance(stmt, ast.Pass)
            and not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return False
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def reference_op(op: type[Function]) -> type[Function] | None:
    """The library op that a kit op re-implements (MyTanh -> Tanh), if there is one."""
    reference = Function.registry.get(library_name(op.__name__))
    if reference is None or reference is op or not reference.__module__.startswith(
            "tinygrad_edu."):
        return None
    return reference


def grade_op(op: type[Function], lesson: str, examples: int = DEFAULT_EXAMPLES,
             seed: int | None = None) -> OpGrade:
    """check_op on one kit op (first and second order), its report kept, not raised."""
    from ..testing import check_op

    if backward_is_stub(op):
        return OpGrade(op.__name__, lesson, NOT_IMPLEMENTED, rule=op.rule())
    start = time.perf_counter()
    status, report = PASSED, None
    try:
        check_op(op, examples, order=2, seed=seed, replaces=reference_op(op))
    except AssertionError as failure:  # the shrunk failing example's report
        status, report = FAILED, str(failure)
    except Exception as failure:  # a broken op must not stop the others
        status, report = FAILED, f"{type(failure).__name__}: {failure}"
    return OpGrade(op.__name__, lesson, status, time.perf_counter() - start, report, op.rule())


def check_folder(folder: str | os.PathLike) -> Path:
    """The kit's folder, resolved, or a KitError saying why it is not one."""
    path = Path(folder).expanduser().resolve()
    if not (path / PACKAGE).is_dir():
        raise KitError(f"exercise check: {folder} is not an exercise kit (it has no "
                       f"{PACKAGE}/ folder); make one with `tinygrad-edu exercise new DIR`")
    return path


def selection(names: Sequence[str]) -> list[tuple[Lesson, set[str] | None]]:
    """The lessons to load, each with the library names (lower case) of the ops wanted
    from it, or None for all of its ops (a lesson named, or no names at all)."""
    if not names:
        return [(lesson, None) for lesson in LESSONS.values()]
    wanted: dict[str, set[str] | None] = {}
    for name in names:
        lesson = LESSONS.get(name.lower())
        if lesson is not None:
            wanted[lesson.name] = None
            continue
        op_lesson = lesson_of_op(name)
        if op_lesson is None:
            raise KitError(
                f"exercise check: {name!r} is neither a lesson nor an op; the lessons are "
                f"{', '.join(LESSONS)}, and an op is named as in the files (e.g. MyTanh)")
        ops = wanted.setdefault(op_lesson.name, set())
        if ops is not None:
            ops.add(library_name(name).lower())
    return [(lesson, wanted[lesson.name]) for lesson in LESSONS.values()
            if lesson.name in wanted]


def grade(folder: str | os.PathLike, names: Sequence[str] = (),
          examples: int = DEFAULT_EXAMPLES, seed: int | None = None,
          on_result: Callable[[OpGrade], object] | None = None) -> list[OpGrade]:
    """Grade the kit in `folder`: every op, or those of the named lessons and ops.
    `on_result` sees each grade as soon as it is known."""
    path = check_folder(folder)
    chosen = selection(names)
    grades: list[OpGrade] = []

    def record(result: OpGrade) -> None:
        grades.append(result)
        if on_result is not None:
            on_result(result)

    with kit_sandbox(path):
        for lesson, wanted in chosen:
            try:
                module = load_lesson(path, lesson)
            except LessonImportError as error:
                for name in lesson.kit_names():
                    if wanted is None or library_name(name).lower() in wanted:
                        record(OpGrade(name, lesson.name, NOT_IMPORTED, report=str(error)))
                continue
            for op in kit_ops(module):
                if wanted is None or library_name(op.__name__).lower() in wanted:
                    record(grade_op(op, lesson.name, examples, seed))
    return grades


def assert_passes(kit: str | os.PathLike, op: str, examples: int = DEFAULT_EXAMPLES,
                  seed: int | None = None) -> None:
    """The kit's test files call this: grade one op of the kit (a folder, or a file in
    it such as the test file's __file__) and raise AssertionError unless it passes."""
    __tracebackhide__ = True  # pytest shows the student's test line, not this function
    folder = Path(kit)
    results = grade(folder if folder.is_dir() else folder.parent, [op], examples, seed)
    mine = [r for r in results if library_name(r.name).lower() == library_name(op).lower()]
    if not mine:
        raise AssertionError(f"{op}: no such op in the kit's lesson files")
    result = mine[0]
    if result.status == NOT_IMPLEMENTED:
        raise AssertionError(f"{result.name} is not implemented yet: its backward raises "
                             f"NotImplementedError. The rule: {result.rule}")
    if result.status != PASSED:
        raise AssertionError(f"{result.name} {result.status}:\n{result.report}")
