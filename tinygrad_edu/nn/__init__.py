"""Neural network building blocks: Module, Parameter, layers, losses, init, save/load."""

from . import functional, init, utils
from .activations import (
    CELU,
    ELU,
    GLU,
    SELU,
    CosineSimilarity,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PairwiseDistance,
    PReLU,
    ReLU6,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from .containers import ModuleDict, ModuleList, ParameterList, Sequential
from .conv import AdaptiveAvgPool2d, AvgPool2d, Conv2d, MaxPool2d
from .layers import (
    GELU,
    Dropout,
    Dropout2d,
    Embedding,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
    Unflatten,
)
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import (
    Module,
    Parameter,
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .serialization import load, save

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Dropout", "Embedding", "BatchNorm1d",
    "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d", "LayerNorm",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "Softmax", "LogSoftmax",
    "ELU", "CELU", "SELU", "ReLU6", "Mish", "Hardsigmoid", "Hardswish", "Softsign", "Softplus",
    "Hardtanh", "PReLU", "AdaptiveAvgPool2d", "Unflatten", "ParameterList", "Dropout2d",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss",
    "HuberLoss", "BCELoss", "KLDivLoss",
    "functional", "init", "utils", "save", "load",
    "register_module_forward_pre_hook", "register_module_forward_hook",
    "LogSigmoid", "Softmin", "GLU", "Hardshrink", "Softshrink", "Tanhshrink", "Threshold",
    "PairwiseDistance", "CosineSimilarity",
]
