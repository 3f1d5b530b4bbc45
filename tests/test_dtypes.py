"""Data types: what a tensor may hold, and the dtype of a binary op's result (PyTorch's
promotion rules, docs/dtypes.md)."""

import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, from_numpy
from tinygrad_edu.ops.dtypes import promote_types, result_type

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
NUMBERS = {"True": True, "2": 2, "2.5": 2.5}
DOC = Path(__file__).resolve().parents[1] / "docs" / "dtypes.md"


def ours(dtype: str, ndim: int = 1) -> Tensor:
    return from_numpy(np.ones((2,) * ndim, dtype=dtype))


def theirs(torch, dtype: str, ndim: int = 1):
    return torch.ones((2,) * ndim, dtype=getattr(torch, dtype))


def doc_table() -> dict[tuple[str, str], str]:
    """The big table of docs/dtypes.md: (row dtype, column operand) -> result dtype."""
    lines = [line for line in DOC.read_text().splitlines() if line.startswith("| ")]
    header = next(i for i, line in enumerate(lines) if line.startswith("| tensor \\ other"))
    columns = [c.strip() for c in lines[header].strip("|").split("|")][1:]
    table = {}
    for line in lines[header + 1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] not in DTYPES:
            break
        table.update({(cells[0], col): cell for col, cell in zip(columns, cells[1:])})
    return table


def test_the_docs_table_covers_every_pair_and_matches_pytorch_and_us():
    torch = pytest.importorskip("torch")
    table = doc_table()
    assert len(table) == len(DTYPES) * (len(DTYPES) + len(NUMBERS))
    for (row, col), documented in table.items():
        other_ours = NUMBERS[col] if col in NUMBERS else ours(col)
        other_theirs = NUMBERS[col] if col in NUMBERS else theirs(torch, col)
        expected = str(torch.result_type(theirs(torch, row), other_theirs)).split(".")[1]
        assert documented == expected, (row, col)
        assert str(result_type(ours(row), other_ours)) == expected, (row, col)
        assert str((ours(row) + other_ours).dtype) == expected, (row, col)
        assert str((other_ours + ours(row)).dtype) == expected, (row, col)


@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "maximum", "where"])
@pytest.mark.parametrize("ndims", [(1, 1), (1, 0), (0, 1), (0, 0)])
def test_every_pair_of_tensors_promotes_as_pytorch(op, ndims):
    torch = pytest.importorskip("torch")
    calls = {
        "add": (lambda a, b: a + b, lambda a, b: a + b),
        "mul": (lambda a, b: a * b, lambda a, b: a * b),
        "sub": (lambda a, b: a - b, lambda a, b: a - b),
        "div": (lambda a, b: a / b, lambda a, b: a / b),
        "maximum": (lambda a, b: a.maximum(b), torch.maximum),
        "where": (lambda a, b: tg.where(a > 0, a, b),
                  lambda a, b: torch.where(a > 0, a, b)),
    }
    mine, reference = calls[op]
    for x in DTYPES:
        for y in DTYPES:
            a, b = theirs(torch, x, ndims[0]), theirs(torch, y, ndims[1])
            try:
                expected = str(reference(a, b).dtype).split(".")[1]
            except RuntimeError:  # PyTorch refuses `-` with a bool tensor
                continue
            got = mine(ours(x, ndims[0]), ours(y, ndims[1]))
            assert str(got.dtype) == expected, (op, x, y, ndims)
            if op in ("add", "mul"):
                assert str(result_type(ours(x, ndims[0]), ours(y, ndims[1]))) == expected


@pytest.mark.parametrize("number", [True, 3, 2.5, np.float64(2.5), np.int64(3)])
def test_numbers_on_either_side_promote_as_pytorch(number):
    torch = pytest.importorskip("torch")
    for x in DTYPES:
        for ndim in (0, 1):
            for mine, reference in [(lambda a, n: a * n, lambda a, n: a * n),
                                    (lambda a, n: n - a, lambda a, n: n - a),
                                    (lambda a, n: a / n, lambda a, n: a / n),
                                    (lambda a, n: n ** a, lambda a, n: n ** a)]:
                try:
                    expected = str(reference(theirs(torch, x, ndim), number).dtype)
                except RuntimeError:  # bool - bool and similar: refused by PyTorch too
                    continue
                got = mine(ours(x, ndim), number)
                assert str(got.dtype) == expected.split(".")[1], (x, ndim, number)


def test_python_scalars_keep_the_tensor_dtype_and_ints_wrap_as_pytorch():
    torch = pytest.importorskip("torch")
    assert (Tensor([1.0, 2.0]) * 2.0).dtype == np.float32
    assert (ours("float16") * 2.5).dtype == np.float16
    small = from_numpy(np.array([1, 100], dtype=np.int8))
    wrapped = small + 1000
    assert wrapped.dtype == np.int8
    expected = torch.tensor([1, 100], dtype=torch.int8) + 1000
    np.testing.assert_array_equal(wrapped.data, expected.numpy())
    np.testing.assert_array_equal((from_numpy(np.array([1], np.uint8)) - 5).data, [252])


def test_numpy_arrays_are_tensors_and_numpy_scalars_are_numbers():
    x = ours("float32")
    assert (x * np.ones(2)).dtype == np.float64
    assert (x * np.float64(2.0)).dtype == np.float32
    assert (x * np.array(2.0)).dtype == np.float32  # a 0-d array is a 0-d tensor


def test_same_dtype_operands_are_not_copied_or_cast():
    a, b = Tensor(np.ones(3, np.float32), requires_grad=True), Tensor(np.ones(3, np.float32))
    out = a * b
    assert type(out.grad_fn).__name__ == "Mul"
    assert out.grad_fn.parents[0] is a and out.grad_fn.parents[1] is b


def test_gradients_flow_through_promotion_in_each_input_dtype():
    x = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = Tensor(np.array([3.0, 4.0]), requires_grad=True)  # float64
    out = x * y
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.data, [3.0, 4.0])
    i = Tensor(np.array([1, 2]))
    z = Tensor(np.array([0.5, 0.5], np.float32), requires_grad=True)
    (z * i).sum().backward()
    assert (z * i).dtype == np.float32 and z.grad.dtype == np.float32


def test_int_division_gives_float32():
    assert (Tensor([1, 2]) / Tensor([2, 2])).dtype == np.float32
    np.testing.assert_allclose((Tensor([1, 2]) / 2).data, [0.5, 1.0])
    assert (2 / Tensor([True])).dtype == np.float32


def test_promote_types_matches_pytorch():
    torch = pytest.importorskip("torch")
    for x in DTYPES:
        for y in DTYPES:
            expected = torch.promote_types(getattr(torch, x), getattr(torch, y))
            assert str(promote_types(x, y)) == str(expected).split(".")[1]


@pytest.mark.parametrize("make", [
    lambda: Tensor(["a", "b"]),
    lambda: Tensor([1.5], dtype=str),
    lambda: Tensor(["1.5"], dtype=np.float32),  # NumPy would parse the string
    lambda: Tensor([1 + 2j]),
    lambda: Tensor([1.0], dtype=np.complex64),
    lambda: Tensor([1.0], dtype=object),
    lambda: Tensor([object()]),
    lambda: tg.tensor([1.0], dtype="complex128"),
    lambda: from_numpy(np.array([1j])),
    lambda: from_numpy(np.array(["x"])),
    lambda: Tensor([1.0]) * 1j,
    lambda: Tensor([1.0]) + "a",
    lambda: Tensor([1.0]) * np.array([1j]),
    lambda: Tensor([1.0]) + np.complex64(1),
    lambda: Tensor([1.0]) * [object()],
    lambda: Tensor([1.0]).cast(np.complex128),
    lambda: Tensor([1.0]).cast(object),
])
def test_non_numbers_are_refused_with_a_clear_error(make):
    with pytest.raises(TypeError, match=r"bool, int or float"):
        make()


def test_in_place_float_into_int_is_refused_as_pytorch():
    x = Tensor([1, 2])
    with pytest.raises(RuntimeError, match=r"add_: the result has dtype float32"):
        x.add_(2.5)
    np.testing.assert_array_equal(x.data, [1, 2])  # nothing half-applied
    x += 3
    np.testing.assert_array_equal(x.data, [4, 5])


def test_huge_python_ints_are_refused():
    with pytest.raises(OverflowError, match=r"does not fit a 64-bit integer"):
        Tensor([1, 2]) + 2**70
    assert re.search("float", str((Tensor([1.0]) * 2**70).dtype))
