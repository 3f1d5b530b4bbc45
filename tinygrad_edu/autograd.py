"""PyTorch's spelling of the engine: `tinygrad_edu.autograd.Function`, `grad`, `backward`.

The engine lives in engine.py; this module only gives it torch.autograd's names, so
code written against `torch.autograd` finds them where it looks.
"""

from __future__ import annotations

from .engine import (
    BackwardStep,
    Function,
    GraphFreedError,
    backward,
    backward_walk,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    named_scope,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "Function", "grad", "backward", "backward_walk", "BackwardStep", "GraphFreedError",
    "no_grad", "enable_grad", "inference_mode", "named_scope", "set_grad_enabled",
    "is_grad_enabled",
]
