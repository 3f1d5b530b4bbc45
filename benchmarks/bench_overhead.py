"""Per-op overhead: a chain of 100 tiny (4x4) ops, forward and backward.

The chain repeats (x * a, + b, tanh, - c) 25 times. The same chain runs in
tinygrad_edu, in hand-written NumPy (forward keeps what backward needs,
backward applies the chain rule by hand) and in PyTorch when it is importable,
all in this process. Prints microseconds per op and ratios.

    python benchmarks/bench_overhead.py [--repeats 2000]
"""

from __future__ import annotations

import argparse
import time

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
    for _ in range(max(repeats // 10, 5)):  # warm-up
        run()
    fwd, bwd = [], []
    grad = None
    for _ in range(repeats):
        f, b, grad = run()
        fwd.append(f)
        bwd.append(b)
    scale = 1e6 / OPS_PER_CHAIN
    return float(np.median(fwd)) * scale, float(np.median(bwd)) * scale, grad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()
    consts = _constants()
    rows = {"numpy (by hand)": measure(lambda: numpy_chain(*consts), args.repeats),
            "tinygrad_edu": measure(lambda: tinygrad_chain(*consts), args.repeats)}
    try:
        import torch

        torch.set_num_threads(1)
        rows["pytorch"] = measure(lambda: torch_chain(torch, *consts), args.repeats)
    except ImportError:
        print("(PyTorch not importable: skipping it)")
    reference = rows["numpy (by hand)"][2]
    for name, (_, _, grad) in rows.items():
        if not np.allclose(grad, reference, rtol=1e-4, atol=1e-6):
            raise SystemExit(f"{name}: gradient differs from the hand-written NumPy one")
    print(f"chain of {OPS_PER_CHAIN} ops on 4x4 float32, median of {args.repeats} runs, "
          "microseconds per op (gradients agree across all rows)")
    print(f"{'':18s} {'forward':>9s} {'backward':>9s} {'total':>9s} {'x numpy':>8s}")
    base = sum(rows["numpy (by hand)"][:2])
    for name, (f, b, _) in rows.items():
        print(f"{name:18s} {f:9.2f} {b:9.2f} {f + b:9.2f} {(f + b) / base:8.2f}")
    if "pytorch" in rows:
        ours, theirs = rows["tinygrad_edu"], rows["pytorch"]
        print(f"tinygrad_edu / pytorch: forward {ours[0] / theirs[0]:.2f}, "
              f"backward {ours[1] / theirs[1]:.2f}")


if __name__ == "__main__":
    main()
