"""The gradient of every tensor of a drawing, intermediates included, computed when
drawing: the engine keeps only leaves' `.grad` (keeping every gradient would raise a
training loop's peak memory), so drawings ask the engine's backward walk again, in
replay mode (it needs no saved arrays: it works after backward freed the graph, and
writes no `.grad`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import backward_walk
from .trace import GraphTrace

GRAD_MODES = ("auto", True, False)


def after_backward(trace: GraphTrace) -> bool:
    """Whether a backward pass has filled some `.grad` of this graph's tensors."""
    return any(node.tensor.grad is not None for node in trace.tensors.values())


def graph_gradients(trace: GraphTrace, show_grads: Any = "auto") -> dict[str, np.ndarray]:
    """Tensor id -> dL/d(tensor) for every tensor of the graph that requires grad.

    show_grads='auto': only after a backward pass (some `.grad` is set); True: always
    (before backward they are what backward would give); False: none. Leaves show
    their `.grad` when they have one (it may hold several backward passes' sum);
    the rest come from a replay of the backward walk, which needs a scalar output.
    When the graph was changed in place since (an optimizer step), or the output is
    not a scalar, only the `.grad` that are set are shown.
    """
    if show_grads not in GRAD_MODES:
        raise ValueError(f"draw_graph: show_grads must be 'auto', True or False, "
                         f"got {show_grads!r}")
    if show_grads is False or (show_grads == "auto" and not after_backward(trace)):
        return {}
    stored = {node.id: node.tensor.grad.data for node in trace.tensors.values()
              if node.tensor.grad is not None}
    root = trace.tensors[trace.root].tensor
    if not root.requires_grad or root.data.size != 1:
        return stored
    found: dict[str, np.ndarray] = {}
    try:
        for step in backward_walk([root], replay=True):
            found[trace.id_of(step.node)] = step.upstream.data
    except RuntimeError:  # changed in place since the forward pass: replay cannot run
        return stored
    return {**found, **stored}
