"""Optimizers (SGD, RMSprop, Adam, AdamW) and learning-rate schedulers."""

from .optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from .schedulers import CosineAnnealingLR, LRScheduler, StepLR

RMSProp = RMSprop  # the spelling in DESIGN.md

__all__ = ["Optimizer", "SGD", "RMSprop", "RMSProp", "Adam", "AdamW",
           "LRScheduler", "StepLR", "CosineAnnealingLR"]
