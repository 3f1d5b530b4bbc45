"""Fetch one file from a list of mirrors, verify its checksum, and store it atomically."""

from __future__ import annotations

import hashlib
import http.client
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..files import atomic_open

_CHUNK = 1 << 16


class DownloadError(OSError):
    """Every mirror failed; `failures` holds one 'url: reason' line per attempt."""

    def __init__(self, name: str, failures: list[str]) -> None:
        self.failures = failures
        super().__init__(f"could not download {name}:\n  " + "\n  ".join(failures))


class IntegrityError(ValueError):
    """The downloaded bytes are not the official file (cut short or different)."""


def _fetch(url: str, dest: Path, md5: str | None, timeout: float) -> None:
    from tqdm import tqdm  # lazily: only downloads need it

    digest = hashlib.md5(usedforsecurity=False)
    # The checks raise inside atomic_open, which then removes the partial file: the
    # cache never holds a corrupt one.
    with atomic_open(dest, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name) as bar:
            size = 0
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                bar.update(len(chunk))
        if total is not None and size != total:
            raise IntegrityError(f"truncated: expected {total} bytes, received {size}")
        if md5 is not None and digest.hexdigest() != md5:
            raise IntegrityError(f"MD5 mismatch: expected {md5}, got {digest.hexdigest()}")


def download(
    name: str, mirrors: Sequence[str], dest_dir: Path, md5: str | None, timeout: float = 30.0
) -> Path:
    """Download `name` from the first mirror that serves it intact into `dest_dir`."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / name
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            _fetch(url, dest, md5, timeout)
            return dest
        except (OSError, http.client.HTTPException, IntegrityError) as e:
            # URLError/HTTPError/timeouts are OSErrors; a cut connection is an HTTPException.
            failures.append(f"{url}: {e}")
    raise DownloadError(name, failures)
