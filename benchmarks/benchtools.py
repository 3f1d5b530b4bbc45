"""What the benchmarks share: thread settings, a competing CPU load, the BLAS report, and
a process's peak resident memory.

Thread settings are switched inside one process with threadpoolctl (through
tinygrad_edu.set_num_threads) and torch.set_num_threads, so the runs at one thread, at
the BLAS's own count and at each library's own default compare the same process on the
same data.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu.threads import DEFAULT_THREADS  # noqa: E402

# What BLAS chose before anything here changed it: the machine's cores, for OpenBLAS
BLAS_DEFAULT = tg.get_num_threads()
THREAD_CHOICES = ("1", "default", "own", "both", "all")
THREAD_HELP = ("1: one thread for every library; default: the BLAS's own count "
               f"({BLAS_DEFAULT} here) for every library; own: each library at its own "
               f"default (tinygrad_edu {DEFAULT_THREADS} BLAS thread, which NumPy by hand "
               "shares; PyTorch its own intra-op count); both: 1 and default; all: 1, "
               "default and own")

SPIN = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"

_torch_default: list[int] = []  # PyTorch's own thread count, read before anything set it


def torch_default_threads() -> int | None:
    """PyTorch's default intra-op threads (None when torch is not loaded), as it chose
    them before use_threads first changed them."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if not _torch_default:
        _torch_default.append(torch.get_num_threads())
    return _torch_default[0]


def thread_settings(choice: str) -> list[tuple[str, int, int | None]]:
    """--threads choice -> [(label, BLAS threads, PyTorch threads)]; see THREAD_HELP.
    PyTorch's count is None where torch is not loaded."""
    torch_own = torch_default_threads()
    own_label = (f"each at its default (tinygrad_edu {DEFAULT_THREADS} thread"
                 + (f", PyTorch {torch_own}" if torch_own is not None else "") + ")")
    settings = {"1": [("1 thread", 1, 1)],
                "default": [(f"{BLAS_DEFAULT} threads (the BLAS default)", BLAS_DEFAULT,
                             BLAS_DEFAULT)],
                "own": [(own_label, DEFAULT_THREADS, torch_own)]}
    settings["both"] = settings["1"] + settings["default"]
    settings["all"] = settings["both"] + settings["own"]
    return settings[choice]


def use_threads(blas: int, torch_threads: int | None = None) -> None:
    """`blas` BLAS threads for NumPy (and so tinygrad_edu), and `torch_threads` (None:
    the same count) for PyTorch if it is loaded."""
    tg.set_num_threads(blas)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch_default_threads()  # read PyTorch's own count before the first change
        torch.set_num_threads(blas if torch_threads is None else torch_threads)


def blas_report() -> str:
    """One line: NumPy's BLAS, its kernel and threads, and environment overrides."""
    from threadpoolctl import threadpool_info

    libs = [f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('architecture', '?')} "
            f"kernel, {lib['num_threads']} threads)"
            for lib in threadpool_info() if lib["user_api"] == "blas"]
    line = "BLAS: " + ("; ".join(libs) or "none found")
    forced = [f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
              if k in os.environ]
    if forced:
        line += (f"\nwarning: {' '.join(forced)} is set: OpenBLAS runs that kernel, not the "
                 "one it chooses for this processor (faster or slower); unset it for this "
                 "command to benchmark the machine's own")
    return line + f"\n{os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.2f}"


@contextlib.contextmanager
def busy(cores: int = 1, seconds: float = 3600) -> Iterator[None]:
    """Keep `cores` cores busy with spinning processes while the block runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN.format(seconds=seconds)])
                for _ in range(cores)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def status_kib(field: str) -> int | None:
    """A KiB figure of this process from Linux's /proc/self/status (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_kib() -> int:
    """This process's peak resident set in KiB: VmHWM where Linux gives it, ru_maxrss
    elsewhere. ru_maxrss survives fork and exec, so a child started by a parent that was
    larger (one that imported torch, say) reports the parent's size; VmHWM starts afresh."""
    hwm = status_kib("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
