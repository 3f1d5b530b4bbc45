"""Packaging promises: a light import, the public names, the console script."""

import subprocess
import sys

import tinygrad_edu


def test_import_is_light():
    code = ("import sys, tinygrad_edu; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'graphviz', 'tqdm', 'matplotlib', 'hypothesis', 'torch', 'scipy'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_exist():
    for name in tinygrad_edu.__all__:
        assert getattr(tinygrad_edu, name) is not None, name


def test_console_script_prints_version():
    out = subprocess.run([sys.executable, "-m", "tinygrad_edu", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"tinygrad-edu {tinygrad_edu.__version__}"


def test_demo_loss_falls():
    from tinygrad_edu.demo import run_demo

    losses = run_demo(steps=300)
    assert losses[-1] < 0.8 * losses[0]
