"""set_num_threads / get_num_threads and the one-thread default applied at the first backward."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_edu as tg

pytest.importorskip("threadpoolctl")
ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh process: the default is applied once per process, and BLAS reads its
# environment variables when NumPy loads it.
SCRIPT = """
import json, sys
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits
threadpool_limits(2)  # as if the machine's default were two threads
import tinygrad_edu as tg
seen = {"after import": tg.get_num_threads()}
if sys.argv[1] == "choose first":
    tg.set_num_threads(2)
x = tg.Tensor(np.ones((3, 3), np.float32), requires_grad=True)
(x @ x).sum().backward()
seen["after backward"] = tg.get_num_threads()
tg.set_num_threads(2)
(x @ x).sum().backward()
seen["chosen later"] = tg.get_num_threads()
seen["blas"] = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
print(json.dumps(seen))
"""


def run_fresh(mode: str, **env: str) -> dict:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("OpenBLAS caps its threads at the number of cores; this needs two")
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                          "BLIS_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], cwd=ROOT, capture_output=True,
                          text=True, env={**clean, **env}, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_default_is_one_thread_from_the_first_backward_and_later_choices_win() -> None:
    seen = run_fresh("default")
    assert seen["after import"] == 2  # importing changes nothing
    assert seen["after backward"] == 1
    assert seen["chosen later"] == 2
    assert seen["blas"] == [2]


def test_an_earlier_choice_wins_over_the_default() -> None:
    seen = run_fresh("choose first")
    assert seen["after backward"] == 2


def test_an_environment_variable_counts_as_a_choice() -> None:
    seen = run_fresh("default", OMP_NUM_THREADS="2")
    assert seen["after backward"] == 2


def test_set_and_get_round_trip() -> None:
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1
    finally:
        tg.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_set_num_threads_refuses_bad_counts(bad: object) -> None:
    before = tg.get_num_threads()
    with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
        tg.set_num_threads(bad)  # type: ignore[arg-type]
    assert tg.get_num_threads() == before
