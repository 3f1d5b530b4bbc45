"""Tests for tinygrad_edu.vision: ImageFolder, the MNIST wrappers, transforms, and the
cats_vs_dogs example. Expectations are computed by hand on small arrays (torchvision is
used for comparison only where it is installed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from mnist_5k import MNIST_5K, needs_5k

import tinygrad_edu
from tinygrad_edu.tensor import Tensor, from_numpy
from tinygrad_edu.utils.data import DataLoader
from tinygrad_edu.vision import datasets, transforms
from tinygrad_edu.vision.pil import INSTALL_HINT, require_pil

Image = pytest.importorskip("PIL.Image")
REPO = Path(__file__).resolve().parents[1]


def save(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    if mode is not None:
        image = image.convert(mode)
    image.save(path)
    return path


def coloured(rng: np.random.Generator, h: int, w: int, channel: int) -> np.ndarray:
    """A noisy image whose `channel` (0 red, 2 blue) dominates."""
    array = rng.integers(0, 80, (h, w, 3), dtype=np.uint8)
    array[..., channel] = rng.integers(170, 256, (h, w), dtype=np.uint8)
    return array


def make_folder(root: Path, per_class: int = 12, seed: int = 0) -> Path:
    """root/{blue,red}/ of mixed sizes and formats, one L and one RGBA image."""
    rng = np.random.default_rng(seed)
    for name, channel in (("red", 0), ("blue", 2)):
        for i in range(per_class):
            h, w = rng.integers(12, 40, size=2)
            ext = ".png" if i % 2 else ".JPG"  # extensions match case-insensitively
            save(root / name / f"{i:02d}{ext}", coloured(rng, h, w, channel))
    save(root / "red" / "gray.png", coloured(rng, 20, 30, 0), mode="L")
    save(root / "blue" / "alpha.png", coloured(rng, 25, 15, 2), mode="RGBA")
    (root / "blue" / "notes.txt").write_text("not an image, and not listed")
    return root


# ------------------------------------------------------------ ImageFolder ----


def test_image_folder_classes_samples_and_rgb(tmp_path):
    make_folder(tmp_path)
    ds = datasets.ImageFolder(tmp_path)
    assert ds.classes == ["blue", "red"] and ds.class_to_idx == {"blue": 0, "red": 1}
    assert len(ds) == 26 and ds.targets == [0] * 13 + [1] * 13
    paths = [Path(p).name for p, _ in ds.samples]
    assert paths[:3] == ["00.JPG", "01.png", "02.JPG"] and "alpha.png" in paths
    assert "notes.txt" not in paths and ds.imgs == ds.samples
    for path, target in ds.samples:
        image, label = ds[ds.samples.index((path, target))]
        assert image.mode == "RGB" and label == target
        with Image.open(path) as original:
            assert image.size == original.size
    gray = ds[paths.index("gray.png")][0]
    r, g, b = np.asarray(gray).transpose(2, 0, 1)
    assert (r == g).all() and (g == b).all()  # L replicated to three channels


def test_image_folder_transforms_and_loader(tmp_path):
    make_folder(tmp_path, per_class=3)
    ds = datasets.ImageFolder(
        tmp_path,
        transform=transforms.Compose([transforms.Resize((8, 10)), transforms.ToTensor()]),
        target_transform=lambda t: t * 10,
    )
    x, y = next(iter(DataLoader(ds, batch_size=8)))
    assert x.shape == (8, 3, 8, 10) and x.dtype == np.float32 and y.data.tolist()[:4] == [0] * 4
    assert 0 <= x.data.min() and x.data.max() <= 1
    assert ds[len(ds) - 1][1] == 10


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        datasets.ImageFolder(tmp_path / "missing")
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="no class folders"):
        datasets.ImageFolder(tmp_path)
    save(tmp_path / "cat" / "1.png", np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "dog").mkdir()
    (tmp_path / "dog" / "readme.md").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"class folder\(s\) dog"):
        datasets.ImageFolder(tmp_path)
    assert len(datasets.ImageFolder(tmp_path, allow_empty=True)) == 1
    (tmp_path / "dog" / "broken.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    ds = datasets.ImageFolder(tmp_path)
    with pytest.raises(OSError, match=r"cannot read image file .*broken\.jpg"):
        ds[1]


def test_missing_pillow_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `from PIL import Image` fail
    with pytest.raises(ImportError, match="ImageFolder needs Pillow") as info:
        require_pil("ImageFolder")
    assert INSTALL_HINT in str(info.value)


# ------------------------------------------------------------------ MNIST ----


@needs_5k
def test_mnist_items_are_pil_images_like_torchvision():
    ds = datasets.MNIST(MNIST_5K, train=True)
    assert len(ds) == 5000 and ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
    image, label = ds[0]
    assert image.mode == "L" and image.size == (28, 28) and isinstance(label, int)
    tensor = transforms.ToTensor()(image)
    assert tensor.shape == (1, 28, 28) and tensor.dtype == np.float32
    np.testing.assert_allclose(tensor.data[0], ds.data.data[0] / 255, rtol=1e-6)
    test = datasets.MNIST(MNIST_5K, train=False, transform=transforms.ToTensor(),
                          target_transform=lambda t: -t)
    x, y = next(iter(DataLoader(test, batch_size=4)))
    assert x.shape == (4, 1, 28, 28) and (y.data <= 0).all()


def test_mnist_missing_files_is_the_data_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TINYGRAD_EDU_DATA", raising=False)
    with pytest.raises(tinygrad_edu.data.DatasetNotFoundError, match="download=False"):
        datasets.MNIST(tmp_path, train=False)


# ------------------------------------------------------------- transforms ----


def chw(h: int, w: int, c: int = 1) -> Tensor:
    return from_numpy(np.arange(c * h * w, dtype=np.float32).reshape(c, h, w))


def test_to_tensor_pil_and_arrays():
    array = np.array([[[0, 128, 255], [10, 20, 30]]], dtype=np.uint8)  # 1 x 2 x 3 HWC
    for pic in (array, Image.fromarray(array)):
        t = transforms.ToTensor()(pic)
        assert t.shape == (3, 1, 2) and t.dtype == np.float32
        np.testing.assert_allclose(t.data[:, 0, 0], [0, 128 / 255, 1])
        np.testing.assert_allclose(t.data[:, 0, 1], [10 / 255, 20 / 255, 30 / 255])
    assert transforms.ToTensor()(np.zeros((2, 3), np.uint8)).shape == (1, 2, 3)
    floats = transforms.ToTensor()(np.full((2, 2, 1), 7.0))  # not uint8: kept as is
    assert floats.dtype == np.float64 and floats.data.max() == 7.0
    with pytest.raises(ValueError, match="H x W or H x W x C, got shape"):
        transforms.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))
    with pytest.raises(TypeError, match="expected a PIL image or an ndarray, got list"):
        transforms.ToTensor()([[1]])


def test_normalize_per_channel_and_errors():
    x = from_numpy(np.ones((3, 2, 2), np.float32) * np.array([1, 2, 3], np.float32)[:, None, None])
    out = transforms.Normalize((1, 1, 1), (1, 2, 4))(x)
    np.testing.assert_allclose(out.data[:, 0, 0], [0, 0.5, 0.5])
    assert out.dtype == np.float32 and x.data[1, 0, 0] == 2  # input untouched
    np.testing.assert_allclose(transforms.Normalize([0.5], [0.5])(x).data[:, 1, 1], [1, 3, 5])
    with pytest.raises(ValueError, match="2 means and stds for an image of 3 channels"):
        transforms.Normalize((0, 0), (1, 1))(x)
    with pytest.raises(ValueError, match="std must not contain zeros"):
        transforms.Normalize((0,), (0,))
    with pytest.raises(TypeError, match="float tensor, got uint8"):
        transforms.Normalize((0,), (1,))(from_numpy(np.zeros((1, 2, 2), np.uint8)))
    with pytest.raises(TypeError, match="apply ToTensor first"):
        transforms.Normalize((0,), (1,))(Image.fromarray(np.zeros((2, 2), np.uint8)))


def test_resize_shorter_side_and_exact():
    image = Image.fromarray(np.zeros((30, 60, 3), np.uint8))  # H 30, W 60
    assert transforms.Resize(10)(image).size == (20, 10)  # PIL size is (W, H)
    assert transforms.Resize((7, 9))(image).size == (9, 7)
    assert transforms.Resize(10, max_size=15)(image).size == (15, 7)
    tall = from_numpy(np.zeros((2, 50, 20), np.float32))
    assert transforms.Resize(10)(tall).shape == (2, 25, 10)
    const = from_numpy(np.full((1, 8, 8), 3.5, np.float32))
    np.testing.assert_allclose(transforms.Resize((4, 6))(const).data, 3.5, rtol=1e-6)
    with pytest.raises(ValueError, match=r"positive int or \(height, width\)"):
        transforms.Resize((1, 2, 3))


def test_center_crop_hand_computed():
    x = chw(5, 6)
    out = transforms.CenterCrop((3, 2))(x)
    # top = round((5 - 3) / 2) = 1, left = round((6 - 2) / 2) = 2
    np.testing.assert_array_equal(out.data, x.data[:, 1:4, 2:4])
    padded = transforms.CenterCrop(4)(chw(2, 2))  # smaller than the crop: zero border
    np.testing.assert_array_equal(padded.data[0], [[0, 0, 0, 0], [0, 0, 1, 0],
                                                   [0, 2, 3, 0], [0, 0, 0, 0]])
    pil = transforms.CenterCrop(2)(Image.fromarray(np.arange(16, dtype=np.uint8).reshape(4, 4)))
    np.testing.assert_array_equal(np.asarray(pil), [[5, 6], [9, 10]])


def test_random_crop_padding_and_seeding():
    x = chw(4, 4)
    crop = transforms.RandomCrop(4, padding=1)
    tinygrad_edu.manual_seed(3)
    first = [crop(x).data for _ in range(5)]
    tinygrad_edu.manual_seed(3)
    again = [crop(x).data for _ in range(5)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    padded = np.pad(x.data, ((0, 0), (1, 1), (1, 1)))
    windows = {padded[:, i:i + 4, j:j + 4].tobytes() for i in range(3) for j in range(3)}
    assert all(a.tobytes() in windows for a in first)
    assert len({a.tobytes() for a in first}) > 1
    edge = transforms.RandomCrop(6, padding=1, padding_mode="edge")(x)
    np.testing.assert_array_equal(edge.data, np.pad(x.data, ((0, 0), (1, 1), (1, 1)), "edge"))
    filled = transforms.RandomCrop(6, padding=(1, 1), fill=(9, 8, 7))(
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)))
    assert np.asarray(filled)[0, 0].tolist() == [9, 8, 7]
    assert transforms.RandomCrop(5, pad_if_needed=True)(chw(3, 5)).shape == (1, 5, 5)
    with pytest.raises(ValueError, match=r"crop size \(5, 5\) is larger than the image \(4, 4\)"):
        transforms.RandomCrop(5)(x)


def test_random_horizontal_flip():
    x = chw(2, 3, c=2)
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(1.0)(x).data, x.data[..., ::-1])
    assert transforms.RandomHorizontalFlip(0.0)(x) is x
    tinygrad_edu.manual_seed(0)
    flips = [transforms.RandomHorizontalFlip()(x) is not x for _ in range(400)]
    assert 150 < sum(flips) < 250
    pil = Image.fromarray(np.array([[1, 2, 3]], np.uint8))
    assert np.asarray(transforms.RandomHorizontalFlip(1)(pil)).tolist() == [[3, 2, 1]]
    with pytest.raises(TypeError, match="apply ToTensor first"):
        transforms.RandomHorizontalFlip()(np.zeros((2, 2)))


def test_compose_and_lambda():
    t = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x * 2)])
    assert t(np.full((1, 1), 255, np.uint8)).data.item() == 2.0
    assert "ToTensor()" in repr(t)
    with pytest.raises(TypeError, match="expected a callable"):
        transforms.Lambda(3)
    with pytest.raises(TypeError, match="transform 0"):
        transforms.Compose([None])


def test_against_torchvision_when_installed():
    tv = pytest.importorskip("torchvision.transforms")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (21, 34, 3), dtype=np.uint8))
    ours = transforms.Compose([transforms.Resize(11), transforms.CenterCrop((9, 7)),
                               transforms.ToTensor(), transforms.Normalize([0.4], [0.2])])
    theirs = tv.Compose([tv.Resize(11), tv.CenterCrop((9, 7)), tv.ToTensor(),
                         tv.Normalize([0.4], [0.2])])
    np.testing.assert_allclose(ours(image).data, theirs(image).numpy(), atol=1e-5)
    assert isinstance(torch.__version__, str)


# ---------------------------------------------------------------- example ----


def load_example():
    spec = importlib.util.spec_from_file_location("cats_vs_dogs", REPO / "examples/cats_vs_dogs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cats_vs_dogs_example_learns_and_names_a_bad_file(tmp_path, capsys):
    example = load_example()
    make_folder(tmp_path / "train", per_class=20, seed=1)
    make_folder(tmp_path / "val", per_class=6, seed=2)
    args = [str(tmp_path), "--epochs", "2", "--size", "16", "--batch-size", "8", "--lr", "0.01"]
    history = example.main(args)
    assert history[-1]["val_acc"] >= 0.9 and history[-1]["train_acc"] > 0.7
    assert "epoch 2/2" in capsys.readouterr().out
    # no val/: a seeded fifth of train/ is held out; two worker threads load ahead
    (tmp_path / "train" / "red" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    import shutil

    shutil.rmtree(tmp_path / "val")
    with pytest.raises(SystemExit, match=r"cannot read image file .*broken\.png"):
        example.main([*args[:-4], "--workers", "2"])
