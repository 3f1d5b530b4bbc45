"""The first backward pass makes freed array memory stay with the process (memory.py):
a training step's buffers are then reused instead of being faulted in afresh from the
kernel. Measured by page faults in a fresh interpreter: 8 arrays of 4 MiB made and
freed together, over and over."""

import os
import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the allocator settings are glibc's; elsewhere nothing changes")

PROGRAM = textwrap.dedent("""
    import resource, numpy as np
    import tinygrad_edu as tg

    def faults_per_round(rounds=10):
        cycle()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(rounds):
            cycle()
        return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / rounds

    def cycle():
        arrays = [np.ones(2**20, np.float32) for _ in range(8)]  # every page written
        del arrays

    print(faults_per_round())
    ACTION
    print(faults_per_round())
""")
BACKWARD = "x = tg.tensor([1.0, 2.0], requires_grad=True); (x * x).sum().backward()"
PAGES = 8 * 2**22 // 4096  # the pages of one round's 32 MiB


def faults(action: str = BACKWARD, **env: str) -> list[float]:
    """Page faults per round before and after `action`, in a fresh interpreter."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    environment.update(env)
    out = subprocess.run([sys.executable, "-c", PROGRAM.replace("ACTION", action)],
                         capture_output=True, text=True, env=environment, check=True).stdout
    return [float(line) for line in out.split()]


def test_importing_changes_nothing_and_the_first_backward_keeps_freed_memory():
    after_import, after_backward = faults()
    assert after_import > PAGES / 4  # glibc default: the pages come back from the kernel
    assert after_backward < PAGES / 40  # kept: the next round reuses them


def test_the_environment_can_keep_glibc_defaults():
    after_import, after_backward = faults(TINYGRAD_EDU_KEEP_FREED_MEMORY="0")
    assert after_import > PAGES / 4 and after_backward > PAGES / 4


def test_keep_freed_memory_applies_at_once():
    after_import, after_call = faults("assert tg.keep_freed_memory()")
    assert after_import > PAGES / 4 and after_call < PAGES / 40
