"""The Optimizer base class: parameter groups, per-parameter state, state dicts.

A step touches only `p.data` (in place) and the optimizer's own state tensors:
it records no graph, so it costs a few NumPy calls per parameter. Parameters
whose `.grad` is None are skipped. Parameter groups work as in PyTorch: a list
of dicts, each with "params" and its own options (the defaults fill the rest),
and every step reads its options from the group, so a scheduler (or the user)
can change `group["lr"]` between steps.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..backend import array_module, like, to_host, writeable
from ..engine import enable_grad, no_grad, record_inplace
from ..tensor import Tensor

# Per-parameter state entries that are counters, not tensors shaped like the parameter.
SCALAR_STATE = ("step",)


class Optimizer:
    """Base class: holds param_groups and per-parameter state; subclasses write `_update`
    (and `_check_group` for their options)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of dicts, "
                            "got a single Tensor (wrap it in a list)")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: params must be an ordered iterable (list, "
                            "generator), not a set: state dicts refer to parameters by position")
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. a smaller lr); options it
        leaves out take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: a param group must be a dict, "
                            f"got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{self._name}: a param group needs a 'params' entry")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: a param group's 'params' must be ordered (a list), "
                            "not a set")
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: can only optimize Tensors, "
                                f"got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{self._name}: can't optimize a non-leaf Tensor (one made "
                                 "by an op); optimize the leaves (parameters) instead")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in group["params"]]
        if len(set(ids)) != len(ids) or seen & set(ids):
            raise ValueError(f"{self._name}: some parameters appear in more than one group "
                             "(or twice in one); each parameter may be optimized once")
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate a group's options; subclasses add their own checks."""
        if not group["lr"] >= 0:
            raise ValueError(f"{self._name}: invalid learning rate {group['lr']} (must be >= 0)")
        if not group.get("weight_decay", 0) >= 0:
            raise ValueError(f"{self._name}: invalid weight_decay {group['weight_decay']} "
                             "(must be >= 0)")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (None by default, as PyTorch)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor.wrap(array_module(p.grad.data).zeros_like(p.grad.data))

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient. `closure`, if given,
        re-evaluates the model and returns the loss (it runs with grad enabled)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if grad.shape != p.data.shape:
                    raise RuntimeError(f"{self._name}: gradient of shape {grad.shape} for a "
                                       f"parameter of shape {p.data.shape}")
                if not writeable(p.data):  # e.g. a broadcast view: updates need a copy
                    p.data = p.data.copy()
                if group.get("maximize", False):
                    grad = -grad
                self._update(p.data, grad, group, self.state.setdefault(p, {}))
                # an in-place change: a graph built before the step cannot backward again
                record_inplace(p)
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        """Update `param` in place from `grad`; `state` holds this parameter's Tensors."""
        raise NotImplementedError

    # -- state dicts ---------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {name: Tensor or number}}, "param_groups": [options, with
        "params" as indices]}, PyTorch's layout. Parameters are numbered in group order;
        tensors are copies, so later steps do not change a state dict already taken."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: _copy_value(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by `state_dict`. The groups must hold as many
        parameters as here, in the same order, and each state tensor must have its
        parameter's shape. Everything is checked before anything changes; the state is
        copied (float tensors take their parameter's dtype)."""
        where = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            keys = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else None
            raise ValueError(f"{where}: expected a dict with keys 'state' and 'param_groups' "
                             f"(from Optimizer.state_dict()), got {keys or type(state_dict)}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{where}: the saved state has {len(saved_groups)} param groups, "
                             f"this optimizer has {len(self.param_groups)}")
        by_index: dict[int, Tensor] = {}
        new_groups = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"{where}: saved param group {i} is not a dict with 'params'")
            indices = saved["params"]
            if len(indices) != len(group["params"]):
                raise ValueError(f"{where}: param group {i} has {len(indices)} parameters in "
                                 f"the saved state and {len(group['params'])} here")
            for index, p in zip(indices, group["params"]):
                if int(index) in by_index:
                    raise ValueError(f"{where}: parameter index {index} appears twice")
                by_index[int(index)] = p
            new_group = dict(group)
            for key, value in saved.items():
                if key != "params":
                    is_list = isinstance(value, list)  # e.g. betas after a JSON round trip
                    new_group[key] = tuple(value) if is_list else copy.deepcopy(value)
            try:
                self._check_group(new_group)
            except ValueError as error:
                raise ValueError(f"{where}: param group {i}: {error}") from None
            new_groups.append(new_group)
        new_state: dict[Tensor, dict[str, Any]] = {}
        for index, values in state_dict["state"].items():
            if not isinstance(values, dict):
                raise ValueError(f"{where}: state[{index}] should be a dict of state entries, "
                                 f"got {type(values).__name__}")
            p = by_index.get(int(index))
            if p is None:
                raise ValueError(f"{where}: state for parameter index {index}, which no param "
                                 f"group holds (indices 0..{len(by_index) - 1})")
            new_state[p] = {k: _load_value(v, p, f"{where}: state[{index}][{k!r}]", k)
                            for k, v in values.items()}
        self.param_groups[:] = new_groups
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


def _copy_value(value: Any) -> Any:
    return Tensor.wrap(value.data.copy()) if isinstance(value, Tensor) else copy.deepcopy(value)


def _load_value(value: Any, param: Tensor, where: str, key: str) -> Any:
    """A saved state entry as a fresh Tensor on its parameter's device (or a number for
    counters such as 'step')."""
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        array = to_host(value.data) if isinstance(value, Tensor) else np.asarray(value)
        if key in SCALAR_STATE:
            if array.size != 1:
                raise ValueError(f"{where}: expected a number, got shape {array.shape}")
            return int(array.item())  # PyTorch saves counters as float tensors
        if array.shape != param.shape:
            raise ValueError(f"{where}: shape {array.shape} does not match its parameter's "
                             f"shape {param.shape}")
        if array.dtype.kind == "f":
            return Tensor.wrap(like(array.astype(param.dtype), param.data))  # astype copies
        return Tensor.wrap(like(array.copy(), param.data))
    if key in SCALAR_STATE and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise TypeError(f"{where}: expected a Tensor, an array or a number, "
                    f"got {type(value).__name__}")


def check_range(name: str, label: str, value: float, low: float, high: float,
                closed: bool = False) -> None:
    """Raise a ValueError naming `name` and `label` unless low <= value < high
    (<= high when `closed`)."""
    ok = low <= value <= high if closed else low <= value < high
    if not ok:
        bracket = "]" if closed else ")"
        raise ValueError(f"{name}: invalid {label} {value} (must be in [{low}, {high}{bracket})")


def check_nonnegative(name: str, group: dict[str, Any], *labels: str) -> None:
    for label in labels:
        if not group[label] >= 0:
            raise ValueError(f"{name}: invalid {label} {group[label]} (must be >= 0)")
