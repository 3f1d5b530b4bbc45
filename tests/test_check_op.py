"""The learner's loop: a student's own op, in a file of their own, checked with
`check_op` or `tinygrad-edu gradcheck --import`; each typical bug is named."""

import importlib
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor
from tinygrad_edu.cli import main
from tinygrad_edu.testing import check_op

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "writing_an_op.md"

# One op per typical bug, and its fixed version, as a student would write them.
# Each bug: (name, backward line, domain line, suspect the report must name).
HEADER = """\
import numpy as np

from tinygrad_edu import Function
from tinygrad_edu.ops.reduce import unbroadcast
from tinygrad_edu.testing import binary_domain, unary_domain
"""
UNARY = '''

class {name}(Function):
    """{rule}"""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return {forward}

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return {backward}

    domain = unary_domain(lambda x: {name}.apply(x){domain})
'''
BINARY = '''

class {name}(Function):
    """d(x + y)/dx = d(x + y)/dy = 1."""

    def forward(ctx, x, y):
        return x + y

    def backward(ctx, grad):
        x, y = ctx.parents
        return {backward}

    domain = binary_domain(lambda x, y: {name}.apply(x, y))
'''
UNARY_OPS = {
    # name: (rule, forward, buggy backward, fixed backward, buggy domain extra, fixed extra)
    "NoChain": ("d(x**2)/dx = 2x.", "x * x", "2 * x", "grad * 2 * x", "", ""),
    "Flipped": ("d(x**3)/dx = 3x**2.", "x ** 3", "-grad * 3 * x * x", "grad * 3 * x * x",
                "", ""),
    "Factor": ("d(x**3)/dx = 3x**2.", "x ** 3", "grad * 2 * x * x", "grad * 3 * x * x", "", ""),
    "Total": ("d(sum x)/dx_i = 1.", "np.asarray(x.sum())",
              "grad.expand(x.shape) / x.numel()", "grad.expand(x.shape)", "", ""),
    "Ramp": ("d relu(x)/dx = 1 where x > 0, else 0.", "np.maximum(x, 0.0)",
             "grad * (x > 0)", "grad * (x > 0)", "", ", avoid=(0.0,)"),
}
SUSPECTS = {
    "NoChain": "missing chain-rule factor",
    "Flipped": "flipped sign",
    "Factor": "constant factor",
    "Total": "mean instead of sum",
    "Ramp": "a kink",
    "Broadcast": "missing unbroadcast",
}


def student_module(folder: Path, name: str, fixed: bool) -> None:
    source = HEADER
    for op, (rule, forward, bad, good, bad_domain, good_domain) in UNARY_OPS.items():
        source += UNARY.format(name=op, rule=rule, forward=forward,
                               backward=good if fixed else bad,
                               domain=good_domain if fixed else bad_domain)
    backward = ("unbroadcast(grad, x.shape), unbroadcast(grad, y.shape)" if fixed
                else "grad, grad")
    source += BINARY.format(name="Broadcast", backward=backward)
    (folder / f"{name}.py").write_text(source)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A student's folder as the current directory; the ops it registers, the modules it
    imports and the sys.path entries it adds are all gone afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Function, "registry", dict(Function.registry))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def load(folder: Path, name: str):
    sys.path.insert(0, str(folder))
    return importlib.import_module(name)


@pytest.fixture
def buggy(sandbox):
    student_module(sandbox, "buggy_ops", fixed=False)
    return load(sandbox, "buggy_ops")


@pytest.mark.parametrize("op", list(SUSPECTS))
def test_check_op_names_the_bug_and_prints_the_input(buggy, op):
    with pytest.raises(AssertionError) as info:
        check_op(getattr(buggy, op), examples=20, order=1)
    report = str(info.value)
    assert report.startswith(f"check_op({op}) failed at first order (gradcheck)")
    assert SUSPECTS[op] in report.split("suspect:")[-1]
    if op == "Factor":
        assert "analytic = 0.6667 * numeric" in report
    assert re.search(r"input 0, shape \([\d, ]*\): array\(", report)  # the shrunk input
    if op == "Ramp":  # hypothesis shrinks the failure onto the kink itself
        assert "input 0, shape (): array(0.)" in report
    if op == "Broadcast":  # the engine's error names the input and both shapes
        assert re.search(r"broadcast: backward returned a gradient of shape .* for input", report)
    else:
        assert "analytic (backward)" in report and "numeric (central diff)" in report


def test_fixed_ops_pass(sandbox):
    student_module(sandbox, "fixed_ops", fixed=True)
    fixed = load(sandbox, "fixed_ops")
    for op in SUSPECTS:
        assert check_op(getattr(fixed, op), examples=15) >= 15


def test_second_order_failure_says_so(sandbox):
    # first derivatives right, but backward takes a constant from .data
    (sandbox / "cube_ops.py").write_text(
        HEADER + "from tinygrad_edu import Tensor\n" + UNARY.format(
            name="Cube", rule="d(x**3)/dx = 3x**2.", forward="x ** 3",
            backward="grad * Tensor(3 * x.data ** 2)", domain=""))
    cube = load(sandbox, "cube_ops").Cube
    check_op(cube, examples=10, order=1)
    with pytest.raises(AssertionError, match=r"second order \(gradgradcheck\)") as info:
        check_op(cube, examples=10)
    assert "no gradient" in str(info.value)


def test_check_op_refuses_what_it_cannot_check():
    class _NoDomain(Function):  # underscore: not registered
        def forward(ctx, x):
            return x

    with pytest.raises(AssertionError, match="declares no domain"):
        check_op(_NoDomain)
    with pytest.raises(TypeError, match="expected an op"):
        check_op("Mul")
    with pytest.raises(ValueError, match="order must be 1"):
        check_op(_NoDomain, order=3)


# -- the command --------------------------------------------------------------------


def test_command_checks_a_students_module(buggy, capsys):
    assert main(["gradcheck", "--import", "buggy_ops", "Flipped", "Ramp", "--examples", "20",
                 "--first-order"]) == 1
    out = capsys.readouterr().out
    assert "checking 2 op(s)" in out and "0 passed, 2 failed" in out
    assert re.search(r"Flipped\s+FAILED", out) and "flipped sign" in out
    assert "input 0, shape (): array(0.)" in out and "a kink" in out


def test_command_passes_the_fixed_module_and_lists_its_ops(sandbox, capsys):
    student_module(sandbox, "good_ops", fixed=True)
    assert main(["gradcheck", "--import", "good_ops", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == sorted(SUSPECTS)
    assert main(["gradcheck", "--import", "good_ops.py", "--examples", "5"]) == 0
    assert "6 passed, 0 failed" in capsys.readouterr().out


def test_command_explains_an_unimportable_or_empty_module(sandbox, capsys):
    (sandbox / "broken_ops.py").write_text("import no_such_package_here\n")
    (sandbox / "empty_ops.py").write_text("X = 1\n")
    assert main(["gradcheck", "--import", "broken_ops"]) == 2
    err = capsys.readouterr().err
    assert "cannot import 'broken_ops'" in err
    assert "ModuleNotFoundError: No module named 'no_such_package_here'" in err
    assert main(["gradcheck", "--import", "empty_ops"]) == 2
    err = capsys.readouterr().err
    assert "module 'empty_ops'" in err and "defines no ops" in err


def test_command_in_a_fresh_process_imports_from_the_current_directory(sandbox):
    student_module(sandbox, "proc_ops", fixed=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "tinygrad_edu", "gradcheck", "--import",
                           "proc_ops", "NoChain", "--examples", "10", "--first-order"],
                          cwd=sandbox, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "missing chain-rule factor" in done.stdout


# -- the registry: a notebook cell run twice ----------------------------------------


def test_redefining_an_op_in_the_same_place_replaces_it(monkeypatch):
    monkeypatch.setattr(Function, "registry", dict(Function.registry))
    cell = textwrap.dedent('''
        class Square(Function):
            """d(x**2)/dx = 2x."""

            def forward(ctx, x):
                return x * x
    ''')
    namespace = {"Function": Function, "__name__": "__main__"}
    exec(cell, namespace)
    first = namespace["Square"]
    exec(cell, namespace)  # the same cell, run again
    assert Function.registry["Square"] is namespace["Square"] is not first
    x = Tensor(np.array([3.0]))
    assert namespace["Square"].apply(x).item() == 9.0


def test_another_op_cannot_take_an_existing_name(monkeypatch):
    monkeypatch.setattr(Function, "registry", dict(Function.registry))
    builtin = Function.registry["Add"]
    with pytest.raises(TypeError) as info:
        class Add(Function):  # noqa: F811 (deliberately the built-in's name)
            pass
    message = str(info.value)
    assert "op Add is already defined" in message
    assert "Add in module tinygrad_edu.ops.elementwise" in message
    assert "test_another_op_cannot_take_an_existing_name.<locals>.Add" in message
    assert Function.registry["Add"] is builtin


# -- the doc, run as written -------------------------------------------------------


def doc_files(text: str) -> dict[str, str]:
    """The doc's code blocks that name a file (```python title="myops.py")."""
    blocks = re.findall(r'```python title="([\w.]+)"\n(.*?)```', text, flags=re.S)
    return dict(blocks)


def test_writing_an_op_doc_runs_as_written(sandbox, capsys):
    text = DOC.read_text(encoding="utf-8")
    files = doc_files(text)
    assert set(files) == {"myops.py", "use_sin.py", "test_myops.py"}
    for name, source in files.items():
        (sandbox / name).write_text(source)
    sys.path.insert(0, str(sandbox))
    importlib.import_module("use_sin")  # the script: backward through the student's op
    tests = importlib.import_module("test_myops")
    for name in dir(tests):
        if name.startswith("test_"):
            getattr(tests, name)()
    # the command block: every `$ tinygrad-edu ...` line, its output compared line by line
    # except for the timings
    command = re.search(r"```console\n\$ tinygrad-edu (.*?)\n(.*?)```", text, flags=re.S)
    assert command is not None
    capsys.readouterr()
    assert main(command.group(1).split()) == 0
    shown = re.sub(r"\d+\.\d\d s", "T s", command.group(2)).strip()
    got = re.sub(r"\d+\.\d\d s", "T s", capsys.readouterr().out).strip()
    assert got == shown
