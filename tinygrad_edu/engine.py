"""The autodiff engine: the Function base class, grad mode, and the backward pass.

A graph is made of Tensors; every Tensor produced by a differentiable op carries
`grad_fn`, the Function instance that made it. The ctx remembers its input Tensors
(`ctx.parents`) and whatever its forward saved. `backward()` sorts the graph
once, without recursion, and walks it from the output back to the leaves.

This file never imports tensor.py (that would be a cycle): it builds new
Tensors with `x.wrap(array)`, a static method of the Tensors it is handed,
which always makes a plain Tensor (never a subclass such as nn.Parameter).
"""

from __future__ import annotations

import bisect
import functools
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from . import backend, devices, graph
from .graph import BackwardStep, run_grad_hooks, seed_gradient, shape_error

# ---------------------------------------------------------------------------
# Grad mode: the only global state of the engine.
# ---------------------------------------------------------------------------

_grad_enabled = True

# In-place changes are numbered by one counter. An op remembers the number current when
# it was recorded; backward compares it with the numbers of later changes to the tensors
# the op needs, so a changed input is an error instead of a silently wrong gradient.
_inplace_count = 0
# id of a memory owner changed in place (through itself or a view) while recording ->
# (a weak reference to the owner, the count then): the other tensors on that memory now
# hold values their graph did not compute. (Keyed by id: tensors compare elementwise.)
_views_changed: dict[int, tuple[Any, int]] = {}
# id of a tensor an in-place op moved to a new node -> (a weak reference to it, [(the
# count then, the tensor's old node), ...]): ops recorded before the change read the
# old node (inputs_of), as PyTorch's graph points at nodes rather than tensors
_moved: dict[int, tuple[Any, list[tuple[int, Any]]]] = {}

# The names of the open `named_scope` blocks, outermost first; ops recorded inside
# remember them (ctx.scope) so a drawing can box and name functional code.
_scope: tuple[str, ...] = ()


def is_grad_enabled() -> bool:
    """True when new ops are being recorded for backward."""
    return _grad_enabled


class _GradMode:
    """Context manager and decorator that sets grad mode, restoring it on exit."""

    mode: bool

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc_info: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, fn: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # the with-block written out: no object per call (optimizer.step runs this)
            global _grad_enabled
            previous, _grad_enabled = _grad_enabled, mode
            try:
                return fn(*args, **kwargs)
            finally:
                _grad_enabled = previous

        return wrapper


class no_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Record nothing inside: results do not require grad. Optimizers step under it."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Record ops again inside a no_grad block."""

    mode = True


class set_grad_enabled(_GradMode):  # noqa: N801 (PyTorch's name)
    """Set grad mode on or off: as a call it takes effect at once
    (``set_grad_enabled(False)``), as a context manager or decorator only inside."""

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        self.mode = bool(mode)
        self._previous = _grad_enabled
        _grad_enabled = self.mode

    def __enter__(self) -> None:
        global _grad_enabled
        _grad_enabled = self.mode

    def __call__(self, fn: Callable) -> Callable:
        global _grad_enabled
        _grad_enabled = self._previous  # as a decorator it only applies inside fn
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class named_scope:  # noqa: N801 (a context manager, named like no_grad)
    """Name the ops recorded inside: ``with named_scope("cross_entropy"): ...`` (or as a
    decorator). Each op remembers the open scopes (``ctx.scope``, outermost first),
    so graph drawings box the ops of one function together under its name."""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"named_scope: expected a non-empty name, got {name!r}")
        self.name = name

    def __enter__(self) -> None:
        global _scope
        self._previous = _scope
        _scope = _scope + (self.name,)

    def __exit__(self, *exc_info: object) -> None:
        global _scope
        _scope = self._previous

    def __call__(self, fn: Callable) -> Callable:
        name = self.name

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # the with-block written out: no object per call (cross_entropy runs this)
            global _scope
            previous = _scope
            _scope = previous + (name,)
            try:
                return fn(*args, **kwargs)
            finally:
                _scope = previous

        return wrapper


class inference_mode(_GradMode):  # noqa: N801 (PyTorch's name)
    """As no_grad here (PyTorch's inference mode also skips version counting)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode


# ---------------------------------------------------------------------------
# Function: one differentiable primitive.
# ---------------------------------------------------------------------------


class GraphFreedError(RuntimeError):
    """Raised on a second backward through a graph whose saved arrays were freed."""


def _name_clash(old: type, new: type) -> str | None:
    """Why `new` may not take `old`'s registered name, or None when it may: re-running
    a notebook cell (or reloading a module) makes a new class of the same name in the
    same place, and that replaces the old definition instead of clashing with it."""
    if old.__module__ == new.__module__ and old.__qualname__ == new.__qualname__:
        return None
    return (f"op {new.__name__} is already defined: {old.__qualname__} in module "
            f"{old.__module__}; {new.__qualname__} in module {new.__module__} cannot take "
            "its name (op names are unique, and a built-in op is never replaced). "
            "Give the new op another name.")


class Function:
    """Base of every primitive. Subclasses define, side by side:

    - ``forward(ctx, *arrays, **params) -> ndarray`` on NumPy arrays;
    - ``backward(ctx, grad_output) -> Tensor | tuple[Tensor | None, ...]`` with
      Tensor ops, so the backward pass is itself differentiable;
    - ``domain(pick) -> Sample``: valid test inputs (see ops/domain.py).

    The instance is the ``ctx``: it holds the inputs (``parents``), what forward
    saved, and, while its backward runs, the output Tensor (``output``).
    """

    registry: ClassVar[dict[str, type[Function]]] = {}
    # False for ops whose backward never reads its inputs' values (add, reshape, ...):
    # changing such an input in place after the op ran does not spoil its gradient.
    reads_inputs: ClassVar[bool] = True
    # Finer, where declared: reads_for[j] lists the inputs whose values the gradient
    # of input j reads (mul: ((1,), (0,))); an input the needed gradients do not read
    # may change in place after the op ran (x[1:] = x[1:] * 2 then runs, as in PyTorch).
    reads_for: ClassVar[tuple[tuple[int, ...], ...] | None] = None
    # True for ops whose output may share its input's memory (reshape, permute, ...):
    # an in-place change through the output is then a change of the input too.
    returns_view: ClassVar[bool] = False
    # True for ops whose backward returns, for each input, None or a gradient already of
    # that input's shape and dtype (ops/elementwise.py's _grad_for): input_grads then skips its
    # own check of them, 17% of a tiny op's backward. Not inherited: a subclass that
    # writes its own backward is checked again.
    grads_fit_inputs: ClassVar[bool] = False
    # Each op defines `domain(pick) -> Sample` (a staticmethod); declared, not given here,
    # so that the meta-test can tell an op that forgot it.
    domain: ClassVar[Callable[..., Any]]

    # Set by apply (no __slots__: a student's subclass would get a __dict__ anyway).
    parents: tuple
    needs_input_grad: tuple[bool, ...]
    output: Any = None  # set only while backward runs
    params: dict[str, Any]
    _saved: tuple | None = ()  # what forward saved; None once freed after backward
    epoch: int  # the in-place counter when the op was recorded
    scope: tuple[str, ...]  # the named_scope blocks open when the op was recorded

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "grads_fit_inputs" not in cls.__dict__:
            cls.grads_fit_inputs = False
        if cls.__name__.startswith("_"):  # a shared base such as _Extremum, not an op
            return
        existing = Function.registry.get(cls.__name__)
        clash = None if existing is None else _name_clash(existing, cls)
        if clash is not None:
            raise TypeError(clash)
        Function.registry[cls.__name__] = cls

    # -- saving for backward ------------------------------------------------
    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Keep arrays for backward. An input's or the output's own array comes
        back from `saved_tensors` as that Tensor, still connected to the graph,
        so second derivatives flow through it; anything else is a constant."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            self.check_not_freed()
        output, parents = self.output, self.parents
        tensors = []
        for array in self._saved or ():
            if array is output.data:
                tensors.append(output)
                continue
            for parent in parents:
                if array is parent.data:
                    tensors.append(parent)
                    break
            else:
                tensors.append(output.wrap(array))
        return tuple(tensors)

    @property
    def saved_arrays(self) -> tuple:
        """What forward saved, as the arrays themselves (no Tensors, no graph): for a
        backward that is not recorded, which computes on arrays."""
        if self._saved is None:
            self.check_not_freed()
        return self._saved or ()

    def check_not_freed(self) -> None:
        if self._saved is None:
            raise GraphFreedError(
                f"{self.name}: trying to backward through the graph a second "
                "time, but its saved arrays were freed after the first backward. "
                "Pass retain_graph=True to the first backward() if you need to call it twice."
            )

    # -- the two halves every primitive writes ------------------------------
    # Typed loosely on purpose: each op narrows them to its own inputs and params.
    def forward(self, *arrays: Any, **params: Any) -> Any:
        raise NotImplementedError

    def backward(self, *grad_output: Any, **unused: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    @property
    def name(self) -> str:
        """Lower-case op name used in error messages and graph drawings."""
        return type(self).__name__.lower()

    @classmethod
    def rule(cls) -> str:
        """The op's derivative rule: the first paragraph of its docstring, on one line.

        The one place that reads a rule; gradcheck's report, graph drawings,
        `explain` and the animation all show this text.
        """
        paragraph = (cls.__doc__ or "").strip().split("\n\n")[0]
        return " ".join(paragraph.split()) or f"{cls.__name__.lower()} (no rule documented)"

    # -- running backward ---------------------------------------------------
    def input_grads(self, grad: Any, output: Any) -> tuple:
        """Backward for the output tensor `output` whose gradient is `grad`: one entry
        per input, its gradient (of the input's shape and dtype) or None where the
        input needs none. A backward that returns the wrong number of gradients or a
        wrong shape is a bug in the op, reported with the input's position."""
        if _inplace_count > self.epoch:  # something changed in place since this op ran
            self.check_versions(output)
        self.output = output
        try:
            sent = self.backward(grad)
        finally:
            self.output = None
        if type(sent) is not tuple:
            sent = (sent,)
        if self.grads_fit_inputs:
            return sent
        parents = self.parents
        if len(sent) != len(parents):
            raise RuntimeError(
                f"{self.name}: backward returned {len(sent)} gradient(s) for {len(parents)} "
                "input(s); return one per input (None for inputs without a gradient)"
            )
        # usually every gradient is already right: check them all, copy nothing
        for parent, parent_grad in zip(parents, sent):
            if parent_grad is not None and (
                not parent.requires_grad
                or parent_grad.data.shape != parent.data.shape
                or parent_grad.data.dtype != parent.data.dtype
            ):
                return tuple([self._matched(position, parent, parent_grad)
                              for position, (parent, parent_grad)
                              in enumerate(zip(parents, sent))])
        return sent

    def _matched(self, position: int, parent: Any, grad: Any) -> Any:
        """A gradient must have its input's shape (else the op is wrong); a dtype
        difference is cast away; an input that needs no gradient gets None."""
        if grad is None or not parent.requires_grad:
            return None
        if grad.data.shape != parent.data.shape:
            raise RuntimeError(
                f"{self.name}: backward returned a gradient of shape {tuple(grad.shape)} "
                f"for input {position} of shape {tuple(parent.shape)} (bug in the op's "
                "backward: a broadcast input needs its gradient summed back to its shape)"
            )
        if grad.data.dtype != parent.data.dtype:
            grad = grad.cast(parent.data.dtype)
        return grad

    def check_versions(self, output: Any) -> None:
        """Refuse to run backward when a tensor it needs was changed in place after
        this op was recorded (PyTorch's version-counter check)."""
        saved = self._saved or ()
        reads_for = type(self).reads_for
        if reads_for is None:
            read = set(range(len(self.parents))) if type(self).reads_inputs else set()
        else:
            # zip: an op with optional inputs (LayerNorm's weight and bias) may have fewer
            read = {i for inputs, needed in zip(reads_for, self.needs_input_grad)
                    if needed for i in inputs}
        # constants too: a gradient that reads a constant changes with it
        suspects = [(f"input {i}", t) for i, t in enumerate(self.parents) if i in read]
        if any(a is output.data for a in saved):
            suspects.append(("output", output))
        for role, tensor in suspects:
            log = owner_of(tensor).version_log  # see record_inplace
            if log is None or log[-1] <= self.epoch:
                continue  # not changed since the op ran
            expected = log[0] + bisect.bisect_right(log, self.epoch, lo=1) - 1
            # older than every change remembered: some forgotten ones may be later too
            if log[0] and self.epoch < log[1]:
                expected_text = f"at most {expected}"
            else:
                expected_text = str(expected)
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: the {role} of {self.name} (a tensor of shape "
                f"{tuple(tensor.shape)}) is at version {version_of(tensor)}; expected "
                f"version {expected_text} instead. Compute the gradient before changing "
                "it, or change a .clone() of it instead."
            )

    def replayed(self, output: Any) -> Function:
        """A fresh ctx of this op, its forward run again on the same inputs, so that
        backward can run without reading (or freeing) this ctx's saved arrays."""
        shadow = type(self).__new__(type(self))
        shadow._saved = ()
        shadow.params = self.params
        out = shadow.forward(*[p.data for p in self.parents], **self.params)
        # a saved copy of the output is the output tensor itself, as in apply
        saved: tuple = shadow._saved or ()
        shadow._saved = tuple(output.data if a is out else a for a in saved)
        shadow.parents = self.parents
        shadow.needs_input_grad = self.needs_input_grad
        shadow.output = None
        shadow.epoch = self.epoch
        shadow.scope = self.scope
        return shadow

    # -- building the graph -------------------------------------------------
    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run forward on the inputs' arrays and, in grad mode, record the op."""
        # The hottest function of the package: every op of every forward and backward
        # pass runs it once, so it avoids building lists and calls it does not need.
        ctx = cls.__new__(cls)
        ctx.params = params
        try:
            if len(inputs) == 2 and not params:
                first, second = inputs
                x, y = first.data, second.data
                # arrays of one device share a type: one comparison (__class__: the fastest)
                if x.__class__ is not y.__class__:
                    devices.check_same(ctx.name, (x, y))
                out_data = ctx.forward(x, y)
                recording = _grad_enabled and (first.requires_grad or second.requires_grad)
            elif len(inputs) == 1:
                first = inputs[0]
                out_data = ctx.forward(first.data, **params) if params else ctx.forward(first.data)
                recording = _grad_enabled and first.requires_grad
            else:
                first = inputs[0]
                arrays = [t.data for t in inputs]
                kind = arrays[0].__class__ if arrays else None
                for array in arrays:  # a loop, not a set per call: Linear.apply 4.35 -> 4.20 us
                    if array.__class__ is not kind:
                        devices.check_same(ctx.name, arrays)  # looks at all of them once
                        break
                out_data = ctx.forward(*arrays, **params)
                recording = False
                if _grad_enabled:
                    for t in inputs:
                        if t.requires_grad:
                            recording = True
                            break
        except (ValueError, IndexError) as error:
            raise shape_error(ctx.name, inputs, error) from None
        if type(out_data) is not np.ndarray:
            # ufuncs turn 0-d arrays into NumPy scalars; keep the saved output's identity
            scalar, out_data = out_data, backend.as_array(out_data)
            saved = ctx._saved
            if out_data is not scalar and saved:  # device arrays come back as they are
                for array in saved:
                    if array is scalar:
                        ctx._saved = tuple(out_data if a is scalar else a for a in saved)
                        break
        if _views_changed and _grad_enabled:  # empty unless memory changed while recording
            check_not_stale(ctx.name, inputs)
        if recording:
            ctx.parents = inputs
            # written out for one or two inputs, no list made (forward 1.77 -> 1.52 us an op);
            # a lone input is recorded only when it requires grad
            count = len(inputs)
            ctx.needs_input_grad = ((True,) if count == 1 else
                                    (first.requires_grad, inputs[1].requires_grad) if count == 2
                                    else tuple([t.requires_grad for t in inputs]))
            ctx.epoch = _inplace_count
            ctx.scope = _scope
            out = first.wrap(out_data, ctx)
        else:
            out = first.wrap(out_data)
        if cls.returns_view and out_data.base is not None:
            if out_data.base is first.data or out_data.base is first.data.base:
                mark_view(out, first)
        return out


def owner_of(tensor: Any) -> Any:
    """The tensor that owns `tensor`'s memory: itself, or the one it is a view of."""
    return tensor if tensor.view_of is None else tensor.view_of


def mark_view(view: Any, of: Any, detached: bool = False) -> None:
    """`view` shares the memory of `of`: it counts `of`'s owner's versions, and it
    remembers when it was made (a view made after an in-place change is not stale;
    a detached tensor never is: it asked for no gradient, whatever its values)."""
    view.view_of = owner_of(of)
    view.view_born = _NEVER_STALE if detached else _inplace_count


_NEVER_STALE = 2**62


# A tensor's version log is [changes forgotten, then the in-place counts of the later
# changes, oldest first]. Every optimizer step changes every parameter in place, so an
# unbounded log grew by about 40 bytes per parameter per step (800 MB over a million
# steps of a 20-tensor model); only recent changes matter to a graph that is still alive.
KEPT_CHANGES = 64


def record_inplace(tensor: Any) -> int:
    """Note that `tensor`'s memory was just changed in place (every in-place op and
    optimizer step calls this); returns the tensor's new version."""
    global _inplace_count
    _inplace_count += 1
    owner = owner_of(tensor)
    log = owner.version_log
    if log is None:
        log = owner.version_log = [0]
    log.append(_inplace_count)
    if len(log) > 2 * KEPT_CHANGES:  # forget the older half, counting it
        del log[1:KEPT_CHANGES + 1]
        log[0] += KEPT_CHANGES
    return log[0] + len(log) - 1


def version_of(tensor: Any) -> int:
    """How many times `tensor`'s memory was changed in place (PyTorch's _version)."""
    log = owner_of(tensor).version_log
    return 0 if log is None else log[0] + len(log) - 1


def mark_rewired(tensor: Any, old_node: Any) -> None:
    """`tensor` was just made the output of the op that changed it in place, and
    `old_node` stands for what it was before. Ops recorded before the change hold the
    tensor in their parents; inputs_of sends their gradients to the old node instead.
    The new op is stamped with the count after the change (it read the old values)."""
    if tensor.grad_fn is not None:
        tensor.grad_fn.epoch = _inplace_count
    key = id(tensor)
    entry = _moved.get(key)
    if entry is None or entry[0]() is not tensor:
        forget_moved = functools.partial(_moved.pop, key, None)
        entry = (weakref.ref(tensor, lambda _: forget_moved()), [])
        _moved[key] = entry
    # an old node in the graph is held weakly: the new node's graph keeps it alive (it
    # reads it through a clone) and it refers to the memory's owner, maybe `tensor`;
    # a constant's old node (its old values) refers to nothing and is held as is
    held = weakref.ref(old_node) if old_node.requires_grad else (lambda: old_node)
    entry[1].append((_inplace_count, held))
    # every other tensor on this memory (the base, its other views) now holds values its
    # graph did not compute: check_not_stale refuses to build on them
    owner = owner_of(tensor)
    key = id(owner)
    forget = functools.partial(_views_changed.pop, key, None)
    _views_changed[key] = (weakref.ref(owner, lambda _: forget()), _inplace_count)


def inputs_of(ctx: Function) -> Sequence[Any]:
    """The nodes op `ctx` read: its parents, except that a parent changed in place
    after the op ran (and so moved to a new node) is replaced by its node of then."""
    if not _moved:  # no tensor was ever changed in place while recording
        return ctx.parents
    return tuple([_node_then(parent, ctx.epoch) for parent in ctx.parents])


def _node_then(tensor: Any, epoch: int) -> Any:
    entry = _moved.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return tensor
    for moved_at, old_node in entry[1]:
        if moved_at > epoch:  # the first change after the op: the node it read
            node = old_node()
            return tensor if node is None else node  # None: tensor and graph are gone
    return tensor


def toposort(roots: Sequence[Any], every_tensor: bool = False) -> list:
    """graph.toposort with each op's inputs as inputs_of gives them."""
    return graph.toposort(roots, every_tensor, inputs_of if _moved else None)


def check_not_stale(op: str, inputs: Sequence[Any]) -> None:
    """Refuse an input whose memory was changed in place through another tensor (its
    base, or a view of it) after the input was computed, while recording: its values
    are no longer those its graph computed, so gradients through it would be wrong.
    (PyTorch rewrites the graphs of a base and its views; here only the tensor that
    was changed gets the new node.)"""
    for position, tensor in enumerate(inputs):
        ctx = tensor.grad_fn
        if ctx is None and tensor.requires_grad:
            continue  # a leaf: changed only under no_grad, which records nothing
        owner = owner_of(tensor)
        entry = _views_changed.get(id(owner))
        if entry is None or entry[0]() is not owner:
            continue
        # made before the change: an op recorded then, or a constant (the memory's owner,
        # or a view or detach() made then), whose values now come from the new graph
        made = tensor.view_born if ctx is None and tensor.view_of is not None else (
            -1 if ctx is None else ctx.epoch)
        if made < entry[1]:
            raise RuntimeError(
                f"{op}: input {position} (shape {tuple(tensor.shape)}) shares its memory with "
                "a tensor that was changed in place after it was computed, so its values no "
                "longer match its graph and its gradient would be wrong; build a new tensor "
                "instead (cat(), or x.clone() with x_new[index] = value)")


# ---------------------------------------------------------------------------
# Backward pass: one walk, consumed by backward(), grad() and viz.
# ---------------------------------------------------------------------------


def backward_walk(
    roots: Sequence[Any],
    gradients: Sequence[Any] | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
    replay: bool = False,
    every_step: bool = True,
) -> Iterator[BackwardStep]:
    """The backward pass as an iterator: one `BackwardStep` per node that receives a
    gradient, outputs before inputs (each node once its gradient is complete).

    `gradients` seeds each root (None: ones, for one-element roots). The walk
    writes no `.grad` (its consumers do: `backward()` accumulates into leaves,
    `grad()` collects the inputs asked for). With `create_graph=True` the
    backward ops are recorded, so the gradients can be differentiated again.
    Saved arrays are freed as each op is passed unless `retain_graph=True`.
    With `replay=True` each op's forward is run again on a fresh ctx to get
    what its backward needs: the graph is neither read for saved arrays nor
    freed, so a graph can be walked after `backward()` freed it (viz does this).
    With `every_step=False` only the steps of leaves and of nodes that called
    `retain_grad()` are yielded (all that `backward()` reads); the walk is the same.
    """
    global _grad_enabled
    if gradients is None:
        gradients = (None,) * len(roots)
    grads: dict[int, Any] = {}
    for root, gradient in zip(roots, gradients):
        seed = seed_gradient(root, gradient)
        key = id(root)
        grads[key] = seed if key not in grads else grads[key] + seed
    order = toposort(roots)
    free = not (retain_graph or replay)
    # backward ops are recorded only with create_graph; the consumer's code between
    # steps runs in its own grad mode, restored around each yield
    caller_mode, _grad_enabled = _grad_enabled, create_graph
    inside = True  # False while suspended at a yield, when the caller's mode is in force
    try:
        for node in reversed(order):
            grad = grads.pop(id(node), None)
            if grad is None:
                continue
            if node.grad_hooks:
                grad = run_grad_hooks(node, grad)
            ctx = node.grad_fn
            if ctx is None:
                sent: tuple = ()
            else:
                if replay:
                    ctx = ctx.replayed(node)
                elif ctx._saved is None:
                    ctx.check_not_freed()
                sent = ctx.input_grads(grad, node)
                if free:
                    ctx._saved = None
                parents = ctx.parents if not _moved else inputs_of(ctx)
                for parent, parent_grad in zip(parents, sent):
                    if parent_grad is not None:
                        key = id(parent)
                        earlier = grads.get(key)
                        grads[key] = parent_grad if earlier is None else earlier + parent_grad
                if not (every_step or node.retains_grad):
                    continue
            _grad_enabled, inside = caller_mode, False
            yield BackwardStep(node, ctx, grad, sent)
            caller_mode, _grad_enabled, inside = _grad_enabled, create_graph, True
    finally:
        if inside:  # closed while suspended: the caller's mode is already in force
            _grad_enabled = caller_mode
