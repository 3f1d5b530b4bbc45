"""Atomic writes (tinygrad_edu.files): a failed write leaves the old file and no debris."""

import os

import pytest

from tinygrad_edu.files import atomic_open, write_bytes, write_text


def test_write_text_and_bytes_create_the_file_with_open_permissions(tmp_path):
    path = write_text(tmp_path / "sub" / "a.txt", "héllo\n")  # the folder is made too
    assert path.read_text(encoding="utf-8") == "héllo\n"
    write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    (tmp_path / "plain").write_text("x")  # what a plain open() gives under this umask
    assert (os.stat(tmp_path / "b.bin").st_mode & 0o777) == (
        os.stat(tmp_path / "plain").st_mode & 0o777)


def test_an_error_keeps_the_old_file_and_leaves_no_partial_file(tmp_path):
    path = write_text(tmp_path / "model.json", "old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_open(path, "w") as file:
            file.write("half of the new")
            raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_replaces_an_existing_file_and_refuses_other_modes(tmp_path):
    path = write_text(tmp_path / "x", "old")
    with atomic_open(path, "wb", sync=True) as file:
        file.write(b"new")
    assert path.read_bytes() == b"new"
    with pytest.raises(ValueError, match="mode must be 'wb' or 'w'"):
        with atomic_open(path, "a"):
            pass
