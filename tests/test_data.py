"""Tests for tinygrad_edu.data: IDX/CSV readers, datasets, downloads, splits, DataLoader.

Nothing here touches the internet: downloads come from an http.server on 127.0.0.1.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mnist_5k import MNIST_5K, needs_5k

from tinygrad_edu.data import (
    MNIST,
    CSVDigits,
    CSVFormatError,
    DataLoader,
    DatasetMismatchError,
    DatasetNotFoundError,
    FashionMNIST,
    IDXError,
    ImageDataset,
    Subset,
    random_split,
    read_csv_digits,
    read_idx,
    write_idx,
)
from tinygrad_edu.rng import manual_seed
from tinygrad_edu.tensor import Tensor

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Never read or write the real cache, never honour a data dir or proxy from outside."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("TINYGRAD_EDU_DATA", raising=False)
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


def fake_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def write_mnist(folder: Path, n_train: int = 12, n_test: int = 7, gz: bool = True) -> dict:
    """Write a tiny MNIST-style dataset; returns {file name: array}."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images, labels = fake_split(n, seed=n)
        arrays[f"{split}-images-idx3-ubyte"] = images
        arrays[f"{split}-labels-idx1-ubyte"] = labels
    for name, array in arrays.items():
        write_idx(folder / (name + ".gz" if gz else name), array)
    return arrays


# ---------------------------------------------------------------- IDX ----


def test_read_idx_hand_built_file(tmp_path):
    # Built with struct, not write_idx, so the reader is checked against the format itself.
    header = struct.pack(">BBBBIII", 0, 0, 0x08, 3, 2, 3, 4)
    raw = header + bytes(range(24))
    (tmp_path / "a.idx").write_bytes(raw)
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(raw))
    expected = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    for name in ("a.idx", "a.idx.gz"):
        out = read_idx(tmp_path / name)
        assert out.dtype == np.uint8 and out.flags.writeable
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(
    "code, fmt, values, dtype",
    [
        (0x09, "b", [-128, -1, 0, 127], np.int8),
        (0x0B, "h", [-32768, -2, 258, 32767], np.int16),
        (0x0C, "i", [-(2**31), -3, 70000, 2**31 - 1], np.int32),
        (0x0D, "f", [-1.5, 0.0, 3.25, 1e30], np.float32),
        (0x0E, "d", [-1.5, 0.1, 3.25, 1e300], np.float64),
    ],
)
def test_read_idx_big_endian_dtypes(tmp_path, code, fmt, values, dtype):
    raw = struct.pack(f">BBBBI{len(values)}{fmt}", 0, 0, code, 1, len(values), *values)
    path = tmp_path / "v.idx"
    path.write_bytes(raw)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, np.array(values, dtype=dtype))


def test_gzip_detected_by_content_not_name(tmp_path):
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    write_idx(tmp_path / "gz-inside.idx", array, compress=True)
    write_idx(tmp_path / "raw-inside.gz", array, compress=False)
    assert (tmp_path / "gz-inside.idx").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "raw-inside.gz").read_bytes()[:2] == b"\x00\x00"
    for name in ("gz-inside.idx", "raw-inside.gz"):
        np.testing.assert_array_equal(read_idx(tmp_path / name), array)


IDX_DTYPES = st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])


@settings(max_examples=60, deadline=None)
@given(
    array=IDX_DTYPES.flatmap(
        lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))
    ),
    compress=st.booleans(),
)
def test_idx_round_trip(array, compress):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.idx"
        write_idx(path, array, compress=compress)
        out = read_idx(path)
    assert out.dtype == array.dtype and out.shape == array.shape
    np.testing.assert_array_equal(out, array)  # NaN equals NaN here


def test_write_idx_rejects_unsupported(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "x.idx", np.uint8(3))


def _good_idx() -> bytes:
    return struct.pack(">BBBBII", 0, 0, 0x08, 2, 3, 4) + bytes(12)


@pytest.mark.parametrize(
    "content, message",
    [
        (_good_idx()[:-5], r"truncated payload.*\(3, 4\).*needs 12 bytes, found 7"),
        (_good_idx() + b"\x00", r"payload too long.*needs 12 bytes, found 13"),
        (_good_idx()[:6], r"truncated header.*12 header bytes, found 6"),
        (b"\x00", r"truncated header.*at least 4 bytes, found 1"),
        (b"\x12\x34" + _good_idx()[2:], r"bad magic number.*00 00, found 12 34"),
        (b"\x00\x00\x07" + _good_idx()[3:], r"unknown dtype code 0x07.*0x08"),
        (b"\x00\x00\x08\x00", r"number of dimensions is 0"),
        (b"\x1f\x8b" + b"not really gzip", r"corrupt gzip stream"),
        (gzip.compress(_good_idx())[:-12], r"corrupt gzip stream"),  # stream cut short
        (gzip.compress(_good_idx()[:-1]), r"truncated payload"),  # valid gzip, short IDX
    ],
)
def test_read_idx_errors_name_file_and_problem(tmp_path, content, message):
    path = tmp_path / "broken-file.idx"
    path.write_bytes(content)
    with pytest.raises(IDXError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value) and info.value.path == str(path)
    assert isinstance(info.value, ValueError)


# ------------------------------------------------------ real MNIST-5k ----



@needs_5k
def test_mnist_5k_checksums_match():
    for line in (MNIST_5K / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((MNIST_5K / name).read_bytes()).hexdigest() == digest, name


@needs_5k
def test_mnist_5k_train_split():
    ds = MNIST(MNIST_5K, train=True, download=False)
    assert len(ds) == 5000 and ds.folder == MNIST_5K
    assert ds.images.shape == (5000, 28, 28) and ds.images.dtype == np.uint8
    assert ds.targets.shape == (5000,) and ds.targets.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(ds.targets, minlength=10), [500] * 10)
    assert ds.images.min() == 0 and ds.images.max() == 255
    image, label = ds[4999]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0 and label == 9 and type(label) is int
    assert ds.classes[3] == "3 - three" and len(ds.classes) == 10


@needs_5k
def test_mnist_5k_test_split_and_batches():
    ds = MNIST(MNIST_5K, train=False, download=False)
    assert len(ds) == 10000 and ds.images.shape == (10000, 28, 28)
    assert np.bincount(ds.targets).sum() == 10000 and set(np.unique(ds.targets)) == set(range(10))
    x, y = ds.get_batch([0, 9999, 5])
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[1], ds[9999][0])
    assert y.tolist() == [ds[0][1], ds[9999][1], ds[5][1]]


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian_package():
    ds = FashionMNIST(train=False, download=False)
    assert ds.folder == DEBIAN_FASHION and len(ds) == 10000
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    np.testing.assert_array_equal(np.bincount(ds.targets), [1000] * 10)


# ------------------------------------------------- local file layouts ----


@pytest.mark.parametrize("sub", [".", "mnist", "MNIST/raw"])
@pytest.mark.parametrize("gz", [True, False])
def test_mnist_root_layouts(tmp_path, sub, gz):
    arrays = write_mnist(tmp_path / sub, gz=gz)
    for train, split in ((True, "train"), (False, "t10k")):
        ds = MNIST(tmp_path, train=train, download=False)
        assert ds.folder == tmp_path / sub
        np.testing.assert_array_equal(ds.images, arrays[f"{split}-images-idx3-ubyte"])
        np.testing.assert_array_equal(ds.targets, arrays[f"{split}-labels-idx1-ubyte"])


def test_env_var_takes_a_data_folder_or_a_parent(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(tmp_path / "flat"))
    write_mnist(tmp_path / "flat", n_train=4)  # the files themselves, as --data takes them
    assert len(MNIST(download=False)) == 4
    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(tmp_path / "parent"))
    write_mnist(tmp_path / "parent" / "mnist", n_train=3)
    assert len(MNIST(download=False)) == 3
    # Fashion-MNIST is not under this parent: nothing of MNIST's is taken for it.
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    with pytest.raises(DatasetNotFoundError, match=r"FashionMNIST \(train split\): missing"):
        FashionMNIST(download=False)
    write_mnist(tmp_path / "elsewhere", n_train=5)
    assert len(MNIST(root=tmp_path / "elsewhere", download=False)) == 5  # root comes first


def write_cache(tmp_path: Path, n_train: int = 9, n_test: int = 8) -> Path:
    """Fill the (test-local) download cache with an MNIST of its own."""
    cache = tmp_path / "xdg-cache" / "tinygrad_edu" / "mnist"
    write_mnist(cache, n_train=n_train, n_test=n_test)
    return cache


@pytest.mark.parametrize("train_only_in", [".", "mnist", "MNIST/raw"])
def test_root_with_only_the_training_files_does_not_borrow_the_test_files(
    tmp_path, monkeypatch, train_only_in
):
    write_cache(tmp_path)  # a complete copy elsewhere must not be used
    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(tmp_path / "env"))
    write_mnist(tmp_path / "env")
    folder = tmp_path / "root" / train_only_in
    write_mnist(folder, n_train=6)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (folder / name).unlink()
    assert len(MNIST(tmp_path / "root", download=False)) == 6
    for download in (False, True):  # and nothing is downloaded into or around it
        with pytest.raises(DatasetNotFoundError) as info:
            MNIST(tmp_path / "root", train=False, download=download, mirrors=[closed_port_url()])
        message = str(info.value)
        assert message.startswith(f"MNIST (test split): root='{tmp_path / 'root'}'")
        assert "but not t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]" in message
        assert "holds train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" in message
        assert str(folder) in message
        assert "Downloading failed" not in message


def test_env_folder_with_one_split_does_not_borrow_the_other(tmp_path, monkeypatch):
    write_cache(tmp_path)
    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(tmp_path / "env"))
    write_mnist(tmp_path / "env" / "mnist")
    (tmp_path / "env" / "mnist" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"TINYGRAD_EDU_DATA=.*but not "
                                                   r"train-labels-idx1-ubyte\[\.gz\]\."):
        MNIST(download=False)
    assert len(MNIST(train=False, download=False)) == 7


def test_empty_root_takes_the_cache_only_when_downloading_is_allowed(tmp_path):
    write_cache(tmp_path, n_train=9)
    (tmp_path / "fresh").mkdir()
    # As torchvision's MNIST("data", download=True): a root without files is filled from
    # the download cache; it never mixes with files the root holds.
    ds = MNIST(tmp_path / "fresh", download=True, mirrors=[closed_port_url()])
    assert len(ds) == 9 and ds.folder == tmp_path / "xdg-cache" / "tinygrad_edu" / "mnist"
    with pytest.raises(DatasetNotFoundError, match=r"missing files .* in root="):
        MNIST(tmp_path / "fresh", download=False)


def test_partial_cache_is_completed_by_downloading(tmp_path, serve):
    write_mnist(tmp_path / "site", n_test=4)
    tiny = tiny_mnist_class(tmp_path / "site")
    cache = write_cache(tmp_path, n_test=4)  # the site's files, one of them lost
    (cache / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"allow downloading \(download=True\)"):
        tiny(train=False, download=False)
    assert len(tiny(train=False, mirrors=[serve(tmp_path / "site")])) == 4


def test_train_and_test_image_sizes_must_agree(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((7, 32, 30), dtype=np.uint8))
    for train in (True, False):
        with pytest.raises(ValueError, match=r"images are (28x28|32x30) in .* but (32x30|28x28) "
                                             r"in .*same size"):
            MNIST(tmp_path, train=train, download=False)


# -------------------------------------------- which dataset a folder holds ----


def official_as(monkeypatch, folder: Path, dataset: str, compressed: bool = True) -> None:
    """Pretend the files in `folder` are `dataset`'s official ones (their MD5 as published,
    gzipped or not), as if the fake files had been downloaded from Zalando or LeCun."""
    from tinygrad_edu.data import official

    for path in folder.iterdir():
        data = path.read_bytes()
        if not compressed:
            data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        name = path.name.removesuffix(".gz")
        digest = hashlib.md5(data).hexdigest()
        monkeypatch.setitem(official.OFFICIAL_FILES, digest, official.OfficialFile(dataset, name))


@pytest.mark.parametrize("compressed", [True, False])
def test_another_datasets_official_files_are_refused(tmp_path, monkeypatch, compressed):
    write_mnist(tmp_path / "fashion")
    official_as(monkeypatch, tmp_path / "fashion", "FashionMNIST", compressed)
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    assert len(FashionMNIST(tmp_path / "fashion", download=False)) == 12
    with pytest.raises(DatasetMismatchError) as info:
        MNIST(tmp_path / "fashion", train=False, download=False)
    message = str(info.value)
    assert message.startswith(f"MNIST (test split): root='{tmp_path / 'fashion'}' holds "
                              "Fashion-MNIST, not MNIST")
    assert "Fashion-MNIST's official t10k-images-idx3-ubyte" in message
    assert "use FashionMNIST(...)" in message


def test_raw_files_are_recognised_too(tmp_path, monkeypatch):
    write_mnist(tmp_path / "gz")
    official_as(monkeypatch, tmp_path / "gz", "FashionMNIST", compressed=False)
    write_mnist(tmp_path / "raw", gz=False)  # the same content, stored uncompressed
    with pytest.raises(DatasetMismatchError, match="holds Fashion-MNIST, not MNIST"):
        MNIST(tmp_path / "raw", download=False)


def test_other_splits_labels_reveal_the_dataset(tmp_path, monkeypatch):
    """A custom training subset beside the official test files of the other dataset."""
    write_mnist(tmp_path)
    from tinygrad_edu.data import official

    labels = (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes()
    monkeypatch.setitem(official.OFFICIAL_FILES, hashlib.md5(labels).hexdigest(),
                        official.OfficialFile("FashionMNIST", "t10k-labels-idx1-ubyte"))
    with pytest.raises(DatasetMismatchError, match="t10k-labels-idx1-ubyte.gz is Fashion-MNIST's"):
        MNIST(tmp_path, train=True, download=False)


def test_official_tables_match_the_real_files():
    from tinygrad_edu.data import official

    assert set(official.MNIST_RAW_MD5) == {n.removesuffix(".gz") for n in official.MNIST_MD5}
    assert len(official.OFFICIAL_FILES) == 16  # no digest appears twice


@needs_5k
def test_real_mnist_is_recognised(tmp_path):
    from tinygrad_edu.data import official

    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        stored = (MNIST_5K / f"{name}.gz").read_bytes()
        content = gzip.decompress(stored)
        assert hashlib.md5(content).hexdigest() == official.MNIST_RAW_MD5[name]
        assert official.identify(stored, content) == official.OfficialFile("MNIST", name)
        (tmp_path / name).write_bytes(content)  # uncompressed
        assert official.identify(content, content) == official.OfficialFile("MNIST", name)
        recompressed = gzip.compress(content, compresslevel=1)  # as a repackager might
        assert official.identify(recompressed, content) == official.OfficialFile("MNIST", name)
    assert official.identify(b"custom", b"custom") is None
    with pytest.raises(DatasetMismatchError, match=r"holds MNIST, not Fashion-MNIST"):
        FashionMNIST(MNIST_5K, train=False, download=False)
    with pytest.raises(DatasetMismatchError, match=r"holds MNIST, not Fashion-MNIST"):
        FashionMNIST(MNIST_5K, train=True, download=False)  # caught by the test labels beside


@needs_5k
def test_renamed_split_is_refused(tmp_path):
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        data = (MNIST_5K / f"t10k-{kind}.gz").read_bytes()
        (tmp_path / f"train-{kind}.gz").write_bytes(data)
    with pytest.raises(DatasetMismatchError, match=r"is MNIST's official t10k-images-idx3-ubyte,"
                                                   r" not the train-images-idx3-ubyte"):
        MNIST(tmp_path, download=False)


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="dataset-fashion-mnist not installed")
def test_debian_fashion_mnist_is_not_mnist(monkeypatch):
    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(DEBIAN_FASHION))
    with pytest.raises(DatasetMismatchError) as info:
        MNIST(train=False, download=False)
    assert "$TINYGRAD_EDU_DATA=/usr/share/datasets/fashion-mnist holds Fashion-MNIST" in str(
        info.value
    )


def test_count_mismatch_is_a_clear_error(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(11, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"11 labels do not match the 12 images") as info:
        MNIST(tmp_path, download=False)
    assert "train-labels-idx1-ubyte.gz" in str(info.value)


def test_label_files_are_validated(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.full(12, 10, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"label 10 is not a class index 0..9"):
        MNIST(tmp_path, download=False)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros((12, 1), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.gz: expected uint8 labels"):
        MNIST(tmp_path, download=False)


def test_missing_files_message_says_how_to_supply_them(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(root=tmp_path / "nowhere", train=False, download=False)
    message = str(info.value)
    cache = tmp_path / "xdg-cache" / "tinygrad_edu" / "mnist"
    for needle in (
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        str(tmp_path / "nowhere"),
        str(cache),
        "TINYGRAD_EDU_DATA",
        "root=",
        "download=False",
        "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
    ):
        assert needle in message, needle


# ------------------------------------------------------------ downloads ----


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def serve():
    """serve(folder) -> base URL of an http.server on 127.0.0.1 (stopped in teardown)."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens: connection refused


def tiny_mnist_class(folder: Path) -> type[MNIST]:
    """MNIST whose official checksums are those of the fake files in `folder`."""
    md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.glob("*.gz")}
    return type("TinyMNIST", (MNIST,), {"md5": md5})


def cache_files(tmp_path: Path) -> list[str]:
    folder = tmp_path / "xdg-cache" / "tinygrad_edu" / "mnist"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_download_falls_back_verifies_and_caches(tmp_path, serve):
    arrays = write_mnist(tmp_path / "site", n_train=9)
    tiny = tiny_mnist_class(tmp_path / "site")
    ds = tiny(mirrors=[closed_port_url(), serve(tmp_path / "site")])
    np.testing.assert_array_equal(ds.images, arrays["train-images-idx3-ubyte"])
    assert ds.folder == tmp_path / "xdg-cache" / "tinygrad_edu" / "mnist"
    assert cache_files(tmp_path) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    # Second load: the cache answers, no mirror is needed.
    again = tiny(mirrors=[closed_port_url()])
    np.testing.assert_array_equal(again.targets, arrays["train-labels-idx1-ubyte"])


def test_mirror_list_is_a_class_attribute(tmp_path, serve):
    write_mnist(tmp_path / "site", n_test=4)
    tiny = tiny_mnist_class(tmp_path / "site")
    tiny.mirrors = (serve(tmp_path / "site"),)
    assert len(tiny(train=False)) == 4


def test_tampered_download_is_rejected_and_not_cached(tmp_path, serve):
    write_mnist(tmp_path / "site")
    tiny = tiny_mnist_class(tmp_path / "site")
    write_mnist(tmp_path / "evil", n_train=13)  # same names, other bytes
    with pytest.raises(DatasetNotFoundError, match=r"MD5 mismatch: expected [0-9a-f]{32}, got"):
        tiny(mirrors=[serve(tmp_path / "evil")])
    assert cache_files(tmp_path) == []  # no corrupt file, no leftover .part
    # A later good mirror still wins.
    ds = tiny(mirrors=[serve(tmp_path / "evil"), serve(tmp_path / "site")])
    assert len(ds) == 12


def test_all_mirrors_failing_names_files_and_remedies(tmp_path, serve):
    (tmp_path / "empty").mkdir()
    dead, empty = closed_port_url(), serve(tmp_path / "empty")  # refused; 404
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(mirrors=[dead, empty])
    message = str(info.value)
    for needle in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "Downloading failed",
        f"{dead}train-images-idx3-ubyte.gz",
        "404",
        "TINYGRAD_EDU_DATA",
        "root=",
        str(tmp_path / "xdg-cache" / "tinygrad_edu" / "mnist"),
    ):
        assert needle in message, needle
    assert cache_files(tmp_path) == []


def test_import_has_no_side_effects():
    import tinygrad_edu.data

    code = "import sys, tinygrad_edu.data; assert 'tqdm' not in sys.modules"
    env = dict(os.environ, PYTHONPATH=str(Path(tinygrad_edu.data.__file__).parents[2]))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


# ------------------------------------------------------------------ CSV ----


def write_csv(path: Path, rows: list[list], label: bool = True, newline: str = "\n") -> Path:
    names = (["label"] if label else []) + [f"pixel{i}" for i in range(784)]
    lines = [",".join(names)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text(newline.join(lines) + newline, newline="")
    return path


def digit_rows(n: int, label: bool = True) -> tuple[list[list], np.ndarray, np.ndarray]:
    images, labels = fake_split(n, seed=3)
    rows = [
        ([int(y)] if label else []) + x.ravel().tolist()
        for x, y in zip(images, labels, strict=True)
    ]
    return rows, images, labels


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_csv_train_and_test_files(tmp_path, newline):
    rows, images, labels = digit_rows(5)
    got_images, got_labels = read_csv_digits(
        write_csv(tmp_path / "train.csv", rows, newline=newline)
    )
    np.testing.assert_array_equal(got_images, images)
    assert got_images.dtype == np.uint8 and got_labels.dtype == np.int64
    np.testing.assert_array_equal(got_labels, labels)
    test_rows = [row[1:] for row in rows]
    got_images, got_labels = read_csv_digits(write_csv(tmp_path / "test.csv", test_rows, False))
    np.testing.assert_array_equal(got_images, images)
    assert got_labels is None


def test_csv_header_only_is_empty(tmp_path):
    images, labels = read_csv_digits(write_csv(tmp_path / "train.csv", []))
    assert images.shape == (0, 28, 28) and labels.shape == (0,)


def _bad(row: list, col: int, value) -> list:
    row = list(row)
    row[col] = value
    return row


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r[:-1], r"line 3: expected 785 comma-separated values, found 784"),
        (lambda r: [*r, 0], r"line 3: expected 785 comma-separated values, found 786"),
        (lambda r: _bad(r, 4, "x"), r"line 3: column 5: expected an integer, found 'x'"),
        (lambda r: _bad(r, 4, "5.0"), r"line 3: column 5: expected an integer, found '5.0'"),
        (lambda r: _bad(r, 4, ""), r"line 3: column 5: expected an integer, found ''"),
        (lambda r: _bad(r, 9, 256), r"line 3: column 10: pixel value 256 out of range 0..255"),
        (lambda r: _bad(r, 9, -1), r"line 3: column 10: pixel value -1 out of range 0..255"),
        (lambda r: _bad(r, 9, 70000), r"line 3: column 10: pixel value 70000 out of range"),
        (lambda r: _bad(r, 0, 10), r"line 3: label 10 out of range 0..9"),
    ],
)
def test_csv_bad_rows_name_file_line_and_problem(tmp_path, mutate, message):
    rows, _, _ = digit_rows(3)
    rows[1] = mutate(rows[1])
    path = write_csv(tmp_path / "train.csv", rows)
    with pytest.raises(CSVFormatError, match=message) as info:
        read_csv_digits(path)
    assert str(info.value).startswith(f"{path}, line 3:") and info.value.line == 3


@pytest.mark.parametrize(
    "text, message",
    [
        ("", r"line 1: expected a header row"),
        ("1,2,3\n", r"line 1: expected a header row .* found numbers"),
        ("label,pixel0\n1,2\n", r"line 1: header has 2 columns, expected 785"),
        ("pixel0,pixel1\n1,2\n", r"line 1: header has 2 columns, expected 784"),
    ],
)
def test_csv_bad_header(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CSVFormatError, match=message):
        read_csv_digits(path)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("where", [2, 4])  # between rows; the last line
def test_csv_whitespace_line_is_reported_at_its_line(tmp_path, newline, where):
    rows, _, _ = digit_rows(3)
    lines = [",".join(["label"] + [f"pixel{i}" for i in range(784)])]
    lines += [",".join(map(str, row)) for row in rows]
    lines.insert(where, " \t ")  # line where + 1 of the file
    path = tmp_path / "train.csv"
    path.write_bytes((newline.join(lines) + newline).encode())
    with pytest.raises(CSVFormatError, match="only whitespace") as info:
        read_csv_digits(path)
    assert info.value.line == where + 1
    assert str(info.value).startswith(f"{path}, line {where + 1}: ")


def test_csv_empty_lines_are_skipped(tmp_path):
    rows, images, _ = digit_rows(2)
    path = write_csv(tmp_path / "train.csv", rows)
    text = path.read_text().split("\n")
    path.write_text("\n".join([text[0], text[1], "", text[2], "", ""]))
    np.testing.assert_array_equal(read_csv_digits(path)[0], images)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("line", [1, 3])
def test_csv_non_utf8_bytes_name_file_line_and_offset(tmp_path, bom, line):
    rows, _, _ = digit_rows(3)
    path = write_csv(tmp_path / "train.csv", rows, newline="\r\n")
    raw = bom + path.read_bytes()
    start = len(bom)
    for _ in range(line - 1):
        start = raw.index(b"\n", start) + 1
    offset = start + 2  # inside the header's 'label', or a row's first pixel
    raw = raw[:offset] + b"\xe9" + raw[offset + 1 :]  # latin-1, not UTF-8
    path.write_bytes(raw)
    with pytest.raises(CSVFormatError) as info:
        read_csv_digits(path)
    assert info.value.line == line
    assert f"{path}, line {line}: not UTF-8 text: byte 0xE9 at byte offset {offset}" in str(
        info.value
    )


def test_csv_dataset_interface(tmp_path):
    rows, images, labels = digit_rows(6)
    ds = CSVDigits(write_csv(tmp_path / "train.csv", rows))
    assert len(ds) == 6 and ds.targets.dtype == np.int64
    image, label = ds[2]
    assert image.shape == (1, 28, 28) and label == labels[2]
    np.testing.assert_allclose(image[0], images[2] / 255.0, rtol=1e-6)
    unlabeled = CSVDigits(write_csv(tmp_path / "test.csv", [r[1:] for r in rows], label=False))
    assert unlabeled.targets is None and unlabeled[0][1] is None
    x, y = next(iter(DataLoader(unlabeled, batch_size=4)))
    assert x.shape == (4, 1, 28, 28) and y is None


# --------------------------------------------------------- random_split ----


def numbered(n: int) -> ImageDataset:
    """n blank images whose labels are their own indices, to trace order."""
    return ImageDataset(np.zeros((n, 28, 28), dtype=np.uint8), np.arange(n))


def test_random_split_sizes_disjoint_complete():
    ds = numbered(101)
    parts = random_split(ds, [0.7, 0.2, 0.1], seed=0)
    assert [len(p) for p in parts] == [71, 20, 10]  # floors 70, 20, 10 + one leftover
    parts = random_split(ds, [50, 0, 51], seed=0)
    assert [len(p) for p in parts] == [50, 0, 51] and all(isinstance(p, Subset) for p in parts)
    seen = np.concatenate([p.indices for p in parts])
    np.testing.assert_array_equal(np.sort(seen), np.arange(101))


def test_random_split_reproducible():
    ds = numbered(30)
    a = random_split(ds, [10, 20], seed=5)
    b = random_split(ds, [10, 20], seed=5)
    c = random_split(ds, [10, 20], seed=6)
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    assert not np.array_equal(a[0].indices, c[0].indices)
    manual_seed(1)
    d = random_split(ds, [10, 20])
    manual_seed(1)
    np.testing.assert_array_equal(d[1].indices, random_split(ds, [10, 20])[1].indices)


@pytest.mark.parametrize(
    "lengths, message",
    [([5, 6], "sum to 11, dataset has 10"), ([0.5, 0.6], "sum to 1"), ([-1, 11], "non-negative")],
)
def test_random_split_errors(lengths, message):
    with pytest.raises(ValueError, match=message):
        random_split(numbered(10), lengths)


def test_subset_keeps_the_fast_path():
    ds = numbered(20)
    sub = random_split(ds, [8, 12], seed=0)[1]
    x, y = sub.get_batch([0, 3, 11])
    np.testing.assert_array_equal(y, sub.indices[[0, 3, 11]])
    assert x.shape == (3, 1, 28, 28)
    assert sub[3][1] == sub.indices[3]
    nested = Subset(sub, [11, 0])
    assert nested.get_batch([0, 1])[1].tolist() == [sub.indices[11], sub.indices[0]]
    assert not hasattr(Subset(PairList(4), [0, 1]), "get_batch")


# ----------------------------------------------------------- DataLoader ----


class PairList:
    """A plain dataset: only __len__ and __getitem__, float64 features."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return np.full(3, i, dtype=np.float64), i


def epoch_labels(loader: DataLoader) -> list[int]:
    return [int(v) for _, y in loader for v in y.data]


def test_loader_batches_shapes_and_len():
    loader = DataLoader(numbered(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(x.data) for x, _ in batches] == [4, 4, 2]
    x, y = batches[0]
    assert isinstance(x, Tensor) and isinstance(y, Tensor)
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert not x.requires_grad
    assert epoch_labels(loader) == list(range(10))  # no shuffle: in order
    dropping = DataLoader(numbered(10), batch_size=4, drop_last=True)
    assert len(dropping) == 2 and [len(x.data) for x, _ in dropping] == [4, 4]
    assert len(DataLoader(numbered(3), batch_size=4, drop_last=True)) == 0


def test_loader_generic_dataset_stacks_samples():
    loader = DataLoader(PairList(5), batch_size=2, shuffle=True)
    batches = list(loader)
    x, y = batches[0]
    # PyTorch's default collate keeps the arrays' dtype (float64 here)
    assert x.shape == (2, 3) and x.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(x.data[:, 0], y.data)
    assert sorted(int(v) for _, y in batches for v in y.data) == [0, 1, 2, 3, 4]


def test_loader_transform_goes_through_getitem():
    ds = ImageDataset(np.full((5, 28, 28), 255, np.uint8), np.arange(5), transform=lambda x: x * 2)
    x, _ = next(iter(DataLoader(ds, batch_size=5)))
    np.testing.assert_array_equal(x.data, np.full((5, 1, 28, 28), 2.0, np.float32))


def test_loader_shuffle_is_seeded_and_covers_each_index_once():
    loader = DataLoader(numbered(50), batch_size=8, shuffle=True)
    manual_seed(123)
    first, second = epoch_labels(loader), epoch_labels(loader)
    manual_seed(123)
    assert epoch_labels(loader) == first and epoch_labels(loader) == second
    manual_seed(124)
    assert epoch_labels(loader) != first
    assert first != second  # each epoch draws a new order
    for order in (first, second):
        assert sorted(order) == list(range(50))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"batch_size": 0}, ValueError, "at least 1"),
        ({"batch_size": -3}, ValueError, "at least 1"),
        ({"batch_size": 2.5}, TypeError, "must be an int"),
        ({"batch_size": True}, TypeError, "must be an int"),
    ],
)
def test_loader_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(numbered(4), **kwargs)


def test_loader_rejects_non_dataset():
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(iter(range(3)))
    with pytest.raises(TypeError, match="found set at sample"):
        next(iter(DataLoader([{1, 2}] * 3)))


def test_loader_accepts_tensor_samples():
    samples = [(Tensor(np.ones(2) * i), Tensor(np.int64(i))) for i in range(3)]
    x, y = next(iter(DataLoader(samples, batch_size=3)))
    assert x.shape == (3, 2) and x.dtype == np.float64 and y.data.tolist() == [0, 1, 2]
