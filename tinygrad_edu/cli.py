"""The `tinygrad-edu` command."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="tinygrad_edu: a small, readable autodiff framework on NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"tinygrad-edu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="fit a tiny MLP to a toy data set and print the loss")
    demo.add_argument("--steps", type=int, default=1500)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        run_demo(steps=args.steps)
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
