"""Training diagnostics as plain numbers: gradients, weights and activations per layer.

`gradient_stats(model)` (after `loss.backward()`) tells how big each layer's gradient
is: mean and max |grad| and the ratio ||grad|| / ||w||. In a deep sigmoid or tanh
net these shrink layer by layer towards the input (vanishing gradients).
`weight_stats(model)` summarises the parameters, and `record_activations(model)`
captures every layer's output during one forward pass through forward hooks, so the
model's code stays as it is; `activation_stats` then counts saturated sigmoid/tanh
units and dead ReLU units. Everything is a dataclass of floats and lists, so tests
can assert numbers and `to_dict()` gives JSON; plots.py draws the pictures.

The numbers are computed on the host: for a model on a GPU, the arrays a report reads
(weights, gradients, recorded activations) are copied to the CPU when it is made,
the explicit way off the device (`to_host`); gradient snapshots stay on the device.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .backend import to_host
from .nn import Module, Parameter
from .tensor import Tensor

# A sigmoid or tanh unit counts as saturated when |tanh output| (or |2*sigmoid - 1|)
# exceeds this: its derivative is then below 1 - 0.97**2 = 6% of its peak, so it
# passes almost no gradient back.
SATURATION = 0.97
SATURATING = ("Sigmoid", "Tanh")
RECTIFIERS = ("ReLU",)  # exactly zero below the kink: a unit can die
ACTIVATIONS = ("Sigmoid", "Tanh", "ReLU", "LeakyReLU", "GELU", "SiLU", "Softmax",
               "LogSoftmax")
# The output range of the bounded activations: their histograms span all of it, so a
# pile-up at the ends (saturation) or in the middle is visible at a glance.
LIMITS = {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0)}
# Layers that only reshape or drop values: their outputs say nothing new.
PASS_THROUGH = ("Flatten", "Identity", "Dropout")


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    return float(value) if math.isfinite(value) else None


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return _finite(obj)
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


@dataclass
class Histogram:
    """counts[i] values fell in [edges[i], edges[i + 1])."""

    counts: list[int]
    edges: list[float]

    @classmethod
    def of(cls, values: np.ndarray, bins: int,
           limits: tuple[float, float] | None = None) -> Histogram:
        """`bins` equal bins over `limits`, or over the values' range when None."""
        values = values[np.isfinite(values)]
        if limits is not None:
            low, high = limits
        elif values.size == 0:
            low, high = 0.0, 1.0
        else:
            low, high = float(values.min()), float(values.max())
        if low == high:  # one value: a bin around it, not a zero-width range
            low, high = low - 0.5, high + 0.5
        counts, edges = np.histogram(values, bins=bins, range=(low, high))
        return cls([int(c) for c in counts], [float(e) for e in edges])


# -- gradients and weights ---------------------------------------------------------------


@dataclass
class ParamStats:
    """One parameter: its gradient (NaN when it has none) and its values."""

    name: str  # as in named_parameters(), e.g. "0.weight"
    shape: tuple[int, ...]
    grad_mean_abs: float
    grad_max_abs: float
    grad_norm: float
    weight_norm: float
    grad_to_weight: float  # ||grad|| / ||w||: how big a step of lr * grad is, relatively
    weight_mean: float
    weight_std: float


@dataclass
class LayerGradStats:
    """One module that owns parameters; the numbers pool all its parameters that have
    a gradient (weight and bias together)."""

    name: str  # as in named_modules(), e.g. "0"; the class name for the root module
    kind: str  # the module's class name, e.g. "Linear"
    grad_mean_abs: float
    grad_max_abs: float
    grad_norm: float
    weight_norm: float
    grad_to_weight: float
    params: list[ParamStats] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))


def _ratio(top: float, bottom: float) -> float:
    if bottom == 0:
        return math.inf if top > 0 else math.nan
    return top / bottom


def _param_stats(name: str, weight: np.ndarray, grad: np.ndarray | None) -> ParamStats:
    w = weight.astype(np.float64, copy=False)
    weight_norm = float(np.sqrt(np.sum(w * w)))
    mean = float(w.mean()) if w.size else math.nan
    std = float(w.std()) if w.size else math.nan
    if grad is None or grad.size == 0:
        return ParamStats(name, tuple(weight.shape), math.nan, math.nan, math.nan,
                          weight_norm, math.nan, mean, std)
    g = np.abs(grad.astype(np.float64, copy=False))
    grad_norm = float(np.sqrt(np.sum(g * g)))
    return ParamStats(name, tuple(weight.shape), float(g.mean()), float(g.max()), grad_norm,
                      weight_norm, _ratio(grad_norm, weight_norm), mean, std)


def _layer_name(module_name: str, module: Module) -> str:
    return module_name or type(module).__name__


def parameter_layers(model: Module) -> Iterator[tuple[str, Module, list[tuple[str, Parameter]]]]:
    """(layer name, module, [(parameter name, parameter)]) for every module that owns
    parameters, in named_modules() order (input side first); a shared parameter
    belongs to the first module that has it."""
    if not isinstance(model, Module):
        raise TypeError(f"diagnostics: expected an nn.Module, got {type(model).__name__}")
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        own = []
        for param_name, param in module.named_parameters(recurse=False):
            if id(param) not in seen:
                seen.add(id(param))
                own.append((f"{module_name}.{param_name}" if module_name else param_name, param))
        if own:
            yield _layer_name(module_name, module), module, own


def snapshot_gradients(model: Module) -> dict[str, np.ndarray]:
    """A copy of every parameter's .grad array by parameter name (those without a
    gradient are left out), to compute `gradient_stats` from later; the copies stay
    on the parameters' device (a snapshot is taken every step of a reported epoch)."""
    return {name: param.grad.data.copy()
            for _, _, params in parameter_layers(model)
            for name, param in params if param.grad is not None}


def gradient_stats(model: Module,
                   grads: dict[str, np.ndarray] | None = None) -> list[LayerGradStats]:
    """Per parameterised layer (input side first): mean and max |grad|, ||grad||,
    ||w|| and ||grad|| / ||w||, from each parameter's .grad (or from `grads`, a
    `snapshot_gradients` result). Layers without any gradient get NaN."""
    layers = list(parameter_layers(model))
    if grads is None:
        grads = {name: p.grad.data for _, _, params in layers for name, p in params
                 if p.grad is not None}
    if not grads:
        raise ValueError(f"gradient_stats: no parameter of {type(model).__name__} has a "
                         "gradient; call loss.backward() first")
    names = {name for _, _, params in layers for name, _ in params}
    unknown = sorted(set(grads) - names)
    if unknown:
        raise ValueError(f"gradient_stats: gradients for {unknown}, which are not parameters "
                         f"of {type(model).__name__} (it has {sorted(names)})")
    result = []
    for layer_name, module, params in layers:
        stats = []
        for name, param in params:
            grad = grads.get(name)
            if grad is not None and grad.shape != param.shape:
                raise ValueError(f"gradient_stats: the gradient of {name} has shape "
                                 f"{grad.shape}, the parameter {tuple(param.shape)}")
            stats.append(_param_stats(name, to_host(param.data),
                                      None if grad is None else to_host(grad)))
        result.append(_pool(layer_name, type(module).__name__, stats))
    return result


def _pool(name: str, kind: str, params: list[ParamStats]) -> LayerGradStats:
    """Layer numbers from its parameters' numbers (sums of squares add up)."""
    weight_norm = math.sqrt(sum(p.weight_norm**2 for p in params))
    with_grad = [p for p in params if not math.isnan(p.grad_mean_abs)]
    if not with_grad:
        return LayerGradStats(name, kind, math.nan, math.nan, math.nan, weight_norm,
                              math.nan, params)
    count = sum(math.prod(p.shape) for p in with_grad)
    mean = sum(p.grad_mean_abs * math.prod(p.shape) for p in with_grad) / count
    grad_norm = math.sqrt(sum(p.grad_norm**2 for p in with_grad))
    return LayerGradStats(name, kind, mean, max(p.grad_max_abs for p in with_grad), grad_norm,
                          weight_norm, _ratio(grad_norm, weight_norm), params)


@dataclass
class WeightStats:
    """One parameter's values: summary numbers and a histogram. `scale` is
    std * sqrt(fan_in) for a weight of 2 or more dimensions (NaN for a bias): about
    1 keeps a linear layer's output as spread as its input (Xavier/LeCun), sqrt(2)
    does so after a ReLU (He); PyTorch's default Linear/Conv init gives 1/sqrt(3)."""

    name: str
    shape: tuple[int, ...]
    mean: float
    std: float
    min: float
    max: float
    norm: float
    scale: float
    histogram: Histogram

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))


def weight_stats(model: Module, bins: int = 40, include_bias: bool = True) -> list[WeightStats]:
    """Per parameter (input side first): mean, std, min, max, norm and a histogram of
    its values; include_bias=False keeps only the ones of 2 or more dimensions."""
    _check_bins("weight_stats", bins)
    result = []
    for _, _, params in parameter_layers(model):
        for name, param in params:
            if param.data.size == 0 or (not include_bias and param.ndim < 2):
                continue
            w = to_host(param.data).astype(np.float64, copy=False).ravel()
            std = float(w.std())
            fan_in = math.prod(param.shape[1:]) if param.ndim >= 2 else 0
            result.append(WeightStats(name, tuple(param.shape), float(w.mean()), std,
                                      float(w.min()), float(w.max()),
                                      float(np.sqrt(np.sum(w * w))),
                                      std * math.sqrt(fan_in) if fan_in else math.nan,
                                      Histogram.of(w, bins)))
    return result


def _check_bins(where: str, bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"{where}: bins must be a positive int, got {bins!r}")


# -- activations ------------------------------------------------------------------------


@dataclass
class ActivationRecord:
    """The outputs of every leaf module during the forward passes run inside
    `record_activations`, in call order (a module called twice appears twice)."""

    names: list[str] = field(default_factory=list)  # "2", or "2 (call 2)" for a repeat
    kinds: list[str] = field(default_factory=list)  # module class names
    arrays: list[np.ndarray] = field(default_factory=list)

    @property
    def activations(self) -> dict[str, np.ndarray]:
        """Output array by layer name."""
        return dict(zip(self.names, self.arrays))

    def stats(self, bins: int = 40) -> list[ActivationStats]:
        return activation_stats(self, bins)


@contextmanager
def record_activations(model: Module) -> Iterator[ActivationRecord]:
    """Inside the block, every call of a leaf module of `model` (one without
    submodules: Linear, ReLU, ...) stores a copy of its output; the hooks are
    removed when the block ends, also on an error.

        with record_activations(model) as record:
            model(x)
        record.activations["1"]   # the output of layer 1, as a NumPy array
    """
    if not isinstance(model, Module):
        raise TypeError(f"record_activations: expected an nn.Module, got "
                        f"{type(model).__name__}")
    record = ActivationRecord()
    calls: dict[str, int] = {}

    def hook_for(name: str) -> Any:
        def hook(module: Module, args: tuple, output: Any) -> None:
            if not isinstance(output, Tensor):
                return  # a layer returning a tuple or None has no one activation
            calls[name] = calls.get(name, 0) + 1
            record.names.append(name if calls[name] == 1 else f"{name} (call {calls[name]})")
            record.kinds.append(type(module).__name__)
            # a copy: a later in-place op must not change what was recorded
            host = to_host(output.data)  # a copy already when it came off a device
            record.arrays.append(host.copy() if host is output.data else host)
        return hook

    handles = [module.register_forward_hook(hook_for(_layer_name(name, module)))
               for name, module in model.named_modules()
               if next(module.children(), None) is None]
    try:
        yield record
    finally:
        for handle in handles:
            handle.remove()


@dataclass
class ActivationStats:
    """One layer's output over the batch. `saturated` (sigmoid/tanh only): the fraction
    of values with |tanh| (or |2*sigmoid - 1|) above SATURATION; `dead` (ReLU only):
    the fraction of units (features, or channels for images) that are zero for every
    sample of the batch; `mean_slope` (sigmoid, tanh, ReLU): the activation's
    derivative averaged over the outputs, the factor by which the layer scales the
    gradient passing back through it (at most 0.25 for sigmoid: a deep sigmoid net
    shrinks its gradients even when no unit saturates); NaN where they do not apply."""

    name: str
    kind: str
    shape: tuple[int, ...]
    mean: float
    std: float
    min: float
    max: float
    zero_fraction: float
    saturated: float
    dead: float
    mean_slope: float
    histogram: Histogram

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))


def _saturated(kind: str, values: np.ndarray) -> float:
    if kind not in SATURATING or values.size == 0:
        return math.nan
    centred = 2 * values - 1 if kind == "Sigmoid" else values
    return float(np.mean(np.abs(centred) > SATURATION))


def _mean_slope(kind: str, values: np.ndarray) -> float:
    """The derivative written in terms of the output y, as each backward rule uses it."""
    if values.size == 0:
        return math.nan
    if kind == "Sigmoid":
        return float(np.mean(values * (1 - values)))
    if kind == "Tanh":
        return float(np.mean(1 - values * values))
    if kind in RECTIFIERS:
        return float(np.mean(values > 0))
    return math.nan


def _dead(kind: str, values: np.ndarray) -> float:
    if kind not in RECTIFIERS or values.ndim < 2 or values.shape[0] == 0:
        return math.nan
    # a unit is a feature (axis 1): for images that is a channel over all positions
    alive = np.moveaxis(values != 0, 1, 0).reshape(values.shape[1], -1).any(axis=1)
    return float(1 - alive.mean()) if alive.size else math.nan


def activation_stats(record: ActivationRecord | Iterable[tuple[str, str, np.ndarray]],
                     bins: int = 40) -> list[ActivationStats]:
    """Statistics and a histogram of every recorded output, in call order; accepts an
    ActivationRecord or (name, kind, array) triples."""
    _check_bins("activation_stats", bins)
    triples: Iterable[tuple[str, str, np.ndarray]] = (
        zip(record.names, record.kinds, record.arrays)
        if isinstance(record, ActivationRecord) else record)
    result = []
    for name, kind, array in triples:
        values = np.asarray(array) if isinstance(array, (list, tuple)) else to_host(array)
        flat = values.astype(np.float64, copy=False).ravel()
        if flat.size == 0:
            mean = std = low = high = zeros = math.nan
        else:
            mean, std, low, high = (float(flat.mean()), float(flat.std()), float(flat.min()),
                                    float(flat.max()))
            zeros = float(np.mean(flat == 0))
        result.append(ActivationStats(name, kind, tuple(values.shape), mean, std, low, high,
                                      zeros, _saturated(kind, flat), _dead(kind, values),
                                      _mean_slope(kind, flat),
                                      Histogram.of(flat, bins, LIMITS.get(kind))))
    return result


def informative(stats: Sequence[ActivationStats]) -> list[ActivationStats]:
    """The layers worth a histogram: the activation functions' outputs when the model
    has activation modules, else every layer except pure reshapes and dropout."""
    acts = [s for s in stats if s.kind in ACTIVATIONS]
    return acts or [s for s in stats if s.kind not in PASS_THROUGH]
