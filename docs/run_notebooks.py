"""Execute the tutorial notebooks (docs/*.ipynb) from a fresh kernel each, as CI does.

    python docs/run_notebooks.py                 # run them all in quick mode, report times
    python docs/run_notebooks.py --full 04       # full length, only notebooks named 04*
    python docs/run_notebooks.py --inplace       # keep the outputs (for the docs build)
    python docs/run_notebooks.py --strip         # remove outputs again, run nothing

Notebooks are committed without outputs, so that a diff shows what changed in the prose
and code; tests/test_notebooks.py checks that. Quick mode sets TINYGRAD_EDU_QUICK=1, which
the notebooks read to train on less data for fewer steps. The kernel imports this
checkout's tinygrad_edu (its folder goes first on PYTHONPATH), whatever is installed.
Needs nbclient and ipykernel: pip install -e ".[docs]".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent


def notebooks(names: list[str]) -> list[Path]:
    """docs/*.ipynb in order, or those whose file name starts with one of `names`."""
    found = sorted(DOCS.glob("*.ipynb"))
    if names:
        found = [p for p in found if any(p.name.startswith(n) for n in names)]
        if not found:
            raise SystemExit(f"run_notebooks: no notebook in {DOCS} starts with {names}")
    return found


def strip(path: Path) -> bool:
    """Remove outputs and execution counts; True if the file changed."""
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def execute(path: Path, timeout: int) -> tuple[float, object]:
    """Run every cell of `path` in a new kernel whose working folder is docs/."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(DOCS)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start, nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only notebooks whose name starts so")
    parser.add_argument("--full", action="store_true", help="full length (no quick mode)")
    parser.add_argument("--inplace", action="store_true", help="write the outputs back")
    parser.add_argument("--strip", action="store_true", help="only remove outputs")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = notebooks(args.names)
    if args.strip:
        for path in paths:
            print(f"{path.name}: {'stripped' if strip(path) else 'no outputs'}")
        return 0
    try:
        import nbclient  # noqa: F401
        import nbformat
    except ImportError as e:
        raise SystemExit(f"run_notebooks: {e.name} is missing: pip install -e '.[docs]'") from e
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    # One BLAS thread per kernel unless asked otherwise: on 2 busy cores, OpenBLAS threads
    # spinning against each other made notebook 04 run 7x slower (1.5 s vs 0.2 s a step).
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    if args.full:
        os.environ.pop("TINYGRAD_EDU_QUICK", None)
    else:
        os.environ["TINYGRAD_EDU_QUICK"] = "1"
    mode = "full" if args.full else "quick"
    failed, total = [], 0.0
    for path in paths:
        try:
            seconds, nb = execute(path, args.timeout)
        except Exception as e:  # a failing cell: report it, run the others
            failed.append(path.name)
            print(f"FAILED {path.name}:\n{e}", file=sys.stderr, flush=True)
            continue
        total += seconds
        print(f"{path.name}: ran in {seconds:.1f} s ({mode})", flush=True)
        if args.inplace:
            nbformat.write(nb, path)
    print(f"{len(paths) - len(failed)} notebooks ran, {len(failed)} failed, in {total:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
