"""Pictures of computation graphs: draw_graph, the backward pass step by step
(backward_steps, explain) and an HTML animation of it.

One file a job: trace (the graph and who owns each node), format (numbers as text),
draw (the Digraph), labels (the look), grads (every node's gradient, computed when
drawing), groups (named_scope boxes, constants' titles), render (Graphviz's `dot`,
saving, the notebook display), steps (backward step by step), explain (the chain rule
in words), animation and page (the HTML page, `animate` for notebooks), recorder
(module calls), command (the CLI's `graph`).

graphviz is imported only inside the functions that draw, never at import time.

Importing this package registers one global module forward hook, on purpose
(recorder.RECORDER): it remembers, weakly, each module's latest call that recorded a
graph, so drawings can box each module's ops. It costs about 1 us per module call,
keeps no tensor alive and stores nothing on the modules.
"""

from .animation import Animation, animate, save_backward_animation
from .draw import GraphTooLargeError, draw_graph
from .explain import Explanation, chain_rule, explain
from .render import GraphvizNotFoundError, save_graph
from .steps import BackwardStep, GradFlow, backward_steps
from .trace import GraphTrace, trace_graph

__all__ = [
    "draw_graph", "save_graph", "trace_graph", "GraphTrace", "GraphTooLargeError",
    "GraphvizNotFoundError", "backward_steps", "BackwardStep", "GradFlow", "explain",
    "chain_rule", "Explanation",
    "save_backward_animation", "animate", "Animation",
]
