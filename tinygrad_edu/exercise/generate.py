"""Make a lesson file from the library's own source, so the kit always matches it.

Each op keeps its docstring (the rule), forward and domain; its backward body is
replaced by `raise NotImplementedError("write me: <rule>")`, and a `backward_arrays`
method (the same rule on arrays) goes. A backward that the op inherits from a shared
base (Max and Min share one) becomes a method of each op, so every op has its own to
write. viz's `local_formula` tables go (they spell out the
answer), and so does `grads_fit_inputs` (the engine checks a student's gradients). Op
names get the kit's prefix, relative imports become absolute, and with `solved=True` the
library's backward bodies are kept: the reference solution.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import io
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..engine import Function
from ..version import __version__
from .lessons import Lesson, kit_name

Edit = tuple[int, int, list[str]]  # replace lines [first, last) (0-based) by new lines
# class attributes a lesson leaves out: viz's formulas spell out the answer, and a
# student's backward must not promise the engine gradients it has not checked
DROPPED_ATTRIBUTES = ("local_formula", "grads_fit_inputs")
# methods a lesson leaves out: an op's backward on arrays (for the unrecorded pass) is
# the answer; the student's backward replaces the library's, which called it
DROPPED_METHODS = ("backward_arrays",)


@dataclass
class _Module:
    """One library module, taken apart: docstring, imports (absolute) and the rest."""

    name: str
    docstring: str
    imports: list[str]
    body: list[str]


def lesson_source(lesson: Lesson, solved: bool = False) -> str:
    """The text of the lesson's kit file (lessons/<name>.py)."""
    ops = lesson.library_ops()
    parts = [_take_apart(importlib.import_module(name), ops, solved) for name in lesson.modules]
    imports: list[str] = []
    # a lesson module importing another of the same lesson (pool.py uses window.py's
    # Fold) finds those names in this one file, the ops among them renamed
    siblings = tuple(f"from {name} import " for name in lesson.modules)
    for part in parts:
        imports += [line for line in part.imports
                    if line not in imports and not line.startswith(siblings)]
    text = [f'"""{_escape(_header(lesson, parts))}"""', "",
            "from __future__ import annotations", "", *_grouped(imports)]
    for part in parts:
        if len(parts) > 1:
            text += ["", "", f"# -- from {_file_of(part.name)} " + "-" * 40]
        text += ["", "", *part.body]
    return _rename("\n".join(text).rstrip() + "\n", {op.__name__: kit_name(op.__name__)
                                                    for op in ops})


def _grouped(imports: list[str]) -> list[str]:
    """Standard library, then third-party packages, then tinygrad_edu, as isort would."""
    def group(line: str) -> int:
        target = line.split()[1]
        return 2 if target.startswith("tinygrad_edu") else 1 if target == "numpy" else 0

    lines: list[str] = []
    for rank in range(3):
        chosen = [line for line in imports if group(line) == rank]
        if lines and chosen:
            lines.append("")
        lines += chosen
    return lines


def _header(lesson: Lesson, parts: list[_Module]) -> str:
    where = ", ".join(_file_of(part.name) for part in parts)
    notes = "\n\n".join(part.docstring for part in parts if part.docstring)
    title = textwrap.fill(f"Lesson {lesson.number}, {lesson.name}: {lesson.summary}.", 84)
    return (
        f"{title}\n\n"
        "Write the backward of every op in this file: each one raises NotImplementedError\n"
        "with the rule to implement. forward (on NumPy arrays) and domain (the inputs\n"
        "the checker draws) are given. Check your work from the kit's folder with\n\n"
        f"    tinygrad-edu exercise check . {lesson.name}\n\n"
        f"or `python -m pytest test_{lesson.name}.py`; README.md says how backward works.\n\n"
        f"The classes are the library's ops with {kit_name('')} in front ({kit_name('Mul')} "
        "re-implements Mul:\nop names are unique). A domain that calls Tensor methods "
        "(`x * y` reaches the\nlibrary's Mul) is checked with your class in the library "
        "op's place.\n\n"
        f"Generated from {where}\n(tinygrad_edu {__version__}). The library's notes on "
        "these ops:\n\n"
        f"{notes}\n"
    )


def _file_of(module_name: str) -> str:
    return module_name.replace(".", "/") + ".py"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _take_apart(module: ModuleType, ops: list[type[Function]], solved: bool) -> _Module:
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    statements = list(tree.body)
    docstring = ast.get_docstring(tree) or ""
    if docstring:
        statements = statements[1:]
    imports: list[str] = []
    body_start = 0
    while statements and isinstance(node := statements[0], (ast.Import, ast.ImportFrom)):
        statements.pop(0)
        body_start = node.end_lineno or node.lineno
        line = _absolute_import(node, module.__name__, lines)
        if line:
            imports.append(line)
    late = [node.lineno for node in statements if isinstance(node, (ast.Import, ast.ImportFrom))]
    if late:
        raise ValueError(f"exercise: {module.__name__} imports below its first definition "
                         f"(line {late[0]}); the generator needs the imports on top")
    edits: list[Edit] = []
    for node in statements:
        cls = getattr(module, node.name, None) if isinstance(node, ast.ClassDef) else None
        if isinstance(node, ast.ClassDef) and isinstance(cls, type) and issubclass(cls, Function):
            edits += _class_edits(node, cls, cls in ops, module, tree, lines, solved)
    for first, last, new in sorted(edits, reverse=True):
        lines[first:last] = new
    body = lines[body_start:]
    while body and not body[0].strip():
        body.pop(0)
    return _Module(module.__name__, docstring, imports, body)


def _absolute_import(node: ast.Import | ast.ImportFrom, module: str, lines: list[str]) -> str:
    """The import as a line that works outside the package ('' for __future__)."""
    if isinstance(node, ast.Import):
        return "\n".join(lines[node.lineno - 1:node.end_lineno])
    if node.module == "__future__":
        return ""
    target = node.module or ""
    if node.level:
        target = importlib.util.resolve_name("." * node.level + target,
                                             module.rpartition(".")[0])
    names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
    return f"from {target} import {names}"


def _class_edits(node: ast.ClassDef, cls: type[Function], is_op: bool, module: ModuleType,
                 tree: ast.Module, lines: list[str], solved: bool) -> list[Edit]:
    edits = [_removal(stmt, lines) for stmt in node.body
             if isinstance(stmt, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id in DROPPED_ATTRIBUTES
                     for t in stmt.targets)]
    if not solved:
        edits += [_removal(stmt, lines) for stmt in node.body
                  if isinstance(stmt, ast.FunctionDef) and stmt.name in DROPPED_METHODS]
    own = _method(node, "backward")
    if not is_op:  # a shared base: its backward moves into each op that inherits it
        return edits + ([_removal(own, lines)] if own is not None else [])
    if own is not None:
        if not solved:
            start = _signature_end(own, lines) + 1
            edits.append((start, own.end_lineno or own.lineno,
                          _stub(cls, _indent(lines[own.lineno - 1]) + "    ")))
        return edits
    owner_node = _inherited_backward(cls, module, tree)
    if owner_node is None:
        method = ["    def backward(ctx, grad: Any) -> Any:"] + _stub(cls, " " * 8)
    elif solved:
        method = lines[owner_node.lineno - 1:owner_node.end_lineno]
    else:
        signature = lines[owner_node.lineno - 1:_signature_end(owner_node, lines) + 1]
        method = signature + _stub(cls, _indent(signature[0]) + "    ")
    at = _insertion_line(node, lines)
    edits.append((at, at, method + [""]))
    return edits


def _method(node: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
            return stmt
    return None


def _inherited_backward(cls: type[Function], module: ModuleType,
                        tree: ast.Module) -> ast.FunctionDef | None:
    """The backward that `cls` inherits, when a class of the same module defines it."""
    owner = next((k for k in cls.__mro__ if "backward" in vars(k)), Function)
    if owner is Function or owner.__module__ != module.__name__:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == owner.__name__:
            return _method(node, "backward")
    return None


def _stub(cls: type[Function], indent: str) -> list[str]:
    """`raise NotImplementedError("write me: <rule>")`, wrapped to stay readable."""
    message = f"write me: {cls.rule()}"
    if len(indent) + len(message) + 30 <= 100:
        return [f'{indent}raise NotImplementedError("{_quote(message)}")']
    pieces = textwrap.wrap(message, 80 - len(indent), break_on_hyphens=False)
    quoted = [f'{indent}    "{_quote(p)}{" " if i < len(pieces) - 1 else ""}"'
              for i, p in enumerate(pieces)]
    return [f"{indent}raise NotImplementedError(", *quoted, f"{indent})"]


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def _signature_end(node: ast.FunctionDef, lines: list[str]) -> int:
    """The 0-based index of the line that ends the def's signature (its colon)."""
    for i in range(node.lineno - 1, node.body[0].lineno - 1):
        if lines[i].split("#")[0].rstrip().endswith(":"):
            return i
    return node.lineno - 1


def _removal(node: ast.stmt, lines: list[str]) -> Edit:
    """Delete a statement with the comment lines just above it (they describe it) and
    one blank line before those, so the spacing stays even."""
    first = getattr(node, "decorator_list", None) and node.decorator_list[0].lineno  # type: ignore[attr-defined]
    start = (first or node.lineno) - 1
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    if start > 0 and not lines[start - 1].strip():
        start -= 1
    return start, node.end_lineno or node.lineno, []


def _insertion_line(node: ast.ClassDef, lines: list[str]) -> int:
    """Where an op's own backward goes: before its domain (above the comments that
    introduce it), else at the end of the class."""
    for stmt in node.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        named = (isinstance(stmt, ast.FunctionDef) and stmt.name == "domain") or any(
            isinstance(t, ast.Name) and t.id == "domain" for t in targets)
        if named:
            decorators = getattr(stmt, "decorator_list", [])
            start = (decorators[0].lineno if decorators else stmt.lineno) - 1
            while start > 0 and lines[start - 1].strip().startswith("#"):
                start -= 1
            return start
    return node.end_lineno or node.lineno


def _rename(source: str, names: dict[str, str]) -> str:
    """Rename the identifiers in `names` (not attributes, strings or comments)."""
    lines = source.splitlines(keepends=True)
    spots: list[tuple[int, int, str]] = []
    previous = ""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string in names and previous != ".":
            spots.append((*token.start, token.string))
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            previous = token.string
    for row, col, name in sorted(spots, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + names[name] + line[col + len(name):]
    return "".join(lines)
