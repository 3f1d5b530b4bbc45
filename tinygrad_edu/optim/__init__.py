"""Optimizers (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta) and learning-rate schedulers
(in `optim.lr_scheduler`, PyTorch's module name; the common ones are also here)."""

from . import lr_scheduler
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)
from .optimizer import Optimizer
from .optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop

RMSProp = RMSprop  # the spelling in DESIGN.md

__all__ = ["Optimizer", "SGD", "RMSprop", "RMSProp", "Adam", "AdamW", "Adagrad", "Adadelta",
           "lr_scheduler", "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "OneCycleLR", "LambdaLR", "ReduceLROnPlateau"]
