"""Which dtypes a tensor may have, and the dtype of a binary op's result (PyTorch's rules).

Tensors hold numbers only: bool, signed and unsigned ints, floats. The result
dtype of `a + b` (and -, *, /, **, maximum, minimum, where) follows
torch.result_type, not NumPy:

- kinds rank bool < int < float; within a kind the wider type wins
  (uint8 with int8 gives int16, as NumPy), across kinds the float type wins
  whatever its width (int64 + float16 is float16; NumPy says float64);
- operands count in three tiers: tensors with dimensions, 0-d tensors, plain
  numbers (Python or NumPy scalars). A lower tier changes the result only when
  its kind is higher, so `int8_tensor + 100` stays int8 and `float32 * 2.0`
  stays float32;
- a plain number that raises the kind brings the default dtype of its kind:
  int64 for ints, float32 for floats.

docs/dtypes.md has the table; tests/test_dtypes.py checks it against PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_FLOAT = np.dtype(np.float32)
NUMBER_KINDS = "biuf"  # bool, int, unsigned int, float
_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2}


def check_dtype(op: str, dtype: Any) -> np.dtype:
    """`dtype` as a NumPy dtype if a tensor can hold it, else a TypeError naming `op`."""
    dtype = np.dtype(dtype)
    if dtype.kind not in NUMBER_KINDS:
        raise TypeError(
            f"{op}: tensors hold numbers only (bool, int or float dtypes), got dtype "
            f"{dtype}{' (complex numbers are not supported)' if dtype.kind == 'c' else ''}"
        )
    return dtype


def rank(dtype: np.dtype) -> int:
    """0 for bool, 1 for ints, 2 for floats."""
    return _KIND_RANK[dtype.kind]


def promote_types(a: Any, b: Any) -> np.dtype:
    """The smallest dtype both can be converted to, by PyTorch's table (torch.promote_types)."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    ra, rb = rank(a), rank(b)
    if ra != rb and max(ra, rb) == 2:  # int or bool with float: the float type, any width
        return a if ra == 2 else b
    return np.promote_types(a, b)


def is_number(value: Any) -> bool:
    """True for plain numbers (Python or NumPy scalars), which promote by kind only."""
    return isinstance(value, (bool, int, float, np.generic))


def number_dtype(value: Any) -> np.dtype:
    """The dtype a plain number brings when it raises the result's kind."""
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(value, (float, np.floating)):
        return DEFAULT_FLOAT
    raise TypeError(
        f"cannot use {type(value).__name__} {value!r} as a tensor operand; expected a "
        "bool, int or float (complex numbers are not supported)"
    )


def with_number(dtype: np.dtype, value: bool | int | float) -> np.dtype:
    """The result dtype of a tensor of `dtype` and a Python number (the tensor's
    dimensions do not matter: a number is the lowest tier either way)."""
    if dtype.kind == "f" or (dtype.kind != "b" and type(value) is not float):
        return dtype  # the number's kind is not higher than the tensor's
    return promote_types(dtype, number_dtype(value))


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """A higher tier's dtype, unless a lower tier brings a higher kind."""
    if higher is None:
        return lower
    if lower is None or rank(higher) >= rank(lower):
        return higher
    return promote_types(higher, lower)


def result_type(*operands: Any) -> np.dtype:
    """The dtype of a binary op's result on `operands` (as torch.result_type): each is a
    Tensor or array (anything with .dtype and .ndim) or a plain number."""
    tiers: list[np.dtype | None] = [None, None, None]  # dimensioned, 0-d, numbers
    for x in operands:
        if is_number(x):
            tier, dtype = 2, number_dtype(x)
        else:
            tier, dtype = (0 if x.ndim else 1), np.dtype(x.dtype)
        seen = tiers[tier]
        tiers[tier] = dtype if seen is None else promote_types(seen, dtype)
    result = _combine(tiers[0], _combine(tiers[1], tiers[2]))
    if result is None:
        raise TypeError("result_type: expected at least one operand")
    return result


def number_array(value: Any, dtype: np.dtype) -> np.ndarray:
    """A plain number as a 0-d array of `dtype`; ints that do not fit wrap around, as
    PyTorch's do (int8 tensor + 1000 adds -24)."""
    if dtype.kind == "f":
        return np.array(value, dtype=dtype)
    if dtype.kind in "iu" and not isinstance(value, (bool, np.bool_)):
        try:
            wide = np.array(value, dtype=np.int64 if int(value) < 2**63 else np.uint64)
        except OverflowError:
            raise OverflowError(
                f"the Python int {value} does not fit a 64-bit integer tensor"
            ) from None
        return wide.astype(dtype)
    return np.array(value, dtype=dtype)
