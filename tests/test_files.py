"""Atomic writes (tinygrad_edu.files): a failed write leaves the old file and no debris."""

import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import files
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


# -- temporary files of killed writers ----------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def _temp_of(path, pid):
    """A temporary file as atomic_open names it, but for writer `pid`."""
    path = Path(path)
    temp = path.parent / f".{path.name}.{files.host_tag()}-{pid}.{uuid.uuid4().hex}.part"
    assert files.temp_path(path).name.startswith(f".{path.name}.{files.host_tag()}-")
    temp.write_bytes(b"half a checkpoint")
    return temp


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_write_removes_stale_temporary_files_and_keeps_everything_else(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = _temp_of(tmp_path / "a.npz", _dead_pid())
        live = _temp_of(tmp_path / "a.npz", sleeper.pid)  # a writer still at work
        old_live = _temp_of(tmp_path / "b.npz", sleeper.pid)
        hours_ago = time.time() - 2 * 3600
        os.utime(old_live, (hours_ago, hours_ago))  # no write for two hours: abandoned
        old_naming = tmp_path / f".c.npz.{'ab' * 16}.part"  # before pids were in the name
        old_naming.write_bytes(b"x")
        os.utime(old_naming, (hours_ago, hours_ago))
        recent_old_naming = tmp_path / f".d.npz.{'cd' * 16}.part"
        recent_old_naming.write_bytes(b"x")
        other_host = tmp_path / f".e.npz.00000000-{_dead_pid()}.{'ef' * 16}.part"
        other_host.write_bytes(b"x")  # that pid means nothing on this machine
        kept = [live, recent_old_naming, other_host, tmp_path / ".x.part",
                tmp_path / ".bashrc", tmp_path / "notes.part"]
        for path in kept[3:]:
            path.write_text("mine")
        folder_like = tmp_path / f".f.npz.{'ab' * 16}.part"
        folder_like.mkdir()
        os.utime(folder_like, (hours_ago, hours_ago))
        write_text(tmp_path / "out.txt", "new")
        assert not dead.exists() and not old_live.exists() and not old_naming.exists()
        assert all(path.exists() for path in kept) and folder_like.is_dir()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_synced_write_syncs_the_file_and_then_its_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    with atomic_open(tmp_path / "ckpt.npz", "wb", sync=True) as file:
        file.write(b"data")
    expected = ["file", "folder"] if os.name == "posix" else ["file"]
    assert synced == expected
    synced.clear()
    write_bytes(tmp_path / "plot.png", b"png")  # not a checkpoint: no sync asked for
    assert synced == []


# The child saves a checkpoint; after the first array is written into the temporary
# file it says so and blocks on stdin, where the test kills it: kill -9 mid-save.
CHILD = """
import sys
import numpy as np
import tinygrad_edu as tg

real_write = np.lib.format.write_array
def write_then_block(*args, **kwargs):
    real_write(*args, **kwargs)
    print("writing", flush=True)
    sys.stdin.read()
np.lib.format.write_array = write_then_block
tg.save({"w": np.full(100_000, 2.0), "b": np.zeros(3)}, sys.argv[1])
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and pid checks are POSIX")
def test_a_save_killed_mid_write_leaves_no_debris_after_the_next_save(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.full(1000, 1.0)}, path)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=REPO, env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
        assert len(temps) == 1 and temps[0].stat().st_size > 800_000  # mid-save, for real
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
        child.stdin.close()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert temps[0].exists()  # what a killed writer leaves behind
    np.testing.assert_array_equal(tg.load(path)["w"], np.full(1000, 1.0))  # old one intact
    tg.save({"epoch": 2}, tmp_path / "other.npz")  # the next save into the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz", "other.npz"]
    np.testing.assert_array_equal(tg.load(path)["w"], np.full(1000, 1.0))
