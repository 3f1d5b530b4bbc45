"""The `tinygrad-edu` command: demo, train, graph, gradcheck, exercise.

Subcommands import what they need when they run, so `import tinygrad_edu.cli` and
`tinygrad-edu --version` stay light.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .version import __version__

DATASETS = ("mnist", "fashion")
MODEL_NAMES = ("mlp", "cnn")
OPTIMIZER_NAMES = ("adam", "sgd", "rmsprop")
# Defaults per model, the settings behind the accuracies in the README. The MLP: Adam.
# The CNN: SGD with Nesterov momentum and weight decay, as in examples/mnist_cnn.py.
DEFAULT_OPTIMIZER = {"mlp": "adam", "cnn": "sgd"}
DEFAULT_WEIGHT_DECAY = {"mlp": 0.0, "cnn": 1e-4}
DEFAULT_EPOCHS = {("mlp", "mnist"): 30, ("mlp", "fashion"): 20,
                  ("cnn", "mnist"): 20, ("cnn", "fashion"): 20}
# Random translation of training images (pixels): it is what lets an MLP trained on
# 5,000 MNIST digits pass 95%; on Fashion-MNIST it does not help the MLP, while the CNN
# gains from a 1-pixel shift plus left-right flips (clothes are near symmetric, digits not).
DEFAULT_SHIFT = {("mlp", "mnist"): 2, ("mlp", "fashion"): 0,
                 ("cnn", "mnist"): 2, ("cnn", "fashion"): 1}
DEFAULT_FLIP = {"mnist": False, "fashion": True}


def _hidden(text: str) -> tuple[int, ...]:
    """'256,128' -> (256, 128); '' -> () (no hidden layer)."""
    try:
        widths = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 256,128, got {text!r}"
        ) from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return widths


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _add_train_arguments(train: argparse.ArgumentParser) -> None:
    train.add_argument("--model", choices=MODEL_NAMES, default="mlp",
                       help="network to train (default: %(default)s)")
    train.add_argument("--dataset", choices=DATASETS, default="mnist",
                       help="MNIST digits or Fashion-MNIST clothes (default: %(default)s)")
    train.add_argument("--data", metavar="DIR", default=None,
                       help="folder holding the IDX files (gzipped or not), or a parent of "
                            "mnist/ or fashion-mnist/; nothing is taken from elsewhere "
                            "unless it holds none of the files. Default: $TINYGRAD_EDU_DATA "
                            "(either kind of folder), the cache, system folders, then "
                            "download")
    train.add_argument("--no-download", action="store_true",
                       help="fail with a clear message instead of downloading missing files")
    train.add_argument("--epochs", type=_positive_int, default=None,
                       help="passes over the training set (default: 20; 30 for the mlp "
                            "on mnist)")
    train.add_argument("--batch-size", type=_positive_int, default=128)
    train.add_argument("--optimizer", choices=OPTIMIZER_NAMES, default=None,
                       help="default: adam for the mlp, sgd (Nesterov momentum 0.9, weight "
                            "decay 1e-4) for the cnn")
    train.add_argument("--lr", type=float, default=None,
                       help="learning rate (default: 1e-3 for adam and rmsprop, 0.05 for sgd); "
                            "it follows a cosine schedule down to 0 over the run")
    train.add_argument("--weight-decay", type=float, default=None,
                       help="L2 penalty (default: 0 for the mlp, 1e-4 for the cnn)")
    train.add_argument("--constant-lr", action="store_true",
                       help="keep the learning rate constant instead of the cosine schedule")
    train.add_argument("--hidden", type=_hidden, default=None, metavar="W1,W2,...",
                       help="hidden layer widths of the mlp (default: 256,128)")
    train.add_argument("--shift", type=_non_negative_int, default=None, metavar="PIXELS",
                       help="randomly translate training images by up to this many pixels "
                            "(default: 2 for mnist; for fashion 0 with the mlp, 1 with the "
                            "cnn)")
    train.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                       help="mirror a random half of the training images left to right "
                            "(default: on for the cnn on fashion)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument("--out", metavar="DIR", default="runs/{dataset}-{model}",
                       help="where the checkpoint, history and plots go "
                            "(default: %(default)s)")
    train.add_argument("--no-plots", action="store_true",
                       help="do not draw PNGs even if matplotlib is installed")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")


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
                    "per epoch, the test accuracy, a checkpoint (model.npz, loadable with "
                    "tinygrad_edu.nn.load) and, with matplotlib, PNG plots in --out.",
    )
    _add_train_arguments(train)
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


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------


def _load_datasets(args: argparse.Namespace) -> tuple[Any, Any]:
    """Both splits, from one folder, checked for the models' 28x28 input."""
    from .data import MNIST, FashionMNIST

    cls = MNIST if args.dataset == "mnist" else FashionMNIST
    download = not args.no_download
    train_set = cls(root=args.data, train=True, download=download)
    test_set = cls(root=args.data, train=False, download=download)
    for split in (train_set, test_set):
        if split.images.shape[1:] != (28, 28):
            size = "x".join(map(str, split.images.shape[1:]))
            raise ValueError(f"the mlp and cnn take 28x28 images; {split.folder} holds {size}")
    return train_set, test_set


def run_train(args: argparse.Namespace) -> int:
    """The `train` command; returns the exit status."""
    from . import models
    from .data import DataLoader, DatasetMismatchError, DatasetNotFoundError
    from .files import write_text
    from .rng import manual_seed
    from .train import RandomShift, current_lr, fit, make_optimizer, make_scheduler

    if args.hidden is not None and args.model != "mlp":
        print(f"tinygrad-edu train: --hidden sets the mlp's layer widths; it does not apply "
              f"to --model {args.model}", file=sys.stderr)
        return 2
    setting = (args.model, args.dataset)
    epochs = args.epochs or DEFAULT_EPOCHS[setting]
    shift = DEFAULT_SHIFT[setting] if args.shift is None else args.shift
    flip = (args.model == "cnn" and DEFAULT_FLIP[args.dataset]) if args.flip is None else args.flip
    optimizer_name = args.optimizer or DEFAULT_OPTIMIZER[args.model]
    weight_decay = (DEFAULT_WEIGHT_DECAY[args.model] if args.weight_decay is None
                    else args.weight_decay)
    out = Path(args.out.format(dataset=args.dataset, model=args.model))
    try:
        train_set, test_set = _load_datasets(args)
    except (DatasetNotFoundError, DatasetMismatchError) as error:
        print(f"tinygrad-edu train: {error.render(cli=True)}", file=sys.stderr)
        return 2
    except ValueError as error:  # malformed files: the message names the file and the problem
        print(f"tinygrad-edu train: {error}", file=sys.stderr)
        return 2
    manual_seed(args.seed)
    hidden = models.DEFAULT_HIDDEN if args.hidden is None else args.hidden
    model = models.mlp(hidden=hidden) if args.model == "mlp" else models.cnn()
    optimizer = make_optimizer(optimizer_name, model.parameters(), args.lr,
                               weight_decay=weight_decay, nesterov=args.model == "cnn")
    scheduler = None if args.constant_lr else make_scheduler("cosine", optimizer, epochs)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "model.npz"
    params = sum(p.numel() for p in model.parameters())
    print(f"training {args.model} ({params:,} parameters) on {args.dataset}: "
          f"{len(train_set):,} train / {len(test_set):,} test images from {train_set.folder}")
    print(f"{optimizer_name} lr {current_lr(optimizer):g}"
          f"{'' if scheduler is None else ' (cosine schedule)'}, weight decay {weight_decay:g}, "
          f"batch {args.batch_size}, {epochs} epochs, random shift {shift} px"
          f"{' and flips' if flip else ''}, seed {args.seed}")
    start = time.perf_counter()
    history = fit(model, optimizer, train_loader, epochs, test_loader=test_loader,
                  scheduler=scheduler,
                  augment=RandomShift(shift, flip) if shift or flip else None,
                  checkpoint=checkpoint, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    # fit evaluated the final weights after the last epoch: no second pass over the test set
    accuracy = history.test_acc[-1]
    correct = round(accuracy * len(test_set))
    history.save(out / "history.json")
    config = {key: value for key, value in vars(args).items() if key != "command"}
    config.update(epochs=epochs, shift=shift, flip=flip, optimizer=optimizer_name,
                  weight_decay=weight_decay, out=str(out), seconds=round(seconds, 2),
                  test_accuracy=accuracy)
    if args.model == "mlp":
        config["hidden"] = list(hidden)
    write_text(out / "config.json", json.dumps(config, indent=1) + "\n")
    print(f"test accuracy: {accuracy:.2%} ({correct}/{len(test_set)}) "
          f"after {epochs} epochs in {seconds:.1f} s")
    print(f"checkpoint: {checkpoint} (load with tinygrad_edu.nn.load)")
    if not args.no_plots:
        _save_plots(out, history, model, test_loader, test_set, args)
    return 0


def _save_plots(out: Path, history: Any, model: Any, test_loader: Any, test_set: Any,
                args: argparse.Namespace) -> None:
    from . import plots
    from .train import predict

    if not plots.have_matplotlib():
        print("plots: skipped (pip install 'tinygrad_edu[plot]' for PNG curves and more)")
        return
    preds, targets = predict(model, test_loader)  # the mistakes, for the last two plots
    title = f"{args.model} on {args.dataset}"
    paths = [
        plots.plot_history(history, out / "curves.png", title=title),
        plots.plot_confusion(preds, targets, test_set.classes, out / "confusion.png",
                             title=title),
        plots.plot_misclassified(test_set.images, preds, targets, test_set.classes,
                                 out / "misclassified.png"),
    ]
    print("plots: " + ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    sys.exit(main())
