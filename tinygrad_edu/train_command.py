"""`tinygrad-edu train`: its arguments and the run, kept in a folder (see runs.py).

A new run never goes into a folder that holds one already (finished or partial):
the command refuses and names --resume DIR (continue it with its own settings) and
--overwrite (delete its files and start afresh). Exit status: 0 done, 1 the loss
became nan/inf, 2 bad input or refused, 130 Ctrl-C (the last finished epoch is kept).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
from pathlib import Path
from typing import Any

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
DEFAULT_OUT = "runs/{dataset}-{model}"


MAX_WIDTH = 8192  # wider layers only exhaust memory on 28x28 images
MAX_SHIFT = 27  # a shift of 28 pixels moves a 28x28 image out of view


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _hidden(text: str) -> tuple[int, ...]:
    """'256,128' -> (256, 128); '' -> () (no hidden layer)."""
    try:
        widths = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 256,128, got {text!r}"
        ) from None
    if any(not 1 <= w <= MAX_WIDTH for w in widths):
        raise argparse.ArgumentTypeError(f"layer widths must be between 1 and {MAX_WIDTH}, "
                                         f"got {text!r}")
    return widths


def positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _shift(text: str) -> int:
    value = _int(text)
    if not 0 <= value <= MAX_SHIFT:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SHIFT} pixels, got {value}")
    return value


def _finite_float(text: str, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        wanted = "a finite number above 0" if positive else "a finite number, 0 or more"
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
    return value


def _learning_rate(text: str) -> float:
    return _finite_float(text, positive=True)


def _weight_decay(text: str) -> float:
    return _finite_float(text, positive=False)


def _out_template(text: str) -> str:
    """A folder name that may use {dataset} and {model}; checked now, filled in later."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder name, got an empty string")
    try:
        text.format(dataset="mnist", model="mlp")
    except KeyError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} names the unknown field {{{error.args[0]}}}; the folder name may use "
            "{dataset} and {model} (write {{ and }} for literal braces)") from None
    except (IndexError, ValueError, AttributeError) as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a valid folder template ({error}); it may use {{dataset}} and "
            "{model} (write {{ and }} for literal braces)") from None
    return text


def _existing_folder(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder")
    return path


def add_train_arguments(train: argparse.ArgumentParser) -> None:
    # Settings default to None and are filled in by run_train: --resume can then tell
    # the options given on the command line from the defaults.
    train.add_argument("--model", choices=MODEL_NAMES, default=None,
                       help="network to train (default: mlp)")
    train.add_argument("--dataset", choices=DATASETS, default=None,
                       help="MNIST digits or Fashion-MNIST clothes (default: mnist)")
    train.add_argument("--data", metavar="DIR", default=None,
                       help="folder holding the IDX files (gzipped or not), or a parent of "
                            "mnist/ or fashion-mnist/; nothing is taken from elsewhere "
                            "unless it holds none of the files. Default: $TINYGRAD_EDU_DATA "
                            "(either kind of folder), the cache, system folders, then "
                            "download")
    train.add_argument("--no-download", action="store_true",
                       help="fail with a clear message instead of downloading missing files")
    train.add_argument("--epochs", type=positive_int, default=None,
                       help="passes over the training set (default: 20; 30 for the mlp "
                            "on mnist); with --resume, the new total")
    train.add_argument("--batch-size", type=positive_int, default=None,
                       help="default: 128")
    train.add_argument("--optimizer", choices=OPTIMIZER_NAMES, default=None,
                       help="default: adam for the mlp, sgd (Nesterov momentum 0.9, weight "
                            "decay 1e-4) for the cnn")
    train.add_argument("--lr", type=_learning_rate, default=None,
                       help="learning rate, above 0 (default: 1e-3 for adam and rmsprop, "
                            "0.05 for sgd); it follows a cosine schedule down to 0 over the run")
    train.add_argument("--weight-decay", type=_weight_decay, default=None,
                       help="L2 penalty, 0 or more (default: 0 for the mlp, 1e-4 for the cnn)")
    train.add_argument("--constant-lr", action="store_true", default=None,
                       help="keep the learning rate constant instead of the cosine schedule")
    train.add_argument("--hidden", type=_hidden, default=None, metavar="W1,W2,...",
                       help="hidden layer widths of the mlp (default: 256,128)")
    train.add_argument("--shift", type=_shift, default=None, metavar="PIXELS",
                       help="randomly translate training images by up to this many pixels "
                            "(default: 2 for mnist; for fashion 0 with the mlp, 1 with the "
                            "cnn)")
    train.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                       help="mirror a random half of the training images left to right "
                            "(default: on for the cnn on fashion)")
    train.add_argument("--seed", type=_non_negative_int, default=None,
                       help="random seed, 0 or more (default: 0)")
    train.add_argument("--out", metavar="DIR", type=_out_template, default=None,
                       help="where the checkpoints, history and plots go; never a folder "
                            f"that holds a run already (default: {DEFAULT_OUT})")
    run = train.add_mutually_exclusive_group()
    run.add_argument("--resume", metavar="DIR", type=_existing_folder, default=None,
                     help="continue the run in DIR from its last finished epoch, with its "
                          "settings (--epochs may raise the total with --constant-lr)")
    run.add_argument("--overwrite", action="store_true",
                     help="delete the run files already in --out and start afresh")
    train.add_argument("--no-plots", action="store_true",
                       help="do not draw PNGs even if matplotlib is installed")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    train.add_argument("--device", choices=("cpu", "cuda", "standin"), default="cpu",
                       help="where to train: cpu (default), cuda (a GPU, through CuPy: pip "
                            "install -e '.[cuda]'), or standin (the test device: the CPU "
                            "through the device code paths)")
    train.add_argument("--diagnostics", action="store_true",
                       help="each epoch, write gradient flow, activation and weight plots "
                            "and their numbers (JSON) to OUT/diagnostics")


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------

# The options that make a run what it is: --resume takes them from the run's config.json.
SETTINGS = ("model", "dataset", "hidden", "batch_size", "optimizer", "lr", "weight_decay",
            "constant_lr", "shift", "flip", "seed")


class RefusedError(Exception):
    """A train command that cannot go on: the message for stderr, exit status 2."""


def _load_datasets(dataset: str, data: str | None, download: bool) -> tuple[Any, Any]:
    """Both splits, from one folder, checked for the models' 28x28 input."""
    from .data import MNIST, FashionMNIST

    cls = MNIST if dataset == "mnist" else FashionMNIST
    train_set = cls(root=data, train=True, download=download)
    test_set = cls(root=data, train=False, download=download)
    for split in (train_set, test_set):
        if split.images.shape[1:] != (28, 28):
            size = "x".join(map(str, split.images.shape[1:]))
            raise ValueError(f"the mlp and cnn take 28x28 images; {split.folder} holds {size}")
    return train_set, test_set


def _new_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings of a new run: the options given, the defaults for the others."""
    model, dataset = args.model or "mlp", args.dataset or "mnist"
    if args.hidden is not None and model != "mlp":
        raise RefusedError(f"--hidden sets the mlp's layer widths; it does not apply to "
                       f"--model {model}")
    setting = (model, dataset)
    optimizer = args.optimizer or DEFAULT_OPTIMIZER[model]
    default_lr = 0.05 if optimizer == "sgd" else 1e-3  # as train.make_optimizer
    from .models import DEFAULT_HIDDEN

    return {
        "model": model, "dataset": dataset,
        "hidden": list(args.hidden if args.hidden is not None else DEFAULT_HIDDEN)
        if model == "mlp" else None,
        "batch_size": args.batch_size or 128, "optimizer": optimizer,
        "lr": default_lr if args.lr is None else args.lr,
        "weight_decay": (DEFAULT_WEIGHT_DECAY[model] if args.weight_decay is None
                         else args.weight_decay),
        "constant_lr": bool(args.constant_lr),
        "shift": DEFAULT_SHIFT[setting] if args.shift is None else args.shift,
        "flip": (model == "cnn" and DEFAULT_FLIP[dataset]) if args.flip is None else args.flip,
        "seed": 0 if args.seed is None else args.seed,
        "epochs": args.epochs or DEFAULT_EPOCHS[setting],
    }


def _resumed_settings(args: argparse.Namespace, run: Any) -> dict[str, Any]:
    """The saved settings of the run to resume; options that contradict them are refused."""
    config = run.read_config()
    if not config or not (run.path / "last.npz").is_file():
        raise RefusedError(f"--resume {run.path}: no run to resume there (config.json and "
                       "last.npz are written when a run starts)")
    if args.out is not None and Path(args.out).resolve() != run.path.resolve():
        raise RefusedError("--resume DIR continues the run in DIR; drop --out")
    settings = {key: config.get(key) for key in (*SETTINGS, "epochs")}
    kinds = {"model": MODEL_NAMES, "dataset": DATASETS, "optimizer": OPTIMIZER_NAMES}
    broken = [key for key, names in kinds.items() if settings[key] not in names] + [
        key for key in ("batch_size", "shift", "seed", "epochs")
        if not isinstance(settings[key], int) or settings[key] < 0]
    if broken:
        raise RefusedError(f"--resume {run.path}: config.json lacks valid settings "
                           f"({', '.join(broken)})")
    for key in SETTINGS:
        given = getattr(args, key)
        if given is not None and (list(given) if key == "hidden" else given) != settings[key]:
            option = "--" + key.replace("_", "-")
            raise RefusedError(f"--resume continues {run.path} with its own settings: {option} "
                           f"{given} differs from its {settings[key]}; start a new run "
                           "(another --out, or --overwrite) to change it")
    done = config.get("epochs_done", 0)
    if args.epochs is not None and args.epochs != settings["epochs"]:
        if args.epochs < done:
            raise RefusedError(f"--epochs {args.epochs}: {run.path} already holds {done} epochs")
        if not settings["constant_lr"]:
            raise RefusedError(f"--epochs {args.epochs}: {run.path} follows a cosine schedule "
                           f"planned for {settings['epochs']} epochs; only a --constant-lr "
                           "run can be extended")
        settings["epochs"] = args.epochs
    return settings


def run_train(args: argparse.Namespace) -> int:
    """The `train` command; returns the exit status (0 done, 1 diverged, 2 refused,
    130 interrupted)."""
    try:
        return _train(args)
    except RefusedError as error:
        print(f"tinygrad-edu train: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside the loop (loading data, plots): nothing to keep
        print("\ntinygrad-edu train: interrupted", file=sys.stderr)
        return 130


def _train(args: argparse.Namespace) -> int:
    from .runs import RunDirectory, RunInUseError

    device = _device(args)
    if args.resume is not None:
        run = RunDirectory(args.resume)
        settings = _resumed_settings(args, run)
        if settings["epochs"] <= run.read_config().get("epochs_done", -1):
            print(f"{run.path} is finished ({settings['epochs']} of {settings['epochs']} "
                  "epochs done); nothing to do")
            return 0
    else:
        settings = _new_settings(args)
        template = DEFAULT_OUT if args.out is None else args.out
        run = RunDirectory(template.format(dataset=settings["dataset"], model=settings["model"]))
    created = not run.path.exists()
    try:
        with contextlib.ExitStack() as held:
            try:  # a second run on this folder is refused while this one lives
                held.enter_context(run.lock())
            except RunInUseError as error:
                raise RefusedError(str(error)) from None
            except OSError as error:  # the folder or its lock could not be made
                raise RefusedError(f"cannot write to {run.path}: {error}") from None
            return _train_in(args, run, settings, device)
    finally:
        if created and run.path.is_dir() and not any(run.path.iterdir()):
            run.path.rmdir()  # left empty: no trace of a run that never started


def _train_in(args: argparse.Namespace, run: Any, settings: dict[str, Any],
              device: Any) -> int:
    """The run itself, with `run`'s folder locked."""
    from . import models
    from .data import DataLoader, DatasetMismatchError, DatasetNotFoundError
    from .rng import manual_seed
    from .serialization import CheckpointError
    from .train import (
        NonFiniteLossError,
        RandomShift,
        TrainingInterrupted,
        fit,
        make_optimizer,
        make_scheduler,
    )

    if args.resume is None and run.existing() and not args.overwrite:
        raise RefusedError(f"{run.path} already holds {run.describe()}; continue it with "
                           f"--resume {run.path}, start afresh with --overwrite (deletes it), "
                           "or choose another --out")
    try:
        run.probe()  # before the data: an unwritable --out fails at once
    except OSError as error:
        raise RefusedError(f"cannot write to {run.path}: {error}") from None
    data = args.data if args.data is not None or args.resume is None else run.read_config().get(
        "data")
    try:
        train_set, test_set = _load_datasets(settings["dataset"], data, not args.no_download)
    except (DatasetNotFoundError, DatasetMismatchError, ValueError) as error:
        text = error.render(cli=True) if hasattr(error, "render") else str(error)
        raise RefusedError(text) from None
    if args.overwrite:
        run.clear()
    model_name, dataset, epochs = settings["model"], settings["dataset"], settings["epochs"]
    manual_seed(settings["seed"])
    model = (models.mlp(hidden=settings["hidden"]) if model_name == "mlp" else models.cnn())
    # built on the CPU from the seed, then moved: the same weights on every device;
    # fit copies each batch to the model's device
    model.to(device)
    optimizer = make_optimizer(settings["optimizer"], model.parameters(), settings["lr"],
                               weight_decay=settings["weight_decay"],
                               nesterov=model_name == "cnn")
    scheduler = None if settings["constant_lr"] else make_scheduler("cosine", optimizer, epochs)
    train_loader = DataLoader(train_set, batch_size=settings["batch_size"], shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    shift, flip = settings["shift"], settings["flip"]
    params = sum(p.numel() for p in model.parameters())
    print(f"training {model_name} ({params:,} parameters) on {dataset}: "
          f"{len(train_set):,} train / {len(test_set):,} test images from {train_set.folder}")
    print(f"{settings['optimizer']} lr {settings['lr']:g}"
          f"{'' if scheduler is None else ' (cosine schedule)'}, weight decay "
          f"{settings['weight_decay']:g}, batch {settings['batch_size']}, {epochs} epochs, "
          f"random shift {shift} px{' and flips' if flip else ''}, seed {settings['seed']}")
    if args.resume is not None:
        print(f"resuming {run.path} after epoch {run.read_config().get('epochs_done')}")
    config = dict(settings, data=args.data if args.resume is None else data,
                  folder=str(train_set.folder), out=str(run.path))
    callbacks = []
    if args.diagnostics:
        from .diagnostics_callback import GradientDiagnostics

        probe = DataLoader(train_set, batch_size=256)  # unshuffled: draws no random numbers
        callbacks.append(GradientDiagnostics(run.path / "diagnostics", batch=next(iter(probe)),
                                             plots=False if args.no_plots else None))
    start = time.perf_counter()
    try:
        history = fit(model, optimizer, train_loader, epochs, test_loader=test_loader,
                      scheduler=scheduler, callbacks=callbacks,
                      augment=RandomShift(shift, flip) if shift or flip else None,
                      progress=not args.no_progress, run_dir=run.path,
                      resume=args.resume is not None, config=config)
    except NonFiniteLossError as error:
        print(f"tinygrad-edu train: {error}.\nTry a smaller --lr in a new run (another --out, "
              "or --overwrite).", file=sys.stderr)
        return 1
    except (CheckpointError, ValueError, KeyError, TypeError) as error:
        if args.resume is None:
            raise
        raise RefusedError(f"cannot resume {run.path}: {error}") from None
    except TrainingInterrupted as error:
        print(f"\ntinygrad-edu train: {error} and saved in {run.path}.\nResume with: "
              f"tinygrad-edu train --resume {run.path}", file=sys.stderr)
        return 130
    seconds = time.perf_counter() - start
    # fit evaluated the final weights after the last epoch: no second pass over the test set
    accuracy = history.test_acc[-1]
    correct = round(accuracy * len(test_set))
    run.write_config(dict(run.read_config(), seconds=round(seconds, 2), test_accuracy=accuracy))
    print(f"test accuracy: {accuracy:.2%} ({correct}/{len(test_set)}) "
          f"after {epochs} epochs in {seconds:.1f} s")
    print(f"checkpoints: {run.path / 'model.npz'} (last epoch), best.npz (epoch "
          f"{run.read_config()['best']['epoch']}); load with tinygrad_edu.load")
    if not args.no_plots:
        model.to("cpu")  # the plots read weights and predictions on the host
        _save_plots(run.path, history, model, test_loader, test_set, model_name, dataset)
    return 0


def _device(args: argparse.Namespace) -> Any:
    """The --device asked for, or a RefusedError saying why it cannot be used."""
    from .devices import resolve

    try:
        device = resolve(args.device, "train --device")
    except RuntimeError as error:
        raise RefusedError(str(error)) from None
    return device


def _save_plots(out: Path, history: Any, model: Any, test_loader: Any, test_set: Any,
                model_name: str, dataset: str) -> None:
    from . import plots
    from .train import predict

    if not plots.have_matplotlib():
        print("plots: skipped (pip install 'tinygrad_edu[plot]' for PNG curves and more)")
        return
    preds, targets = predict(model, test_loader)  # the mistakes, for the last two plots
    title = f"{model_name} on {dataset}"
    paths = [
        plots.plot_history(history, out / "curves.png", title=title),
        plots.plot_confusion(preds, targets, test_set.classes, out / "confusion.png",
                             title=title),
        plots.plot_misclassified(test_set.images, preds, targets, test_set.classes,
                                 out / "misclassified.png"),
    ]
    print("plots: " + ", ".join(str(p) for p in paths))
