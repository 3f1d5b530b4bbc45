"""A training run's folder: what `fit(run_dir=...)` and `tinygrad-edu train` keep there.

    config.json   the settings, the status, the progress and what each file holds
    history.json  the per-epoch numbers (train.History)
    last.npz      everything needed to resume: model, optimizer, scheduler, epoch,
                  history, best metric and the framework generator's state
    model.npz     the weights after the last finished epoch (a state_dict)
    best.npz      the weights of the best epoch so far (a state_dict)

Every file is written atomically (files.atomic_open): a crash or Ctrl-C leaves each
one either old or new, never half written. config.json is written before any weights,
so no weights file is ever left without its description.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .files import atomic_open, write_text
from .rng import get_rng_state, set_rng_state
from .serialization import CheckpointError, load, save


@dataclass
class History:
    """Per-epoch numbers of a `fit` run (accuracies are fractions in [0, 1])."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, list[float]]:
        return asdict(self)

    def save(self, path: str | os.PathLike) -> None:
        """Write the history as JSON (readable by `History.load` and by people)."""
        write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        return cls(**json.loads(Path(path).read_text()))

CHECKPOINT_FORMAT = "tinygrad_edu.run/1"
FILES = {
    "config.json": "settings, status and progress of the run",
    "history.json": "per-epoch loss, accuracy, learning rate and seconds",
    "last.npz": "the state to resume from: model, optimizer, scheduler, epoch, history, "
                "best metric, random generator",
    "model.npz": "model weights after the last finished epoch (load with "
                 "tinygrad_edu.load, then model.load_state_dict)",
    "best.npz": "model weights of the epoch with the best metric (see config 'best')",
}
# also removed by clear(): the plots `tinygrad-edu train` draws at the end
PLOTS = ("curves.png", "confusion.png", "misclassified.png")
LOCK = ".lock"  # the process id of the run writing here (RunDirectory.lock)


class RunInUseError(RuntimeError):
    """Another live process holds the run folder."""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


class RunDirectory:
    """The files of one run in `path` (see the module docstring)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r})"

    def existing(self) -> list[str]:
        """The run files present (empty: the folder holds no run)."""
        return [name for name in (*FILES, *PLOTS) if (self.path / name).exists()]

    def read_config(self) -> dict[str, Any]:
        """config.json as a dict; {} when missing or unreadable."""
        try:
            config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return config if isinstance(config, dict) else {}

    def describe(self) -> str:
        """'finished, 30 epochs' / 'partial: 3 of 30 epochs done' / 'partial'."""
        config = self.read_config()
        done, total = config.get("epochs_done"), config.get("epochs")
        if config.get("status") == "finished":
            return f"a finished run ({done} epochs)"
        if isinstance(done, int) and isinstance(total, int):
            return f"a partial run ({done} of {total} epochs done, {config.get('status')})"
        return f"run files ({', '.join(self.existing())})"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold this folder for one run: while this process lives, another run on the
        same folder is refused (RunInUseError) instead of interleaving its epochs with
        ours. A lock left by a process that died (kill -9, a crash) is taken over."""
        self.path.mkdir(parents=True, exist_ok=True)
        path = self.path / LOCK
        for attempt in itertools.count():
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                break
            except FileExistsError:
                try:
                    holder: int | None = int(path.read_text(encoding="utf-8").split()[0])
                except (OSError, ValueError, IndexError):
                    holder = None  # being written this instant, or garbage
                if holder is not None and holder != os.getpid() and _process_alive(holder):
                    raise RunInUseError(
                        f"{self.path} is in use by another run (process {holder}); wait "
                        "for it to finish, or choose another --out") from None
                if holder is None and attempt < 50:
                    time.sleep(0.02)  # give a starting run time to write its id
                    continue
                path.unlink(missing_ok=True)  # its process is gone: a stale lock
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
        try:
            yield
        finally:
            path.unlink(missing_ok=True)

    def probe(self) -> None:
        """Create the folder and write and remove a file there, atomically as every
        write: an unwritable folder fails now (OSError), not after an epoch."""
        probe = self.path / ".write-probe"
        write_text(probe, "tinygrad_edu checks that this folder is writable\n")
        probe.unlink()

    def clear(self) -> None:
        """Remove this run's files (and only them) for a fresh run in the same folder."""
        for name in self.existing():
            (self.path / name).unlink()

    def write_config(self, config: dict[str, Any]) -> None:
        payload = dict(config, files=FILES)
        write_text(self.path / "config.json", json.dumps(payload, indent=1) + "\n")

    def write_history(self, history: dict[str, list[float]]) -> None:
        History(**history).save(self.path / "history.json")

    def save_weights(self, name: str, state_dict: dict[str, Any]) -> None:
        # Atomic but not synced to disk: a sync costs more than the write, and last.npz
        # (synced) is what a run resumes from after a power loss.
        with atomic_open(self.path / name, "wb") as file:
            save(state_dict, file)

    def save_state(self, model: Any, optimizer: Any, scheduler: Any, epoch: int,
                   history: dict[str, list[float]], best: dict[str, Any]) -> None:
        """last.npz: everything `load_state` needs to continue after `epoch` epochs.
        Synced to disk after a finished epoch; epoch 0 (the start) is cheap to redo."""
        state = {"format": CHECKPOINT_FORMAT, "epoch": epoch, "model": model.state_dict(),
                 "optimizer": optimizer.state_dict(),
                 "scheduler": None if scheduler is None else scheduler.state_dict(),
                 "history": history, "best": best, "rng": get_rng_state()}
        with atomic_open(self.path / "last.npz", "wb", sync=epoch > 0) as file:
            save(state, file)

    def load_state(self, model: Any, optimizer: Any, scheduler: Any) -> dict[str, Any]:
        """Restore model, optimizer, scheduler and generator from last.npz; returns the
        checkpoint (epoch, history, best). Everything is read and checked first."""
        path = self.path / "last.npz"
        if not path.is_file():
            raise FileNotFoundError(f"resume: {path} not found; {self.path} holds no run to "
                                    "resume (it is written after the first epoch)")
        state = load(path)
        keys = {"format", "epoch", "model", "optimizer", "scheduler", "history", "best", "rng"}
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT or (
                keys - set(state)):
            raise CheckpointError(f"resume: {path} is not a run checkpoint of "
                                  f"{CHECKPOINT_FORMAT!r} (keys {sorted(keys)})")
        if (state["scheduler"] is None) != (scheduler is None):
            have = "no scheduler" if scheduler is None else "a scheduler"
            raise ValueError(f"resume: {path} was saved with"
                             f"{'out' if state['scheduler'] is None else ''} a scheduler; "
                             f"this run has {have}")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        return state

    def save_epoch(self, model: Any, optimizer: Any, scheduler: Any,
                   history: dict[str, list[float]], best: dict[str, Any], improved: bool,
                   config: dict[str, Any]) -> None:
        """The files of a finished epoch; last.npz last of all, so that what it holds is
        complete when it appears (it is what a resume reads)."""
        weights = model.state_dict()
        self.save_weights("model.npz", weights)
        if improved:
            self.save_weights("best.npz", weights)
        self.write_history(history)
        self.write_config(config)
        self.save_state(model, optimizer, scheduler, config["epochs_done"], history, best)
