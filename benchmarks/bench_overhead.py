"""Per-op overhead: a chain of 100 tiny (4x4) ops, forward and backward.

The chain repeats (x * a, + b, tanh, - c) 25 times. The same chain runs in
tinygrad_edu, in hand-written NumPy (forward keeps what backward needs,
backward applies the chain rule by hand) and in PyTorch when it is importable,
all in this process, in alternating rounds (--rounds); each round's figure is the
median of its chains, and the median over rounds is printed. Prints microseconds per
op and ratios, at one thread, at the BLAS's own thread count and with each library at
its own default (--threads, as benchtools.THREAD_HELP says);
--busy repeats it all with a competing CPU load and reports the slowdown; --quick runs
a few seconds.

    python benchmarks/bench_overhead.py [--repeats 500] [--rounds 5] [--threads all]
                                        [--busy] [--quick]
"""

from __future__ import annotations

import argparse
import time

import benchtools
import numpy as np

import tinygrad_edu as tg

OPS_PER_CHAIN = 100


def _constants(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x, a, b, c = (rng.standard_normal((4, 4)).astype(np.float32) for _ in range(4))
    return x, a * 0.5, b, c * 0.1


def numpy_chain(x: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple:
    """Forward and backward by hand; returns (forward seconds, backward seconds)."""
    t0 = time.perf_counter()
    h = x
    tanh_outs = []
    for _ in range(OPS_PER_CHAIN // 4):
        h = h * a
        h = h + b
        h = np.tanh(h)
        tanh_outs.append(h)
        h = h - c
    t1 = time.perf_counter()
    g = np.ones_like(h)
    for t in reversed(tanh_outs):
        g = g * 1.0  # d(h - c)/dh: the gradient passes through (kept: one op each)
        g = g * (1.0 - t * t)
        g = g * 1.0  # d(h + b)/dh
        g = g * a
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, g


def tinygrad_chain(x: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple:
    xt = tg.Tensor(x, requires_grad=True)
    at, bt, ct = tg.Tensor(a), tg.Tensor(b), tg.Tensor(c)
    t0 = time.perf_counter()
    h = xt
    for _ in range(OPS_PER_CHAIN // 4):
        h = h * at
        h = h + bt
        h = h.tanh()
        h = h - ct
    t1 = time.perf_counter()
    h.backward(tg.ones_like(h))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, xt.grad.data


def torch_chain(torch, x: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple:
    xt = torch.tensor(x, requires_grad=True)
    at, bt, ct = torch.tensor(a), torch.tensor(b), torch.tensor(c)
    t0 = time.perf_counter()
    h = xt
    for _ in range(OPS_PER_CHAIN // 4):
        h = h * at
        h = h + bt
        h = h.tanh()
        h = h - ct
    t1 = time.perf_counter()
    h.backward(torch.ones_like(h))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, xt.grad.numpy()


def measure(run, repeats: int) -> tuple[float, float, np.ndarray]:
    """Median forward and backward microseconds per op over `repeats` chains."""
    fwd, bwd = [], []
    grad = None
    for _ in range(repeats):
        f, b, grad = run()
        fwd.append(f)
        bwd.append(b)
    scale = 1e6 / OPS_PER_CHAIN
    return float(np.median(fwd)) * scale, float(np.median(bwd)) * scale, grad


def measure_all(runs: dict, repeats: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Each implementation `rounds` times in turn; the median of the rounds' medians."""
    for run in runs.values():  # warm-up
        for _ in range(max(repeats // 10, 5)):
            run()
    per_round: dict[str, list] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            f, b, grad = measure(run, repeats)
            per_round[name].append((f, b))
            if not np.allclose(grad, runs["numpy (by hand)"]()[2], rtol=1e-4, atol=1e-6):
                raise SystemExit(f"{name}: gradient differs from the hand-written NumPy one")
    return {name: (benchtools.median([f for f, _ in rows]), benchtools.median([b for _, b in rows]))
            for name, rows in per_round.items()}


def report(title: str, rows: dict[str, tuple[float, float]]) -> None:
    print(f"\n{title}")
    print(f"{'':18s} {'forward':>9s} {'backward':>9s} {'total':>9s} {'x numpy':>8s}")
    base = sum(rows["numpy (by hand)"])
    for name, (f, b) in rows.items():
        print(f"{name:18s} {f:9.2f} {b:9.2f} {f + b:9.2f} {(f + b) / base:8.2f}")
    if "pytorch" in rows:
        ours, theirs = rows["tinygrad_edu"], rows["pytorch"]
        print(f"tinygrad_edu / pytorch: forward {ours[0] / theirs[0]:.2f}, "
              f"backward {ours[1] / theirs[1]:.2f}, total {sum(ours) / sum(theirs):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=500, help="chains per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--threads", choices=benchtools.THREAD_CHOICES, default="all",
                    help=benchtools.THREAD_HELP)
    parser.add_argument("--busy", action="store_true",
                        help="also time under a competing CPU load; report the slowdown")
    parser.add_argument("--busy-cores", type=int, default=1, help="cores the load keeps busy")
    parser.add_argument("--quick", action="store_true", help="100 chains x 3 rounds")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.rounds = 100, 3
    consts = _constants()
    runs = {"numpy (by hand)": lambda: numpy_chain(*consts),
            "tinygrad_edu": lambda: tinygrad_chain(*consts)}
    try:
        import torch

        runs["pytorch"] = lambda: torch_chain(torch, *consts)
    except ImportError:
        print("(PyTorch not importable: skipping it)")
    print(f"chain of {OPS_PER_CHAIN} ops on 4x4 float32, {args.repeats} chains x {args.rounds} "
          "rounds, microseconds per op (gradients agree across all rows)")
    print(benchtools.blas_report())
    for label, threads, torch_threads in benchtools.thread_settings(args.threads):
        benchtools.use_threads(threads, torch_threads)
        quiet = measure_all(runs, args.repeats, args.rounds)
        report(label, quiet)
        if args.busy:
            with benchtools.busy(args.busy_cores):
                loaded = measure_all(runs, args.repeats, args.rounds)
            report(f"{label}, {args.busy_cores} core(s) busy elsewhere", loaded)
            print("slowdown busy / quiet: " + ", ".join(
                f"{name} {sum(loaded[name]) / sum(quiet[name]):.2f}x" for name in quiet))


if __name__ == "__main__":
    main()
