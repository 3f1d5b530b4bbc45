"""Per-op time, forward and backward, against PyTorch: the ops a model is written with.

bench_overhead.py measures a chain of four tiny ops; this one surveys about fifty ops
one at a time (activations, reductions, normalization, losses, movement, indexing,
pooling), each on a small input (32x32 or 4x3x8x8, float32), where fixed costs rather
than arithmetic decide. For every op it times:

- forward + backward: the op, `.sum()` and `.backward()` (the sum and its backward are
  the same few microseconds in both libraries and are included in both);
- forward alone, under no_grad.

Each figure is the minimum over repeats of a timed loop (the least disturbed run on a
noisy machine); the libraries alternate op by op, for --rounds rounds, and the median
of the rounds' ratios is printed. Without PyTorch only our times are printed. NumPy has
no autograd, so PyTorch is the reference here; bench_overhead.py has the hand-written
NumPy chain. One thread for both (--threads default: the BLAS's own count for both).

    python benchmarks/bench_ops.py [--rounds 3] [--number 300] [--only gelu,softmax]
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import benchtools
import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F  # noqa: N812

Op = Callable[[SimpleNamespace], Any]

# name -> the op's call on the inputs of a namespace `n` (n.a, n.b: 32x32; n.i4: 4x3x8x8;
# n.w4: 5x3x3x3; n.idx: 16 row indices; n.target: 32 class indices; n.F: functional; n.L:
# the library), written once for both libraries
OPS: dict[str, Op] = {
    "add": lambda n: n.a + n.b, "mul": lambda n: n.a * n.b,
    "div": lambda n: n.a / (n.b.abs() + 1), "matmul": lambda n: n.a @ n.b,
    "pow 2": lambda n: n.a ** 2, "sqrt": lambda n: (n.a.abs() + 1).sqrt(),
    "exp": lambda n: n.a.exp(), "log": lambda n: (n.a.abs() + 1).log(),
    "abs": lambda n: n.a.abs(), "clamp": lambda n: n.a.clamp(-0.5, 0.5),
    "where": lambda n: n.L.where(n.a > 0, n.a, n.b),
    "relu": lambda n: n.a.relu(), "sigmoid": lambda n: n.a.sigmoid(),
    "tanh": lambda n: n.a.tanh(), "gelu": lambda n: n.F.gelu(n.a),
    "gelu tanh": lambda n: n.F.gelu(n.a, approximate="tanh"), "silu": lambda n: n.F.silu(n.a),
    "leaky_relu": lambda n: n.F.leaky_relu(n.a, 0.1), "elu": lambda n: n.F.elu(n.a),
    "softplus": lambda n: n.F.softplus(n.a),
    "softmax": lambda n: n.F.softmax(n.a, dim=1),
    "log_softmax": lambda n: n.F.log_softmax(n.a, dim=1),
    "logsumexp": lambda n: n.a.logsumexp(1), "sum(1)": lambda n: n.a.sum(1),
    "mean": lambda n: n.a.mean(), "mean(1)": lambda n: n.a.mean(1),
    "max(1)": lambda n: n.a.max(1)[0], "amax(1)": lambda n: n.a.amax(1),
    "var(1)": lambda n: n.a.var(1), "std(1)": lambda n: n.a.std(1),
    "norm": lambda n: n.a.norm(), "cumsum": lambda n: n.a.cumsum(1),
    "topk": lambda n: n.a.topk(3, dim=1)[0], "sort": lambda n: n.a.sort(1)[0],
    "layer_norm": lambda n: n.F.layer_norm(n.a, (32,)),
    "batch_norm": lambda n: n.F.batch_norm(n.i4, None, None, training=True),
    "dropout": lambda n: n.F.dropout(n.a, 0.5, True),
    "linear": lambda n: n.F.linear(n.a, n.b),
    "conv2d": lambda n: n.F.conv2d(n.i4, n.w4, padding=1),
    "max_pool2d": lambda n: n.F.max_pool2d(n.i4, 2),
    "avg_pool2d": lambda n: n.F.avg_pool2d(n.i4, 2),
    "mse_loss": lambda n: n.F.mse_loss(n.a, n.b),
    "cross_entropy": lambda n: n.F.cross_entropy(n.a, n.target),
    "nll(log_softmax)": lambda n: n.F.nll_loss(n.F.log_softmax(n.a, dim=1), n.target),
    "bce_with_logits": lambda n: n.F.binary_cross_entropy_with_logits(n.a, (n.b > 0).float()),
    "reshape": lambda n: n.a.reshape(16, 64), "t()": lambda n: n.a.t(),
    "permute": lambda n: n.i4.permute(0, 2, 3, 1), "flatten": lambda n: n.i4.flatten(1),
    "unsqueeze": lambda n: n.a.unsqueeze(0), "expand": lambda n: n.a[:1].expand(32, 32),
    "slice": lambda n: n.a[:, :8], "index": lambda n: n.a[n.idx],
    "boolean mask": lambda n: n.a[n.a > 0],
    "cat": lambda n: n.L.cat([n.a, n.b], 1), "stack": lambda n: n.L.stack([n.a, n.b]),
    "masked_fill": lambda n: n.a.masked_fill(n.b > 0, 0.0),
    "gather": lambda n: n.a.gather(1, n.a.argmax(1, keepdim=True)),
    "einsum": lambda n: n.L.einsum("ij,jk->ik", n.a, n.b),
}


def inputs(library: Any, functional: Any, tensor: Callable[..., Any]) -> SimpleNamespace:
    """The same arrays as leaves of `library` (constants for the index arrays)."""
    rng = np.random.default_rng(0)

    def normal(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)

    a, b, i4, w4 = normal(32, 32), normal(32, 32), normal(4, 3, 8, 8), normal(5, 3, 3, 3)
    idx, target = rng.integers(0, 32, 16), rng.integers(0, 32, 32)
    leaves = [tensor(x, requires_grad=True) for x in (a, b, i4, w4)]
    return SimpleNamespace(a=leaves[0], b=leaves[1], i4=leaves[2], w4=leaves[3],
                           idx=tensor(idx), target=tensor(target), leaves=leaves,
                           F=functional, L=library)


def timings(n: SimpleNamespace, op: Op, no_grad: Any, number: int) -> tuple[float, float]:
    """(forward + backward, forward under no_grad), microseconds, min over 5 repeats."""
    def both() -> None:
        for leaf in n.leaves:
            leaf.grad = None
        op(n).sum().backward()

    def forward() -> None:
        with no_grad():
            op(n)

    both()  # once first: errors surface here, and lazy set-up is not timed
    return tuple(min(timeit.repeat(f, number=number, repeat=5)) / number * 1e6
                 for f in (both, forward))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument("--number", type=int, default=300, help="calls per timed loop")
    parser.add_argument("--threads", choices=("1", "default"), default="1")
    parser.add_argument("--only", default=None, help="comma-separated op names")
    parser.add_argument("--no-torch", action="store_true", help="our times only")
    args = parser.parse_args()
    names = list(OPS) if args.only is None else args.only.split(",")
    unknown = [name for name in names if name not in OPS]
    if unknown:
        parser.error(f"unknown ops {unknown}; known: {', '.join(OPS)}")
    torch: Any = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not importable: our times only")
    benchtools.use_threads(1 if args.threads == "1" else benchtools.BLAS_DEFAULT)
    ours = inputs(tg, F, tg.tensor)
    theirs = None if torch is None else inputs(torch, torch.nn.functional, torch.tensor)
    print(benchtools.blas_report())
    print(f"microseconds per call, min of 5 loops of {args.number}; median of {args.rounds} "
          f"alternating rounds" + ("" if torch is None else f"; PyTorch {torch.__version__}"))
    rows: list[tuple[str, list[float]]] = []
    for name in names:
        rounds = []
        for _ in range(args.rounds):
            row = list(timings(ours, OPS[name], tg.no_grad, args.number))
            if torch is not None and theirs is not None:
                row += timings(theirs, OPS[name], torch.no_grad, args.number)
            rounds.append(row)
        columns = [benchtools.median([r[i] for r in rounds]) for i in range(len(rounds[0]))]
        if torch is not None:  # the median of the rounds' own ratios
            columns += [benchtools.median([r[0] / r[2] for r in rounds]),
                        benchtools.median([r[1] / r[3] for r in rounds])]
        rows.append((name, columns))
    header = f"{'op':18s} {'fwd+bwd':>8s} {'fwd':>8s}"
    if torch is not None:
        header += f" {'torch f+b':>10s} {'torch fwd':>10s} {'x f+b':>6s} {'x fwd':>6s}"
        rows.sort(key=lambda row: -row[1][4])
    print(header)
    for name, c in rows:
        line = f"{name:18s} {c[0]:8.1f} {c[1]:8.1f}"
        if torch is not None:
            line += f" {c[2]:10.1f} {c[3]:10.1f} {c[4]:6.2f} {c[5]:6.2f}"
        print(line)
    if torch is not None:
        ratios = [c[4] for _, c in rows]
        print(f"forward + backward against PyTorch: median {benchtools.median(ratios):.2f}x, "
              f"{sum(r > 1.5 for r in ratios)} of {len(ratios)} ops above 1.5x")


if __name__ == "__main__":
    main()
