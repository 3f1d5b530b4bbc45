"""The package's import structure: layers import one way, no cycles, no private names.

Every module of tinygrad_edu is parsed with `ast` (nothing is imported), its
imports are resolved to files, and three rules are checked:

(a) no import cycle between files, counting imports inside functions (they run
    too, only later); imports under `if TYPE_CHECKING:` never run and do not count;
(b) no import from a higher layer into a lower one (table below); modules of the
    same layer may import each other. tinygrad_edu/__init__.py is the facade on
    top: it may import anything, and no module may import it (`import
    tinygrad_edu`, `from tinygrad_edu import Tensor`, `from .. import Tensor`);
(c) no `_private` name taken from another module, neither imported (`from x
    import _y`) nor read off an imported module (`x._y`); dunders are public.

Importing a.b.c also runs a/__init__.py and a/b/__init__.py first; those
implicit imports are not edges here (a package's __init__ importing its own
submodules would otherwise always look like a cycle).
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = "tinygrad_edu"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

# Lowest layer first. A module may import from its own layer and the ones above it
# in this table, never from those below. Patterns are dotted names inside the
# package ("nn.*" is every module of nn/, "nn" its __init__.py).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("0 basics", ("files", "hooks", "rng", "threads", "memory", "version", "devices", "dtypes",
                  "cuda", "accelerator", "backend", "standin")),
    ("1 engine", ("graph", "engine", "autograd")),
    ("2 ops", ("ops", "ops.*")),
    ("3 tensor", ("tensor", "tensor_*", "einsum", "creation", "serialization",
                  "torch_functions")),
    ("4 library", ("gradcheck", "testing", "nn", "nn.*", "optim", "optim.*",
                   "utils", "utils.*", "data", "data.*")),
    ("5 applications", ("vision", "vision.*", "train", "runs", "viz", "viz.*", "plots",
                        "models", "demo", "diagnostics", "diagnostics_callback")),
    ("6 commands", ("cli", "cli.*", "train_command", "check_ops", "__main__", "exercise",
                    "exercise.*")),
]
FACADE = ""  # the package's own __init__.py, as a dotted name inside the package


@dataclass
class Import:
    importer: str  # dotted names inside the package ("" is the facade)
    target: str
    line: int
    private_name: str | None = None  # a `_name` taken from target, if any


@dataclass
class Package:
    modules: dict[str, Path]
    imports: list[Import] = field(default_factory=list)

    def edges(self) -> dict[str, set[str]]:
        graph: dict[str, set[str]] = {name: set() for name in self.modules}
        for imp in self.imports:
            if imp.target != imp.importer:
                graph[imp.importer].add(imp.target)
        return graph


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (or typing.TYPE_CHECKING)."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def scan(root: Path, package: str = PACKAGE) -> Package:
    """Parse every module under root (the package folder) and resolve its imports."""
    pkg = Package({module_name(p, root): p for p in sorted(root.rglob("*.py"))})
    for name, path in pkg.modules.items():
        is_init = path.name == "__init__.py"
        here = name.split(".") if name else []
        current_package = here if is_init else here[:-1]
        aliases: dict[str, str] = {}  # local name -> package module it is bound to
        nodes = _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] != package:
                        continue
                    target = ".".join(parts[1:])
                    pkg.imports.append(Import(name, target, node.lineno))
                    if alias.asname:
                        aliases[alias.asname] = target
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    if node.level - 1 > len(current_package):
                        continue  # above the package: not ours
                    base = current_package[:len(current_package) - (node.level - 1)]
                    parts = base + (node.module.split(".") if node.module else [])
                else:
                    parts = (node.module or "").split(".")
                    if parts[0] != package:
                        continue
                    parts = parts[1:]
                source = ".".join(parts)
                for alias in node.names:
                    submodule = ".".join(parts + [alias.name])
                    if submodule in pkg.modules:  # `from pkg import module`
                        pkg.imports.append(Import(name, submodule, node.lineno))
                        aliases[alias.asname or alias.name] = submodule
                    else:
                        private = alias.name if is_private(alias.name) else None
                        pkg.imports.append(Import(name, source, node.lineno, private))
        for node in nodes:  # module._name on an imported package module
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and is_private(node.attr)):
                pkg.imports.append(Import(name, aliases[node.value.id], node.lineno,
                                          node.attr))
    return pkg


def layer_of(name: str, layers: list[tuple[str, tuple[str, ...]]] = LAYERS) -> int | None:
    for rank, (_, patterns) in enumerate(layers):
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            return rank
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (each a set of files
    that import each other in a circle); Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _path_within(graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """A cycle through the first member, staying inside its component (breadth first)."""
    start = min(members)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start] + path[::-1][1:] + [start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return sorted(members)


def _label(name: str) -> str:
    return f"{PACKAGE}.{name}" if name else f"{PACKAGE} (__init__.py)"


# -- the checks, reusable on any package folder ---------------------------------------


def unmapped_modules(pkg: Package) -> list[str]:
    return [name for name in pkg.modules if name != FACADE and layer_of(name) is None]


def cycle_problems(pkg: Package) -> list[str]:
    graph = pkg.edges()
    graph.pop(FACADE, None)
    for targets in graph.values():
        targets.discard(FACADE)
    problems = []
    for members in cycles(graph):
        path = " -> ".join(_label(m) for m in _path_within(graph, set(members)))
        if len(members) > 2:
            path += f" (one cycle of {len(members)} files: {', '.join(members)})"
        problems.append(path)
    return problems


def upward_problems(pkg: Package) -> list[str]:
    problems = []
    for imp in pkg.imports:
        low, high = layer_of(imp.importer), layer_of(imp.target)
        if imp.importer == FACADE or low is None or high is None or high <= low:
            continue
        problems.append(f"{_label(imp.importer)} (layer {LAYERS[low][0]}, line {imp.line}) "
                        f"imports {_label(imp.target)} (layer {LAYERS[high][0]})")
    return problems


def facade_problems(pkg: Package) -> list[str]:
    return [f"{_label(imp.importer)} line {imp.line} imports the package facade "
            f"{_label(FACADE)}; import the module that defines the name instead"
            for imp in pkg.imports if imp.target == FACADE and imp.importer != FACADE]


def private_problems(pkg: Package) -> list[str]:
    return [f"{_label(imp.importer)} line {imp.line} uses {imp.private_name} of "
            f"{_label(imp.target)}; make it public or move it"
            for imp in pkg.imports
            if imp.private_name and imp.target != imp.importer]


@pytest.fixture(scope="module")
def package() -> Package:
    return scan(ROOT)


def test_every_module_has_a_layer(package):
    assert len(package.modules) > 20, f"no package found under {ROOT}"
    missing = unmapped_modules(package)
    assert not missing, f"add these modules to LAYERS in {Path(__file__).name}: {missing}"


def test_no_import_cycles(package):
    problems = cycle_problems(package)
    assert not problems, "import cycles between files:\n" + "\n".join(problems)


def test_no_upward_imports(package):
    problems = upward_problems(package)
    assert not problems, "imports from a higher layer:\n" + "\n".join(problems)


def test_nothing_imports_the_facade(package):
    problems = facade_problems(package)
    assert not problems, "\n".join(problems)


def test_no_private_names_across_modules(package):
    problems = private_problems(package)
    assert not problems, "private names used across modules:\n" + "\n".join(problems)


# -- the checker itself, on a made-up package ----------------------------------------


def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / PACKAGE
    for name, text in files.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return pkg


def test_checker_finds_a_cycle_through_a_function_level_import(tmp_path):
    pkg = scan(_write(tmp_path, {
        "__init__.py": "",
        "ops/__init__.py": "",
        "ops/a.py": "def f():\n    from ..nn.conv import g\n    return g\n",
        "nn/__init__.py": "",
        "nn/conv.py": "from ..ops.a import f\n",
    }))
    assert cycle_problems(pkg) == [
        f"{PACKAGE}.nn.conv -> {PACKAGE}.ops.a -> {PACKAGE}.nn.conv"]
    assert upward_problems(pkg) == [
        f"{PACKAGE}.ops.a (layer 2 ops, line 2) imports {PACKAGE}.nn.conv (layer 4 library)"]


def test_checker_ignores_type_checking_imports_and_same_layer(tmp_path):
    pkg = scan(_write(tmp_path, {
        "__init__.py": "from .nn import layers\n",  # the facade may import anything
        "engine.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from .tensor import Tensor\n"),
        "tensor.py": "from . import engine\nfrom .creation import zeros\n",
        "creation.py": "import numpy\n",
        "nn/__init__.py": "from . import layers\n",
        "nn/layers.py": "from .. import tensor\nfrom ..optim import sgd\n",
        "optim/__init__.py": "",
        "optim/sgd.py": "from ..nn import layers as L\nx = L.__name__\n",
    }))
    assert cycle_problems(pkg) == [
        f"{PACKAGE}.nn.layers -> {PACKAGE}.optim.sgd -> {PACKAGE}.nn.layers"]
    assert upward_problems(pkg) == []
    assert facade_problems(pkg) == [] and private_problems(pkg) == []


def test_checker_finds_facade_and_private_imports(tmp_path):
    pkg = scan(_write(tmp_path, {
        "__init__.py": "",
        "engine.py": "def _walk():\n    pass\n",
        "tensor.py": "import tinygrad_edu\nfrom .engine import _walk\n",
        "nn/__init__.py": "",
        "nn/f.py": "from .. import Tensor\nfrom ... import numpy\nfrom .. import engine\n"
                   "engine._walk()\n",
    }))
    facade = facade_problems(pkg)
    assert sorted(p.split(" line")[0] for p in facade) == [f"{PACKAGE}.nn.f", f"{PACKAGE}.tensor"]
    private = private_problems(pkg)
    assert [p.split(" uses ")[1].split(";")[0] for p in private] == [
        f"_walk of {PACKAGE}.engine", f"_walk of {PACKAGE}.engine"]
    assert unmapped_modules(pkg) == []
