"""tinygrad_edu: a small, readable reverse-mode autodiff framework on NumPy."""

# dtype names as in PyTorch (float, int and bool shadow the builtins in this file only)
from numpy import bool_ as bool  # noqa: A004
from numpy import float16, float32, float64, int8, int16, int32, int64, uint8

from . import accelerator, autograd, cuda
from .autograd import grad
from .creation import (
    arange,
    as_tensor,
    empty,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .devices import device
from .engine import (
    Function,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .memory import keep_freed_memory
from .rng import Generator, get_rng_state, initial_seed, manual_seed, set_rng_state
from .serialization import CheckpointError, load, save
from .tensor import Tensor, cat, from_numpy, maximum, minimum, stack, where
from .tensor_linalg import addbmm, addmm, addmv, baddbmm, mv, trace
from .tensor_math import (  # noqa: A004 (round: PyTorch's name)
    ceil,
    clamp_max,
    clamp_min,
    exp2,
    expm1,
    fix,
    floor,
    fmod,
    frac,
    isclose,
    isfinite,
    isinf,
    isnan,
    lerp,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logit,
    nan_to_num,
    reciprocal,
    round,
    rsqrt,
    square,
    trunc,
)
from .tensor_misc import (  # noqa: A004 (all, any: PyTorch's names)
    all,
    any,
    dot,
    outer,
    std_mean,
    var_mean,
)
from .tensor_reduce import count_nonzero, nanmean, nansum
from .tensor_select import (
    bincount,
    cumprod,
    diag,
    diagonal,
    index_select,
    narrow,
    nonzero,
    repeat_interleave,
    roll,
    unbind,
    unique,
)
from .threads import get_num_threads, set_num_threads
from .torch_functions import (
    abs,
    allclose,
    amax,
    amin,
    argmax,
    argmin,
    argsort,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    bmm,
    broadcast_tensors,
    broadcast_to,
    chunk,
    clamp,
    clip,
    cumsum,
    einsum,
    equal,
    exp,
    flatten,
    flip,
    floor_divide,
    gather,
    hstack,
    is_tensor,
    log,
    log_softmax,
    logsumexp,
    masked_fill,
    matmul,
    max,
    mean,
    meshgrid,
    min,
    mm,
    moveaxis,
    movedim,
    norm,
    numel,
    permute,
    prod,
    ravel,
    relu,
    remainder,
    reshape,
    scatter_add,
    select,
    sigmoid,
    sign,
    softmax,
    sort,
    split,
    sqrt,
    squeeze,
    std,
    sum,
    swapaxes,
    swapdims,
    t,
    tanh,
    tile,
    topk,
    transpose,
    tril,
    triu,
    unflatten,
    unsqueeze,
    var,
    vstack,
)
from .version import __version__

float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

_SUBPACKAGES = ("nn", "optim", "data", "utils", "vision", "viz")


def __getattr__(name: str):  # PEP 562: `tinygrad_edu.nn` without importing it up front
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Tensor", "tensor", "from_numpy", "zeros", "ones", "full", "arange", "eye", "rand", "randn",
    "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "randint", "randperm",
    "linspace", "cat", "stack", "where", "maximum", "minimum",
    "Function", "autograd", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
    "is_grad_enabled", "grad", "gradcheck", "gradgradcheck", "set_num_threads", "get_num_threads",
    "keep_freed_memory",
    "GradcheckError", "Generator", "manual_seed", "initial_seed", "save", "load", "CheckpointError",
    "device", "cuda", "accelerator",
    "float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "bool",
    "float", "double", "half", "long", "int", "short",
    "is_tensor", "numel", "max", "min", "amax", "amin", "argmax", "argmin", "sum", "mean",
    "var", "std", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clamp", "clip",
    "matmul", "mm", "bmm", "softmax", "log_softmax", "flatten", "reshape", "transpose",
    "permute", "squeeze", "unsqueeze", "topk", "sort", "argsort", "gather", "scatter_add",
    "cumsum", "norm", "tril", "triu", "sign", "prod", "remainder", "floor_divide",
    "masked_fill", "chunk", "split", "allclose", "equal",
    "einsum", "ceil", "clamp_max", "clamp_min", "exp2", "expm1", "fix",
    "floor", "frac", "isclose", "isfinite", "isinf", "isnan", "log10", "log1p", "log2",
    "logical_and", "logical_not", "logical_or", "logical_xor", "reciprocal", "round", "rsqrt",
    "square", "trunc",
    "as_tensor", "empty", "logsumexp", "flip", "hstack", "vstack", "all", "any", "dot",
    "outer", "std_mean", "var_mean", "bincount", "cumprod", "diag", "diagonal",
    "index_select", "narrow", "nonzero", "repeat_interleave", "roll", "unbind", "unique",
    "get_rng_state", "set_rng_state",
    "lerp", "logaddexp", "logaddexp2", "fmod", "nan_to_num", "logit", "nansum", "nanmean",
    "count_nonzero", "mv", "addmm", "addmv", "baddbmm", "addbmm", "trace", "t", "movedim",
    "moveaxis", "swapaxes", "swapdims", "unflatten", "ravel", "tile", "broadcast_to",
    "select", "broadcast_tensors", "atleast_1d", "atleast_2d", "atleast_3d", "meshgrid",
    "nn", "optim", "data", "utils", "vision", "viz", "__version__",
]
