"""examples/seed_784_10_10.py follows the posts' protocol: every row, 1,000 dev, the rest train."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mnist_5k import MNIST_5K, needs_5k

REPO = Path(__file__).resolve().parents[1]


def run_seed(*args: str) -> subprocess.CompletedProcess:
    # the checkout's package, whether or not it is installed
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    return subprocess.run([sys.executable, str(REPO / "examples/seed_784_10_10.py"), *args],
                          capture_output=True, text=True, timeout=300, cwd=REPO, env=env)


def write_kaggle_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    table = np.column_stack([rng.integers(0, 10, rows), rng.integers(0, 256, (rows, 784))])
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    np.savetxt(path, table, fmt="%d", delimiter=",", header=header, comments="")


def test_seed_example_uses_every_csv_row(tmp_path):
    csv = tmp_path / "train.csv"
    write_kaggle_csv(csv, 1234)
    done = run_seed("--csv", str(csv), "--steps", "3")
    assert done.returncode == 0, done.stderr
    assert "1,234 digits" in done.stdout and "234 train / 1,000 dev" in done.stdout
    assert "after 3 steps" in done.stdout


def test_seed_example_refuses_too_few_rows(tmp_path):
    csv = tmp_path / "small.csv"
    write_kaggle_csv(csv, 1000)
    done = run_seed("--csv", str(csv), "--steps", "3")
    assert done.returncode != 0
    assert "need more than 1,000 labeled digits" in done.stderr and "has 1,000" in done.stderr


@needs_5k
def test_seed_example_on_mnist_training_split():
    done = run_seed("--data", str(MNIST_5K), "--steps", "20")
    assert done.returncode == 0, done.stderr
    assert "5,000 digits from the MNIST training set" in done.stdout
    assert "4,000 train / 1,000 dev" in done.stdout and "after 20 steps" in done.stdout
    assert "official test set (10,000 digits): " in done.stdout


@pytest.mark.parametrize("flag", ["--csv", "--data"])
def test_seed_example_help_names_its_sources(flag):
    done = run_seed("--help")
    assert done.returncode == 0 and flag in done.stdout
