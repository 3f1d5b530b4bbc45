"""One training epoch of a 784-128-10 MLP on Fashion-MNIST: tinygrad_edu vs hand-written NumPy.

Both variants train the same network (Linear-ReLU-Linear, cross-entropy, SGD with
momentum 0.9, lr 0.05, batch 128, float32) from the same initial weights on the same
batches in the same order, in this process; each batch is gathered by the dataset's
`get_batch` (what DataLoader calls), and each variant also counts its correct
predictions, so both do the same work. After the first epoch the two sets of weights
must agree (the hand-written gradients check the framework's). Epochs alternate
between the variants and the median is reported, which tames a noisy machine.

Rows:
  numpy (by hand)    forward, backward and the momentum update written out in NumPy
  tinygrad_edu       models.mlp + nn.functional.cross_entropy + optim.SGD, the loop a
                     user writes (zero_grad, backward, step)
  train_epoch        tinygrad_edu.train.train_epoch on a shuffled DataLoader (progress
                     bar off): the loop `tinygrad-edu train` runs
  pytorch            the same network, loss, optimizer and loop in PyTorch (torch.nn,
                     torch.optim.SGD), when torch is importable (--no-torch leaves it out);
                     its intra-op threads follow the same settings
  ... (nll)          tinygrad_edu's and PyTorch's loops with the loss PyTorch's MNIST
                     example writes, nll_loss(log_softmax(logits, dim=1), y), instead of
                     cross_entropy (the same numbers)

Peak memory (--memory, on by default): each variant runs one epoch in a fresh
subprocess, which reports its peak resident set size (benchtools.peak_kib: the whole
process, Python, NumPy and the data set included) and the tracemalloc peak of the
epoch alone (NumPy reports its array buffers to tracemalloc, so this is the memory the
training loop itself allocates on top of what was there before the epoch).

Threads (--threads 1|default|own|both|all, default all): one table at one thread for
every library, one at the BLAS's own count (the machine's cores), and one with each
library at its own default (tinygrad_edu one BLAS thread, which NumPy by hand shares;
PyTorch its intra-op count), switched in this process with threadpoolctl and
torch.set_num_threads. --busy also times every variant while another process keeps one core
busy (--busy-cores N) and reports the slowdown against the quiet run. --quick: 100
steps per epoch, 3 repeats, no memory runs (a smoke check under a minute).

    python benchmarks/bench_mlp.py [--repeats 5] [--threads all] [--busy] [--quick]
                                   [--data DIR] [--no-memory] [--no-torch]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import benchtools  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import models, optim  # noqa: E402
from tinygrad_edu.data import FashionMNIST  # noqa: E402
from tinygrad_edu.nn import functional as F  # noqa: E402, N812
from tinygrad_edu.train import train_epoch  # noqa: E402
from tinygrad_edu.utils.data import DataLoader, Subset  # noqa: E402

HIDDEN, CLASSES, BATCH, LR, MOMENTUM = 128, 10, 128, 0.05, 0.9
QUICK_STEPS = 100
PAUSE = 0.3  # seconds between timed epochs (time_epochs says why)


def initial_weights(seed: int = 0) -> dict[str, np.ndarray]:
    """PyTorch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), float32."""
    rng = np.random.default_rng(seed)

    def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    return {"1.weight": uniform((HIDDEN, 784), 784), "1.bias": uniform((HIDDEN,), 784),
            "3.weight": uniform((CLASSES, HIDDEN), HIDDEN),
            "3.bias": uniform((CLASSES,), HIDDEN)}


def batch_order(n: int, seed: int = 1) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i:i + BATCH] for i in range(0, n, BATCH)]


class NumpyMLP:
    """The same network trained by hand: forward keeps what backward needs."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.w1, self.b1 = weights["1.weight"].copy(), weights["1.bias"].copy()
        self.w2, self.b2 = weights["3.weight"].copy(), weights["3.bias"].copy()
        self.params = [self.w1, self.b1, self.w2, self.b2]
        self.buffers: list[np.ndarray | None] = [None] * 4

    def epoch(self, dataset: object, batches: list[np.ndarray]) -> tuple[float, int]:
        total_loss, correct = 0.0, 0
        for idx in batches:
            x, y = dataset.get_batch(idx)
            x = x.reshape(len(idx), -1)
            n = len(y)
            h = x @ self.w1.T + self.b1
            a = np.maximum(h, 0)
            z = a @ self.w2.T + self.b2
            shifted = z - z.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            total = e.sum(axis=1, keepdims=True)
            rows = np.arange(n)
            total_loss += float(np.log(total[:, 0]).sum() - shifted[rows, y].sum())
            correct += int(np.count_nonzero(z.argmax(axis=1) == y))
            dz = e / total  # d(mean cross-entropy)/dz = (softmax - onehot) / n
            dz[rows, y] -= 1
            dz /= n
            dw2, db2 = dz.T @ a, dz.sum(axis=0)
            da = dz @ self.w2
            da *= h > 0
            dw1, db1 = da.T @ x, da.sum(axis=0)
            for i, (p, g) in enumerate(zip(self.params, (dw1, db1, dw2, db2))):
                buf = self.buffers[i]
                if buf is None:  # PyTorch's SGD: the first buffer is the gradient itself
                    buf = self.buffers[i] = g.copy()
                else:
                    buf *= MOMENTUM
                    buf += g
                p -= LR * buf
        return total_loss / len(dataset), correct

    def state(self) -> dict[str, np.ndarray]:
        return dict(zip(["1.weight", "1.bias", "3.weight", "3.bias"], self.params))


def nll_of_log_softmax(f: Any) -> Any:
    """The loss of PyTorch's MNIST example, from a functional module `f` (tinygrad_edu's
    or PyTorch's): the same numbers as f.cross_entropy, in two ops."""
    return lambda logits, y: f.nll_loss(f.log_softmax(logits, dim=1), y)


class TinygradMLP:
    """models.mlp((128,)) with optim.SGD, in the loop a user writes."""

    loss_fn = staticmethod(F.cross_entropy)

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.model = models.mlp(hidden=(HIDDEN,))
        self.model.load_state_dict(weights)
        self.optimizer = optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def epoch(self, dataset: object, batches: list[np.ndarray]) -> tuple[float, int]:
        total_loss, correct = 0.0, 0
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss_fn
        for idx in batches:
            x, y = dataset.get_batch(idx)
            x, y = tg.from_numpy(x), tg.from_numpy(y)  # as DataLoader yields them
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
            correct += int(np.count_nonzero(logits.data.argmax(axis=1) == y.data))
        return total_loss / len(dataset), correct

    def state(self) -> dict[str, np.ndarray]:
        return dict(self.model.state_dict())


class TinygradNllMLP(TinygradMLP):
    """tinygrad_edu's loop with nll_loss(log_softmax(...)) as the loss."""

    loss_fn = staticmethod(nll_of_log_softmax(F))


class TrainEpochMLP(TinygradMLP):
    """The same model and optimizer run by tinygrad_edu.train.train_epoch."""

    def epoch(self, dataset: object, batches: list[np.ndarray]) -> tuple[float, int]:
        loader = DataLoader(dataset, batch_size=BATCH, shuffle=True)
        loss, accuracy = train_epoch(self.model, loader, self.optimizer, progress=False)
        return loss, round(accuracy * len(dataset))


class TorchMLP:
    """The same network, loss, optimizer and loop in PyTorch, from the same weights."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        import torch

        nn = torch.nn
        self.torch = torch
        self.model = nn.Sequential(nn.Flatten(), nn.Linear(784, HIDDEN), nn.ReLU(),
                                   nn.Linear(HIDDEN, CLASSES))
        self.model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def loss_fn(self) -> Any:
        return self.torch.nn.functional.cross_entropy

    def epoch(self, dataset: object, batches: list[np.ndarray]) -> tuple[float, int]:
        torch = self.torch
        cross_entropy = self.loss_fn()
        total_loss, correct = 0.0, 0
        model, optimizer = self.model, self.optimizer
        for idx in batches:
            x, y = dataset.get_batch(idx)
            x, y = torch.from_numpy(x), torch.from_numpy(y)
            logits = model(x)
            loss = cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
            correct += int((logits.argmax(dim=1) == y).sum())
        return total_loss / len(dataset), correct

    def state(self) -> dict[str, np.ndarray]:
        return {k: v.detach().numpy() for k, v in self.model.state_dict().items()}


class TorchNllMLP(TorchMLP):
    """PyTorch's loop with nll_loss(log_softmax(...)) as the loss."""

    def loss_fn(self) -> Any:
        return nll_of_log_softmax(self.torch.nn.functional)


VARIANTS: dict[str, type] = {"numpy (by hand)": NumpyMLP, "tinygrad_edu": TinygradMLP,
                             "train_epoch": TrainEpochMLP, "tinygrad_edu (nll)": TinygradNllMLP}


def add_torch() -> str | None:
    """Add the PyTorch row when torch imports; its version, or None without it."""
    try:
        import torch
    except ImportError:
        return None
    VARIANTS["pytorch"] = TorchMLP
    VARIANTS["pytorch (nll)"] = TorchNllMLP
    return torch.__version__


def check_agreement(dataset: object, batches: list[np.ndarray]) -> dict[str, float]:
    """Train 20 steps in each variant with a loop of its own (tinygrad_edu, PyTorch);
    per variant, the largest weight difference from the hand-written NumPy weights,
    relative to the weight scale.

    Not a whole epoch: float32 SGD at lr 0.05 is chaotic enough that two BLAS kernels
    (OPENBLAS_CORETYPE) drift 10% apart in 469 steps, gradients right or wrong."""
    weights = initial_weights()
    reference = NumpyMLP(weights)
    ref_loss, _ = reference.epoch(dataset, batches[:20])
    worst: dict[str, float] = {}
    for name in ("tinygrad_edu", "tinygrad_edu (nll)", "pytorch", "pytorch (nll)"):
        if name not in VARIANTS:
            continue
        other = VARIANTS[name](weights)
        loss, _ = other.epoch(dataset, batches[:20])
        state = other.state()
        worst[name] = max(
            float(np.abs(state[key] - value).max() / (np.abs(value).max() + 1e-12))
            for key, value in reference.state().items())
        if worst[name] > 1e-3 or abs(ref_loss - loss) > 1e-3 * abs(ref_loss):
            raise SystemExit(f"{name} and the hand-written NumPy MLP disagree after 20 "
                             f"steps: weights differ by {worst[name]:.2e} (relative), losses "
                             f"{loss:.6f} vs {ref_loss:.6f}")
    return worst


def time_epochs(dataset: object, batches: list[np.ndarray],
                repeats: int) -> tuple[dict[str, list], dict[str, list]]:
    """Wall-clock and CPU seconds per epoch of each variant, run in turns so that load
    changes on a shared machine hit all variants alike."""
    weights = initial_weights()
    runners = {name: cls(weights) for name, cls in VARIANTS.items()}
    for runner in runners.values():  # warm-up: first-touch allocations, BLAS threads
        runner.epoch(dataset, batches[:20])
    wall: dict[str, list] = {name: [] for name in runners}
    cpu: dict[str, list] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, runner in runners.items():
            # idle first: a BLAS's worker threads spin for a while after their last call
            # (OpenBLAS about 0.1 s) and would take the cores from the next variant's threads
            time.sleep(PAUSE)
            start, start_cpu = time.perf_counter(), time.process_time()
            runner.epoch(dataset, batches)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return wall, cpu


def print_table(title: str, wall: dict[str, list], cpu: dict[str, list]) -> None:
    base = benchtools.median(wall["numpy (by hand)"])
    base_cpu = benchtools.median(cpu["numpy (by hand)"])
    print(f"\n{title}")
    print(f"{'':18s} {'wall':>8s} {'min':>8s} {'x numpy':>8s} {'cpu':>8s} {'x numpy':>8s}")
    for name in wall:
        med, med_cpu = benchtools.median(wall[name]), benchtools.median(cpu[name])
        print(f"{name:18s} {med:8.3f} {min(wall[name]):8.3f} {med / base:8.2f} "
              f"{med_cpu:8.3f} {med_cpu / base_cpu:8.2f}")
    if base > 1.5 * min(wall["numpy (by hand)"]):
        print("warning: epochs vary a lot: the machine is busy")


def child_memory(variant: str, data: str | None) -> None:
    """Run in a fresh process: one epoch of `variant`, then print its memory as JSON."""
    if variant.startswith("pytorch"):
        add_torch()
    benchtools.use_threads(1)
    dataset = FashionMNIST(root=data, train=True)
    batches = batch_order(len(dataset))
    runner = VARIANTS[variant](initial_weights())
    runner.epoch(dataset, batches[:2])  # import-time and first-call allocations
    before = benchtools.peak_kib()
    tracemalloc.start()
    runner.epoch(dataset, batches)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = benchtools.peak_kib()
    print(json.dumps({"peak_rss_mib": after / 1024, "peak_rss_before_mib": before / 1024,
                      "tracemalloc_peak_mib": peak / 2**20}))


def measure_memory(data: str | None) -> dict[str, dict]:
    results = {}
    for variant in VARIANTS:
        command = [sys.executable, __file__, "--child", variant]
        if data:
            command += ["--data", data]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per variant")
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder (default: search)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument("--threads", choices=benchtools.THREAD_CHOICES, default="all",
                    help=benchtools.THREAD_HELP)
    parser.add_argument("--busy", action="store_true",
                        help="also time under a competing CPU load; report the slowdown")
    parser.add_argument("--busy-cores", type=int, default=1, help="cores the load keeps busy")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_STEPS} steps per epoch, 3 repeats, no memory runs")
    parser.add_argument("--no-torch", action="store_true", help="leave out the PyTorch row")
    parser.add_argument("--child", choices=sorted(VARIANTS) + ["pytorch", "pytorch (nll)"],
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_memory(args.child, args.data)
        return
    torch_version = None if args.no_torch else add_torch()
    dataset: object = FashionMNIST(root=args.data, train=True)
    if args.quick:
        dataset = Subset(dataset, np.arange(QUICK_STEPS * BATCH))
        args.repeats, args.no_memory = min(args.repeats, 3), True
    batches = batch_order(len(dataset))
    print(f"784-{HIDDEN}-{CLASSES} MLP, SGD momentum {MOMENTUM} lr {LR}, batch {BATCH}, "
          f"float32, one epoch = {len(batches)} steps on {len(dataset):,} Fashion-MNIST "
          "images")
    print(benchtools.blas_report())
    if torch_version is not None:
        print(f"PyTorch {torch_version} (CPU), intra-op threads set like the BLAS threads")
    elif not args.no_torch:
        print("PyTorch is not installed: no pytorch row")
    worst = check_agreement(dataset, batches)
    print("after 20 steps from the same weights, the hand-written NumPy weights are matched "
          "to " + ", ".join(f"{value:.1e} by {name}" for name, value in worst.items())
          + " (relative)")
    print("rows: numpy by hand; tinygrad_edu in the loop a user writes (get_batch, "
          "from_numpy); train_epoch through a shuffled DataLoader; pytorch in the same loop "
          "as tinygrad_edu; (nll): the loss as nll_loss(log_softmax(logits, dim=1), y)")
    for label, threads, torch_threads in benchtools.thread_settings(args.threads):
        benchtools.use_threads(threads, torch_threads)
        wall, cpu = time_epochs(dataset, batches, args.repeats)
        print_table(f"{label}: seconds per epoch, median of {args.repeats} alternating runs",
                    wall, cpu)
        if args.busy:
            with benchtools.busy(args.busy_cores):
                busy_wall, busy_cpu = time_epochs(dataset, batches, args.repeats)
            print_table(f"{label}, {args.busy_cores} core(s) busy elsewhere", busy_wall,
                        busy_cpu)
            print("slowdown busy / quiet (median wall): " + ", ".join(
                f"{name} {benchtools.median(busy_wall[name]) / benchtools.median(wall[name]):.2f}x"
                for name in wall))
    if args.no_memory:
        return
    memory = measure_memory(args.data)
    print("\npeak memory, one epoch in a fresh process per variant, 1 thread (MiB)")
    print(f"{'':18s} {'peak RSS':>10s} {'x numpy':>8s} {'epoch peak':>11s} {'x numpy':>8s}")
    ref = memory["numpy (by hand)"]
    for name, m in memory.items():
        rss = m["peak_rss_mib"]
        print(f"{name:18s} {rss:10.1f} {rss / ref['peak_rss_mib']:8.2f} "
              f"{m['tracemalloc_peak_mib']:11.2f} "
              f"{m['tracemalloc_peak_mib'] / ref['tracemalloc_peak_mib']:8.2f}")
    print("(peak RSS: whole process incl. Python, NumPy and the 47 MB data set, and for "
          "pytorch torch's own libraries; epoch peak: tracemalloc high-water mark of the "
          "epoch's own allocations, which does not see PyTorch's tensors)")


if __name__ == "__main__":
    main()
