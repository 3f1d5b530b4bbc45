"""Keep the memory of freed arrays for the next training step instead of handing it back
to the operating system: the reuse of buffers that PyTorch's allocators give it, done
here through the C library's allocator (glibc's malloc; elsewhere nothing changes).

Why: NumPy takes every array from malloc. By default glibc serves large blocks with
fresh pages from the kernel and hands freed memory back beyond a threshold (128 KiB at
first, raised as blocks are freed), so each step of a CNN (megabyte activations and
im2col buffers, made and freed every step) faulted in its memory page by page:
measured on a small CNN (batch 128, one thread), 4,900 page faults and 11.8 ms of kernel
time per step, in a 24.7 ms step; with the settings below, no page faults and 13.4 ms.
Two glibc settings do it: blocks up to 32 MiB (glibc's largest
setting) come from the heap instead of the kernel, and up to 256 MiB of freed heap stay
in the process. The peak memory is unchanged (freed memory is reused, not added to);
after a peak, up to 256 MiB of it stay with the process instead of going back.

`use_default_memory()`, which `backward()` calls, applies them at the first backward
pass, once, unless TINYGRAD_EDU_KEEP_FREED_MEMORY=0 or glibc's own variables
(MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_) are set: the user chose. Importing
the package changes nothing; `keep_freed_memory()` applies them at once.
"""

from __future__ import annotations

import ctypes
import os
import platform

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # the largest value glibc accepts on 64-bit machines
TRIM_THRESHOLD = 256 * 2**20
OPT_OUT = "TINYGRAD_EDU_KEEP_FREED_MEMORY"
GLIBC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")

_decided = False  # True once the default was applied or declined


def keep_freed_memory() -> bool:
    """Apply the two allocator settings now; True when they took effect (glibc only)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success; the mmap limit first, as setting it turns glibc's
    # sliding limit off and the trim limit must then be set explicitly too
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def use_default_memory() -> None:
    """keep_freed_memory(), once, unless the environment says otherwise."""
    global _decided
    if _decided:
        return
    _decided = True
    if os.environ.get(OPT_OUT, "1") == "0" or any(os.environ.get(v) for v in GLIBC_VARIABLES):
        return
    keep_freed_memory()
