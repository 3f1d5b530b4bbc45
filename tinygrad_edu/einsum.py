"""einsum: sums of products named by index letters, built from movement ops and matmul.

Each operand is first brought to one axis per distinct letter (a repeated letter,
as in 'ii->i', takes the diagonal by indexing) and letters no one else needs are
summed away. Operands are then combined two at a time: the letters are sorted
into batch, kept-left, kept-right and contracted groups, so that every pair is
one batched matmul ('bij,bjk->bik' is exactly `@`). Gradients come from those
ops; einsum has no backward of its own.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

_ELLIPSIS_LABELS = [chr(0x2460 + i) for i in range(32)]  # stand-ins for the dims of '...'


def _parse(equation: str, ranks: list[int]) -> tuple[list[list[str]], list[str]]:
    """The letters of each operand (ellipsis dims as stand-in letters) and of the output."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ranks):
        raise ValueError(f"einsum: the equation {equation!r} names {len(terms)} operands but "
                         f"{len(ranks)} were given")
    widest = 0
    labels: list[list[str]] = []
    for i, (term, rank) in enumerate(zip(terms, ranks)):
        head, dots, tail = term.partition("...")
        for letter in head + tail:
            if not letter.isalpha():
                raise ValueError(f"einsum: invalid subscript {letter!r} in {equation!r}; "
                                 "expected letters and '...'")
        named = len(head) + len(tail)
        extra = rank - named
        if (not dots and extra != 0) or extra < 0:
            raise ValueError(f"einsum: operand {i} has {rank} dims but the subscripts "
                             f"{term!r} name {named}")
        widest = max(widest, extra if dots else 0)
        stand_ins = _ELLIPSIS_LABELS[:extra] if dots else []
        labels.append(list(head) + stand_ins + list(tail))
    # '...' dims line up from the right, as broadcasting does
    for i, term in enumerate(terms):
        if "..." in term:
            head = term.partition("...")[0]
            extra = ranks[i] - len(term.replace("...", ""))
            labels[i][len(head):len(head) + extra] = _ELLIPSIS_LABELS[widest - extra:widest]
    ellipsis = _ELLIPSIS_LABELS[:widest]
    if arrow:
        head, dots, tail = output.partition("...")
        out = list(head) + (ellipsis if dots else []) + list(tail)
        if not dots and widest:
            raise ValueError(f"einsum: the output of {equation!r} must keep '...'")
    else:  # implicit output: '...' then the letters used once, in alphabetical order
        counts: dict[str, int] = {}
        for term_labels in labels:
            for letter in term_labels:
                counts[letter] = counts.get(letter, 0) + 1
        out = ellipsis + sorted(a for a, c in counts.items() if c == 1 and a not in ellipsis)
    used = {a for term_labels in labels for a in term_labels}
    for letter in out:
        if letter not in used:
            raise ValueError(f"einsum: output subscript {letter!r} of {equation!r} appears in "
                             "no operand")
        if out.count(letter) > 1:
            raise ValueError(f"einsum: output subscript {letter!r} of {equation!r} repeats")
    return labels, out


def _diagonal(x: Tensor, labels: list[str]) -> tuple[Tensor, list[str]]:
    """Take the diagonal for each letter that repeats within one operand."""
    for letter in dict.fromkeys(labels):
        axes = [i for i, a in enumerate(labels) if a == letter]
        if len(axes) == 1:
            continue
        sides = {x.shape[i] for i in axes}
        if len(sides) != 1:
            raise ValueError(f"einsum: subscript {letter!r} repeats over dims of different "
                             f"sizes {sorted(sides)}")
        rest = [i for i in range(x.ndim) if i not in axes]
        x = _permuted(x, rest + axes)
        steps = np.arange(sides.pop())
        x = x[(slice(None),) * len(rest) + (steps,) * len(axes)]
        labels = [labels[i] for i in rest] + [letter]
    return x, labels


def _permuted(x: Tensor, dims: list[int]) -> Tensor:
    return x if dims == list(range(x.ndim)) else x.permute(*dims)


def _sum_out(x: Tensor, labels: list[str], keep: set[str]) -> tuple[Tensor, list[str]]:
    gone = tuple(i for i, a in enumerate(labels) if a not in keep)
    if gone:
        x = x.sum(gone)
        labels = [a for a in labels if a in keep]
    return x, labels


def _pair(a: Tensor, la: list[str], b: Tensor, lb: list[str], keep: set[str],
          sizes: dict[str, int]) -> tuple[Tensor, list[str]]:
    """a and b combined into one tensor over the letters in `keep`, by one matmul."""
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]

    def arrange(x: Tensor, labels: list[str], order: list[str], shape: tuple) -> Tensor:
        x = _permuted(x, [labels.index(c) for c in order])
        full = tuple(sizes[c] for c in order)
        if x.shape != full:  # size-1 dims broadcast against the other operand
            x = x.expand(full)
        return x.reshape(shape)

    nb, nl, nr, ns = (math.prod(sizes[c] for c in g) for g in (batch, left, right, summed))
    a3 = arrange(a, la, batch + left + summed, (nb, nl, ns))
    b3 = arrange(b, lb, batch + summed + right, (nb, ns, nr))
    product = a3 @ b3
    labels = batch + left + right
    return product.reshape(tuple(sizes[c] for c in labels)), labels


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as torch.einsum: einsum('ij,jk->ik', a, b) is a @ b."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: expected at least one operand")
    labels, out = _parse(equation, [t.ndim for t in operands])
    sizes: dict[str, int] = {}
    for i, (t, term) in enumerate(zip(operands, labels)):
        for letter, side in zip(term, t.shape):
            seen = sizes.get(letter, 1)
            if side != 1 and seen != 1 and side != seen:
                shown = "..." if letter in _ELLIPSIS_LABELS else letter
                raise ValueError(
                    f"einsum: subscript {shown!r} has size {side} in operand {i} (shape "
                    f"{tuple(t.shape)}) but size {seen} elsewhere in {equation!r}")
            sizes[letter] = max(seen, side)
    tensors, terms = [], []
    for t, term in zip(operands, labels):
        t, term = _diagonal(t, term)
        tensors.append(t)
        terms.append(term)
    x, lx = tensors[0], terms[0]
    for i in range(1, len(tensors)):
        after = set(out).union(*terms[i + 1:])  # letters needed once this pair is done
        x, lx = _sum_out(x, lx, after | set(terms[i]))
        y, ly = _sum_out(tensors[i], terms[i], after | set(lx))
        x, lx = _pair(x, lx, y, ly, after, sizes)
    x, lx = _sum_out(x, lx, set(out))
    if len(lx) < len(out):  # only when a kept letter had size 1 everywhere
        missing = [c for c in out if c not in lx]
        raise ValueError(f"einsum: could not place output subscripts {missing}")
    x = _permuted(x, [lx.index(c) for c in out])
    full = tuple(sizes[c] for c in out)
    return x if x.shape == full else x.expand(full)

