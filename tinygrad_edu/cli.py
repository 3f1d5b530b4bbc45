"""The `tinygrad-edu` command: demo, train (train_command.py), graph, gradcheck, exercise.

Subcommands import what they need when they run, so `import tinygrad_edu.cli` and
`tinygrad-edu --version` stay light.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .train_command import add_train_arguments
from .train_command import positive_int as _positive_int  # shared by gradcheck
from .version import __version__


def _add_graph_command(sub: Any, populate: bool) -> None:
    """`tinygrad-edu graph`: its arguments belong to tinygrad_edu.viz, imported only
    when the command line asks for it."""
    graph = sub.add_parser("graph", help="draw the computation graph of an example model "
                           "(svg, png, pdf, dot, or an html animation of backward)")
    if not populate:
        return
    from .viz.command import add_graph_arguments

    add_graph_arguments(graph)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser; `argv` tells it whether the graph command needs its arguments."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="tinygrad_edu: a small, readable autodiff framework on NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"tinygrad-edu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="fit a tiny MLP to a toy data set and print the loss")
    demo.add_argument("--steps", type=int, default=300)
    train = sub.add_parser(
        "train", help="train a model on MNIST or Fashion-MNIST",
        description="Train an MLP or a CNN on MNIST or Fashion-MNIST: a progress bar "
                    "per epoch and the test accuracy. After every epoch --out gets "
                    "config.json, history.json, model.npz (the last weights), best.npz "
                    "(the weights of the best test accuracy) and last.npz (what --resume "
                    "continues from); with matplotlib, PNG plots at the end. Ctrl-C stops "
                    "after the current step and keeps the last finished epoch.",
    )
    add_train_arguments(train)
    _add_graph_command(sub, populate=argv is not None and "graph" in argv)
    check = sub.add_parser(
        "gradcheck", help="check ops' gradients against finite differences",
        description="Check registered ops (all of them, or those named) against central "
                    "finite differences in float64, on inputs hypothesis draws from each "
                    "op's domain: first and second order. With --import, check the ops "
                    "of your own module instead. Needs hypothesis (the dev extra).",
    )
    check.add_argument("ops", nargs="*", metavar="OP", help="op names, e.g. Mul Tanh Unfold")
    check.add_argument("--import", dest="module", metavar="MODULE",
                       help="check the ops that MODULE defines (imported from the current "
                            "directory, e.g. --import myops)")
    check.add_argument("--examples", type=_positive_int, default=10,
                       help="inputs per op (default: %(default)s)")
    check.add_argument("--first-order", action="store_true", help="skip gradgradcheck")
    check.add_argument("--list", action="store_true", help="list the ops and their rules")
    _add_exercise_command(sub, populate=argv is not None and "exercise" in argv)
    return parser


# -- exercise: the student kit (tinygrad_edu/exercise) -------------------------


def _add_exercise_command(sub: Any, populate: bool) -> None:
    """`tinygrad-edu exercise new|check`: its arguments live in tinygrad_edu.exercise."""
    exercise = sub.add_parser("exercise", help="a kit of ops whose backward passes you "
                              "write, and its grader")
    if not populate:
        return
    from .exercise.command import add_exercise_arguments

    add_exercise_arguments(exercise)


def _run_exercise(args: argparse.Namespace) -> int:
    from .exercise.command import run_exercise

    return run_exercise(args)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit status (141 when stdout was closed early)."""
    try:
        try:
            return _dispatch(sys.argv[1:] if argv is None else list(argv))
        finally:
            # Flush here, not at interpreter exit, so a closed pipe raises where it is caught.
            sys.stdout.flush()
    except BrokenPipeError:
        # `tinygrad-edu gradcheck --list | head`: the reader left, stop quietly as Unix
        # tools do (128 + SIGPIPE), and keep Python from failing again on the final flush.
        _discard_stdout()
        return 141


def _discard_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file behind stdout (e.g. captured in tests)
        pass


def _dispatch(argv: list[str]) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        run_demo(steps=args.steps)
        return 0
    if args.command == "train":
        from .train_command import run_train

        return run_train(args)
    if args.command == "graph":
        from .viz.command import run_graph

        return run_graph(args)
    if args.command == "gradcheck":
        return run_gradcheck(args)
    if args.command == "exercise":
        return _run_exercise(args)
    parser.print_help()
    return 0


def run_gradcheck(args: argparse.Namespace) -> int:
    """The `gradcheck` command: 0 when every op passes, 1 on a failure, 2 on bad input."""
    from . import check_ops

    try:
        ops = (check_ops.registered_ops() if args.module is None
               else check_ops.module_ops(args.module))
    except check_ops.OpImportError as error:
        print(f"tinygrad-edu {error}", file=sys.stderr)
        return 2
    if args.list:
        for name, op in ops.items():
            print(f"{name:<12} {op.rule()}")
        return 0
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        print("tinygrad-edu gradcheck: needs hypothesis to draw inputs; "
              "pip install hypothesis (or the package's dev extra)", file=sys.stderr)
        return 2
    try:
        results = check_ops.check_ops(args.ops, args.examples, not args.first_order, ops=ops)
    except KeyError as error:
        print(f"tinygrad-edu {error.args[0]}", file=sys.stderr)
        return 2
    return 1 if any(r.error is not None for r in results) else 0



if __name__ == "__main__":
    sys.exit(main())
