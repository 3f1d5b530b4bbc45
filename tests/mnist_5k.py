"""Where the tests find the real MNIST subset (5,000 train / 10,000 test digits).

CI sets TINYGRAD_EDU_MNIST_5K; by default it is ../shared/data/mnist-5k beside the
repository. Tests that need it are skipped, with the reason, when it is absent."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MNIST_5K = Path(os.environ.get("TINYGRAD_EDU_MNIST_5K") or REPO.parent / "shared/data/mnist-5k")
HAVE_MNIST_5K = (MNIST_5K / "train-images-idx3-ubyte.gz").is_file()
SKIP_REASON = f"MNIST-5k not found at {MNIST_5K} (set TINYGRAD_EDU_MNIST_5K)"
needs_5k = pytest.mark.skipif(not HAVE_MNIST_5K, reason=SKIP_REASON)
