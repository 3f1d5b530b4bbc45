"""benchmarks/bench_ops.py: every surveyed op runs forward and backward in tinygrad_edu
(and in PyTorch where it is importable), so the survey cannot rot into errors."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_ops  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu.nn import functional as F  # noqa: E402, N812


@pytest.mark.parametrize("name", list(bench_ops.OPS))
def test_surveyed_op_runs_and_gives_gradients(name):
    n = bench_ops.inputs(tg, F, tg.tensor)
    both, forward = bench_ops.timings(n, bench_ops.OPS[name], tg.no_grad, number=1)
    assert both > 0 and forward > 0
    assert any(leaf.grad is not None for leaf in n.leaves)


@pytest.mark.parametrize("name", list(bench_ops.OPS))
def test_surveyed_op_runs_in_pytorch(name):
    torch = pytest.importorskip("torch")
    n = bench_ops.inputs(torch, torch.nn.functional, torch.tensor)
    bench_ops.timings(n, bench_ops.OPS[name], torch.no_grad, number=1)
    assert any(leaf.grad is not None for leaf in n.leaves)
