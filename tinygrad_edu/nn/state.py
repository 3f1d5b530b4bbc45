"""The checks behind Module.load_state_dict: every key, shape and value is validated
before anything is copied, so a failed load leaves the model exactly as it was."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..backend import array_module, like
from ..tensor import Tensor

# dtype kinds that hold numbers a real (bool, int or float) tensor can take
_NUMERIC_KINDS = "biuf"


def state_value_array(key: str, value: Any, target: Tensor) -> tuple[np.ndarray | None, str]:
    """(the array to copy into `target`, "") or (None, why `value` cannot be loaded)."""
    if isinstance(value, Tensor):
        array = value.data
    elif isinstance(value, (np.ndarray, np.generic, bool, int, float, complex)):
        array = np.asarray(value)
    else:
        return None, (f"{key}: expected a Tensor or a NumPy array, got "
                      f"{type(value).__name__}")
    if array.dtype.kind == "c":
        return None, (f"{key}: complex values (dtype {array.dtype}) cannot be loaded into "
                      f"a {target.dtype} tensor (the imaginary part would be lost)")
    if array.dtype.kind not in _NUMERIC_KINDS:
        return None, (f"{key}: values of dtype {array.dtype} are not numbers and cannot "
                      f"be loaded into a {target.dtype} tensor")
    if array.shape != target.shape:
        return None, (f"shape mismatch for {key}: checkpoint has shape {array.shape}, "
                      f"the model has {tuple(target.shape)}")
    if (target.dtype.kind in "biu" and array.dtype.kind == "f"
            and not array_module(array).isfinite(array).all()):
        return None, (f"{key}: NaN or infinite values cannot be loaded into a "
                      f"{target.dtype} tensor")
    if type(array) is not type(target.data):  # loading copies across devices, as PyTorch
        array = like(array if type(array) is np.ndarray else value.numpy(), target.data)
    return array, ""


def check_state_dict(owner: str, own: Mapping[str, Tensor], state_dict: Any,
                     strict: bool) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """(arrays to copy by key, missing keys, unexpected keys) for loading `state_dict`
    into the tensors `own`; raises one error naming every problem found."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"load_state_dict: expected a dict of Tensors or arrays, got "
                        f"{type(state_dict).__name__}")
    bad_keys = [key for key in state_dict if not isinstance(key, str)]
    missing = [key for key in own if key not in state_dict]
    unexpected = [key for key in state_dict if isinstance(key, str) and key not in own]
    arrays: dict[str, np.ndarray] = {}
    bad_values = []
    for key, target in own.items():
        if key in state_dict:
            array, problem = state_value_array(key, state_dict[key], target)
            if array is None:
                bad_values.append(problem)
            else:
                arrays[key] = array
    problems = []
    if bad_keys:
        problems.append("keys must be str (dotted parameter names), got "
                        + ", ".join(f"{k!r} ({type(k).__name__})" for k in bad_keys))
    if strict and missing:
        problems.append("missing keys: " + ", ".join(missing))
    if strict and unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    problems.extend(bad_values)
    if problems:
        raise RuntimeError(f"load_state_dict: cannot load into {owner} (nothing was "
                           "loaded):\n  " + "\n  ".join(problems))
    return arrays, missing, unexpected
