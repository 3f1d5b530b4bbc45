"""`tinygrad-edu exercise new DIR` and `tinygrad-edu exercise check DIR [LESSON|OP ...]`."""

from __future__ import annotations

import argparse
import sys

from .lessons import LESSONS
from .templates import DEFAULT_EXAMPLES


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_exercise_arguments(parser: argparse.ArgumentParser) -> None:
    """The `exercise` command's two actions and their arguments."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    new = actions.add_parser(
        "new", help="write a kit: the ops with their backward passes blanked",
        description="Write a student kit into DIR: one file per lesson "
                    f"({', '.join(LESSONS)}) holding the library's ops with forward, "
                    "domain and derivative rule kept and backward left to write, a test "
                    "file per lesson and a README.")
    new.add_argument("folder", metavar="DIR", help="a new or empty folder")
    new.add_argument("--force", action="store_true",
                     help="write into a non-empty DIR, overwriting the kit's files there "
                          "(lesson files included)")
    check = actions.add_parser(
        "check", help="grade a kit's ops: passed, failed or not implemented yet",
        description="Grade the ops of the kit in DIR with check_op (finite differences in "
                    "float64, first and second order): a table, the report of each "
                    "failure, and exit status 0 only when every op checked passes. "
                    "Needs hypothesis (the dev extra).")
    check.add_argument("folder", metavar="DIR", help="the kit's folder (. when inside it)")
    check.add_argument("names", nargs="*", metavar="LESSON|OP",
                       help=f"lessons ({', '.join(LESSONS)}) or ops (e.g. MyTanh); "
                            "default: all")
    check.add_argument("--examples", type=_positive_int, default=DEFAULT_EXAMPLES,
                       help="inputs drawn per op and order (default: %(default)s)")
    check.add_argument("--seed", type=int, default=None,
                       help="draw other inputs (default: the same ones on every run)")


def run_exercise(args: argparse.Namespace) -> int:
    """The `exercise` command; returns the exit status (2 for bad input)."""
    if args.action == "new":
        return _run_new(args)
    return _run_check(args)


def _run_new(args: argparse.Namespace) -> int:
    from .kit import KitExistsError, write_kit

    try:
        written = write_kit(args.folder, force=args.force)
    except (KitExistsError, OSError) as error:
        print(f"tinygrad-edu {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} files to {args.folder}: README.md, "
          f"{len(LESSONS)} lessons ({', '.join(LESSONS)}) and their tests")
    print(f"next: cd {args.folder} && tinygrad-edu exercise check . elementwise")
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from . import grading

    try:
        import hypothesis  # noqa: F401  (check_op draws inputs with it)
    except ImportError:
        print("tinygrad-edu exercise check: needs hypothesis to draw inputs; "
              "pip install hypothesis (or the package's dev extra)", file=sys.stderr)
        return 2
    try:
        folder = grading.check_folder(args.folder)
        chosen = grading.selection(args.names)
    except grading.KitError as error:
        print(f"tinygrad-edu {error}", file=sys.stderr)
        return 2
    print(f"checking the kit in {folder}: {', '.join(lesson.name for lesson, _ in chosen)}; "
          f"{args.examples} inputs per op and order, first and second order")
    print(f"  {'op':<14} {'lesson':<12} {'result':<20} {'time':>8}")

    def row(result: grading.OpGrade) -> None:
        took = f"{result.seconds:6.2f} s" if result.status in (grading.PASSED,
                                                               grading.FAILED) else ""
        print(f"  {result.name:<14} {result.lesson:<12} {result.status:<20} {took:>8}".rstrip(),
              flush=True)

    results = grading.grade(folder, args.names, args.examples, args.seed, on_result=row)
    _print_reports(results)
    counts = {status: sum(r.status == status for r in results)
              for status in (grading.PASSED, grading.FAILED, grading.NOT_IMPLEMENTED,
                             grading.NOT_IMPORTED)}
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    if not results:
        print("no ops found: the lesson files define none of the ops asked for")
        return 1
    if counts[grading.PASSED] == len(results):
        print(f"{summary}: all {len(results)} ops pass")
        return 0
    print(f"{summary} (of {len(results)} ops)")
    return 1


def _print_reports(results: list) -> None:
    """Each failure's report, and each lesson file that cannot import, once."""
    from .grading import FAILED, NOT_IMPORTED

    shown: set[str] = set()
    for result in results:
        if result.status == FAILED:
            print(f"\n{result.name} ({result.lesson}) failed: {result.rule}")
            print("    " + (result.report or "").replace("\n", "\n    "))
        elif result.status == NOT_IMPORTED and result.lesson not in shown:
            shown.add(result.lesson)
            print(f"\nlesson {result.lesson} cannot be imported, so none of its ops was "
                  f"checked:\n    " + (result.report or "").replace("\n", "\n    "))
    if shown or any(r.status == FAILED for r in results):
        print()
