"""Where MNIST-style files are found, and the errors that say what is missing where.

The rule that keeps answers honest: the first folder holding any of a dataset's files is
that dataset's folder, and it must hold the split asked for. A folder with only the
training files is an error naming the missing ones, never a cue to take the test files
from another place (the one exception is the download folder, which downloads complete).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .official import OfficialFile
from .official import title as dataset_title

ENV_VAR = "TINYGRAD_EDU_DATA"


def cache_dir() -> Path:
    """The per-user cache folder: `$XDG_CACHE_HOME/tinygrad_edu` or `~/.cache/tinygrad_edu`."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "tinygrad_edu"


@dataclass(frozen=True)
class Place:
    """One place the user (or the defaults) pointed at, and the folders it stands for.

    `kind` is "root" (root= or --data), "env" ($TINYGRAD_EDU_DATA), "cache" or "system";
    `value` is what was typed (root, env) or the folder itself (cache, system).
    """

    kind: str
    value: str
    dirs: tuple[Path, ...]

    def label(self, cli: bool = False) -> str:
        """How to name this place in a message: as the user spelled it."""
        if self.kind == "root":
            return f"--data {self.value}" if cli else f"root={self.value!r}"
        if self.kind == "env":
            return f"${ENV_VAR}={self.value}"
        if self.kind == "cache":
            return f"the cache ({self.value})"
        return self.value

    def option(self, cli: bool = False) -> str:
        """The setting to change to look elsewhere: the variable if it chose this place."""
        if self.kind == "env":
            return f"${ENV_VAR}"
        return "--data" if cli else "root"


def dataset_dirs(base: Path, name: str, torch_name: str) -> tuple[Path, ...]:
    """A folder given for dataset `name`: its `name/` and torchvision-style subfolders first,
    then the folder itself, so it may hold the files or be a parent of several datasets."""
    return (base / name, base / torch_name / "raw", base)


def search_places(
    root: str | os.PathLike | None, name: str, torch_name: str, system_dirs: Sequence[str]
) -> list[Place]:
    """Where to look, in order. A root, when given, is the only place (see MNIST's docs)."""
    if root is not None:
        typed = os.fspath(root)
        return [Place("root", typed, dataset_dirs(Path(typed).expanduser(), name, torch_name))]
    places = []
    env = os.environ.get(ENV_VAR)
    if env:
        places.append(Place("env", env, dataset_dirs(Path(env).expanduser(), name, torch_name)))
    cache = cache_dir() / name
    places.append(Place("cache", str(cache), (cache,)))
    places += [Place("system", d, (Path(d),)) for d in system_dirs]
    return places


def existing(path: Path) -> Path | None:
    """`path` or `path.gz`, whichever is a file (uncompressed first: it loads faster)."""
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


@dataclass
class Found:
    """The dataset's folder: where it is, which of the dataset's files it holds (as named
    on disk), and the paths of the files asked for (None where missing)."""

    place: Place
    folder: Path
    present: list[str]
    paths: list[Path | None]

    @property
    def complete(self) -> bool:
        return all(p is not None for p in self.paths)


def find_folder(
    places: Sequence[Place], all_names: Sequence[str], names: Sequence[str]
) -> Found | None:
    """The first folder holding any of `all_names` (the dataset's files), or None."""
    for place in places:
        for folder in place.dirs:
            present = [p.name for p in map(existing, (folder / n for n in all_names)) if p]
            if present:
                return Found(place, folder, present, [existing(folder / n) for n in names])
    return None


class DatasetNotFoundError(RuntimeError):
    """The files asked for are neither on disk nor downloadable; the message says how to fix it.

    `str(error)` speaks Python (root=, download=False); `render(cli=True)` speaks the
    command line (--data, --no-download).
    """

    def __init__(
        self,
        title: str,
        name: str,
        missing: list[str],
        places: list[Place],
        download: bool,
        mirrors: Sequence[str],
        failures: Sequence[str] = (),
        partial: Found | None = None,
    ) -> None:
        self.title = title  # "MNIST (train split)"
        self.name = name  # "mnist": the subfolder a parent folder may hold
        self.missing = missing
        self.places = places
        self.download = download
        self.mirrors = mirrors
        self.failures = list(failures)
        self.partial = partial  # the dataset's folder, which holds some files but not these
        super().__init__(self.render())

    def render(self, cli: bool = False) -> str:
        """The message, naming the root as the user gave it: `--data DIR` when `cli`."""
        files = ", ".join(n + "[.gz]" for n in self.missing)
        if self.partial is not None:
            return self._partial_message(self.partial, files, cli)
        root = next((p for p in self.places if p.kind == "root"), None)
        where = f" in {root.label(cli)}" if root is not None else ""
        lines = [f"{self.title}: missing files {files}{where}.", "Looked in:"]
        lines += [f"  {d}" for p in self.places for d in p.dirs]
        if root is not None:
            lines.append(f"  (when {root.option(cli)} is given it is the only place looked in; "
                         f"${ENV_VAR}, the cache and system folders are not)")
        elif not os.environ.get(ENV_VAR):
            lines.append(f"  (${ENV_VAR} is not set)")
        if not self.download:
            lines.append(f"Downloading is off ({_no_download(cli)}).")
        elif self.failures:
            lines += ["Downloading failed:"] + [f"  {f}" for f in self.failures]
        cache = cache_dir() / self.name
        lines.append("To supply them (gzipped or not), do one of:")
        if root is not None:
            folder = root.dirs[-1]
            lines.append(f"  - put them in {folder}/ (or in {folder / self.name}/);")
        else:
            option = "--data DIR" if cli else "root='/path/to/folder'"
            lines.append(f"  - pass {option}: a folder holding the files, or a parent of "
                         f"'{self.name}/';")
            lines.append(f"  - set {ENV_VAR}=/path/to/folder (the same: the files, or a parent "
                         f"of '{self.name}/');")
        if not self.download:
            lines.append(f"  - allow downloading ({_download(cli)}): the files go to {cache}/;")
        lines.append(f"  - fetch them by hand into {root.dirs[-1] if root else cache}/ from:")
        lines += [f"      {m.rstrip('/')}/{n}.gz" for m in self.mirrors[:1] for n in self.missing]
        if len(self.mirrors) > 1:
            lines.append(f"    (other mirrors: {', '.join(self.mirrors[1:])})")
        return "\n".join(lines)

    def _partial_message(self, found: Found, files: str, cli: bool) -> str:
        label = found.place.label(cli)
        at_top = found.folder == found.place.dirs[-1]
        where = label if at_top else f"{label} (in {found.folder})"
        fix = f"Put them in {found.folder}/"
        if found.place.kind == "cache" and not self.download:
            fix += f", or allow downloading ({_download(cli)})"
        elif found.place.kind in ("root", "env"):
            fix += f", or point {found.place.option(cli)} at a folder that holds them"
        return "\n".join([
            f"{self.title}: {where} holds {', '.join(found.present)} but not {files}.",
            "A dataset's folder must hold every file asked of it: missing ones are never "
            "taken from another place (they could belong to another dataset).",
            fix + ".",
        ])


def _no_download(cli: bool) -> str:
    return "--no-download" if cli else "download=False"


def _download(cli: bool) -> str:
    return "drop --no-download" if cli else "download=True"


class DatasetMismatchError(ValueError):
    """A file is an official file of the other dataset (or of the other split).

    `str(error)` speaks Python; `render(cli=True)` names --data and --dataset.
    """

    def __init__(
        self, title: str, wanted: OfficialFile, found: OfficialFile, path: Path, place: Place
    ) -> None:
        self.title = title  # "FashionMNIST (train split)"
        self.wanted = wanted
        self.found = found
        self.path = path
        self.place = place
        super().__init__(self.render())

    def render(self, cli: bool = False) -> str:
        """The message: which dataset the folder holds, and the two ways out."""
        if self.found.dataset == self.wanted.dataset:
            return (f"{self.title}: {self.path} is {self.found}, not the "
                    f"{self.wanted.name} its name says; using it would mix train and test.")
        holds, wanted = dataset_title(self.found.dataset), dataset_title(self.wanted.dataset)
        if cli:
            switch = "mnist" if self.found.dataset == "MNIST" else "fashion"
            fix = f"run with --dataset {switch}"
        else:
            fix = f"use {self.found.dataset}(...)"
        return (f"{self.title}: {self.place.label(cli)} holds {holds}, not {wanted} "
                f"({self.path} is {self.found}). To train on {holds}, {fix}; for {wanted}, "
                f"point {self.place.option(cli)} at {wanted}'s files.")
