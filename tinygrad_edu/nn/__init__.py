"""Neural network building blocks: Module, Parameter, layers, losses, init, save/load."""

from . import functional, init
from .conv import AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d
from .layers import (
    BatchNorm1d,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MSELoss,
    NLLLoss,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential
from .serialization import load, save

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Dropout", "BatchNorm1d",
    "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss",
    "functional", "init", "save", "load",
]
