"""Pictures of computation graphs: draw_graph, the backward pass step by step
(backward_steps, explain) and an HTML animation of it.

graphviz is imported only inside the functions that draw, never at import time.
"""

from .animation import save_backward_animation
from .graph import (
    GraphTooLargeError,
    GraphTrace,
    GraphvizNotFoundError,
    draw_graph,
    save_graph,
    trace_graph,
)
from .steps import BackwardStep, GradFlow, backward_steps, explain

__all__ = [
    "draw_graph", "save_graph", "trace_graph", "GraphTrace", "GraphTooLargeError",
    "GraphvizNotFoundError", "backward_steps", "BackwardStep", "GradFlow", "explain",
    "save_backward_animation",
]
