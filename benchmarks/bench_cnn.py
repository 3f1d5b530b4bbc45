"""One training epoch of a small CNN on full Fashion-MNIST: tinygrad_edu vs NumPy vs PyTorch.

The network (models.cnn): conv(1->8, 3x3, pad 1)-ReLU-maxpool 2 -> conv(8->16, 3x3,
pad 1)-ReLU-maxpool 2 -> flatten -> linear(784 -> 10); cross-entropy, SGD with momentum
0.9, batch 128, float32. It runs in this process three ways:

- tinygrad_edu: nn.Conv2d / nn.MaxPool2d / nn.Linear, F.cross_entropy, optim.SGD,
  DataLoader, exactly as a user writes it;
- hand-written NumPy: the same network with forward and backward written out, im2col
  in the usual (N, C*k*k, H*W) layout, one batched matmul per convolution;
- PyTorch on the CPU, when it is importable.

Each epoch runs --repeats times, the three interleaved so that load from other
processes hits them alike; the minimum is reported (wall clock and CPU time) with
the ratios. Memory: each implementation then trains one more epoch alone in a fresh
process, which reports its peak resident memory (VmHWM: libraries, data and the
epoch) and the epoch's own share, the peak minus the resident memory just before
the epoch.

Two tinygrad_edu loops: through the DataLoader ("tinygrad"), and the loop a user writes
by hand ("tinygrad plain": `model(Tensor(X[idx]))`, loss, backward, step, nothing kept
between steps), which allocates every buffer afresh each step.

Threads (--threads 1|default|own|both|all, default all): one table at one thread for
every library, one at the BLAS's own count (the machine's cores) for every library, and
one with each library at its own default (tinygrad_edu one BLAS thread, PyTorch its
intra-op count), switched in this process (threadpoolctl for NumPy's BLAS,
torch.set_num_threads for PyTorch). --busy also times everything while another
process keeps a core busy and reports the slowdown. --quick: 20 batches per epoch, 2
repeats, no memory runs.

    python benchmarks/bench_cnn.py [--repeats 3] [--threads all] [--batches N] [--busy]
                                   [--quick]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--repeats", type=int, default=3, help="epochs per implementation")
parser.add_argument("--threads", choices=("1", "default", "own", "both", "all"), default="all",
                    help="1: one thread for all; default: the BLAS's own count for all; own: "
                    "each library at its own default; both: 1 and default; all: all three")
parser.add_argument("--batches", type=int, default=None, help="batches per epoch (default: all)")
parser.add_argument("--only", default="tinygrad,tinygrad plain,numpy,torch",
                    help="comma-separated subset of tinygrad,tinygrad plain,numpy,torch")
parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
parser.add_argument("--busy", action="store_true",
                    help="also time under a competing CPU load; report the slowdown")
parser.add_argument("--busy-cores", type=int, default=1, help="cores the load keeps busy")
parser.add_argument("--quick", action="store_true", help="20 batches, 2 repeats, no memory")
parser.add_argument("--child", default=None, help=argparse.SUPPRESS)  # one epoch, fresh process
args = parser.parse_args()
if args.quick:
    args.batches, args.repeats, args.no_memory = 20, min(args.repeats, 2), True

import benchtools  # noqa: E402
import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import nn, optim  # noqa: E402
from tinygrad_edu.data import FashionMNIST  # noqa: E402
from tinygrad_edu.nn import functional as F  # noqa: E402, N812
from tinygrad_edu.nn.conv import Conv2d, MaxPool2d  # noqa: E402
from tinygrad_edu.utils.data import DataLoader  # noqa: E402

BATCH, LR, MOMENTUM = 128, 0.05, 0.9


# ---------------------------------------------------------------------------
# The network three ways
# ---------------------------------------------------------------------------


def tinygrad_model() -> tuple[nn.Module, optim.SGD]:
    tg.manual_seed(0)
    model = nn.Sequential(
        Conv2d(1, 8, 3, padding=1), nn.ReLU(), MaxPool2d(2),
        Conv2d(8, 16, 3, padding=1), nn.ReLU(), MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
    )
    return model, optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)


def tinygrad_runner(images: np.ndarray, labels: np.ndarray, dataset: FashionMNIST,
                    batches: int) -> Callable[[], float]:
    model, optimizer = tinygrad_model()
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True)

    def epoch() -> float:
        total = 0.0
        for step, (x, y) in enumerate(loader):
            if step == batches:
                break
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        return total / min(batches, len(loader))

    return epoch


def tinygrad_plain_runner(images: np.ndarray, labels: np.ndarray, dataset: FashionMNIST,
                          batches: int) -> Callable[[], float]:
    """The loop a user writes by hand: index the float32 images, wrap, step."""
    model, optimizer = tinygrad_model()
    rng = np.random.default_rng(0)

    def epoch() -> float:
        order = rng.permutation(len(images))
        total = 0.0
        for step in range(batches):
            idx = order[step * BATCH:(step + 1) * BATCH]
            loss = F.cross_entropy(model(tg.Tensor(images[idx])), tg.Tensor(labels[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        return total / batches

    return epoch


def _im2col(x: np.ndarray, k: int, pad: int) -> np.ndarray:
    """(N, C, H, W) -> (N, C*k*k, H*W) for stride 1 and 'same' padding."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(padded, (k, k), axis=(2, 3))  # (N, C, H, W, k, k)
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * k * k, h * w)


def _col2im(cols: np.ndarray, shape: tuple, k: int, pad: int) -> np.ndarray:
    n, c, h, w = shape
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    taps = cols.reshape(n, c, k, k, h, w)
    for i in range(k):
        for j in range(k):
            padded[:, :, i:i + h, j:j + w] += taps[:, :, i, j]
    return padded[:, :, pad:pad + h, pad:pad + w]


class NumpyCNN:
    """The benchmark network by hand: forward keeps what backward needs."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)

        def uniform(shape: tuple, fan_in: int) -> np.ndarray:
            bound = 1 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, shape).astype(np.float32)

        self.params = [uniform((8, 1, 3, 3), 9), uniform((8,), 9),
                       uniform((16, 8, 3, 3), 72), uniform((16,), 72),
                       uniform((10, 784), 784), uniform((10,), 784)]
        self.velocity = [np.zeros_like(p) for p in self.params]

    @staticmethod
    def _conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple:
        n, _, h, width = x.shape
        cols = _im2col(x, 3, 1)
        out = np.matmul(w.reshape(w.shape[0], -1), cols) + b[:, None]
        return out.reshape(n, w.shape[0], h, width), cols

    @staticmethod
    def _conv_backward(g: np.ndarray, x_shape: tuple, cols: np.ndarray, w: np.ndarray,
                       need_input: bool) -> tuple:
        n, o = g.shape[:2]
        g = g.reshape(n, o, -1)
        gw = np.matmul(g, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
        gb = g.sum(axis=(0, 2))
        gx = None
        if need_input:
            gx = _col2im(np.matmul(w.reshape(o, -1).T, g), x_shape, 3, 1)
        return gx, gw, gb

    @staticmethod
    def _pool_forward(x: np.ndarray) -> tuple:
        """2x2 max pool; the gradient goes to the first maximum of each window."""
        n, c, h, w = x.shape
        windows = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
        windows = windows.reshape(n, c, h // 2, w // 2, 4)
        winner = windows.argmax(axis=-1)
        return np.take_along_axis(windows, winner[..., None], -1)[..., 0], winner

    @staticmethod
    def _pool_backward(g: np.ndarray, winner: np.ndarray) -> np.ndarray:
        n, c, oh, ow = g.shape
        spread = (np.arange(4) == winner[..., None]) * g[..., None]  # (n, c, oh, ow, 4)
        spread = spread.reshape(n, c, oh, ow, 2, 2).transpose(0, 1, 2, 4, 3, 5)
        return spread.reshape(n, c, oh * 2, ow * 2)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        w1, b1, w2, b2, w3, b3 = self.params
        a1, cols1 = self._conv_forward(x, w1, b1)
        r1 = np.maximum(a1, 0)
        p1, win1 = self._pool_forward(r1)
        a2, cols2 = self._conv_forward(p1, w2, b2)
        r2 = np.maximum(a2, 0)
        p2, win2 = self._pool_forward(r2)
        flat = p2.reshape(len(x), -1)
        logits = flat @ w3.T + b3
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(len(y)), y].mean()
        g = np.exp(logp)
        g[np.arange(len(y)), y] -= 1
        g /= len(y)
        g3, gb3 = g.T @ flat, g.sum(axis=0)
        g = (g @ w3).reshape(p2.shape)
        g = self._pool_backward(g, win2) * (a2 > 0)
        g, g2, gb2 = self._conv_backward(g, p1.shape, cols2, w2, True)
        g = self._pool_backward(g, win1) * (a1 > 0)
        _, g1, gb1 = self._conv_backward(g, x.shape, cols1, w1, False)
        for p, v, grad in zip(self.params, self.velocity, (g1, gb1, g2, gb2, g3, gb3)):
            v *= MOMENTUM
            v += grad
            p -= LR * v
        return float(loss)


def numpy_runner(images: np.ndarray, labels: np.ndarray, dataset: FashionMNIST,
                 batches: int) -> Callable[[], float]:
    net = NumpyCNN()
    rng = np.random.default_rng(0)

    def epoch() -> float:
        order = rng.permutation(len(images))
        total = 0.0
        for step in range(batches):
            idx = order[step * BATCH:(step + 1) * BATCH]
            total += net.step(images[idx], labels[idx])
        return total / batches

    return epoch


def torch_runner(images: np.ndarray, labels: np.ndarray, dataset: FashionMNIST,
                 batches: int) -> Callable[[], float]:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels)
    generator = torch.Generator().manual_seed(0)

    def epoch() -> float:
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for step in range(batches):
            idx = order[step * BATCH:(step + 1) * BATCH]
            loss = torch.nn.functional.cross_entropy(model(x_all[idx]), y_all[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        return total / batches

    return epoch


# ---------------------------------------------------------------------------


def memory_child(name: str) -> None:
    """Train one epoch of `name` in this (fresh) process and print its memory figures."""
    dataset = FashionMNIST(train=True)
    images = np.divide(dataset.images[:, None], 255, dtype=np.float32)
    full = -(-len(dataset) // BATCH)
    batches = full if args.batches is None else min(args.batches, full)
    runner = RUNNERS[name]
    epoch = runner(images, dataset.targets, dataset, batches)
    benchtools.use_threads(1)  # after the runner, which may have loaded PyTorch
    # the NumPy and PyTorch runners keep the float32 images (188 MB, counted in their
    # peak but not in the epoch's share); tinygrad's DataLoader converts uint8 batches
    del images
    gc.collect()
    before = benchtools.status_kib("VmRSS") or 0
    try:  # start a new high-water mark, so that loading the data does not count
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    epoch()
    print(f"memory {benchtools.peak_kib()} {before}")


def measure_memory(names: list[str]) -> dict[str, tuple[float, float]]:
    """{name: (peak MiB, epoch MiB)}, each from its own fresh process."""
    import subprocess

    result = {}
    for name in names:
        command = [sys.executable, __file__, "--child", name]
        if args.batches is not None:
            command += ["--batches", str(args.batches)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("memory ")]
        if done.returncode != 0 or not lines:
            print(f"  memory run of {name} failed:\n{done.stderr[-2000:]}")
            continue
        peak, before = (int(v) for v in lines[-1].split()[1:])
        result[name] = (peak / 1024, (peak - before) / 1024)
    return result


RUNNERS = {"tinygrad": tinygrad_runner, "tinygrad plain": tinygrad_plain_runner,
           "numpy": numpy_runner, "torch": torch_runner}


def time_epochs(epochs: dict[str, Callable[[], float]], label: str) -> dict[str, list]:
    """Wall-clock seconds per epoch, the implementations interleaved."""
    wall: dict[str, list] = {name: [] for name in epochs}
    cpu: dict[str, list] = {name: [] for name in epochs}
    for repeat in range(args.repeats):
        for name, epoch in epochs.items():
            w0, c0 = time.perf_counter(), time.process_time()
            loss = epoch()
            w1, c1 = time.perf_counter(), time.process_time()
            wall[name].append(w1 - w0)
            cpu[name].append(c1 - c0)
            print(f"  {label}, epoch {repeat + 1} {name:15s} {w1 - w0:6.2f} s wall, "
                  f"{c1 - c0:6.2f} s CPU, mean loss {loss:.4f}", flush=True)
    return wall


def print_table(title: str, wall: dict[str, list], memory: dict) -> None:
    print(f"\n{title}: seconds per epoch (median of {args.repeats}); memory of one epoch "
          "in a fresh process at 1 thread, MiB:")
    print(f"  {'':15s} {'wall':>8s} {'min':>8s} {'peak RSS':>9s} {'epoch':>8s}")
    for name in wall:
        peak, grown = memory.get(name, (float("nan"), float("nan")))
        print(f"  {name:15s} {benchtools.median(wall[name]):8.2f} {min(wall[name]):8.2f} "
              f"{peak:9.1f} {grown:8.1f}")
    for ours in ("tinygrad", "tinygrad plain"):
        for other in ("numpy", "torch"):
            if ours in wall and other in wall:
                ratio = benchtools.median(wall[ours]) / benchtools.median(wall[other])
                print(f"  {ours} / {other}: {ratio:.2f}x (median wall)")


def main() -> None:
    if args.child is not None:
        memory_child(args.child)
        return
    dataset = FashionMNIST(train=True)
    images = np.divide(dataset.images[:, None], 255, dtype=np.float32)
    labels = dataset.targets
    full = -(-len(dataset) // BATCH)
    batches = full if args.batches is None else min(args.batches, full)
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    epochs = {}
    for name in wanted:
        if name == "torch":
            try:
                import torch
            except ImportError:
                print("PyTorch is not importable: skipping it")
                continue
            print(f"PyTorch {torch.__version__}")
        epochs[name] = RUNNERS[name](images, labels, dataset, batches)
    print(f"NumPy {np.__version__}; {batches} batches of {BATCH} per epoch; "
          f"{args.repeats} epochs each")
    print(benchtools.blas_report())
    results = []
    for label, threads, torch_threads in benchtools.thread_settings(args.threads):
        benchtools.use_threads(threads, torch_threads)
        for epoch in epochs.values():  # warm-up at this setting
            epoch()
        quiet = time_epochs(epochs, label)
        results.append((label, quiet))
        if args.busy:
            with benchtools.busy(args.busy_cores):
                loaded = time_epochs(epochs, f"{label}, busy")
            results.append((f"{label}, {args.busy_cores} core(s) busy elsewhere", loaded))
            print(f"  slowdown busy / quiet at {label}: " + ", ".join(
                f"{name} {benchtools.median(loaded[name]) / benchtools.median(quiet[name]):.2f}x"
                for name in quiet))
    memory = {} if args.no_memory else measure_memory(list(epochs))
    for label, wall in results:
        print_table(label, wall, memory)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
