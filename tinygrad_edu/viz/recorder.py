"""Which tensors each module's latest call read and returned, so drawings can box a
module's ops: exactly those between its inputs and its output.

`RECORDER` is a global forward hook (`nn.register_module_forward_hook`), registered
once, when this file is first imported (by `import tinygrad_edu.viz`). It holds weak
references only: it keeps no graph or tensor alive, and nothing of it is stored on a
module, so models pickle and deep-copy as before. Its cost is about 1 us per module call.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

from ..nn.module import register_module_forward_hook
from ..tensor import Tensor


class ModuleCall(NamedTuple):
    """A module's latest call: its output and its tensor inputs (args, then kwargs)."""

    output: Tensor
    inputs: tuple[Tensor, ...]


# module id -> (the module, its output, its tensor inputs), all weakly referenced
_Record = tuple["weakref.ref[Any]", "weakref.ref[Tensor]", tuple["weakref.ref[Tensor]", ...]]


class CallRecorder:
    """A forward hook (with_kwargs=True) that remembers, per module, the output and the
    tensor inputs of its latest call that recorded a graph (under grad mode, with an
    output that has a grad_fn). Calls under no_grad leave the record as it was."""

    def __init__(self) -> None:
        self._calls: dict[int, _Record] = {}

    def __call__(self, module: Any, args: tuple, kwargs: dict[str, Any], output: Any) -> None:
        if not isinstance(output, Tensor) or output.grad_fn is None:
            return
        key = id(module)
        record = self._calls.get(key)
        owner = record[0] if record is not None and record[0]() is module else None
        if owner is None:  # a dead module's id may be reused: its record goes when it dies
            owner = weakref.ref(module, self._forget(key))
        ref = weakref.ref
        inputs = [ref(a) for a in args if isinstance(a, Tensor)]
        if kwargs:
            inputs += [ref(a) for a in kwargs.values() if isinstance(a, Tensor)]
        self._calls[key] = (owner, ref(output), tuple(inputs))

    def _forget(self, key: int) -> Callable[[Any], None]:
        calls = self._calls

        def forget(_: Any) -> None:
            calls.pop(key, None)

        return forget

    def last_call(self, module: Any) -> ModuleCall | None:
        """`module`'s latest recorded call while its output is alive (inputs that have
        died since are left out); None otherwise."""
        record = self._calls.get(id(module))
        if record is None or record[0]() is not module:
            return None
        output = record[1]()
        if output is None:
            return None
        inputs = (ref() for ref in record[2])
        return ModuleCall(output, tuple(t for t in inputs if t is not None))

    def calls(self) -> list[tuple[Any, ModuleCall]]:
        """(module, its latest call) for every live module whose output is alive."""
        found = []
        for record in list(self._calls.values()):
            module = record[0]()
            call = None if module is None else self.last_call(module)
            if call is not None:
                found.append((module, call))
        return found

    def __len__(self) -> int:
        """How many modules have a record (alive or not)."""
        return len(self._calls)

    def clear(self) -> None:
        """Forget every recorded call."""
        self._calls.clear()


RECORDER = CallRecorder()
# Deliberate import-time registration: module boxes need calls made before any drawing.
HANDLE = register_module_forward_hook(RECORDER, with_kwargs=True)


def last_call(module: Any) -> ModuleCall | None:
    """(output, tensor inputs) of `module`'s latest call that recorded a graph, while its
    output is alive; None otherwise (see CallRecorder)."""
    return RECORDER.last_call(module)
