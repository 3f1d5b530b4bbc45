"""Optimizers with PyTorch's update rules, applied in place with the parameters' array
module (NumPy, or CuPy on a GPU): state is made on each parameter's device.

Each class writes its rule in `_update` on the arrays of one parameter, its
gradient and its state (Tensors, as PyTorch keeps them); the base class in
optimizer.py handles groups, skipping parameters without gradients, and state
dicts. `maximize=True` follows the gradient up instead of down.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..backend import array_module
from ..tensor import Tensor
from .optimizer import Optimizer, check_nonnegative, check_range

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta"]


def _zeros(param: np.ndarray) -> Tensor:
    return Tensor.wrap(array_module(param).zeros_like(param))


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's form):

        g = grad + weight_decay * p
        b = g (first step), else momentum * b + (1 - dampening) * g
        g = g + momentum * b  (nesterov)  or  b
        p = p - lr * g
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        check_nonnegative("SGD", group, "momentum")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0, "
                             f"got momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd:
            grad = grad + wd * param
        if momentum:
            if state.get("momentum_buffer") is None:
                xp = array_module(param)
                state["momentum_buffer"] = Tensor.wrap(xp.array(grad, dtype=param.dtype))
                buf = state["momentum_buffer"].data
            else:
                buf = state["momentum_buffer"].data
                buf *= momentum
                dampening = group["dampening"]
                # (1 - 0) * grad would be a whole temporary array per step for nothing
                buf += grad if dampening == 0 else (1 - dampening) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= lr * grad


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients:

        g = grad + weight_decay * p
        v = alpha * v + (1 - alpha) * g**2
        centered: m = alpha * m + (1 - alpha) * g;  avg = sqrt(v - m**2) + eps
        otherwise: avg = sqrt(v) + eps
        momentum > 0: b = momentum * b + g / avg;  p = p - lr * b
        otherwise: p = p - lr * g / avg
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        check_nonnegative("RMSprop", group, "alpha", "eps", "momentum")

    def _update(self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = _zeros(param)
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg = state["square_avg"].data
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state.setdefault("grad_avg", _zeros(param)).data
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            avg = array_module(param).sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = array_module(param).sqrt(square_avg)
        avg += eps
        if group["momentum"] > 0:
            buf = state.setdefault("momentum_buffer", _zeros(param)).data
            buf *= group["momentum"]
            buf += grad / avg
            param -= lr * buf
        else:
            param -= lr * (grad / avg)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) in PyTorch's form, at step t = 1, 2, ...:

        g = grad + weight_decay * p          (L2 penalty; see AdamW for decoupled decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        vhat = max(vhat, v) if amsgrad else v
        p = p - lr / (1 - beta1**t) * m / (sqrt(vhat) / sqrt(1 - beta2**t) + eps)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        if len(group["betas"]) != 2:
            raise ValueError(f"{self._name}: betas must be a pair (beta1, beta2), "
                             f"got {group['betas']!r}")
        beta1, beta2 = group["betas"]
        check_range(self._name, "beta1", beta1, 0.0, 1.0)
        check_range(self._name, "beta2", beta2, 0.0, 1.0)
        check_nonnegative(self._name, group, "eps")

    def _update(self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = _zeros(param)
            state["exp_avg_sq"] = _zeros(param)
        state["step"] += 1
        step = state["step"]
        if wd:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            else:
                grad = grad + wd * param
        exp_avg, exp_avg_sq = state["exp_avg"].data, state["exp_avg_sq"].data
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            second = state.setdefault("max_exp_avg_sq", _zeros(param)).data
            array_module(param).maximum(second, exp_avg_sq, out=second)
        else:
            second = exp_avg_sq
        denom = array_module(param).sqrt(second) / math.sqrt(1 - beta2**step)
        denom += eps
        step_size = lr / (1 - beta1**step)
        param -= step_size * (exp_avg / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): before the Adam
    step, p = p * (1 - lr * weight_decay); the gradient itself is not changed."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): each weight's step shrinks with the sum of its
    squared gradients so far. At step t = 1, 2, ...:

        g = grad + weight_decay * p
        s = s + g**2                              (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:  # as PyTorch, the state exists before the first step
            self._init_state(p.data, group, self.state.setdefault(p, {}))

    @staticmethod
    def _init_state(param: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            value = group["initial_accumulator_value"]
            state["sum"] = Tensor.wrap(array_module(param).full_like(param, value))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        check_nonnegative("Adagrad", group, "lr_decay", "initial_accumulator_value", "eps")

    def _update(self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        self._init_state(param, group, state)
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        total = state["sum"].data
        total += grad * grad
        std = array_module(param).sqrt(total)
        std += group["eps"]
        param -= clr * (grad / std)


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): steps sized by the ratio of running RMS of past updates
    to running RMS of gradients, so lr is only a scale (1.0 by default):

        g = grad + weight_decay * p
        v = rho * v + (1 - rho) * g**2
        d = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d**2
        p = p - lr * d
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        check_range("Adadelta", "rho", group["rho"], 0.0, 1.0, closed=True)
        check_nonnegative("Adadelta", group, "eps")

    def _update(self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = _zeros(param)
            state["acc_delta"] = _zeros(param)
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg, acc_delta = state["square_avg"].data, state["acc_delta"].data
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        xp = array_module(param)
        delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param -= group["lr"] * delta
