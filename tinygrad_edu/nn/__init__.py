"""Neural network building blocks: Module, Parameter, layers, losses, init, save/load."""

from . import functional, init
from .containers import ModuleDict, ModuleList, Sequential
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
from .module import (
    Module,
    Parameter,
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from .serialization import load, save

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Dropout", "BatchNorm1d",
    "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss",
    "functional", "init", "save", "load",
    "register_module_forward_pre_hook", "register_module_forward_hook",
]
