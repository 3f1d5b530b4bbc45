"""Writing files so that a crash or an error never leaves half a file behind.

Everything tinygrad_edu writes (checkpoints, IDX files, downloads, plots, graphs,
histories) goes through `atomic_open`: the bytes go to a temporary file beside the
target (same directory, so same filesystem) and `os.replace` renames it into place
only once it is complete. The old file, if any, stays intact until that moment.

A process killed mid-write (kill -9, out of memory, power loss) cannot remove its
temporary file, so every atomic write first sweeps the folder for temporary files
of this naming that are stale: written on this host by a process that no longer
exists, or not modified for STALE_AFTER_S seconds (a live writer keeps writing).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

# A temporary file left this long without a write belongs to no live writer.
STALE_AFTER_S = 15 * 60

# .{target}.{host}-{pid}.{token}.part; the host tag keeps a sweep on one machine from
# judging the pids of another that shares the folder (e.g. over NFS).
_TEMP_NAME = re.compile(r"\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.[0-9a-f]{32}\.part")
# the naming before the pid was added: only the age tells whether it is stale
_OLD_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{32}\.part")


def host_tag() -> str:
    """A short tag of this machine's name, part of every temporary file name."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def temp_path(path: Path) -> Path:
    """The temporary file name atomic_open writes `path` through."""
    return path.parent / f".{path.name}.{host_tag()}-{os.getpid()}.{uuid.uuid4().hex}.part"


def _process_exists(pid: int) -> bool:
    if os.name != "posix":  # os.kill on Windows terminates the process: never probe there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def is_stale_temp(entry: os.DirEntry[str] | Path, now: float | None = None) -> bool:
    """Whether `entry` is a temporary file of atomic_open that no writer will finish."""
    name = entry.name
    match = _TEMP_NAME.fullmatch(name)
    if match is None and _OLD_TEMP_NAME.fullmatch(name) is None:
        return False
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False  # removed meanwhile
    if not stat.S_ISREG(info.st_mode):
        return False
    now = time.time() if now is None else now
    if now - info.st_mtime > STALE_AFTER_S:
        return True
    if match is None or match["host"] != host_tag():
        return False
    pid = int(match["pid"])
    return pid != os.getpid() and not _process_exists(pid)


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Delete the stale temporary files of atomic_open in `folder`; returns them.

    Never raises for a file it cannot remove: cleaning up must not fail a write."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(os.fspath(folder)))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(".part") and is_stale_temp(
                entry, now):
            try:
                os.unlink(entry.path)
            except OSError:
                continue  # another sweep got it first, or no permission
            removed.append(Path(entry.path))
    return removed


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX: the directory entry is data too)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot sync a directory; the rename itself is done
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", sync: bool = False,
                **kwargs: Any) -> Iterator[IO[Any]]:
    """A writable file object whose contents appear at `path` when the block ends
    without an exception; on an exception the partial file is removed.

    mode is "wb" or "w" (text; kwargs such as encoding go to open). sync=True also
    flushes the bytes to disk before the rename and the folder after it (for
    checkpoints). Stale temporary files of killed writers in the folder are removed."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open: mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent)  # before writing: a big checkpoint needs the space
    tmp = temp_path(path)
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
    if sync:
        _sync_folder(path.parent)


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
