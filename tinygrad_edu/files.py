"""Writing files so that a crash or an error never leaves half a file behind.

Everything tinygrad_edu writes (checkpoints, IDX files, downloads, plots, graphs,
histories) goes through `atomic_open`: the bytes go to a temporary file beside the
target (same directory, so same filesystem) and `os.replace` renames it into place
only once it is complete. The old file, if any, stays intact until that moment.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", sync: bool = False,
                **kwargs: Any) -> Iterator[IO[Any]]:
    """A writable file object whose contents appear at `path` when the block ends
    without an exception; on an exception the partial file is removed.

    mode is "wb" or "w" (text; kwargs such as encoding go to open). sync=True also
    flushes the bytes to disk before the rename (for checkpoints)."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open: mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.part"
    # mode 0o666 minus the umask: the permissions a plain open() would give
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, mode, **kwargs) as file:
            yield file
            if sync:
                file.flush()
                os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically; returns the path."""
    with atomic_open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return Path(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically; returns the path."""
    with atomic_open(path, "wb") as file:
        file.write(data)
    return Path(path)
