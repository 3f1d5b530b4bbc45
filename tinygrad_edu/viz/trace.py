"""Trace the graph behind a tensor: every tensor and op once, with stable ids, names
and the module that owns each.

Ids follow a topological order (engine.toposort); names come from a model's
parameters or a dict; module boxes come from the modules' latest calls (recorder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine import inputs_of, toposort
from .groups import assign_scopes, box_constants
from .recorder import RECORDER, last_call

if TYPE_CHECKING:
    from ..tensor import Tensor


# Ops that only move elements around: a module's result rearranged by one of them
# still belongs to the module (conv2d's final reshape to NCHW).
_REARRANGE = {"reshape", "permute", "expand"}
# Ops that gather a module's input windows (conv2d's im2col).
_GATHER = {"unfold"}


@dataclass
class TensorNode:
    """One tensor of a traced graph."""

    id: str
    tensor: Any
    name: str | None
    kind: str  # "param" (leaf that requires grad), "constant", "intermediate"
    is_output: bool = False
    module: str | None = None


@dataclass
class OpNode:
    """One recorded op: the Function instance (ctx) that made tensor `output`."""

    id: str
    ctx: Any
    output: str
    inputs: list[str]
    module: str | None = None

    @property
    def name(self) -> str:
        return self.ctx.name

    @property
    def rule(self) -> str:
        return type(self.ctx).rule()


@dataclass
class GraphTrace:
    """A graph behind one root tensor: tensors and ops in topological order."""

    root: str
    tensors: dict[str, TensorNode] = field(default_factory=dict)
    ops: dict[str, OpNode] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # box key -> title
    # tensors a module read that are not in the graph (their use was not recorded, as
    # a conv's image, which needs no grad): node id ("in0", ...) -> node
    inputs: dict[str, TensorNode] = field(default_factory=dict)
    feeds: list[tuple[str, str]] = field(default_factory=list)  # (input id, tensor id)
    _ids: dict[int, str] = field(default_factory=dict, repr=False)

    def id_of(self, tensor: Any) -> str:
        """The node id of a tensor of this graph."""
        try:
            return self._ids[id(tensor)]
        except KeyError:
            raise KeyError(
                f"tensor of shape {tuple(tensor.shape)} is not part of this graph"
            ) from None

    def op_of(self, tensor_id: str) -> OpNode | None:
        """The op that made tensor `tensor_id` (None for leaves)."""
        return self.ops.get("op" + tensor_id[1:])

    def consumers(self) -> dict[str, list[str]]:
        """Tensor id -> ids of the ops that read it."""
        used: dict[str, list[str]] = {t: [] for t in self.tensors}
        for op in self.ops.values():
            for i in dict.fromkeys(op.inputs):
                used[i].append(op.id)
        return used


def derivative_rule(ctx: Any) -> str:
    """The derivative rule of the op behind `ctx` (Function.rule reads it)."""
    return type(ctx).rule()


def _is_source(item: Any) -> bool:
    return hasattr(item, "named_parameters") or hasattr(item, "items")


def _sources(params: Any) -> list:
    """params as a list of name sources: a model, a dict, pairs, or a list of those."""
    if params is None:
        return []
    if isinstance(params, (list, tuple)) and params and all(_is_source(p) for p in params):
        return list(params)
    return [params]


def named_tensors(params: Any) -> list[tuple[str, Any]]:
    """(name, tensor) pairs from a model (named_parameters), a dict {name: tensor},
    (name, tensor) pairs, or a list of models and dicts (e.g. [model, {"x": x}])."""
    pairs: list[tuple[str, Any]] = []
    for source in _sources(params):
        if hasattr(source, "named_parameters"):
            pairs.extend(source.named_parameters())
        elif hasattr(source, "items"):
            pairs.extend(source.items())
        else:
            for pair in source:
                if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise TypeError(
                        "params must be a model with named_parameters(), a dict {name: tensor}, "
                        "(name, tensor) pairs or a list of models and dicts, got an item of "
                        f"type {type(pair).__name__}"
                    )
                pairs.append(pair)
    return pairs


def trace_graph(root: Tensor, params: Any = None) -> GraphTrace:
    """Walk the graph behind `root` once: number every tensor and op, attach names.

    Ids follow a topological order: a tensor's inputs always have smaller numbers.
    Tensors are "t0", "t1", ...; the op that made tensor "tK" is "opK".
    """
    names = {id(t): name for name, t in named_tensors(params)}
    trace = GraphTrace(root="")
    # every tensor behind root, constants included, in the order the forward pass made them
    for tensor in toposort([root], every_tensor=True):
        key = id(tensor)
        node_id = f"t{len(trace.tensors)}"
        trace._ids[key] = node_id
        ctx = tensor.grad_fn
        if ctx is not None:
            kind = "intermediate"
            op_id = "op" + node_id[1:]
            trace.ops[op_id] = OpNode(op_id, ctx, node_id,
                                     [trace._ids[id(p)] for p in inputs_of(ctx)])
        else:
            kind = "param" if tensor.requires_grad else "constant"
        trace.tensors[node_id] = TensorNode(node_id, tensor, names.get(key), kind)
    trace.root = trace.id_of(root)
    trace.tensors[trace.root].is_output = True
    models = [m for m in _sources(params) if hasattr(m, "named_parameters")]
    call_inputs: set[str] = set()
    if models or any("." in name for name in names.values()):
        call_inputs = _assign_modules(trace, models, names)
    assign_scopes(trace)
    box_constants(trace, call_inputs)
    return trace


def _gather_path(trace: GraphTrace, tensor_id: str, taken: dict[str, str],
                 consumers: dict[str, list[str]]) -> list[OpNode]:
    """The im2col (unfold) that made `tensor_id`, with the rearrangements after it,
    when each of them feeds only the next: conv2d's input windows. Else []."""
    path = []
    op = trace.op_of(tensor_id)
    while op is not None and op.id not in taken and len(consumers[op.output]) == 1:
        path.append(op)
        if op.name in _GATHER:
            return path
        if op.name not in _REARRANGE:
            break
        op = trace.op_of(op.inputs[0])
    return []


def _assign_modules(trace: GraphTrace, models: list, names: dict[int, str]) -> set[str]:
    """Group nodes by the module that owns them; returns the ids of the modules'
    input tensors.

    The recorder remembers each module's latest call (recorder.last_call): then each module
    owns exactly the ops between its inputs and its output, innermost module first.
    Modules outside the given models whose output is in the graph (a loss module called
    after the model) get a box named after their class. Graphs drawn from a dict of
    named parameters (no modules) fall back on `_modules_from_parameters`.
    """
    owner: dict[str, str] = {}
    for node in trace.tensors.values():
        if node.kind == "param" and node.name is not None:
            owner[node.id] = node.name.rpartition(".")[0]
    kinds: dict[str, Any] = {}
    for model in models:
        if hasattr(model, "named_modules"):
            kinds.update(model.named_modules())
    extra = _outside_modules(trace, models, kinds)
    op_module, call_inputs, unseen = _modules_from_calls(trace, models, extra)
    inner: dict[str, str] = {}
    if op_module is None:
        if not owner:
            return set()
        op_module = _modules_from_parameters(trace, owner)
    else:
        inner = _inner_constants(trace, op_module, call_inputs)
    for op in trace.ops.values():
        op.module = op_module.get(op.id)
        trace.tensors[op.output].module = op.module
    for tensor_id, module in [*owner.items(), *inner.items()]:
        trace.tensors[tensor_id].module = module
    for module in dict.fromkeys([*owner.values(), *op_module.values()]):
        kind = type(kinds[module]).__name__ if module in kinds else None
        title = module or (kind or "model")
        outside = module in extra
        trace.modules[module] = f"{title} · {kind}" if kind and module and not outside else title
    _add_unseen_inputs(trace, unseen, inner, names)
    return call_inputs


def _outside_modules(trace: GraphTrace, models: list, kinds: dict[str, Any]) -> dict[str, Any]:
    """Modules that are not part of `models` but whose latest output is in the graph
    (a loss module), outermost only: box key (the class name) -> module. Their paths
    and kinds are added to `kinds`."""
    if not models:
        return {}
    known = {id(m) for m in kinds.values()}
    found = [m for m, call in RECORDER.calls()
             if id(m) not in known and id(call.output) in trace._ids]
    inside = {id(child) for m in found if hasattr(m, "modules")
              for child in list(m.modules())[1:]}
    extra: dict[str, Any] = {}
    for module in found:
        if id(module) in inside:
            continue
        key, count = type(module).__name__, 1
        while key in kinds or key in extra:
            count += 1
            key = f"{type(module).__name__} #{count}"
        extra[key] = module
    kinds.update(extra)
    return extra


def _add_unseen_inputs(trace: GraphTrace, unseen: dict[int, tuple[Any, str]],
                       inner: dict[str, str], names: dict[int, str]) -> None:
    """A module input that is not in the graph (its use needed no grad, so it was not
    recorded: a conv's image) is drawn anyway, feeding the constants the module made
    from it, so drawings keep the model's input."""
    for key, (tensor, module) in unseen.items():
        made = [t for t, owner in inner.items()
                if owner == module and trace.tensors[t].name is None]
        if not made:
            continue
        node_id = f"in{len(trace.inputs)}"
        trace.inputs[node_id] = TensorNode(node_id, tensor, names.get(key), "constant")
        trace.feeds.extend((node_id, t) for t in made)


def _modules_from_calls(
    trace: GraphTrace, models: list, extra: dict[str, Any],
) -> tuple[dict[str, str] | None, set[str], dict[int, tuple[Any, str]]]:
    """(op id -> module path, ids of the modules' input tensors, inputs that are not in
    the graph: id -> (tensor, module path)) from the modules' recorded calls; None for
    the first when no module has a call in this graph. The model itself (path "") owns
    nothing: its ops are the whole graph."""
    paths = [(path, module) for model in models if hasattr(model, "named_modules")
             for path, module in model.named_modules()]
    calls = []
    unseen: dict[int, tuple[Any, str]] = {}
    for path, module in [*paths, *extra.items()]:
        call = last_call(module) if path else None
        if call is None or id(call[0]) not in trace._ids:
            continue
        inputs = {trace._ids[id(t)] for t in call[1] if id(t) in trace._ids}
        first = call[1][0] if call[1] else None  # the module's input proper (an image)
        if first is not None and id(first) not in trace._ids and first.grad_fn is None:
            unseen.setdefault(id(first), (first, path))
        calls.append((path.count("."), path, trace.id_of(call[0]), inputs))
    if not calls:
        return None, set(), {}
    op_module: dict[str, str] = {}
    for _, path, output, inputs in sorted(calls, key=lambda call: -call[0]):  # innermost first
        stack, seen = [output], set()
        while stack:
            tensor_id = stack.pop()
            if tensor_id in inputs or tensor_id in seen:
                continue
            seen.add(tensor_id)
            op = trace.op_of(tensor_id)
            if op is not None:
                op_module.setdefault(op.id, path)
                stack.extend(op.inputs)
    return op_module, set().union(*(inputs for *_, inputs in calls)), unseen


def _inner_constants(trace: GraphTrace, op_module: dict[str, str],
                     call_inputs: set[str]) -> dict[str, str]:
    """Unnamed constants that a module made for itself (masks, the im2col of an input
    that needs no grad) and that only its ops read: tensor id -> module path."""
    consumers = trace.consumers()
    found: dict[str, str] = {}
    for node in trace.tensors.values():
        if node.kind != "constant" or node.name is not None or node.id in call_inputs:
            continue
        readers = {op_module.get(c) for c in consumers[node.id]}
        reader = readers.pop() if len(readers) == 1 else None
        if reader is not None:
            found[node.id] = reader
    return found


def _modules_from_parameters(trace: GraphTrace, owner: dict[str, str]) -> dict[str, str]:
    """op id -> module path, inferred from parameter names alone (no recorded calls):
    the ops reading a module's parameters or tensors computed from them alone
    (weight.T), rearrangements (reshape/permute) of such an op's result, ops sandwiched
    between two of the module's ops and the im2col that feeds only the module."""
    # tensors computed from one module's parameters alone
    pure: dict[str, str] = dict(owner)
    for op in trace.ops.values():
        sources = {pure.get(i) for i in op.inputs}
        source = sources.pop() if len(sources) == 1 else None
        if source is not None:
            pure[op.output] = source
    op_module: dict[str, str] = {}
    for op in trace.ops.values():
        for i in op.inputs:
            if i in pure:
                op_module[op.id] = pure[i]
                break
    consumers = trace.consumers()

    def module_of_tensor(tensor_id: str) -> str | None:
        made_by = "op" + tensor_id[1:]
        return op_module.get(made_by)

    changed = True
    while changed:
        changed = False
        for op in trace.ops.values():
            if op.id in op_module:
                continue
            readers = {op_module.get(c) for c in consumers[op.output]}
            inner = {module_of_tensor(i) for i in op.inputs} - {None}
            module = None
            if len(readers) == 1 and None not in readers and readers <= inner:
                module = readers.pop()  # between two of the module's ops
            if module is None and op.name in _REARRANGE and len(inner) == 1:
                source = op.inputs[0]
                if len(consumers[source]) == 1:
                    module = inner.pop()
            if module is not None:
                op_module[op.id] = module
                changed = True
    for op in list(trace.ops.values()):
        if op.id in op_module:
            for tensor_id in op.inputs:
                for gather in _gather_path(trace, tensor_id, op_module, consumers):
                    op_module[gather.id] = op_module[op.id]
    return op_module
