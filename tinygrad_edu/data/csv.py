"""Read digit images from CSV in the format of Kaggle's "Digit Recognizer".

`train.csv` has a header row, then one image per line: the label followed by 784 pixel
values (0..255, row-major 28x28). `test.csv` is the same without the label column.
"""

from __future__ import annotations

import codecs
import os
import re
import warnings
from typing import Any

import numpy as np

PIXELS = 28 * 28
NUM_CLASSES = 10
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
_NEWLINE = re.compile(rb"\r\n|\r|\n")
_FIRST_LINE = re.compile(r"[^\r\n]*")


class CSVFormatError(ValueError):
    """A digit CSV file is malformed; the message names the file, the line and the problem."""

    def __init__(self, path: str | os.PathLike, line: int, reason: str) -> None:
        self.path = os.fspath(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.path}, line {line}: {reason}")


def _has_label_column(path: str | os.PathLike, header: str) -> bool:
    """Decide from the header whether the file is train-style (label first) or test-style."""
    names = [name.strip().strip('"') for name in header.split(",")]
    if header.strip() == "":
        raise CSVFormatError(path, 1, "expected a header row ('label,pixel0,...'), found nothing")
    if _INTEGER.fullmatch(names[0]):
        raise CSVFormatError(
            path, 1, f"expected a header row ('label,pixel0,...'), found numbers ({header[:40]!r})"
        )
    has_label = names[0].lower() == "label"
    expected = PIXELS + has_label
    if len(names) != expected:
        raise CSVFormatError(
            path,
            1,
            f"header has {len(names)} columns, expected {expected} "
            f"({'label + ' if has_label else ''}{PIXELS} pixels)",
        )
    return has_label


def _parse(source: Any, columns: int, skiprows: int) -> np.ndarray | None:
    """The rows as an int16 table, or None if any row is malformed or out of range."""
    # np.loadtxt parses in C (about 1 s for Kaggle's 42,000-row train.csv); int16 holds
    # every valid value and keeps the temporary array small.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(
                source, delimiter=",", dtype=np.int16, comments=None, skiprows=skiprows, ndmin=2
            )
    except ValueError:
        return None
    if table.size == 0:
        return table.reshape(0, columns)
    if table.shape[1] != columns or not _within(table[:, columns - PIXELS :], 0, 255):
        return None
    if columns > PIXELS and not _within(table[:, 0], 0, NUM_CLASSES - 1):
        return None
    return table


def _within(values: np.ndarray, low: int, high: int) -> bool:
    return bool(values.min() >= low and values.max() <= high)


def _line_problem(line: str, columns: int, has_label: bool) -> str | None:
    fields = line.split(",")
    if len(fields) != columns:
        return f"expected {columns} comma-separated values, found {len(fields)}"
    for col, field in enumerate(fields, start=1):
        if not _INTEGER.fullmatch(field):
            return f"column {col}: expected an integer, found {field.strip()!r}"
        value = int(field)
        if has_label and col == 1:
            if not 0 <= value < NUM_CLASSES:
                return f"label {value} out of range 0..{NUM_CLASSES - 1}"
        elif not 0 <= value <= 255:
            return f"column {col}: pixel value {value} out of range 0..255"
    return None


def _first_bad_row(
    path: str | os.PathLike, lines: list[str], columns: int, has_label: bool
) -> CSVFormatError:
    """Find the first bad line: the fast parser finds the bad chunk, Python finds the line."""
    chunk = 1000
    for start in range(1, len(lines), chunk):
        if _parse(lines[start : start + chunk], columns, skiprows=0) is not None:
            continue
        for lineno, line in enumerate(lines[start : start + chunk], start=start + 1):
            if line == "":
                continue  # empty lines (a trailing one, say) are skipped, as the parser does
            if line.strip() == "":
                return CSVFormatError(
                    path, lineno, f"only whitespace, expected {columns} comma-separated values"
                )
            problem = _line_problem(line, columns, has_label)
            if problem:
                return CSVFormatError(path, lineno, problem)
    # Unreachable as far as we know: say so rather than point at a wrong line.
    return CSVFormatError(path, 0, "malformed, but no single bad line was found (please report)")


def _read_text(path: str | os.PathLike) -> str:
    """The file decoded as UTF-8 (with or without a BOM), or an error naming the bad byte."""
    with open(path, "rb") as f:
        raw = f.read()
    skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        text = raw[skip:].decode("utf-8")
    except UnicodeDecodeError as e:
        offset = skip + e.start
        line = len(_NEWLINE.split(raw[:offset]))
        raise CSVFormatError(
            path,
            line,
            f"not UTF-8 text: byte 0x{raw[offset]:02X} at byte offset {offset} cannot be "
            f"decoded ({e.reason}); a digit CSV holds only ASCII digits, commas and a header",
        ) from None
    return text


def _lines(text: str) -> list[str]:
    """Split on newlines only (\\n, \\r\\n or \\r), as the parser does, so line numbers agree."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_csv_digits(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a Kaggle digit CSV: images uint8 (N, 28, 28) and labels int64 (N,), or None."""
    text = _read_text(path)  # decoding checks every byte up front; parsing re-reads the file
    header = _FIRST_LINE.match(text)
    has_label = _has_label_column(path, header.group() if header else "")
    columns = PIXELS + has_label
    # The path, not the text: NumPy's parser reads a file faster than a list of lines.
    table = _parse(path, columns, skiprows=1)
    if table is None:  # only now pay for finding the exact line
        raise _first_bad_row(path, _lines(text), columns, has_label)
    images = table[:, has_label:].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, 0].astype(np.int64) if has_label else None
    return images, labels
