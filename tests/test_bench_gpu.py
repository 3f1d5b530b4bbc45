"""benchmarks/bench_gpu.py: its no-GPU message, and every code path on the stand-in device
(a smoke run of a few steps; the GPU figures themselves need a GPU)."""

import sys
from pathlib import Path

import pytest

import tinygrad_edu as tg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_gpu  # noqa: E402


def test_says_plainly_when_no_gpu_is_present(capsys):
    if tg.cuda.is_available():
        pytest.skip("a GPU is present")
    assert bench_gpu.main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("no GPU: tinygrad_edu.cuda.is_available() is False")
    assert "Nothing was measured." in out


def test_smoke_run_on_the_standin_device_prints_the_table_last(capsys):
    assert bench_gpu.main(["--device", "standin"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert "SMOKE TEST" in out and "op check" in out
    assert "FAILED" not in out
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == 6 and table[0].startswith("| workload | batch | tinygrad_edu")
    assert lines[-1].startswith("(one epoch each")
