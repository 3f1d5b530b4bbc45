"""tinygrad_edu on a GPU (device="cuda", through CuPy): the op check and epoch timings.

Everything issue 14 asks to measure, in one run of under five minutes:

1. the generic op check (first and second order, float64) of every registered op with
   its inputs on the GPU (testing.check_op(device="cuda"));
2. one epoch of a 784-128-10 MLP (SGD momentum 0.9, lr 0.05) at batch 128 and 1024:
   tinygrad_edu, the same network written by hand in CuPy, and PyTorch CUDA when it
   is importable;
3. one epoch of the CNN conv8-pool-conv16-pool-fc10 (models.small_cnn) at batch 128
   and 1024: tinygrad_edu and PyTorch CUDA;
4. `tinygrad-edu train --model cnn --device cuda` on full MNIST (20 epochs), run in a
   subprocess with the time that is left; its accuracy and seconds, or how far it got.

The epochs use the 60,000 training images of MNIST (the same shapes as the
Fashion-MNIST of the issue's reference figures) held on the GPU; each epoch is timed
after one warm-up epoch (CuPy compiles its kernels on first use), with the device
synchronized before the clock stops. The table comes last.

Without a usable GPU the script says so and exits with status 2, measuring nothing.
`--device standin` runs every code path on the stand-in device with a few steps
(a smoke test on machines without a GPU; its numbers mean nothing).

    python benchmarks/bench_gpu.py [--data DIR] [--examples 10] [--budget 290]
                                   [--device cuda|standin]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import backend, models, nn, optim  # noqa: E402
from tinygrad_edu.nn import functional as F  # noqa: E402, N812

DATA_PLACES = ("shared/data/mnist", "/work/shared/data/mnist")
LR, MOMENTUM = 0.05, 0.9


def find_data(given: str | None) -> Path | None:
    for place in ([given] if given else []) + [os.environ.get("TINYGRAD_EDU_MNIST", "")] + [
            str(ROOT / p) for p in DATA_PLACES[:1]] + list(DATA_PLACES[1:]):
        if place and (Path(place) / "train-images-idx3-ubyte.gz").exists():
            return Path(place)
    return None


def synchronize(device: str) -> None:
    if device == "cuda":
        tg.cuda.synchronize()


def load_images(folder: Path | None, limit: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(x, y) on the host: MNIST's training images, or random ones of its shape."""
    if folder is not None:
        from tinygrad_edu.data import MNIST

        data = MNIST(folder, train=True, download=False)
        n = len(data) if limit is None else min(limit, len(data))
        x, y = data.get_batch(np.arange(n))
        return x, y, f"MNIST train ({n:,} images)"
    n = 60000 if limit is None else limit
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    return x, rng.integers(0, 10, n), f"random images of MNIST's shape ({n:,}; no data found)"


# -- epochs ---------------------------------------------------------------------------


def tinygrad_epoch(model: nn.Module, x: tg.Tensor, y: tg.Tensor, batch: int, device: str,
                   steps: int | None) -> float:
    """Seconds for one epoch of SGD steps over device-resident data."""
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    order = tg.randperm(x.shape[0]).to(device)
    synchronize(device)
    start = time.perf_counter()
    for i, s in enumerate(range(0, x.shape[0], batch)):
        if steps is not None and i >= steps:
            break
        idx = order[s:s + batch]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    synchronize(device)
    return time.perf_counter() - start


def by_hand_epoch(xp: object, x: object, y: object, batch: int, device: str,
                  steps: int | None) -> float:
    """The same MLP step written directly in the array module xp (CuPy on a GPU)."""
    m: object = xp
    rng = np.random.default_rng(0)
    w1 = m.asarray(rng.uniform(-0.036, 0.036, (128, 784)).astype(np.float32))  # type: ignore
    b1 = m.zeros(128, dtype=np.float32)  # type: ignore
    w2 = m.asarray(rng.uniform(-0.088, 0.088, (10, 128)).astype(np.float32))  # type: ignore
    b2 = m.zeros(10, dtype=np.float32)  # type: ignore
    params = [w1, b1, w2, b2]
    bufs = [m.zeros_like(p) for p in params]  # type: ignore
    flat = x.reshape(x.shape[0], -1)  # type: ignore
    n = flat.shape[0]
    order = m.asarray(rng.permutation(n))  # type: ignore
    synchronize(device)
    start = time.perf_counter()
    for i, s in enumerate(range(0, n, batch)):
        if steps is not None and i >= steps:
            break
        idx = order[s:s + batch]
        xb, yb = flat[idx], y[idx]  # type: ignore
        rows = xb.shape[0]
        h = xb @ w1.T + b1
        a = m.maximum(h, 0)  # type: ignore
        logits = a @ w2.T + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = m.exp(shifted)  # type: ignore
        probs = e / e.sum(axis=1, keepdims=True)
        probs[m.arange(rows), yb] -= 1.0  # type: ignore
        g = probs / rows
        gw2, gb2 = g.T @ a, g.sum(axis=0)
        ga = (g @ w2) * (h > 0)
        gw1, gb1 = ga.T @ xb, ga.sum(axis=0)
        for p, b, gp in zip(params, bufs, (gw1, gb1, gw2, gb2)):
            b *= MOMENTUM
            b += gp
            p -= LR * b
    synchronize(device)
    return time.perf_counter() - start


def torch_epoch(kind: str, x: np.ndarray, y: np.ndarray, batch: int) -> float | None:
    """PyTorch CUDA's epoch of the same network, or None without PyTorch CUDA."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.manual_seed(0)
    if kind == "mlp":
        net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128),
                                  torch.nn.ReLU(), torch.nn.Linear(128, 10))
    else:
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 10))
    net = net.cuda()
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    xt, yt = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()

    def epoch() -> float:
        order = torch.randperm(xt.shape[0], device="cuda")
        torch.cuda.synchronize()
        start = time.perf_counter()
        for s in range(0, xt.shape[0], batch):
            idx = order[s:s + batch]
            loss = torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        torch.cuda.synchronize()
        return time.perf_counter() - start

    epoch()  # warm-up (cuDNN picks its algorithms)
    return epoch()


# -- the op check and the recipe ---------------------------------------------------------


def op_check(device: str, examples: int) -> tuple[int, list[str]]:
    from tinygrad_edu.engine import Function
    from tinygrad_edu.testing import check_op

    failed = []
    ops = sorted(Function.registry.values(), key=lambda op: op.__name__)
    for op in ops:
        try:
            check_op(op, examples=examples, device=device)
        except Exception as error:  # report every op, not the first failure only
            failed.append(f"{op.__name__}: {str(error).splitlines()[-1][:200]}")
    return len(ops), failed


def recipe(device: str, data: Path | None, seconds: float, epochs: int) -> str:
    """`tinygrad-edu train --model cnn --device DEVICE` in a subprocess, within `seconds`."""
    if data is None:
        return "not run: the full MNIST was not found (--data DIR)"
    if seconds < 20:
        return f"not run: only {seconds:.0f} s of the budget left"
    out = Path(tempfile.mkdtemp(prefix="bench-gpu-recipe-"))
    command = [sys.executable, "-m", "tinygrad_edu", "train", "--model", "cnn", "--device",
               device, "--data", str(data), "--no-download", "--no-plots", "--no-progress",
               "--epochs", str(epochs), "--out", str(out / "run")]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds,
                              cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    except subprocess.TimeoutExpired:
        history = out / "run" / "history.json"
        got = json.loads(history.read_text()) if history.exists() else {}
        accs = got.get("test_acc", [])
        per_epoch = got.get("seconds", [])
        return (f"stopped after {seconds:.0f} s: {len(accs)} of {epochs} epochs done"
                + (f", test accuracy {accs[-1]:.2%}, {np.mean(per_epoch):.1f} s per epoch"
                   if accs else ""))
    wall = time.perf_counter() - start
    match = re.search(r"test accuracy: ([\d.]+)% .* in ([\d.]+) s", done.stdout)
    if done.returncode or not match:
        return f"failed (status {done.returncode}): {(done.stderr or done.stdout)[-300:]}"
    return (f"{match.group(1)}% after {epochs} epochs, {float(match.group(2)):.1f} s of "
            f"training ({wall:.0f} s with start-up and data loading)")


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="folder with MNIST's .gz files (default: shared/data/mnist)")
    parser.add_argument("--examples", type=int, default=10, help="op check inputs per op and order")
    parser.add_argument("--budget", type=float, default=290.0, help="seconds for everything")
    parser.add_argument("--device", choices=("cuda", "standin"), default="cuda")
    parser.add_argument("--recipe-epochs", type=int, default=20)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    device = args.device
    if device == "cuda" and not tg.cuda.is_available():
        print(f"no GPU: tinygrad_edu.cuda.is_available() is False ({backend.cuda_problem()}). "
              "Nothing was measured.")
        return 2
    smoke = device == "standin"
    steps = 5 if smoke else None
    folder = find_data(args.data)
    x_host, y_host, source = load_images(folder, 2000 if smoke else None)
    x, y = tg.tensor(x_host, device=device), tg.tensor(y_host, device=device)
    xp = backend.array_module(x.data)
    rows: list[tuple[str, int, float, float | None, float | None]] = []
    for kind, make in (("MLP 784-128-10", lambda: models.mlp(hidden=(128,))),
                       ("CNN conv8-pool-conv16-pool-fc10", models.small_cnn)):
        for batch in (128, 1024):
            tg.manual_seed(0)
            model = make().to(device)
            tinygrad_epoch(model, x, y, batch, device, steps)  # warm-up
            ours = tinygrad_epoch(model, x, y, batch, device, steps)
            hand = None
            if kind.startswith("MLP"):
                by_hand_epoch(xp, x.data, y.data, batch, device, steps)
                hand = by_hand_epoch(xp, x.data, y.data, batch, device, steps)
            torch_s = None if smoke else torch_epoch(
                "mlp" if kind.startswith("MLP") else "cnn", x_host, y_host, batch)
            rows.append((kind, batch, ours, hand, torch_s))
            print(f"{kind}, batch {batch}: {ours:.3f} s", flush=True)
    examples = 2 if smoke else args.examples
    checked, failed = op_check(device, examples)
    print(f"op check: {checked - len(failed)} of {checked} ops passed", flush=True)
    left = args.budget - (time.perf_counter() - started)
    recipe_line = ("not run in the smoke test" if smoke else
                   recipe(device, folder, left - 5, args.recipe_epochs))

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f} s"

    print(f"\ntinygrad_edu on {device} ({tg.__version__}); data: {source}"
          + ("; SMOKE TEST (5 steps per epoch): the numbers mean nothing" if smoke else ""))
    print(f"op check (first and second order, float64, {examples} inputs per op): "
          f"{checked - len(failed)} of {checked} ops pass")
    for line in failed:
        print(f"  FAILED {line}")
    print(f"recipe `tinygrad-edu train --model cnn --device {device}` on full MNIST: "
          f"{recipe_line}")
    header = ("| workload | batch | tinygrad_edu | CuPy by hand | PyTorch CUDA | "
              "x CuPy | x PyTorch |")
    print("\n" + header + "\n|" + " --- |" * 7)
    for kind, batch, ours, hand, torch_s in rows:
        ratio_hand = "-" if hand is None else f"{ours / hand:.2f}"
        ratio_torch = "-" if torch_s is None else f"{ours / torch_s:.2f}"
        print(f"| {kind} | {batch} | {cell(ours)} | {cell(hand)} | {cell(torch_s)} | "
              f"{ratio_hand} | {ratio_torch} |")
    print(f"\n(one epoch each, after a warm-up epoch; {time.perf_counter() - started:.0f} s "
          "in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
