"""Loss modules: thin Modules around the loss functions of nn.functional."""

from __future__ import annotations

from typing import Any

from ..creation import tensor
from ..tensor import Tensor
from . import functional as F  # noqa: N812 (the name every PyTorch user knows)
from .functional_loss import IGNORE_INDEX, check_legacy
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """A loss with per-class weights, kept as a buffer (so .to(device) moves them and
    state_dict() holds them, as in PyTorch), and PyTorch's argument order."""

    weight: Tensor | None  # a buffer, set by register_buffer

    def __init__(self, weight: Any = None, size_average: Any = None,
                 ignore_index: int = IGNORE_INDEX, reduce: Any = None,
                 reduction: str = "mean") -> None:
        check_legacy(type(self).__name__, size_average, reduce)
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.ignore_index = ignore_index

    def extra_repr(self) -> str:
        parts = [] if self.ignore_index == IGNORE_INDEX else [f"ignore_index={self.ignore_index}"]
        return ", ".join(parts + ([super().extra_repr()] if super().extra_repr() else []))


class CrossEntropyLoss(_WeightedLoss):
    """F.cross_entropy as a module: logits (N, C) and int64 targets (N,)."""

    def __init__(self, weight: Any = None, size_average: Any = None,
                 ignore_index: int = IGNORE_INDEX, reduce: Any = None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """F.nll_loss as a module: log-probabilities (N, C) and int64 targets (N,)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """F.mse_loss as a module (PyTorch's arguments: size_average, reduce, reduction)."""

    def __init__(self, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        check_legacy("MSELoss", size_average, reduce)
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """F.binary_cross_entropy_with_logits as a module; `weight` and `pos_weight` are
    buffers, as in PyTorch (moved by .to(), kept in state_dict())."""

    weight: Tensor | None
    pos_weight: Tensor | None

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean", pos_weight: Any = None) -> None:
        check_legacy("BCEWithLogitsLoss", size_average, reduce)
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight)


class L1Loss(_Loss):
    """F.l1_loss as a module: |input - target|, averaged by default."""

    def __init__(self, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        check_legacy("L1Loss", size_average, reduce)
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """F.smooth_l1_loss as a module: quadratic within |d| < beta, linear outside."""

    def __init__(self, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        check_legacy("SmoothL1Loss", size_average, reduce)
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """F.huber_loss as a module: quadratic within |d| < delta, delta * linear outside."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_Loss):
    """F.binary_cross_entropy as a module, on probabilities in [0, 1]; `weight` is a
    buffer, as in PyTorch."""

    weight: Tensor | None

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        check_legacy("BCELoss", size_average, reduce)
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class KLDivLoss(_Loss):
    """F.kl_div as a module: input log-probabilities, target probabilities (or
    log-probabilities with log_target=True); reduction='batchmean' is the KL
    divergence per sample."""

    def __init__(self, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean", log_target: bool = False) -> None:
        check_legacy("KLDivLoss", size_average, reduce)
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


def _as_buffer(value: Any) -> Tensor | None:
    return value if value is None or isinstance(value, Tensor) else tensor(value)
