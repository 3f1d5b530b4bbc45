"""Normalization layers: BatchNorm1d/2d (statistics per channel over the batch) and
LayerNorm (statistics per sample over its last axes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import functional as F  # noqa: N812 (the name every PyTorch user knows)
from .module import Module, Parameter


class BatchNormBase(Module):
    """Shared by BatchNorm1d and BatchNorm2d; subclasses say which input ranks they take.

    Buffers: running_mean, running_var and num_batches_tracked (as PyTorch).
    momentum=None uses a cumulative average (1 / num_batches_tracked)."""

    _input_ranks: tuple[int, ...] = ()
    _input_text = ""
    weight: Parameter | None
    bias: Parameter | None
    running_mean: Tensor | None  # buffers: None when track_running_stats=False
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        if device is not None:  # made on the CPU from the seed, then moved
            self.to(device)

    def reset_running_stats(self) -> None:
        for buffer, value in ((self.running_mean, 0), (self.running_var, 1),
                              (self.num_batches_tracked, 0)):
            if buffer is not None:
                buffer.data[...] = value

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in self._input_ranks:
            raise ValueError(f"{name}({self.num_features}): expected {self._input_text} "
                             f"input, got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}): input of shape {tuple(x.shape)} "
                             f"has {x.shape[1]} channels on axis 1, expected {self.num_features}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.data)
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(BatchNormBase):
    """Batch normalization over (N, C) or (N, C, L) inputs, per channel C."""

    _input_ranks = (2, 3)
    _input_text = "2D (N, C) or 3D (N, C, L)"


class BatchNorm2d(BatchNormBase):
    """Batch normalization of (N, C, H, W) inputs per channel C, statistics over N, H, W
    (F.batch_norm); running statistics and affine weight/bias as PyTorch."""

    _input_ranks = (4,)
    _input_text = "4D (N, C, H, W)"


class LayerNorm(Module):
    """Normalizes each sample over its last len(normalized_shape) axes (F.layer_norm);
    weight (ones) and bias (zeros) of normalized_shape when elementwise_affine."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = F.normalized_shape_tuple("LayerNorm", normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
        if device is not None:  # made on the CPU from the seed, then moved
            self.to(device)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
