"""The exercise kit: `tinygrad-edu exercise new` writes the ops with their backward
passes blanked, `exercise check` grades them. The library's own ops are the reference
solution: a kit filled with them passes, a fresh one is not implemented at all."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.check_ops import registered_ops
from tinygrad_edu.cli import main
from tinygrad_edu.engine import Function
from tinygrad_edu.exercise import LESSONS, assert_passes, grade, write_kit
from tinygrad_edu.exercise.grading import kit_sandbox, load_lesson
from tinygrad_edu.exercise.lessons import ops_in_no_lesson
from tinygrad_edu.ops.domain import binary_domain
from tinygrad_edu.ops.elementwise import Mul
from tinygrad_edu.ops.reduce import unbroadcast
from tinygrad_edu.testing import check_op

pytest.importorskip("hypothesis")

ROOT = Path(__file__).resolve().parents[1]
ALL_OPS = sorted(registered_ops())
FAST = ["--examples", "6"]  # enough to catch the planted bugs, quick on one core


def run(capsys, *argv):
    status = main(["exercise", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def rows(out):
    """op name -> result, from the table `exercise check` prints."""
    found = {}
    for line in out.splitlines():
        match = re.match(r"  (My\w+)\s+(\w+)\s+(passed|failed|not implemented yet|"
                         r"cannot import)\b", line)
        if match:
            found[match.group(1)] = match.group(3)
    return found


@pytest.fixture(scope="module")
def solved_kit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("solved") / "kit"
    write_kit(folder, solved=True)
    return folder


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


# -- the lessons cover the library ----------------------------------------------------


def test_every_library_op_is_in_exactly_one_lesson():
    assert ops_in_no_lesson() == []
    names = [op.__name__ for lesson in LESSONS.values() for op in lesson.library_ops()]
    assert sorted(names) == ALL_OPS
    assert list(LESSONS) == ["elementwise", "reductions", "movement", "matmul", "im2col"]


# -- a fresh kit ------------------------------------------------------------------------


def test_fresh_kit_is_not_implemented_and_check_fails(tmp_path, capsys):
    folder = tmp_path / "kit"
    status, out, _ = run(capsys, "new", folder)
    assert status == 0
    for lesson in LESSONS:
        assert (folder / "lessons" / f"{lesson}.py").is_file()
        assert (folder / f"test_{lesson}.py").is_file()
    assert "tinygrad-edu exercise check . elementwise" in (folder / "README.md").read_text()

    status, out, _ = run(capsys, "check", folder)
    assert status == 1
    assert rows(out) == {f"My{name}": "not implemented yet" for name in ALL_OPS}
    assert f"{len(ALL_OPS)} not implemented yet (of {len(ALL_OPS)} ops)" in out


def test_fresh_kit_keeps_forward_domain_and_rule(tmp_path):
    write_kit(tmp_path)
    library = registered_ops()
    with kit_sandbox(tmp_path):
        modules = {name: load_lesson(tmp_path, lesson) for name, lesson in LESSONS.items()}
        for lesson in LESSONS.values():
            for op in lesson.library_ops():
                mine = getattr(modules[lesson.name], f"My{op.__name__}")
                assert mine.rule() == op.rule()
                assert callable(mine.domain)
                # the engine checks the shapes and dtypes of a student's gradients
                assert not mine.grads_fit_inputs
                with pytest.raises(NotImplementedError, match=re.escape(op.rule()[:40])):
                    mine.backward(None, None)
                # the rule on arrays, which some library ops keep beside backward, is
                # the answer: a fresh kit leaves it out
                assert not hasattr(mine, "backward_arrays")
        x = np.linspace(-2, 2, 12).reshape(3, 4)
        ew, red, mm = modules["elementwise"], modules["reductions"], modules["matmul"]
        np.testing.assert_allclose(ew.MyTanh.apply(Tensor(x)).numpy(), np.tanh(x))
        np.testing.assert_allclose(red.MySum.apply(Tensor(x), axis=1).numpy(), x.sum(axis=1))
        np.testing.assert_allclose(mm.MyMatMul.apply(Tensor(x), Tensor(x.T)).numpy(), x @ x.T)
    assert set(library) <= set(Function.registry)


def test_lessons_leave_out_the_engines_shortcuts(solved_kit):
    assert Mul.grads_fit_inputs  # the library's Mul promises fitted gradients ...
    for lesson in LESSONS:  # ... which no lesson file repeats, solved or not
        text = (solved_kit / "lessons" / f"{lesson}.py").read_text()
        assert "grads_fit_inputs" not in text and "local_formula" not in text


def test_kit_ops_leave_no_trace_in_the_registry(tmp_path):
    write_kit(tmp_path)
    before = dict(Function.registry)
    grade(tmp_path, ["reductions"])
    assert Function.registry == before
    assert not [name for name in sys.modules if name.split(".")[0] == "lessons"]


# -- the reference solution --------------------------------------------------------------


def test_kit_filled_with_the_library_backward_passes(solved_kit, capsys):
    status, out, _ = run(capsys, "check", solved_kit, *FAST)
    assert rows(out) == {f"My{name}": "passed" for name in ALL_OPS}, out
    assert status == 0
    assert f"all {len(ALL_OPS)} ops pass" in out


def test_a_planted_bug_fails_with_its_report_and_the_others_pass(solved_kit, capsys):
    lesson = solved_kit / "lessons" / "reductions.py"
    original = lesson.read_text()
    try:
        # the classic cumsum mistake: the gradient summed from the start, not to the end
        edit(lesson, "return grad.flip(axis).cumsum(axis).flip(axis)", "return grad.cumsum(axis)")
        status, out, _ = run(capsys, "check", solved_kit, "reductions", *FAST)
        assert status == 1
        assert rows(out) == {"MyCumsum": "failed", "MySum": "passed", "MyMax": "passed",
                             "MyMin": "passed", "MyProd": "passed"}
        report = out.split("MyCumsum (reductions) failed:")[1]
        assert "check_op(MyCumsum) failed at first order" in report
        assert "input 0, shape" in report and "analytic (backward)" in report
        with pytest.raises(AssertionError, match="MyCumsum failed"):
            assert_passes(solved_kit / "test_reductions.py", "MyCumsum", examples=6)
        assert_passes(solved_kit, "mysum", examples=6)  # any case, folder or file
    finally:
        lesson.write_text(original)


def test_backward_that_calls_an_unwritten_op_fails_not_unimplemented(tmp_path, capsys):
    write_kit(tmp_path)
    lesson = tmp_path / "lessons" / "im2col.py"
    text = lesson.read_text()
    stub = re.search(r"class MyUnfold.*?def backward\(ctx, grad: Any\) -> Any:\n"
                     r"(\s+raise NotImplementedError\(.*?\n\s+\)\n)", text, re.S)
    lesson.write_text(text.replace(stub.group(1), (
        "        p = ctx.params\n"
        "        return MyFold.apply(grad, output_size=tuple(ctx.parents[0].shape[2:]),\n"
        "                            kernel_size=p['kernel_size'], stride=p['stride'],\n"
        "                            padding=p['padding'], dilation=p['dilation'])\n"), 1))
    status, out, _ = run(capsys, "check", tmp_path, "im2col", *FAST)
    assert status == 1
    assert rows(out) == {"MyUnfold": "failed", "MyFold": "not implemented yet",
                         "MyMaxPool2d": "not implemented yet", "MyAvgPool2d": "not implemented yet"}
    assert "NotImplementedError: write me: col2im" in out


# -- what goes wrong --------------------------------------------------------------------


def test_syntax_error_is_reported_with_file_and_line(tmp_path, capsys):
    write_kit(tmp_path)
    lesson = tmp_path / "lessons" / "movement.py"
    lines = lesson.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "class MyPermute" in line) + 1
    lines[at] = "    def broken(:"
    lesson.write_text("\n".join(lines) + "\n")
    status, out, _ = run(capsys, "check", tmp_path, "movement", "MySum")
    assert status == 1
    table = rows(out)
    assert table.pop("MySum") == "not implemented yet"  # other lessons are still graded
    assert set(table.values()) == {"cannot import"} and "MyPermute" in table
    assert f"lessons/movement.py, line {at + 1}: SyntaxError" in out
    assert "def broken(:" in out
    with pytest.raises(AssertionError, match=f"movement.py, line {at + 1}"):
        assert_passes(tmp_path, "MyReshape")


def test_new_refuses_a_folder_with_files_unless_forced(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    status, _, err = run(capsys, "new", tmp_path)
    assert status == 2
    assert "is not empty" in err and "--force" in err and "notes.txt" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    status, _, _ = run(capsys, "new", tmp_path, "--force")
    assert status == 0
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "lessons" / "elementwise.py").is_file()
    assert not [p for p in tmp_path.parent.iterdir() if p.name.endswith(".part")]


def test_new_into_an_empty_folder(tmp_path, capsys):
    status, _, _ = run(capsys, "new", tmp_path)
    assert status == 0 and (tmp_path / "README.md").is_file()


def test_check_needs_a_kit_and_known_names(tmp_path, capsys):
    status, _, err = run(capsys, "check", tmp_path)
    assert status == 2 and "is not an exercise kit" in err and "exercise new" in err
    write_kit(tmp_path / "kit")
    status, _, err = run(capsys, "check", tmp_path / "kit", "convolution")
    assert status == 2 and "'convolution' is neither a lesson nor an op" in err


def test_generated_test_files_run_under_pytest(solved_kit):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_reductions.py"],
        cwd=solved_kit, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


# -- check_op's `replaces` keyword, which routes a domain's calls to the kit's op ----


class _Times(Function):
    """d(x * y)/dx = y, d(x * y)/dy = x."""

    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return unbroadcast(grad * y, x.shape), unbroadcast(grad * x, y.shape)

    domain = binary_domain(lambda x, y: x * y)  # reaches the built-in Mul


class _WrongTimes(_Times):
    """d(x * y)/dx = y, d(x * y)/dy = x."""

    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return unbroadcast(grad * y, x.shape), unbroadcast(grad * y, y.shape)


def test_replaces_checks_the_given_op_in_the_builtin_place():
    assert check_op(_Times, 10, replaces=Mul) >= 10
    with pytest.raises(AssertionError, match=r"check_op\(_WrongTimes\) failed"):
        check_op(_WrongTimes, 10, replaces=Mul)
    with pytest.raises(AssertionError, match="does not use _Times"):
        check_op(_Times, 3)  # without it, the domain's x * y never reaches _Times
    with pytest.raises(TypeError, match="replaces must be an op"):
        check_op(_Times, 3, replaces="Mul")


def test_replaces_borrows_the_builtin_domain_when_the_op_has_none():
    class _Plain(Function):
        """d(x * y)/dx = y, d(x * y)/dy = x."""

        forward = _Times.forward
        backward = _Times.backward

    assert check_op(_Plain, 5, replaces=Mul) >= 5
