"""`exercise new`: write a kit folder, all of it or nothing."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from ..files import write_text
from .generate import lesson_source
from .lessons import LESSONS, PACKAGE
from .templates import lesson_test_file, package_init, readme


class KitExistsError(Exception):
    """The target folder holds files already (and --force was not given)."""


def kit_files(solved: bool = False) -> dict[str, str]:
    """Every file of a kit, by path relative to its folder. `solved=True` keeps the
    library's backward bodies: the reference solution, for testing the checker."""
    files = {"README.md": readme(), f"{PACKAGE}/__init__.py": package_init()}
    for lesson in LESSONS.values():
        files[lesson.path] = lesson_source(lesson, solved)
        files[f"test_{lesson.name}.py"] = lesson_test_file(lesson)
    return files


def write_kit(folder: str | os.PathLike, force: bool = False,
              solved: bool = False) -> list[Path]:
    """Write a kit into `folder` (new or empty); returns the files written.

    A new folder appears whole: it is written beside its place and renamed into it.
    With `force`, an existing folder's kit files are replaced one by one (each file
    atomically) and its other files are left alone."""
    folder = Path(folder)
    files = kit_files(solved)  # everything generated first: an error here writes nothing
    if folder.exists() and not folder.is_dir():
        raise KitExistsError(f"exercise new: {folder} is a file, not a folder")
    existing = sorted(entry.name for entry in folder.iterdir()) if folder.is_dir() else []
    if existing and not force:
        shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
        raise KitExistsError(
            f"exercise new: {folder} is not empty ({len(existing)} entries: {shown}); "
            "choose a new folder, or pass --force to overwrite the kit's files in it "
            "(your lesson files too; other files are kept)"
        )
    if existing:
        return [write_text(folder / name, text) for name, text in files.items()]
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.{uuid.uuid4().hex}.part"
    try:
        for name, text in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if folder.is_dir():
            folder.rmdir()  # empty: checked above
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [folder / name for name in files]
