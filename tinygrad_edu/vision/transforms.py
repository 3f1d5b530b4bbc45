"""torchvision.transforms' names: Compose, ToTensor, Normalize, Resize, CenterCrop,
RandomCrop, RandomHorizontalFlip, Lambda.

Geometric transforms take a PIL image or a Tensor of shape (..., C, H, W), as
torchvision. They are data preprocessing and record no graph. Random ones draw from the
framework's generator, so `tinygrad_edu.manual_seed` makes them repeat.
"""

from __future__ import annotations

import enum
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..rng import generator
from ..tensor import Tensor, from_numpy
from .pil import is_pil_image, require_pil

Size = int | Sequence[int]
Padding = int | Sequence[int]


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _pair(who: str, size: Size) -> tuple[int, int]:
    """int s -> (s, s); (s,) -> (s, s); (h, w) -> (h, w)."""
    sizes: tuple[Any, ...] = ()
    if isinstance(size, Sequence):
        sizes = tuple(size)
    elif isinstance(size, numbers.Integral):
        sizes = (size, size)
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2 or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and int(s) > 0 for s in sizes
    ):
        raise ValueError(f"{who}: size must be a positive int or (height, width), got {size!r}")
    return int(sizes[0]), int(sizes[1])


def _image_size(who: str, img: Any) -> tuple[int, int]:
    """(height, width) of a PIL image or a (..., H, W) Tensor."""
    if is_pil_image(img):
        return img.size[1], img.size[0]
    if isinstance(img, Tensor) and img.ndim >= 2:
        return img.shape[-2], img.shape[-1]
    got = f"a {img.ndim}-d Tensor" if isinstance(img, Tensor) else type(img).__name__
    raise TypeError(f"{who}: expected a PIL image or a Tensor of shape (..., H, W), got {got}"
                    + (" (apply ToTensor first)" if isinstance(img, np.ndarray) else ""))


def _ltrb(who: str, padding: Padding) -> tuple[int, int, int, int]:
    """int p -> all sides; (lr, tb); (left, top, right, bottom)."""
    pads: tuple[Any, ...] = tuple(padding) if isinstance(padding, Sequence) else (padding,)
    if len(pads) not in (1, 2, 4) or not all(
        isinstance(p, numbers.Integral) and int(p) >= 0 for p in pads
    ):
        raise ValueError(f"{who}: padding must be a non-negative int or a sequence of 2 or 4 "
                         f"of them, got {padding!r}")
    if len(pads) < 4:
        pads = (pads * 2)[:2] * 2  # (p,) -> (p, p, p, p); (lr, tb) -> (lr, tb, lr, tb)
    return int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])


def _pad(img: Any, ltrb: tuple[int, int, int, int], fill: Any, mode: str) -> Any:
    left, top, right, bottom = ltrb
    if is_pil_image(img):
        array = np.asarray(img)
        widths = [(top, bottom), (left, right)] + [(0, 0)] * (array.ndim - 2)
    else:
        array = img.data
        widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
    if mode == "constant":
        out = np.empty([n + a + b for n, (a, b) in zip(array.shape, widths)], array.dtype)
        out[...] = np.asarray(fill, dtype=array.dtype)  # a per-channel tuple broadcasts (HWC)
        out[tuple(slice(a, a + n) for n, (a, _) in zip(array.shape, widths))] = array
    else:
        out = np.pad(array, widths, mode=mode)  # type: ignore[call-overload]
    if not is_pil_image(img):
        return from_numpy(out)
    padded = require_pil("pad").fromarray(out)
    if img.mode == "P":
        padded.putpalette(img.getpalette())
    return padded


def _crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    if is_pil_image(img):
        return img.crop((left, top, left + width, top + height))
    return from_numpy(np.ascontiguousarray(img.data[..., top:top + height, left:left + width]))


def _resize(img: Any, size: tuple[int, int], mode: InterpolationMode) -> Any:
    image_module = require_pil("Resize")
    resample = {
        InterpolationMode.NEAREST: image_module.Resampling.NEAREST,
        InterpolationMode.BILINEAR: image_module.Resampling.BILINEAR,
        InterpolationMode.BICUBIC: image_module.Resampling.BICUBIC,
    }[mode]
    height, width = size
    if is_pil_image(img):
        return img.resize((width, height), resample)
    # Tensors: each (H, W) plane through Pillow's float mode, which antialiases when
    # shrinking as torchvision's antialias=True does.
    array = img.data
    planes = array.reshape(-1, *array.shape[-2:]).astype(np.float32)
    out = np.stack([
        np.asarray(image_module.fromarray(p).resize((width, height), resample)) for p in planes
    ]).reshape(*array.shape[:-2], height, width)
    if array.dtype.kind in "iub":
        info = np.iinfo(array.dtype) if array.dtype.kind != "b" else np.iinfo(np.uint8)
        out = np.clip(np.rint(out), info.min, info.max)
    return from_numpy(out.astype(array.dtype))


class Compose:
    """Apply `transforms` in order."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"Compose: transform {i} ({t!r}) is not callable")

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return "Compose(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class ToTensor:
    """PIL image or H x W (x C) ndarray -> float32 C x H x W Tensor; uint8 is scaled to
    [0, 1], other dtypes are kept as they are (as torchvision)."""

    def __call__(self, pic: Any) -> Tensor:
        if is_pil_image(pic):
            array = np.array(pic)
            if pic.mode == "1":
                array = array.astype(np.uint8) * 255
        elif isinstance(pic, np.ndarray):
            if pic.ndim not in (2, 3):
                raise ValueError(f"ToTensor: an ndarray image must be H x W or H x W x C, got "
                                 f"shape {pic.shape}")
            array = pic
        else:
            raise TypeError(f"ToTensor: expected a PIL image or an ndarray, got "
                            f"{type(pic).__name__}")
        if array.ndim == 2:
            array = array[:, :, None]
        chw = np.ascontiguousarray(array.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            return from_numpy(np.divide(chw, 255, dtype=np.float32))
        return from_numpy(chw)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(x - mean) / std per channel of a float (..., C, H, W) Tensor."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = [float(m) for m in mean]
        self.std = [float(s) for s in std]
        if len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has "
                             f"{len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must not contain zeros, got {self.std}")
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor) or tensor.ndim < 3:
            got = f"shape {tensor.shape}" if isinstance(tensor, Tensor) else type(tensor).__name__
            raise TypeError(f"Normalize: expected a Tensor image of shape (..., C, H, W), got "
                            f"{got} (apply ToTensor first)")
        if tensor.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a float tensor, got {tensor.dtype}")
        channels = tensor.shape[-3]
        if len(self.mean) not in (1, channels):
            raise ValueError(f"Normalize: {len(self.mean)} means and stds for an image of "
                             f"{channels} channels (shape {tensor.shape}); give 1 or {channels}")
        mean = np.asarray(self.mean, tensor.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, tensor.dtype).reshape(-1, 1, 1)
        if self.inplace:
            tensor.data -= mean
            tensor.data /= std
            return tensor
        return from_numpy((tensor.data - mean) / std)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Resize:
    """int: the shorter side becomes `size` (aspect kept); (h, w): exactly that size."""

    def __init__(self, size: Size, interpolation: InterpolationMode = InterpolationMode.BILINEAR,
                 max_size: int | None = None) -> None:
        self.single = not isinstance(size, Sequence) or len(size) == 1
        self.size = _pair("Resize", size)
        if max_size is not None and not self.single:
            raise ValueError("Resize: max_size only applies when size is a single int")
        self.max_size = max_size
        self.interpolation = InterpolationMode(interpolation)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        if not self.single:
            return self.size
        short, long = sorted((height, width))
        new_short, new_long = self.size[0], int(self.size[0] * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_long, new_short) if width <= height else (new_short, new_long)

    def __call__(self, img: Any) -> Any:
        size = self.output_size(*_image_size("Resize", img))
        return _resize(img, size, self.interpolation)

    def __repr__(self) -> str:
        size = self.size[0] if self.single else self.size
        return f"Resize(size={size}, interpolation={self.interpolation.value})"


class CenterCrop:
    """The central (h, w) patch; an image smaller than that is zero-padded first."""

    def __init__(self, size: Size) -> None:
        self.size = _pair("CenterCrop", size)

    def __call__(self, img: Any) -> Any:
        height, width = _image_size("CenterCrop", img)
        crop_h, crop_w = self.size
        if crop_h > height or crop_w > width:
            pad_h, pad_w = max(crop_h - height, 0), max(crop_w - width, 0)
            ltrb = (pad_w // 2, pad_h // 2, (pad_w + 1) // 2, (pad_h + 1) // 2)
            img = _pad(img, ltrb, 0, "constant")
            height, width = _image_size("CenterCrop", img)
        top = int(round((height - crop_h) / 2.0))
        left = int(round((width - crop_w) / 2.0))
        return _crop(img, top, left, crop_h, crop_w)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class RandomCrop:
    """A random (h, w) patch, after optional `padding` (constant `fill`, or edge,
    reflect, symmetric); `pad_if_needed` pads an image that is too small."""

    MODES = ("constant", "edge", "reflect", "symmetric")

    def __init__(self, size: Size, padding: Padding | None = None, pad_if_needed: bool = False,
                 fill: float | Sequence[float] = 0, padding_mode: str = "constant") -> None:
        self.size = _pair("RandomCrop", size)
        self.padding = None if padding is None else _ltrb("RandomCrop", padding)
        if padding_mode not in self.MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {self.MODES}, got "
                             f"{padding_mode!r}")
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img: Any) -> Any:
        if self.padding is not None:
            img = _pad(img, self.padding, self.fill, self.padding_mode)
        height, width = _image_size("RandomCrop", img)
        crop_h, crop_w = self.size
        if self.pad_if_needed and (height < crop_h or width < crop_w):
            # torchvision pads the missing amount on both sides of the short axis.
            grow_w, grow_h = max(crop_w - width, 0), max(crop_h - height, 0)
            img = _pad(img, (grow_w, grow_h, grow_w, grow_h), self.fill, self.padding_mode)
            height, width = _image_size("RandomCrop", img)
        if height < crop_h or width < crop_w:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the image "
                             f"({height}, {width}); pass padding or pad_if_needed=True")
        rng = generator()
        top = int(rng.integers(0, height - crop_h + 1))
        left = int(rng.integers(0, width - crop_w + 1))
        return _crop(img, top, left, crop_h, crop_w)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left-right with probability `p`."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p

    def __call__(self, img: Any) -> Any:
        _image_size("RandomHorizontalFlip", img)
        if generator().random() >= self.p:
            return img
        if is_pil_image(img):
            return img.transpose(require_pil("RandomHorizontalFlip").Transpose.FLIP_LEFT_RIGHT)
        return from_numpy(np.ascontiguousarray(img.data[..., ::-1]))

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class Lambda:
    """Wrap a function as a transform."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: expected a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"
